//! One AWS configuration per process. Secrets Manager, SQS and S3 clients are built from it,
//! so a cold start resolves region and credentials once and the clients share one HTTP
//! client (one connection pool, one TLS setup) instead of each loading its own.

use aws_config::SdkConfig;
use tokio::sync::OnceCell;

/// The AWS environment's configuration (`aws_config::load_from_env`), loaded on first use.
pub async fn sdk_config() -> &'static SdkConfig {
    static CONFIG: OnceCell<SdkConfig> = OnceCell::const_new();
    CONFIG.get_or_init(aws_config::load_from_env).await
}
