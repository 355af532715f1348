//! The archive worker's batch: the SQS event Lambda's event source hands `archive-worker` (and
//! the local poller builds the same way, `crate::queue::poller`), one archive job per message,
//! in order. A message whose job fails is reported in `batchItemFailures`; the queue hands it
//! out again later, and after its redrive count it waits in the dead-letter queue for a person.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};

use crate::archive::JobTally;
use crate::error::AppError;
use crate::glassix::Deadline;
use crate::job::Outcome;
use crate::metrics::{self, Metric};
use crate::queue::ArchiveJob;
use crate::state::WorkerState;

/// Runs the batch's jobs in order; the failed ones are reported for the queue to hand out again.
pub async fn handle_batch(
    state: &WorkerState,
    event: SqsEvent,
    deadline: Deadline,
) -> SqsBatchResponse {
    run_batch(state, event, deadline).await.response
}

/// A batch's answer to the queue, and the outcome of each job that succeeded.
#[derive(Debug, Default)]
pub struct BatchRun {
    pub response: SqsBatchResponse,
    pub outcomes: Vec<Outcome>,
}

/// Runs the batch's jobs in order. In a FIFO queue a later message may depend on an earlier
/// one of its group, so once a message fails, it and every later message are reported failed
/// (as AWS requires), and the later ones are not run.
pub async fn run_batch(state: &WorkerState, event: SqsEvent, deadline: Deadline) -> BatchRun {
    let mut run = BatchRun::default();
    let mut failed = false;
    for message in event.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        if !failed {
            match run_message(state, &message, deadline).await {
                Ok(outcome) => run.outcomes.push(outcome),
                Err(_) => failed = true,
            }
        }
        if failed {
            run.response.add_failure(message_id);
        }
    }
    run
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
        metrics::emit(&[Metric::count("JobsFailed", 1)]);
        AppError::BadRequest(error.to_string())
    })?;
    let started = tokio::time::Instant::now();
    let archiver = state.archiver();
    let result = archiver.run(job.ticket_id, deadline).await;
    metrics::emit(&job_metrics(&result, &archiver.tally));
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
            "archive job failed; the queue will hand it out again"
        ),
    }
    result
}

/// What one job did, as metrics: archived, scrambled, refused by a check, files and bytes
/// stored, failed.
pub fn job_metrics(result: &Result<Outcome, AppError>, tally: &JobTally) -> Vec<Metric> {
    let scrambled = matches!(result, Ok(Outcome::Processed(_)));
    let (files, bytes) = tally.stored();
    vec![
        Metric::count("TicketsArchived", u64::from(tally.archived())),
        Metric::count("TicketsScrambled", u64::from(scrambled)),
        Metric::count("ArchiveRefused", u64::from(tally.refused())),
        Metric::count("FilesStored", files),
        Metric::bytes("BytesStored", bytes),
        Metric::count("JobsFailed", u64::from(result.is_err())),
    ]
}
