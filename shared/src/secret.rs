//! Where configuration values come from: the process environment and, when `APP_SECRET_ARN` is
//! set, one AWS Secrets Manager secret (a JSON object whose keys are the same names as the
//! variables). A non-empty environment variable wins over the secret, so an operator can
//! override one value without editing the secret. Values are never logged or echoed: errors
//! name the key or the secret's ARN only.

use std::collections::HashMap;
use std::time::Duration;

/// The longest a read of the secret may take: a cold start or a reread waiting on an
/// unreachable Secrets Manager fails instead of running into the function's timeout.
pub const READ_TIME: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("configuration key {0} is missing")]
    Missing(&'static str),
    #[error("configuration key {key} is malformed: {reason}")]
    Malformed { key: &'static str, reason: String },
    #[error("secret {arn} could not be read: {reason}")]
    Secret { arn: String, reason: String },
}

/// The environment and the secret, as read once.
pub struct Sources<'a> {
    pub env: &'a HashMap<String, String>,
    pub secret: &'a HashMap<String, String>,
}

impl<'a> Sources<'a> {
    /// The value of `key`: the environment's if non-empty, else the secret's.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        non_empty(self.env, key).or_else(|| non_empty(self.secret, key))
    }

    pub fn require(&self, key: &'static str) -> Result<&'a str, ConfigError> {
        self.get(key).ok_or(ConfigError::Missing(key))
    }
}

pub fn non_empty<'a>(map: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    map.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// A comma-separated list, blanks dropped.
pub fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The Secrets Manager client every function uses: one per process, on the shared AWS
/// configuration.
pub async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(crate::aws::sdk_config().await)
}

/// Reads one secret whose `SecretString` is a JSON object of string values. A value that is
/// not a string, number or boolean is left out (and reported by key): a key no reader needs
/// must not stop the others from being read; a reader that needs it finds it missing.
pub async fn fetch_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<HashMap<String, String>, ConfigError> {
    let secret_error = |reason: String| ConfigError::Secret {
        arn: arn.to_owned(),
        reason,
    };
    let read = client.get_secret_value().secret_id(arn).send();
    let output = tokio::time::timeout(READ_TIME, read)
        .await
        .map_err(|_| secret_error(format!("no answer within {} s", READ_TIME.as_secs())))?
        .map_err(|e| {
            secret_error(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string())
        })?;
    let text = output
        .secret_string()
        .ok_or_else(|| secret_error("the secret has no SecretString".into()))?;
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text)
        .map_err(|_| secret_error("the secret is not a JSON object".into()))?;
    Ok(object
        .into_iter()
        .filter_map(|(key, value)| match value {
            serde_json::Value::String(s) => Some((key, s)),
            serde_json::Value::Number(n) => Some((key, n.to_string())),
            serde_json::Value::Bool(b) => Some((key, b.to_string())),
            _ => {
                tracing::warn!(key = %key, "a value of the secret is not a string; left out");
                None
            }
        })
        .collect())
}
