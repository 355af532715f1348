//! The credentials a warm function must follow when an operator changes them: the REST API
//! tokens and the Glassix credentials (whose API secret also keys webhook signatures).
//!
//! They come from the same secret as the rest of the configuration and are read again every
//! [`RELOAD_EVERY`], so a token removed from the secret stops working within that time on
//! every warm instance. A token or a signature the current credentials refuse also rereads
//! the secret, at most once per [`RELOAD_ON_REFUSAL_EVERY`]: a rotated Glassix API secret or
//! a newly added token works at once, and nobody can make a function call Secrets Manager
//! more often than that. A failed reread keeps the credentials in hand and tries again after
//! [`RETRY_FAILED_RELOAD`]. Without a secret (local runs, tests) nothing is reread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use secrecy::SecretString;
use tokio::time::Instant;

use crate::config::{Config, ConfigError, GlassixSettings, fetch_secret};

/// How long a change to the secret may take to reach a warm function.
pub const RELOAD_EVERY: Duration = Duration::from_secs(5 * 60);
/// The most often a refused token or signature rereads the secret.
pub const RELOAD_ON_REFUSAL_EVERY: Duration = Duration::from_secs(60);
/// When to try again after a reread failed (Secrets Manager unreachable, a malformed edit).
pub const RETRY_FAILED_RELOAD: Duration = Duration::from_secs(60);

/// The Secrets Manager client every function uses: one per process, on the shared AWS
/// configuration.
pub async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(crate::aws::sdk_config().await)
}

/// One reading of the credentials.
#[derive(Debug)]
pub struct Credentials {
    api_tokens: Result<Vec<SecretString>, ConfigError>,
    glassix: Result<GlassixSettings, ConfigError>,
}

impl Credentials {
    pub fn new(
        api_tokens: Result<Vec<SecretString>, ConfigError>,
        glassix: Result<GlassixSettings, ConfigError>,
    ) -> Self {
        Self {
            api_tokens,
            glassix,
        }
    }

    fn of(config: &Config) -> Self {
        Self::new(
            config.api_tokens().map(<[_]>::to_vec),
            config.glassix().cloned(),
        )
    }

    /// Bearer tokens the REST API accepts.
    pub fn api_tokens(&self) -> Result<&[SecretString], ConfigError> {
        self.api_tokens.as_deref().map_err(Clone::clone)
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

    /// The configuration's credentials, reread from its secret if it came from one.
    pub async fn from_config(config: &Config) -> Self {
        let source = match &config.secret_arn {
            Some(arn) => Some(Source {
                client: secrets_client().await,
                arn: arn.clone(),
            }),
            None => None,
        };
        Self::with_source(Credentials::of(config), source)
    }

    /// Credentials read from the secret `arn` through `client` (tests point it at moto), on
    /// top of `config` as the environment gives it.
    pub fn from_secret(
        config: &Config,
        client: aws_sdk_secretsmanager::Client,
        arn: impl Into<String>,
    ) -> Self {
        Self::with_source(
            Credentials::of(config),
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
        let read = async {
            let secret = fetch_secret(&source.client, &source.arn).await?;
            let env: HashMap<String, String> = std::env::vars().collect();
            Config::from_sources(&env, &secret)
        };
        match read.await {
            Ok(config) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) =
                    Arc::new(Credentials::of(&config));
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
