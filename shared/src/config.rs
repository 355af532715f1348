//! Typed configuration, read once per cold start from the environment and the secret
//! (`crate::secret`). The credentials among it (API tokens, Glassix) are owned by
//! [`Credentials`], which alone rereads them while warm.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::SecretString;

pub use crate::credentials::{Credentials, GlassixSettings};
pub use crate::keys;
pub use crate::secret::{ConfigError, fetch_secret};
use crate::secret::{Sources, non_empty, split_list};

/// The API token every developer has (`scripts/run-local.sh`, the README, `events/`): refused
/// by every function configured from a secret, i.e. deployed.
pub const DEVELOPMENT_TOKEN: &str = "local-dev-token-0123456789abcdef";
const DEFAULT_MAX_ATTACHMENT_MB: u64 = 1024;
/// The worker's ephemeral storage is at most 10 GB.
const MAX_ATTACHMENT_MB_LIMIT: u64 = 10 * 1024;
const DEFAULT_ACCESS_LOG_DAYS: i64 = 730;
/// How long an export can be downloaded when `EXPORT_DAYS` is unset.
pub const DEFAULT_EXPORT_DAYS: i64 = 7;
/// A century, the longest any retention may be.
const MAX_DAYS: i64 = 36_500;
const DEFAULT_DATABASE: &str = "client_ticket_manager";
const DEFAULT_WEBHOOK_BUDGET: Duration = Duration::from_millis(4500);

/// Everything a function may need. The credentials are checked by their accessors, so a REST
/// function does not need Glassix credentials and a webhook does not need API tokens.
#[derive(Debug, Clone)]
pub struct Config {
    pub mongodb_uri: SecretString,
    pub mongodb_database: String,
    pub webhook_budget: Duration,
    pub new_ticket_tags: Vec<String>,
    /// The SQS FIFO queue of archive jobs; required deployed, and without it `local-api` keeps
    /// its jobs in the database (`crate::queue::LocalQueue`).
    pub archive_queue_url: Option<String>,
    /// Where reconciliation's first run starts (RFC 3339); default: 7 days back.
    pub reconcile_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Reconciliation lists what it would archive and changes nothing.
    pub reconcile_dry_run: bool,
    /// The S3 bucket of archived attachment files; without it they go to [`Self::files_dir`].
    pub files_bucket: Option<String>,
    /// The folder of archived attachment files when no bucket is set (development); `None`:
    /// `.local/files` under the current directory.
    pub files_dir: Option<String>,
    /// The largest attachment file the archive job downloads (`MAX_ATTACHMENT_MB`, default
    /// 1024): a body that never ends fails the job instead of filling the disk.
    pub max_attachment_bytes: u64,
    /// How long an access-log entry is kept (`ACCESS_LOG_DAYS`, default 730: the 24 months
    /// data-protection rules ask of such records).
    pub access_log_retention: chrono::Duration,
    /// How long an archived ticket is kept after its closing (`RETENTION_DAYS`); `None`:
    /// forever.
    pub retention: Option<chrono::Duration>,
    /// The purge lists what it would delete and changes nothing (`PURGE_DRY_RUN`).
    pub purge_dry_run: bool,
    /// The SQS FIFO queue of export jobs; required by the deployed export request route, and
    /// without it `local-api` keeps its export jobs in the database.
    pub export_queue_url: Option<String>,
    /// How long a client's data export can be downloaded (`EXPORT_DAYS`, default 7).
    pub export_lifetime: chrono::Duration,
    /// What this REST function's route requires of a token (`ROUTE_SCOPE`); `None` elsewhere.
    pub route_scope: Option<crate::access::RouteScope>,
    /// The credentials as the cold start read them.
    pub credentials: Credentials,
    /// The secret this configuration was read from, for rereading its credentials while warm
    /// (`crate::credentials`).
    pub(crate) secret_arn: Option<String>,
}

impl Config {
    /// Reads the process environment and, if `APP_SECRET_ARN` is set, the secret it names.
    /// Called once per cold start.
    pub async fn load() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let arn = non_empty(&env, keys::APP_SECRET_ARN);
        let secret = match arn {
            Some(arn) => fetch_secret(&crate::secret::secrets_client().await, arn).await?,
            None => HashMap::new(),
        };
        let mut config = Self::from_sources(&env, &secret)?;
        if arn.is_some() {
            config.refuse_development_token()?;
        }
        config.secret_arn = arn.map(str::to_owned);
        Ok(config)
    }

    /// Builds the configuration from already-read sources; the environment wins over the secret.
    pub fn from_sources(
        env: &HashMap<String, String>,
        secret: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let sources = Sources { env, secret };
        let get = |key: &'static str| sources.get(key);
        let require = |key: &'static str| sources.require(key);

        let mongodb_uri = require(keys::MONGODB_URI)?;
        if !mongodb_uri.starts_with("mongodb://") && !mongodb_uri.starts_with("mongodb+srv://") {
            return Err(ConfigError::Malformed {
                key: keys::MONGODB_URI,
                reason: "expected a mongodb:// or mongodb+srv:// connection string".into(),
            });
        }
        if !crosses_the_network_encrypted(mongodb_uri) {
            return Err(ConfigError::Malformed {
                key: keys::MONGODB_URI,
                reason:
                    "a host that is not this machine needs tls=true (mongodb+srv:// implies it)"
                        .into(),
            });
        }
        let webhook_budget = match get(keys::WEBHOOK_BUDGET_MS) {
            None => DEFAULT_WEBHOOK_BUDGET,
            Some(ms) => match ms.parse::<u64>() {
                Ok(ms) if (100..=30_000).contains(&ms) => Duration::from_millis(ms),
                _ => {
                    return Err(ConfigError::Malformed {
                        key: keys::WEBHOOK_BUDGET_MS,
                        reason: "expected milliseconds between 100 and 30000".into(),
                    });
                }
            },
        };

        Ok(Self {
            mongodb_uri: SecretString::from(mongodb_uri.to_owned()),
            mongodb_database: get(keys::MONGODB_DATABASE)
                .unwrap_or(DEFAULT_DATABASE)
                .to_owned(),
            webhook_budget,
            new_ticket_tags: get(keys::NEW_TICKET_TAGS)
                .map(split_list)
                .unwrap_or_default(),
            archive_queue_url: get(keys::ARCHIVE_QUEUE_URL).map(str::to_owned),
            reconcile_since: match get(keys::RECONCILE_SINCE) {
                None => None,
                Some(raw) => Some(
                    chrono::DateTime::parse_from_rfc3339(raw)
                        .map_err(|_| ConfigError::Malformed {
                            key: keys::RECONCILE_SINCE,
                            reason: "expected an RFC 3339 date, e.g. 2024-01-01T00:00:00Z".into(),
                        })?
                        .with_timezone(&chrono::Utc),
                ),
            },
            reconcile_dry_run: boolean(keys::RECONCILE_DRY_RUN, get(keys::RECONCILE_DRY_RUN))?,
            files_bucket: get(keys::FILES_BUCKET).map(str::to_owned),
            files_dir: get(keys::FILES_DIR).map(str::to_owned),
            max_attachment_bytes: match get(keys::MAX_ATTACHMENT_MB) {
                None => DEFAULT_MAX_ATTACHMENT_MB,
                Some(raw) => match raw.parse::<u64>() {
                    Ok(mb) if (1..=MAX_ATTACHMENT_MB_LIMIT).contains(&mb) => mb,
                    _ => {
                        return Err(ConfigError::Malformed {
                            key: keys::MAX_ATTACHMENT_MB,
                            reason: format!(
                                "expected megabytes between 1 and {MAX_ATTACHMENT_MB_LIMIT}"
                            ),
                        });
                    }
                },
            } * 1024
                * 1024,
            access_log_retention: match get(keys::ACCESS_LOG_DAYS) {
                None => chrono::Duration::days(DEFAULT_ACCESS_LOG_DAYS),
                Some(raw) => days(keys::ACCESS_LOG_DAYS, raw)?,
            },
            retention: match get(keys::RETENTION_DAYS) {
                None => None,
                Some(raw) => Some(days(keys::RETENTION_DAYS, raw)?),
            },
            purge_dry_run: boolean(keys::PURGE_DRY_RUN, get(keys::PURGE_DRY_RUN))?,
            export_queue_url: get(keys::EXPORT_QUEUE_URL).map(str::to_owned),
            export_lifetime: match get(keys::EXPORT_DAYS) {
                None => chrono::Duration::days(DEFAULT_EXPORT_DAYS),
                Some(raw) => days(keys::EXPORT_DAYS, raw)?,
            },
            route_scope: match get(keys::ROUTE_SCOPE) {
                None => None,
                Some(raw) => Some(crate::access::RouteScope::parse(raw).ok_or_else(|| {
                    ConfigError::Malformed {
                        key: keys::ROUTE_SCOPE,
                        reason: "expected read, write, erase, export, audit or any-token".into(),
                    }
                })?),
            },
            credentials: Credentials::from_sources(&sources),
            secret_arn: None,
        })
    }

    /// A deployed function never accepts [`DEVELOPMENT_TOKEN`]: whoever read the README could
    /// use it.
    fn refuse_development_token(&self) -> Result<(), ConfigError> {
        let accepted = self.credentials.api_tokens().ok();
        if accepted.is_some_and(|tokens| tokens.identify(DEVELOPMENT_TOKEN).is_some()) {
            return Err(ConfigError::Malformed {
                key: keys::API_TOKENS,
                reason: "the development token local-dev-token-… is refused where a secret configures the function".into(),
            });
        }
        Ok(())
    }

    /// Glassix settings, or the error naming the first missing or malformed key.
    pub fn glassix(&self) -> Result<&GlassixSettings, ConfigError> {
        self.credentials.glassix()
    }

    /// The credentials, reread from the secret while warm if they came from one.
    pub async fn live_credentials(&self) -> crate::credentials::LiveCredentials {
        crate::credentials::LiveCredentials::reread_from(
            self.credentials.clone(),
            self.secret_arn.as_deref(),
        )
        .await
    }

    /// Bearer tokens accepted by the REST API (several allow rotation).
    pub fn api_tokens(&self) -> Result<&crate::access::ApiTokens, ConfigError> {
        self.credentials.api_tokens()
    }
}

/// A number of days, 1 to [`MAX_DAYS`].
fn days(key: &'static str, raw: &str) -> Result<chrono::Duration, ConfigError> {
    match raw.parse::<i64>() {
        Ok(days) if (1..=MAX_DAYS).contains(&days) => Ok(chrono::Duration::days(days)),
        _ => Err(ConfigError::Malformed {
            key,
            reason: format!("expected days between 1 and {MAX_DAYS}"),
        }),
    }
}

/// `true` or `false`; unset is `false`.
fn boolean(key: &'static str, raw: Option<&str>) -> Result<bool, ConfigError> {
    match raw {
        None => Ok(false),
        Some(raw) => raw.parse().map_err(|_| ConfigError::Malformed {
            key,
            reason: "expected true or false".into(),
        }),
    }
}

/// Whether a connection string keeps credentials and conversations off the network in clear:
/// `mongodb+srv://` (TLS by default), `tls=true` / `ssl=true`, or every host on this machine.
fn crosses_the_network_encrypted(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("mongodb://") else {
        return true;
    };
    let (authority, query) = match rest.split_once('/') {
        Some((authority, path)) => (authority, path.split_once('?').map(|(_, q)| q)),
        None => match rest.split_once('?') {
            Some((authority, query)) => (authority, Some(query)),
            None => (rest, None),
        },
    };
    let encrypted = query.is_some_and(|query| {
        query.split('&').any(|option| {
            let option = option.to_ascii_lowercase();
            option == "tls=true" || option == "ssl=true"
        })
    });
    let hosts = authority
        .rsplit_once('@')
        .map_or(authority, |(_, hosts)| hosts);
    encrypted || hosts.split(',').all(is_loopback)
}

/// `localhost`, `127.0.0.0/8` or `::1`, with or without a port.
fn is_loopback(host_and_port: &str) -> bool {
    let host = match host_and_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_and_port.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_elsewhere_is_reached_over_tls_only() {
        for (uri, accepted) in [
            ("mongodb://127.0.0.1:27017/", true),
            ("mongodb://localhost", true),
            ("mongodb://[::1]:27017/?directConnection=true", true),
            ("mongodb://127.0.0.2:1,localhost:2/db", true),
            (
                "mongodb+srv://user:pass@cluster0.example.mongodb.net/",
                true,
            ),
            ("mongodb://user:pass@db.example.com:27017/?tls=true", true),
            ("mongodb://db.example.com/?authSource=admin&SSL=true", true),
            ("mongodb://db.example.com:27017/", false),
            (
                "mongodb://user:p%40ss@10.0.0.5:27017/?authSource=admin",
                false,
            ),
            ("mongodb://127.0.0.1:1,db.example.com:2/?tls=false", false),
            ("mongodb://localhost.example.com", false),
        ] {
            assert_eq!(crosses_the_network_encrypted(uri), accepted, "{uri}");
        }
    }
}
