//! What a function builds once per cold start and reuses while warm.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::config::Config;
use crate::db::Store;
use crate::error::AppError;
use crate::glassix::GlassixClient;

/// State of the REST functions.
pub struct ApiState {
    pub store: Store,
    pub tokens: Vec<SecretString>,
}

impl ApiState {
    /// Requires a bearer token from `API_TOKENS` (401 otherwise).
    pub fn authorize(&self, request: &lambda_http::Request) -> Result<(), AppError> {
        crate::auth::require_bearer(request, &self.tokens)
    }

    pub async fn from_config(config: Config) -> Result<Self, AppError> {
        Ok(Self {
            store: connect(&config).await?,
            tokens: config.api_tokens()?.to_vec(),
        })
    }
}

/// State of the webhook functions.
pub struct WebhookState {
    pub store: Store,
    pub glassix: GlassixClient,
    /// The Glassix API secret, which also keys the webhook signatures.
    pub signing_secret: SecretString,
    /// Time allowed for one delivery; Glassix gives its retries 5 s.
    pub budget: Duration,
    pub new_ticket_tags: Vec<String>,
}

impl WebhookState {
    pub async fn from_config(config: Config) -> Result<Self, AppError> {
        let settings = config.glassix()?.clone();
        let glassix = GlassixClient::new(settings.clone())
            .map_err(|e| AppError::Internal(format!("HTTP client: {e}")))?;
        Ok(Self {
            store: connect(&config).await?,
            glassix,
            signing_secret: settings.api_secret,
            budget: config.webhook_budget,
            new_ticket_tags: config.new_ticket_tags.clone(),
        })
    }
}

async fn connect(config: &Config) -> Result<Store, AppError> {
    Ok(Store::connect(config.mongodb_uri.expose_secret(), &config.mongodb_database).await?)
}
