//! `archive-worker`: consumes the archive queue (SQS FIFO, one message group per ticket) and
//! runs the archive job for each message, in order. A message whose job fails is reported in
//! `batchItemFailures`; SQS delivers it again after its visibility timeout, and after the
//! redrive count it waits in the dead-letter queue for a person.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use shared::error::AppError;
use shared::glassix::Deadline;
use shared::job::Outcome;
use shared::queue::ArchiveJob;
use shared::state::WorkerState;

/// Runs the batch's jobs in order. In a FIFO queue a later message may depend on an earlier
/// one of its group, so once a message fails, it and every later message are reported failed
/// (as AWS requires), and the later ones are not run.
pub async fn handle(state: &WorkerState, event: SqsEvent, deadline: Deadline) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut failed = false;
    for message in event.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        if !failed && run_message(state, &message, deadline).await.is_err() {
            failed = true;
        }
        if failed {
            response.add_failure(message_id);
        }
    }
    response
}

async fn run_message(
    state: &WorkerState,
    message: &SqsMessage,
    deadline: Deadline,
) -> Result<Outcome, AppError> {
    let receive_count = message
        .attributes
        .get("ApproximateReceiveCount")
        .map(String::as_str);
    let job = ArchiveJob::parse(message.body.as_deref().unwrap_or_default()).map_err(|error| {
        tracing::error!(receive_count, error = %error, "archive job message is malformed; it will end in the dead-letter queue");
        AppError::BadRequest(error.to_string())
    })?;
    let started = tokio::time::Instant::now();
    let result = state.archiver().run(job.ticket_id, deadline).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(outcome) => tracing::info!(
            ticket_id = job.ticket_id,
            receive_count,
            outcome = ?outcome,
            elapsed_ms,
            "archive job done"
        ),
        Err(error) => tracing::error!(
            ticket_id = job.ticket_id,
            receive_count,
            code = error.code(),
            detail = error.detail().unwrap_or_default(),
            elapsed_ms,
            "archive job failed; SQS will deliver it again"
        ),
    }
    result
}
