//! Typed configuration from environment variables and, when `APP_SECRET_ARN` is set, from one
//! AWS Secrets Manager secret (a JSON object whose keys are the same names as the variables).
//!
//! Precedence: a non-empty environment variable wins over the secret, so an operator can
//! override one value without editing the secret. Values are never logged or echoed: errors
//! name the key only.

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// The names below are a contract with the SAM template, the README and the local API.
pub mod keys {
    pub const APP_SECRET_ARN: &str = "APP_SECRET_ARN";
    pub const MONGODB_URI: &str = "MONGODB_URI";
    pub const MONGODB_DATABASE: &str = "MONGODB_DATABASE";
    pub const GLASSIX_WORKSPACE: &str = "GLASSIX_WORKSPACE";
    pub const GLASSIX_API_KEY: &str = "GLASSIX_API_KEY";
    pub const GLASSIX_API_SECRET: &str = "GLASSIX_API_SECRET";
    pub const GLASSIX_USER_NAME: &str = "GLASSIX_USER_NAME";
    pub const GLASSIX_BASE_URL: &str = "GLASSIX_BASE_URL";
    pub const API_TOKENS: &str = "API_TOKENS";
    pub const NEW_TICKET_TAGS: &str = "NEW_TICKET_TAGS";
    pub const WEBHOOK_BUDGET_MS: &str = "WEBHOOK_BUDGET_MS";
    pub const ARCHIVE_QUEUE_URL: &str = "ARCHIVE_QUEUE_URL";
    pub const RECONCILE_SINCE: &str = "RECONCILE_SINCE";
    pub const RECONCILE_DRY_RUN: &str = "RECONCILE_DRY_RUN";
    pub const FILES_BUCKET: &str = "FILES_BUCKET";
    pub const FILES_DIR: &str = "FILES_DIR";
}

const MIN_TOKEN_CHARS: usize = 32;
const DEFAULT_DATABASE: &str = "client_ticket_manager";
const DEFAULT_WEBHOOK_BUDGET: Duration = Duration::from_millis(4500);

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("configuration key {0} is missing")]
    Missing(&'static str),
    #[error("configuration key {key} is malformed: {reason}")]
    Malformed { key: &'static str, reason: String },
    #[error("secret {arn} could not be read: {reason}")]
    Secret { arn: String, reason: String },
}

/// Credentials and address of the Glassix workspace the webhooks talk to.
#[derive(Debug, Clone)]
pub struct GlassixSettings {
    pub base_url: Url,
    pub api_key: SecretString,
    pub api_secret: SecretString,
    pub user_name: String,
}

/// Everything a function may need. Role-specific parts are checked by their accessors, so a
/// REST function does not need Glassix credentials and a webhook does not need API tokens.
#[derive(Debug, Clone)]
pub struct Config {
    pub mongodb_uri: SecretString,
    pub mongodb_database: String,
    pub webhook_budget: Duration,
    pub new_ticket_tags: Vec<String>,
    /// The SQS FIFO queue of archive jobs; without it the webhook runs each job inline.
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
    glassix: Result<GlassixSettings, ConfigError>,
    api_tokens: Result<Vec<SecretString>, ConfigError>,
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
            Some(arn) => fetch_secret(&crate::credentials::secrets_client().await, arn).await?,
            None => HashMap::new(),
        };
        let mut config = Self::from_sources(&env, &secret)?;
        config.secret_arn = arn.map(str::to_owned);
        Ok(config)
    }

    /// Builds the configuration from already-read sources; the environment wins over the secret.
    pub fn from_sources(
        env: &HashMap<String, String>,
        secret: &HashMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let get = |key: &'static str| non_empty(env, key).or_else(|| non_empty(secret, key));
        let require = |key: &'static str| get(key).ok_or(ConfigError::Missing(key));

        let mongodb_uri = require(keys::MONGODB_URI)?;
        if !mongodb_uri.starts_with("mongodb://") && !mongodb_uri.starts_with("mongodb+srv://") {
            return Err(ConfigError::Malformed {
                key: keys::MONGODB_URI,
                reason: "expected a mongodb:// or mongodb+srv:// connection string".into(),
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
            reconcile_dry_run: match get(keys::RECONCILE_DRY_RUN) {
                None => false,
                Some(raw) => raw.parse().map_err(|_| ConfigError::Malformed {
                    key: keys::RECONCILE_DRY_RUN,
                    reason: "expected true or false".into(),
                })?,
            },
            files_bucket: get(keys::FILES_BUCKET).map(str::to_owned),
            files_dir: get(keys::FILES_DIR).map(str::to_owned),
            glassix: glassix_settings(&get),
            api_tokens: api_tokens(&get),
            secret_arn: None,
        })
    }

    /// Glassix settings, or the error naming the first missing or malformed key.
    pub fn glassix(&self) -> Result<&GlassixSettings, ConfigError> {
        self.glassix.as_ref().map_err(Clone::clone)
    }

    /// Bearer tokens accepted by the REST API (several allow rotation).
    pub fn api_tokens(&self) -> Result<&[SecretString], ConfigError> {
        self.api_tokens.as_deref().map_err(Clone::clone)
    }
}

fn glassix_settings<'a>(
    get: &impl Fn(&'static str) -> Option<&'a str>,
) -> Result<GlassixSettings, ConfigError> {
    let require = |key: &'static str| get(key).ok_or(ConfigError::Missing(key));
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

fn api_tokens<'a>(
    get: &impl Fn(&'static str) -> Option<&'a str>,
) -> Result<Vec<SecretString>, ConfigError> {
    let tokens: Vec<SecretString> = get(keys::API_TOKENS)
        .ok_or(ConfigError::Missing(keys::API_TOKENS))
        .map(split_list)?
        .into_iter()
        .map(SecretString::from)
        .collect();
    if tokens.is_empty() {
        return Err(ConfigError::Missing(keys::API_TOKENS));
    }
    // 32 characters: a token guessed or brute-forced through the API stays out of reach.
    if tokens
        .iter()
        .any(|t| t.expose_secret().chars().count() < MIN_TOKEN_CHARS)
    {
        return Err(ConfigError::Malformed {
            key: keys::API_TOKENS,
            reason: format!("every token must be at least {MIN_TOKEN_CHARS} characters"),
        });
    }
    Ok(tokens)
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

fn non_empty<'a>(map: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    map.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads one secret whose `SecretString` is a JSON object of string values.
pub async fn fetch_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<HashMap<String, String>, ConfigError> {
    let secret_error = |reason: String| ConfigError::Secret {
        arn: arn.to_owned(),
        reason,
    };
    let output = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            secret_error(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())
        })?;
    let text = output
        .secret_string()
        .ok_or_else(|| secret_error("the secret has no SecretString".into()))?;
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|_| secret_error("the secret is not a JSON object".into()))?;
    object
        .into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(s) => Ok((key, s)),
            serde_json::Value::Number(n) => Ok((key, n.to_string())),
            _ => Err(secret_error(format!("the value of {key} is not a string"))),
        })
        .collect()
}
