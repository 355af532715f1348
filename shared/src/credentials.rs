//! The credentials a warm function must follow when an operator changes them: the REST API
//! tokens and the Glassix credentials (whose API secret also keys webhook signatures). This
//! module alone parses their keys, at the cold start (for `Config`) and at every reread.
//!
//! They come from the same secret as the rest of the configuration and are read again every
//! [`RELOAD_EVERY`], so a token removed from the secret stops working within that time on
//! every warm instance. A token or a signature the current credentials refuse also rereads
//! the secret, at most once per [`RELOAD_ON_REFUSAL_EVERY`]: a rotated Glassix API secret or
//! a newly added token works at once, and nobody can make a function call Secrets Manager
//! more often than that. A failed reread keeps the credentials in hand and tries again after
//! [`RETRY_FAILED_RELOAD`]. Without a secret (local runs, tests) nothing is reread. A reread
//! parses only the credential keys: a malformed edit of any other key (a budget, a date) is
//! the next cold start's concern and never holds back a rotation.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use secrecy::SecretString;
use tokio::time::Instant;
use url::Url;

use crate::access::ApiTokens;
use crate::keys;
use crate::secret::{ConfigError, Sources, fetch_secret, secrets_client};

/// How long a change to the secret may take to reach a warm function.
pub const RELOAD_EVERY: Duration = Duration::from_secs(5 * 60);
/// The most often a refused token or signature rereads the secret.
pub const RELOAD_ON_REFUSAL_EVERY: Duration = Duration::from_secs(60);
/// When to try again after a reread failed (Secrets Manager unreachable, a malformed edit).
pub const RETRY_FAILED_RELOAD: Duration = Duration::from_secs(60);

/// Credentials and address of the Glassix workspace the webhooks talk to.
#[derive(Debug, Clone)]
pub struct GlassixSettings {
    pub base_url: Url,
    pub api_key: SecretString,
    pub api_secret: SecretString,
    pub user_name: String,
}

/// One reading of the credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    api_tokens: Result<ApiTokens, ConfigError>,
    glassix: Result<GlassixSettings, ConfigError>,
}

impl Credentials {
    pub fn new(
        api_tokens: Result<ApiTokens, ConfigError>,
        glassix: Result<GlassixSettings, ConfigError>,
    ) -> Self {
        Self {
            api_tokens,
            glassix,
        }
    }

    /// The credential keys of `sources`, each part checked on its own: a function that needs
    /// only one of them runs without the other.
    pub fn from_sources(sources: &Sources<'_>) -> Self {
        Self::new(api_tokens(sources), glassix_settings(sources))
    }

    /// Bearer tokens the REST API accepts, with their names and scopes.
    pub fn api_tokens(&self) -> Result<&ApiTokens, ConfigError> {
        self.api_tokens.as_ref().map_err(Clone::clone)
    }

    /// Glassix address and credentials; `api_secret` keys the webhook signatures.
    pub fn glassix(&self) -> Result<&GlassixSettings, ConfigError> {
        self.glassix.as_ref().map_err(Clone::clone)
    }
}

/// Where the credentials are reread from.
struct Source {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
}

/// When the next rereads are allowed.
struct Schedule {
    next_due: Instant,
    last_on_refusal: Option<Instant>,
}

/// The current credentials, reread as described in the module documentation.
pub struct LiveCredentials {
    current: RwLock<Arc<Credentials>>,
    source: Option<Source>,
    reload_every: Duration,
    schedule: Mutex<Schedule>,
    /// One reread at a time; the others wait and then use its result.
    reloading: tokio::sync::Mutex<()>,
    reloads: AtomicU64,
}

impl LiveCredentials {
    /// Credentials that never change (no secret to reread).
    pub fn fixed(credentials: Credentials) -> Self {
        Self::with_source(credentials, None)
    }

    /// `credentials` as the cold start read them, reread from the secret `arn` if they came
    /// from one.
    pub async fn reread_from(credentials: Credentials, arn: Option<&str>) -> Self {
        let source = match arn {
            Some(arn) => Some(Source {
                client: secrets_client().await,
                arn: arn.to_owned(),
            }),
            None => None,
        };
        Self::with_source(credentials, source)
    }

    /// `credentials`, reread from the secret `arn` through `client` (tests point it at moto).
    pub fn from_secret(
        credentials: Credentials,
        client: aws_sdk_secretsmanager::Client,
        arn: impl Into<String>,
    ) -> Self {
        Self::with_source(
            credentials,
            Some(Source {
                client,
                arn: arn.into(),
            }),
        )
    }

    fn with_source(credentials: Credentials, source: Option<Source>) -> Self {
        Self {
            current: RwLock::new(Arc::new(credentials)),
            source,
            reload_every: RELOAD_EVERY,
            schedule: Mutex::new(Schedule {
                next_due: Instant::now() + RELOAD_EVERY,
                last_on_refusal: None,
            }),
            reloading: tokio::sync::Mutex::new(()),
            reloads: AtomicU64::new(0),
        }
    }

    /// Rereads every `period` instead of [`RELOAD_EVERY`] (tests).
    pub fn reloading_every(mut self, period: Duration) -> Self {
        self.reload_every = period;
        self.schedule_mut().next_due = Instant::now() + period;
        self
    }

    /// The credentials, reread first if they are older than the reload period.
    pub async fn current(&self) -> Arc<Credentials> {
        if self.source.is_some() && Instant::now() >= self.schedule_mut().next_due {
            let _one_at_a_time = self.reloading.lock().await;
            if Instant::now() >= self.schedule_mut().next_due {
                self.reload().await;
            }
        }
        self.snapshot()
    }

    /// After a token or signature was refused: rereads the secret unless that was done less
    /// than [`RELOAD_ON_REFUSAL_EVERY`] ago. True when the credentials were reread (so the
    /// caller checks once more against [`Self::current`]).
    pub async fn reload_after_refusal(&self) -> bool {
        if self.source.is_none() {
            return false;
        }
        let _one_at_a_time = self.reloading.lock().await;
        {
            let mut schedule = self.schedule_mut();
            let now = Instant::now();
            if schedule
                .last_on_refusal
                .is_some_and(|last| now < last + RELOAD_ON_REFUSAL_EVERY)
            {
                return false;
            }
            schedule.last_on_refusal = Some(now);
        }
        self.reload().await
    }

    /// How many times the secret was reread since the cold start.
    pub fn reloads(&self) -> u64 {
        self.reloads.load(Ordering::Relaxed)
    }

    async fn reload(&self) -> bool {
        let Some(source) = &self.source else {
            return false;
        };
        self.reloads.fetch_add(1, Ordering::Relaxed);
        match fetch_secret(&source.client, &source.arn).await {
            Ok(secret) => {
                let env: HashMap<String, String> = std::env::vars().collect();
                let credentials = Credentials::from_sources(&Sources {
                    env: &env,
                    secret: &secret,
                });
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(credentials);
                self.schedule_mut().next_due = Instant::now() + self.reload_every;
                tracing::info!("credentials reread from the secret");
                true
            }
            Err(error) => {
                // The error names a key or the secret's ARN, never a value.
                tracing::warn!(error = %error, "credentials not reread; keeping the current ones");
                self.schedule_mut().next_due =
                    Instant::now() + RETRY_FAILED_RELOAD.min(self.reload_every);
                false
            }
        }
    }

    fn snapshot(&self) -> Arc<Credentials> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn schedule_mut(&self) -> std::sync::MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn glassix_settings(sources: &Sources<'_>) -> Result<GlassixSettings, ConfigError> {
    let get = |key: &'static str| sources.get(key);
    let require = |key: &'static str| sources.require(key);
    let base_url = match get(keys::GLASSIX_BASE_URL) {
        Some(url) => parse_base_url(keys::GLASSIX_BASE_URL, url)?,
        None => {
            let workspace = require(keys::GLASSIX_WORKSPACE)?;
            if !workspace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(ConfigError::Malformed {
                    key: keys::GLASSIX_WORKSPACE,
                    reason: "expected letters, digits and dashes only".into(),
                });
            }
            parse_base_url(
                keys::GLASSIX_WORKSPACE,
                &format!("https://{workspace}.glassix.com/api/v1.2"),
            )?
        }
    };
    Ok(GlassixSettings {
        base_url,
        api_key: SecretString::from(require(keys::GLASSIX_API_KEY)?.to_owned()),
        api_secret: SecretString::from(require(keys::GLASSIX_API_SECRET)?.to_owned()),
        user_name: require(keys::GLASSIX_USER_NAME)?.to_owned(),
    })
}

fn api_tokens(sources: &Sources<'_>) -> Result<ApiTokens, ConfigError> {
    let raw = sources
        .get(keys::API_TOKENS)
        .ok_or(ConfigError::Missing(keys::API_TOKENS))?;
    ApiTokens::parse(raw).map_err(|reason| ConfigError::Malformed {
        key: keys::API_TOKENS,
        reason,
    })
}

/// A base URL always ends in `/` so that relative joins keep its path (`/api/v1.2/`).
fn parse_base_url(key: &'static str, raw: &str) -> Result<Url, ConfigError> {
    let with_slash = if raw.ends_with('/') {
        raw.to_owned()
    } else {
        format!("{raw}/")
    };
    let url = Url::parse(&with_slash).map_err(|e| ConfigError::Malformed {
        key,
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::Malformed {
            key,
            reason: "expected an http(s) URL".into(),
        });
    }
    Ok(url)
}
