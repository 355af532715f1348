//! `local-api`: serves every route of `template.yaml` on `127.0.0.1:$PORT` by calling the same
//! handler functions the Lambdas run. For development only; never deployed.

pub mod handlers;
pub mod routes;
pub mod server;

use std::path::PathBuf;

use shared::config::Config;
use shared::error::AppError;
use shared::state::{ApiState, WebhookState};

pub use server::LocalApi;

/// `LOCAL_API_TEMPLATE`, else the repository's `template.yaml`.
pub fn template_path() -> PathBuf {
    std::env::var_os("LOCAL_API_TEMPLATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"))
}

/// Builds the local API from the same configuration the Lambdas read.
pub async fn from_config(
    config: Config,
    template: &str,
) -> Result<LocalApi, Box<dyn std::error::Error>> {
    let routes = routes::from_template(template)?;
    let api = ApiState::from_config(config.clone())
        .await
        .map_err(describe)?;
    let webhooks = match config.glassix() {
        Ok(_) => Some(WebhookState::from_config(config).await.map_err(describe)?),
        Err(missing) => {
            tracing::warn!(reason = %missing, "webhook routes disabled");
            None
        }
    };
    Ok(LocalApi::new(routes, handlers::States { api, webhooks })?)
}

fn describe(error: AppError) -> String {
    format!("{error}: {}", error.detail().unwrap_or_default())
}
