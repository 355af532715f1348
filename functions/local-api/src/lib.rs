//! `local-api`: serves every route of `template.yaml` on `127.0.0.1:$PORT` by calling the same
//! handler functions the Lambdas run. For development only; never deployed.

pub mod handlers;
pub mod poller;
pub mod routes;
pub mod server;

use std::path::PathBuf;

use shared::config::Config;
use shared::error::AppError;
use shared::queue::ArchiveQueue;
use shared::reconcile::Reconciles;
use shared::state::{ApiState, ReconcileState, WebhookState, WorkerState};

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

/// With `ARCHIVE_QUEUE_URL` and Glassix settings, the queue and the worker state the poller
/// needs (the production shape, e.g. against moto); `None` in the inline mode.
pub async fn archive_poller(
    config: &Config,
) -> Result<Option<(ArchiveQueue, WorkerState)>, Box<dyn std::error::Error>> {
    let Some(queue) = ArchiveQueue::from_config(config).await else {
        return Ok(None);
    };
    let worker = WorkerState::from_config(config.clone())
        .await
        .map_err(describe)?;
    Ok(Some((queue, worker)))
}

fn describe(error: AppError) -> String {
    format!("{error}: {}", error.detail().unwrap_or_default())
}

/// One reconciliation pass, as the schedule runs it; prints its report as JSON.
pub async fn reconcile_once(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let state = ReconcileState::from_config(config)
        .await
        .map_err(describe)?;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(300);
    let report = state
        .reconciler()
        .run_and_report(chrono::Utc::now(), deadline)
        .await;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
