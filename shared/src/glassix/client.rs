//! The Glassix REST client: one `reqwest::Client`, a cached bearer token renewed shortly
//! before it expires (one `token/get` at a time however many callers wait), and retries with
//! exponential backoff and jitter bounded by a deadline the caller passes.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use reqwest::RequestBuilder;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::models::{Ticket, TokenResponse};
use crate::config::GlassixSettings;

/// The instant by which a call must have finished, retries included.
pub type Deadline = Instant;

#[derive(Debug, thiserror::Error)]
pub enum GlassixError {
    #[error("Glassix has no such ticket")]
    NotFound,
    #[error("Glassix refused our credentials")]
    Unauthorized,
    /// Any other refusal; `message` is Glassix's `Message`/`message` text, if any.
    #[error("Glassix answered {status}")]
    Status {
        status: u16,
        message: Option<String>,
    },
    /// Retries could not finish before the deadline; `last` says what the last attempt got.
    #[error("Glassix did not succeed before the deadline (last: {last})")]
    DeadlineExceeded { last: String },
    #[error("unexpected response from Glassix: {0}")]
    Decode(String),
}

/// Backoff between attempts: `base * 2^attempt`, capped, with full jitter over its upper half.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1600),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempt: u32) -> Duration {
        let exponential = self.base.saturating_mul(1 << attempt.min(16)).min(self.cap);
        let half = exponential / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

struct CachedToken {
    value: SecretString,
    renew_at: Instant,
}

pub struct GlassixClient {
    http: reqwest::Client,
    settings: GlassixSettings,
    token: Mutex<Option<CachedToken>>,
    retry: RetryPolicy,
}

/// An attempt worth repeating: how long the server asked us to wait, if it did, and what
/// the attempt got (for the error when the deadline ends the retries).
struct Retry {
    wait: Option<Duration>,
    last: String,
}

impl Retry {
    fn after(wait: Option<Duration>, last: impl Into<String>) -> Self {
        Self {
            wait,
            last: last.into(),
        }
    }
}

impl GlassixClient {
    pub fn new(settings: GlassixSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(50))
            .user_agent("client-ticket-manager")
            .build()?;
        Ok(Self::with_http(settings, http))
    }

    pub fn with_http(settings: GlassixSettings, http: reqwest::Client) -> Self {
        Self {
            http,
            settings,
            token: Mutex::new(None),
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// `GET /tickets/get/{id}`: the full ticket, transactions included.
    pub async fn get_ticket(
        &self,
        ticket_id: i64,
        deadline: Deadline,
    ) -> Result<Ticket, GlassixError> {
        let body = self
            .call(
                Method::GET,
                &format!("tickets/get/{ticket_id}"),
                None,
                deadline,
            )
            .await?;
        serde_json::from_slice(&body).map_err(|e| GlassixError::Decode(e.to_string()))
    }

    /// `POST /tickets/addtags/{id}` with a bare JSON array; returns the ticket's tags after it.
    pub async fn add_tags(
        &self,
        ticket_id: i64,
        tags: &[String],
        deadline: Deadline,
    ) -> Result<Vec<String>, GlassixError> {
        let body = self
            .call(
                Method::POST,
                &format!("tickets/addtags/{ticket_id}"),
                Some(json(&tags)?),
                deadline,
            )
            .await?;
        Ok(serde_json::from_slice(&body).unwrap_or_default())
    }

    /// `POST /tickets/addnote/{id}` with `{"text": ...}`: a note only agents see.
    pub async fn add_note(
        &self,
        ticket_id: i64,
        text: &str,
        deadline: Deadline,
    ) -> Result<(), GlassixError> {
        #[derive(Serialize)]
        struct Note<'a> {
            text: &'a str,
        }
        self.call(
            Method::POST,
            &format!("tickets/addnote/{ticket_id}"),
            Some(json(&Note { text })?),
            deadline,
        )
        .await
        .map(drop)
    }

    /// `DELETE /tickets/scramble/{id}`: permanently erases the ticket's content in Glassix.
    pub async fn scramble(&self, ticket_id: i64, deadline: Deadline) -> Result<(), GlassixError> {
        self.call(
            Method::DELETE,
            &format!("tickets/scramble/{ticket_id}"),
            None,
            deadline,
        )
        .await
        .map(drop)
    }

    /// Whether Glassix reports the ticket as scrambled; confirms a scramble whose answer was
    /// an error or never came.
    pub async fn is_scrambled(
        &self,
        ticket_id: i64,
        deadline: Deadline,
    ) -> Result<bool, GlassixError> {
        Ok(self.get_ticket(ticket_id, deadline).await?.is_scrambled)
    }

    /// An authenticated call. A 401 renews the token once and repeats the call once.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        deadline: Deadline,
    ) -> Result<Bytes, GlassixError> {
        let url = self.url(path)?;
        let mut renewed = false;
        loop {
            let token = self.token(deadline).await?;
            let send = || {
                let request = self
                    .http
                    .request(method.clone(), url.clone())
                    .bearer_auth(token.expose_secret())
                    .header(ACCEPT, "application/json");
                match &body {
                    Some(bytes) => request
                        .header(CONTENT_TYPE, "application/json; charset=utf-8")
                        .body(bytes.clone()),
                    None => request,
                }
            };
            match self.send_with_retries(path, deadline, send).await {
                Err(GlassixError::Unauthorized) if !renewed => {
                    tracing::info!(
                        path = template(path),
                        "Glassix refused the token; renewing it once"
                    );
                    self.forget_token(&token).await;
                    renewed = true;
                }
                outcome => return outcome,
            }
        }
    }

    /// The cached token, or a new one. The lock is held while fetching, so concurrent callers
    /// wait for that one `token/get` instead of each making their own.
    async fn token(&self, deadline: Deadline) -> Result<SecretString, GlassixError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct TokenRequest<'a> {
            api_key: &'a str,
            api_secret: &'a str,
            user_name: &'a str,
        }
        let request = json(&TokenRequest {
            api_key: self.settings.api_key.expose_secret(),
            api_secret: self.settings.api_secret.expose_secret(),
            user_name: &self.settings.user_name,
        })?;
        let url = self.url("token/get")?;
        let body = self
            .send_with_retries("token/get", deadline, || {
                self.http
                    .post(url.clone())
                    .header(ACCEPT, "application/json")
                    .header(CONTENT_TYPE, "application/json; charset=utf-8")
                    .body(request.clone())
            })
            .await?;
        let response: TokenResponse = serde_json::from_slice(&body)
            .map_err(|_| GlassixError::Decode("token response".into()))?;
        let lifetime =
            Duration::from_secs_f64(response.expires_in.unwrap_or(3600.0).clamp(1.0, 86_400.0));
        // Renew 5 minutes early, or a tenth of the lifetime early for short-lived tokens.
        let margin = (lifetime / 10).min(Duration::from_secs(300));
        let value = SecretString::from(response.access_token);
        *cached = Some(CachedToken {
            value: value.clone(),
            renew_at: Instant::now() + lifetime - margin,
        });
        tracing::info!(expires_in_s = lifetime.as_secs(), "Glassix token obtained");
        Ok(value)
    }

    /// Drops the cached token if it is still the one that was refused.
    async fn forget_token(&self, refused: &SecretString) {
        let mut cached = self.token.lock().await;
        if cached
            .as_ref()
            .is_some_and(|t| t.value.expose_secret() == refused.expose_secret())
        {
            *cached = None;
        }
    }

    /// Sends until a final answer: 2xx is `Ok`; 429, 5xx, timeouts and connection failures are
    /// retried while the deadline allows; anything else is a typed error at once.
    async fn send_with_retries(
        &self,
        path: &str,
        deadline: Deadline,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<Bytes, GlassixError> {
        let mut attempt = 0;
        loop {
            let Retry { wait, last } = match self.attempt(path, deadline, request()).await {
                Ok(outcome) => return outcome,
                Err(retry) => retry,
            };
            // Never sooner than the backoff, even when the server says `Retry-After: 0`.
            let backoff = self.retry.delay(attempt);
            let wait = wait.map_or(backoff, |asked| asked.max(backoff));
            if Instant::now() + wait >= deadline {
                tracing::warn!(path = template(path), attempts = attempt + 1, last = %last, "Glassix call gave up at the deadline");
                return Err(GlassixError::DeadlineExceeded { last });
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One attempt: `Ok` with the final outcome, or `Err` when another attempt may succeed.
    async fn attempt(
        &self,
        path: &str,
        deadline: Deadline,
        request: RequestBuilder,
    ) -> Result<Result<Bytes, GlassixError>, Retry> {
        let started = Instant::now();
        let response = match tokio::time::timeout_at(deadline, request.send()).await {
            Err(_) => {
                return Ok(Err(GlassixError::DeadlineExceeded {
                    last: "timeout".into(),
                }));
            }
            Ok(Err(error)) => {
                let kind = if error.is_timeout() {
                    "timeout"
                } else if error.is_connect() {
                    "connect"
                } else {
                    "transport"
                };
                tracing::warn!(
                    path = template(path),
                    error.kind = kind,
                    "Glassix request failed"
                );
                return Err(Retry::after(None, kind));
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let retry_after = retry_after(response.headers().get(RETRY_AFTER));
        let body = match tokio::time::timeout_at(deadline, response.bytes()).await {
            Ok(Ok(body)) => body,
            Ok(Err(_)) if status.is_success() => return Err(Retry::after(None, "body")),
            Ok(Err(_)) => Bytes::new(),
            Err(_) => {
                return Ok(Err(GlassixError::DeadlineExceeded {
                    last: "timeout".into(),
                }));
            }
        };
        tracing::debug!(
            path = template(path),
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Glassix answered"
        );
        Ok(match status {
            s if s.is_success() => Ok(body),
            StatusCode::TOO_MANY_REQUESTS => return Err(Retry::after(retry_after, "429")),
            s if s.is_server_error() => return Err(Retry::after(None, s.as_u16().to_string())),
            StatusCode::UNAUTHORIZED => Err(GlassixError::Unauthorized),
            StatusCode::NOT_FOUND => Err(GlassixError::NotFound),
            s => Err(GlassixError::Status {
                status: s.as_u16(),
                message: error_message(&body),
            }),
        })
    }

    fn url(&self, path: &str) -> Result<url::Url, GlassixError> {
        self.settings
            .base_url
            .join(path)
            .map_err(|e| GlassixError::Decode(format!("bad URL: {e}")))
    }
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, GlassixError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| GlassixError::Decode(e.to_string()))
}

/// `Retry-After` in seconds (the HTTP-date form is left to the backoff).
fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let seconds: f64 = value?.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// Glassix errors look like ASP.NET's `{"Message": "..."}`, sometimes `{"message": "..."}`.
fn error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("Message")
        .or_else(|| value.get("message"))
        .and_then(|m| m.as_str())
        .map(str::to_owned)
}

/// The path with its ticket id replaced, for logs that group by endpoint.
fn template(path: &str) -> &str {
    path.rsplit_once('/')
        .filter(|(_, last)| last.chars().all(|c| c.is_ascii_digit()))
        .map_or(path, |(prefix, _)| prefix)
}
