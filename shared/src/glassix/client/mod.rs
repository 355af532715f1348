//! The Glassix REST client: one `reqwest::Client`, a cached bearer token (`token`), retries
//! bounded by a deadline the caller passes (`retry`), and the endpoints we call (`endpoints`).

mod download;
mod endpoints;
pub mod links;
mod retry;
mod token;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::time::Instant;

pub use download::{DownloadError, Downloaded};
pub use endpoints::ListPage;
pub use retry::RetryPolicy;
use retry::{Call, Replay};
use token::TokenCache;

use super::models::TokenResponse;
use crate::config::GlassixSettings;
use crate::credentials::LiveCredentials;

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
    /// A call that is not repeated (a note) failed after Glassix may have received it: it may
    /// or may not have been carried out, and only the ticket can tell.
    #[error("Glassix may or may not have acted (last: {last})")]
    Uncertain { last: String },
    #[error("unexpected response from Glassix: {0}")]
    Decode(String),
    /// The answer was larger than we read (see `GlassixClient::with_answer_limit`).
    #[error("Glassix answered with more than {limit} bytes")]
    TooLarge { limit: usize },
}

impl GlassixError {
    /// True when Glassix may have carried the call out although it failed.
    pub fn may_have_acted(&self) -> bool {
        matches!(self, Self::Uncertain { .. })
    }

    /// Whether trying again later may succeed: anything but an answer we cannot use (it would
    /// be the same next time) or a ticket Glassix does not have.
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            Self::NotFound | Self::Decode(_) | Self::TooLarge { .. }
        )
    }
}

/// The largest Glassix answer read by default. A ticket is read whole, transactions
/// included: a ticket of 3,000 e-mails is about 40 MB (a test archives one). The archive
/// worker has 1 GB of memory for the answer, its parsed form and the documents made of it;
/// beyond this a runaway answer fails the job (`TooLarge`, then the dead-letter queue)
/// instead of the function running out of memory.
pub const DEFAULT_ANSWER_LIMIT: usize = 128 * 1024 * 1024;

/// The largest attachment file downloaded by default (`MAX_ATTACHMENT_MB`).
pub const DEFAULT_DOWNLOAD_LIMIT: u64 = 1024 * 1024 * 1024;

pub struct GlassixClient {
    http: reqwest::Client,
    /// Attachment downloads: only where the download rules allow (`links`), redirects checked.
    /// Built at the first download: only the archive worker downloads.
    download_http: std::sync::OnceLock<reqwest::Client>,
    downloads: links::AllowedOrigins,
    download_limit: u64,
    /// The address; also the credentials when `live` is not set.
    settings: GlassixSettings,
    /// Credentials reread while warm: tokens are fetched with their current API key and secret.
    live: Option<Arc<LiveCredentials>>,
    token: TokenCache,
    retry: RetryPolicy,
    answer_limit: usize,
}

impl GlassixClient {
    pub fn new(settings: GlassixSettings) -> Result<Self, reqwest::Error> {
        let http = crate::tls::https_client()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(50))
            .user_agent("client-ticket-manager")
            .build()?;
        let downloads = links::AllowedOrigins::of(&settings.base_url);
        Ok(Self {
            http,
            download_http: std::sync::OnceLock::new(),
            downloads,
            download_limit: DEFAULT_DOWNLOAD_LIMIT,
            settings,
            live: None,
            token: TokenCache::default(),
            retry: RetryPolicy::default(),
            answer_limit: DEFAULT_ANSWER_LIMIT,
        })
    }

    /// Fetches tokens with the current credentials of `live` (its address stays the one given
    /// to [`Self::new`]); a token request they get refused rereads them once.
    pub fn with_live_credentials(mut self, live: Arc<LiveCredentials>) -> Self {
        self.live = Some(live);
        self
    }

    /// Answers above `bytes` fail with [`GlassixError::TooLarge`] instead of being read.
    pub fn with_answer_limit(mut self, bytes: usize) -> Self {
        self.answer_limit = bytes;
        self
    }

    /// Attachment files above `bytes` fail their download ([`DownloadError::TooLarge`]).
    pub fn with_download_limit(mut self, bytes: u64) -> Self {
        self.download_limit = bytes;
        self
    }

    /// Also downloads from the origin of `url` although it is not public (tests serve faulty
    /// files from servers of their own; nothing configures this deployed).
    pub fn allowing_downloads_from(mut self, url: &url::Url) -> Self {
        self.downloads = self.downloads.and(url);
        self.download_http = std::sync::OnceLock::new();
        self
    }

    /// The download client, built on first use.
    fn downloader(&self) -> Result<&reqwest::Client, reqwest::Error> {
        if let Some(client) = self.download_http.get() {
            return Ok(client);
        }
        let client = download_client(&self.downloads)?;
        Ok(self.download_http.get_or_init(|| client))
    }

    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// An authenticated call to a path below the API base.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        deadline: Deadline,
    ) -> Result<Bytes, GlassixError> {
        self.call_url(method, self.url(path)?, path, body, deadline)
            .await
    }

    /// An authenticated call to `url` (`path` names it in logs). A 401 renews the token once
    /// and repeats the call once.
    async fn call_url(
        &self,
        method: Method,
        url: url::Url,
        path: &str,
        body: Option<Bytes>,
        deadline: Deadline,
    ) -> Result<Bytes, GlassixError> {
        // POST is the one method we use for calls that add something each time they arrive.
        let call = Call {
            path,
            replay: if method == Method::POST {
                Replay::OnlyIfNotReceived
            } else {
                Replay::Always
            },
            answer_limit: self.answer_limit,
        };
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
            match self.retry.send(call, deadline, send).await {
                Err(GlassixError::Unauthorized) if !renewed => {
                    tracing::info!(
                        path = retry::template(path),
                        "Glassix refused the token; renewing it once"
                    );
                    self.token.forget(&token).await;
                    renewed = true;
                }
                outcome => return outcome,
            }
        }
    }

    /// The cached token, or a new one from `token/get`.
    async fn token(&self, deadline: Deadline) -> Result<SecretString, GlassixError> {
        // Boxed: a token fetch is rare, and its future nested in every call's future makes the
        // archive job's future too deep for the compiler's layout limit.
        self.token
            .get_or_fetch(Box::pin(async {
                match self.fetch_token(deadline).await {
                    // The API key or secret may have been rotated since they were read.
                    Err(GlassixError::Unauthorized)
                        if match &self.live {
                            Some(live) => live.reload_after_refusal().await,
                            None => false,
                        } =>
                    {
                        self.fetch_token(deadline).await
                    }
                    outcome => outcome,
                }
            }))
            .await
    }

    async fn fetch_token(
        &self,
        deadline: Deadline,
    ) -> Result<(SecretString, Duration), GlassixError> {
        let current = match &self.live {
            Some(live) => Some(live.current().await),
            None => None,
        };
        let settings = match &current {
            Some(credentials) => credentials
                .glassix()
                .map_err(|e| GlassixError::Decode(e.to_string()))?,
            None => &self.settings,
        };
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct TokenRequest<'a> {
            api_key: &'a str,
            api_secret: &'a str,
            user_name: &'a str,
        }
        let request = json(&TokenRequest {
            api_key: settings.api_key.expose_secret(),
            api_secret: settings.api_secret.expose_secret(),
            user_name: &settings.user_name,
        })?;
        let url = self.url("token/get")?;
        let body = self
            .retry
            // Asking for a token again only gives another token.
            .send(
                Call {
                    path: "token/get",
                    replay: Replay::Always,
                    answer_limit: self.answer_limit,
                },
                deadline,
                || {
                    self.http
                        .post(url.clone())
                        .header(ACCEPT, "application/json")
                        .header(CONTENT_TYPE, "application/json; charset=utf-8")
                        .body(request.clone())
                },
            )
            .await?;
        let response: TokenResponse = serde_json::from_slice(&body)
            .map_err(|_| GlassixError::Decode("token response".into()))?;
        Ok((
            SecretString::from(response.access_token),
            token::lifetime(response.expires_in),
        ))
    }

    /// A URL Glassix handed out (a next page), accepted only on the API's own origin: our
    /// token is never sent anywhere else.
    fn same_origin(&self, raw: &str) -> Result<url::Url, GlassixError> {
        let url =
            url::Url::parse(raw).map_err(|_| GlassixError::Decode("bad next-page URL".into()))?;
        if url.origin() != self.settings.base_url.origin() {
            return Err(GlassixError::Decode(
                "the next-page URL is not on the Glassix API's origin".into(),
            ));
        }
        Ok(url)
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

/// The HTTP client of attachment downloads: the download rules at connect time and on every
/// redirect.
fn download_client(origins: &links::AllowedOrigins) -> Result<reqwest::Client, reqwest::Error> {
    crate::tls::https_client()
        .connect_timeout(Duration::from_secs(2))
        .pool_idle_timeout(Duration::from_secs(50))
        .user_agent("client-ticket-manager")
        .redirect(origins.redirect_policy())
        .dns_resolver(origins.resolver())
        .build()
}
