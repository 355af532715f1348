//! The export worker's batch: one export job per message (batch size 1, see `template.yaml`).
//! A job whose export is no longer pending is done already (another delivery finished it). A
//! build that fails for good marks the export `failed`; one that may succeed later (the
//! database or the store did not answer) is given back to the queue, and marked `failed` on
//! its last receive, so no export stays pending for ever. Either way the ZIP is stored whole
//! or not at all.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::Utc;

use super::ExportJob;
use super::build::{BuildError, build_export};
use crate::archive::worker::BatchRun;
use crate::dates::to_bson;
use crate::db::{ExportStatus, Store};
use crate::error::AppError;
use crate::files::FileStore;
use crate::glassix::Deadline;
use crate::job::Outcome;
use crate::metrics::{self, Metric};
use crate::queue::parse_job;

/// The receive on which a build that keeps failing is marked failed (the export queue's
/// `maxReceiveCount` in `template.yaml` is one more, so the worker always gets to say so).
pub const LAST_RECEIVE: u32 = 3;

/// State of the export worker: the database and the archived files (where the exports go
/// too); no Glassix, no queue to send to.
pub struct ExportState {
    pub store: Store,
    pub files: FileStore,
    /// How long a ready export can be downloaded.
    pub lifetime: chrono::Duration,
}

impl crate::state::FromConfig for ExportState {
    async fn from_config(config: crate::config::Config) -> Result<Self, AppError> {
        Ok(Self {
            store: crate::state::connect(&config).await?,
            files: FileStore::from_config(&config).await,
            lifetime: config.export_lifetime,
        })
    }
}

impl crate::queue::poller::QueueWorker for ExportState {
    const QUEUE: &'static str = "export queue";
    /// The export worker's timeout in `template.yaml` (900 s), less what it keeps to answer.
    const JOB_TIME: std::time::Duration = std::time::Duration::from_secs(895);

    async fn run_batch(&self, event: SqsEvent, deadline: Deadline) -> BatchRun {
        run_batch(self, event, deadline).await
    }
}

/// Lambda's handler.
pub async fn handle_batch(
    state: &ExportState,
    event: SqsEvent,
    deadline: Deadline,
) -> SqsBatchResponse {
    run_batch(state, event, deadline).await.response
}

async fn run_batch(state: &ExportState, event: SqsEvent, deadline: Deadline) -> BatchRun {
    let mut run = BatchRun::default();
    for message in event.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        match run_message(state, &message, deadline).await {
            Ok(outcome) => run.outcomes.push(outcome),
            Err(_) => run.response.add_failure(message_id),
        }
    }
    run
}

async fn run_message(
    state: &ExportState,
    message: &SqsMessage,
    deadline: Deadline,
) -> Result<Outcome, AppError> {
    let receive_count: u32 = message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1);
    let job: ExportJob = parse_job(message.body.as_deref().unwrap_or_default()).map_err(|error| {
        tracing::error!(error = %error, "export job message is malformed; it will end in the dead-letter queue");
        AppError::BadRequest(error.to_string())
    })?;
    let export_id = job.export_id.as_str();
    let started = tokio::time::Instant::now();
    let result = tokio::time::timeout_at(deadline, run_job(state, export_id)).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let failure = match result {
        Ok(Ok(outcome)) => {
            tracing::info!(export_id, ?outcome, elapsed_ms, "export job done");
            return Ok(outcome);
        }
        Ok(Err(error)) => error,
        Err(_) => BuildError::Refused("the export took longer than the worker may run"),
    };
    let last_try = receive_count >= LAST_RECEIVE;
    if failure.is_transient() && !last_try {
        tracing::warn!(export_id, receive_count, error = %failure, elapsed_ms, "export job failed; the queue will hand it out again");
        return Err(AppError::Unavailable("export build".into()));
    }
    let reason = match &failure {
        BuildError::Refused(reason) => reason,
        _ if last_try => "the archive could not be read; try again later",
        _ => "the export could not be written",
    };
    tracing::error!(export_id, receive_count, error = %failure, elapsed_ms, "export failed");
    metrics::emit(&[Metric::count("ExportsFailed", 1)]);
    state.store.mark_export_failed(export_id, reason).await?;
    Ok(Outcome::Processed("export failed"))
}

async fn run_job(state: &ExportState, export_id: &str) -> Result<Outcome, BuildError> {
    let Some(export) = state.store.get_export(export_id).await? else {
        return Ok(Outcome::Ignored("no such export"));
    };
    if export.status != ExportStatus::Pending {
        return Ok(Outcome::Duplicate("export already finished"));
    }
    let Some(client) = state.store.get_client(&export.client_identifier).await? else {
        return Err(BuildError::Refused(
            "the client is no longer in the archive",
        ));
    };
    let file = build_export(&state.store, &state.files, &export, &client).await?;
    let now = Utc::now();
    state
        .store
        .mark_export_ready(
            export_id,
            &file,
            to_bson(now),
            to_bson(now + state.lifetime),
        )
        .await?;
    metrics::emit(&[
        Metric::count("ExportsReady", 1),
        Metric::bytes("ExportBytes", file.size_bytes),
    ]);
    Ok(Outcome::Processed("export ready"))
}
