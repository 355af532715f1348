//! `migrate`: creates the database's indexes once per deployment, so that no function spends
//! a cold start on index commands. CloudFormation runs it as the custom resource
//! `DatabaseIndexes` of `template.yaml` on every deploy that changes its `IndexesVersion`
//! (which a test keeps equal to [`shared::db::INDEXES_VERSION`]); locally `local-api` runs the
//! same step at start and as `cargo run -p local-api -- migrate`.
//!
//! Then it builds the search documents of tickets that lack one of the current rules
//! (`Store::backfill_search`), until its time budget; a run cut short resumes where it
//! stopped at the next migration (or `local-api migrate` against the same database, which has
//! no deadline).
//!
//! Creating an index that exists is a no-op and the backfill skips what is done, so the step
//! is safe to repeat. Deleting the resource (the stack) leaves the indexes and the search
//! documents: the data outlives the stack.

use std::time::Duration;

use aws_lambda_events::cloudformation::{
    CloudFormationCustomResourceRequest as Request, CloudFormationCustomResourceResponse,
    CloudFormationCustomResourceResponseStatus as Status,
};
use shared::config::Config;
use shared::db::Store;
use shared::error::AppError;
use shared::glassix::Deadline;
use shared::state::FromConfig;

/// Time kept from the invocation for telling CloudFormation the outcome.
const RESPONSE_RESERVE: Duration = Duration::from_secs(5);
/// The physical id of the one resource this function manages.
const PHYSICAL_ID: &str = "client-ticket-manager-indexes";

pub struct MigrateState {
    pub store: Store,
    pub http: reqwest::Client,
}

impl FromConfig for MigrateState {
    async fn from_config(config: Config) -> Result<Self, AppError> {
        let store = shared::state::connect(&config).await?;
        let http = shared::tls::https_client()
            .timeout(RESPONSE_RESERVE)
            .build()
            .map_err(|e| AppError::Internal(format!("HTTP client: {e}")))?;
        Ok(Self { store, http })
    }
}

/// Migrates (on Create and Update; Delete keeps everything) and reports the outcome to
/// the pre-signed `ResponseURL`. An error is returned only when CloudFormation could not be
/// told: Lambda then retries the invocation.
pub async fn handle(
    state: &MigrateState,
    request: Request,
    deadline: Deadline,
) -> Result<&'static str, String> {
    let (common, migrate) = match &request {
        Request::Create(r) => (
            (
                &r.request_id,
                &r.response_url,
                &r.stack_id,
                &r.logical_resource_id,
            ),
            true,
        ),
        Request::Update(r) => (
            (
                &r.request_id,
                &r.response_url,
                &r.stack_id,
                &r.logical_resource_id,
            ),
            true,
        ),
        Request::Delete(r) => (
            (
                &r.request_id,
                &r.response_url,
                &r.stack_id,
                &r.logical_resource_id,
            ),
            false,
        ),
        // A request type CloudFormation may add later: nothing to do, but it must be answered.
        _ => {
            tracing::warn!("unknown custom resource request type");
            return Err("an unknown request type".to_owned());
        }
    };
    let (request_id, response_url, stack_id, logical_id) = common;
    let outcome = if migrate {
        let work_until = deadline.checked_sub(RESPONSE_RESERVE).unwrap_or(deadline);
        match tokio::time::timeout_at(work_until, state.store.migrate(Some(work_until))).await {
            Ok(Ok(backfill)) if backfill.done => Ok("indexes created; every ticket searchable"),
            Ok(Ok(backfill)) => {
                tracing::warn!(
                    written = backfill.written,
                    "search backfill stopped at its time budget"
                );
                Ok("indexes created; search backfill continues at the next migration")
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("the database did not answer in time".to_owned()),
        }
    } else {
        Ok("indexes kept")
    };
    let mut response = CloudFormationCustomResourceResponse::default();
    response.physical_resource_id = PHYSICAL_ID.to_owned();
    response.stack_id = stack_id.clone();
    response.request_id = request_id.clone();
    response.logical_resource_id = logical_id.clone();
    match &outcome {
        Ok(done) => {
            response.status = Status::Success;
            response.reason = Some((*done).to_owned());
        }
        Err(reason) => {
            // Store errors are described without the values they would quote.
            tracing::error!(reason = %reason, "migration failed");
            response.status = Status::Failed;
            response.reason = Some(format!("migration failed: {reason}"));
        }
    }
    let body = serde_json::to_vec(&response).map_err(|e| e.to_string())?;
    // The URL is pre-signed for a PUT without a content type: none is sent.
    let sent = state
        .http
        .put(response_url)
        .body(body)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status);
    match sent {
        Ok(_) => {
            tracing::info!(outcome = ?outcome.as_ref().map_err(|_| "failed"), "CloudFormation told");
            Ok(outcome.unwrap_or("migration failed"))
        }
        Err(error) => {
            tracing::error!(error = %error.without_url(), "CloudFormation could not be told");
            Err("CloudFormation could not be told the outcome".to_owned())
        }
    }
}
