//! One AWS configuration per process. Secrets Manager, SQS and S3 clients are built from it,
//! so a cold start resolves region and credentials once and the clients share one HTTP
//! client (one connection pool, one TLS setup: `connector`) instead of each loading its own.
//!
//! It is built from the environment Lambda provides (`AWS_REGION`, the execution role's
//! credentials in `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`), not
//! with `aws_config::load_from_env`: its default chains (profile files, SSO, STS web identity,
//! ECS and EC2 metadata) are never used on Lambda, and each one linked into every bootstrap.
//! `AWS_ENDPOINT_URL` points every client elsewhere (moto_server locally and in tests).

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::rt::sleep::TokioSleep;
use tokio::sync::OnceCell;

mod connector;

/// The AWS environment's configuration, built on first use.
pub async fn sdk_config() -> &'static SdkConfig {
    static CONFIG: OnceCell<SdkConfig> = OnceCell::const_new();
    CONFIG
        .get_or_init(|| async {
            let region = std::env::var("AWS_REGION")
                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                .ok();
            let endpoint = std::env::var("AWS_ENDPOINT_URL").ok();
            config(
                region.map(Region::new),
                SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()),
                endpoint,
            )
        })
        .await
}

/// A configuration with the given region, credentials and endpoint, on the shared HTTPS
/// client (tests point it at moto_server).
pub fn config(
    region: Option<Region>,
    credentials: SharedCredentialsProvider,
    endpoint: Option<String>,
) -> SdkConfig {
    let https = connector::reqwest_http_client().expect("an HTTP client with ring's TLS");
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(credentials)
        .http_client(https)
        .sleep_impl(TokioSleep::new());
    builder.set_endpoint_url(endpoint);
    builder.build()
}
