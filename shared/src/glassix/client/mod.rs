//! The Glassix REST client: one `reqwest::Client`, a cached bearer token (`token`), retries
//! bounded by a deadline the caller passes (`retry`), and the endpoints we call (`endpoints`).

mod download;
mod endpoints;
mod retry;
mod token;

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
use token::TokenCache;

use super::models::TokenResponse;
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

pub struct GlassixClient {
    http: reqwest::Client,
    settings: GlassixSettings,
    token: TokenCache,
    retry: RetryPolicy,
}

impl GlassixClient {
    pub fn new(settings: GlassixSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(50))
            .user_agent("client-ticket-manager")
            .build()?;
        Ok(Self {
            http,
            settings,
            token: TokenCache::default(),
            retry: RetryPolicy::default(),
        })
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
            match self.retry.send(path, deadline, send).await {
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
        self.token.get_or_fetch(self.fetch_token(deadline)).await
    }

    async fn fetch_token(
        &self,
        deadline: Deadline,
    ) -> Result<(SecretString, Duration), GlassixError> {
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
            .retry
            .send("token/get", deadline, || {
                self.http
                    .post(url.clone())
                    .header(ACCEPT, "application/json")
                    .header(CONTENT_TYPE, "application/json; charset=utf-8")
                    .body(request.clone())
            })
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
