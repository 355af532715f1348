//! What Lambda's SQS event source does for a queue's worker (the archive worker, the export
//! worker), for `local-api` (and the tests): receive a batch from the queue, hand it to the
//! worker's own batch handler, delete what succeeded and give what failed back to the queue
//! with a backoff. The same code runs on either queue, so the local pipeline is the deployed
//! one.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use tokio::time::Instant;

use super::{JobQueue, QueueError, backoff};
use crate::archive::worker::{BatchRun, run_batch};
use crate::glassix::Deadline;
use crate::job::Outcome;
use crate::state::WorkerState;

/// The archive worker's timeout in `template.yaml`, less what the worker keeps to answer.
pub const JOB_TIME: Duration = Duration::from_secs(117);

/// A queue consumer's own batch handler, as its Lambda runs it.
pub trait QueueWorker: Send + Sync {
    /// What the queue is called in log lines.
    const QUEUE: &'static str;
    /// The function's timeout in `template.yaml`, less what it keeps to answer.
    const JOB_TIME: Duration;

    fn run_batch(
        &self,
        event: SqsEvent,
        deadline: Deadline,
    ) -> impl Future<Output = BatchRun> + Send;
}

impl QueueWorker for WorkerState {
    const QUEUE: &'static str = "archive queue";
    const JOB_TIME: Duration = JOB_TIME;

    async fn run_batch(&self, event: SqsEvent, deadline: Deadline) -> BatchRun {
        run_batch(self, event, deadline).await
    }
}
/// Long polling: an idle local API makes one request every 20 s.
const WAIT: Duration = Duration::from_secs(20);

/// What one poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Polled {
    /// Messages handed to the worker.
    pub handled: usize,
    /// Of those, messages whose job failed (given back to the queue).
    pub failed: usize,
    /// What became of each job that did not fail, in order.
    pub outcomes: Vec<Outcome>,
}

/// Polls until the process ends; a failed receive is logged and retried after a pause.
pub async fn run<Q: JobQueue, W: QueueWorker>(queue: Q, worker: W) {
    tracing::info!(queue = W::QUEUE, "queue poller started");
    loop {
        if let Err(error) = poll_once(&queue, &worker, WAIT, W::JOB_TIME).await {
            tracing::warn!(queue = W::QUEUE, error = %error, "queue poll failed");
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

/// One receive → handle → delete round, each job given `job_time`.
pub async fn poll_once<Q: JobQueue, W: QueueWorker>(
    queue: &Q,
    worker: &W,
    wait: Duration,
    job_time: Duration,
) -> Result<Polled, QueueError> {
    // Batch size 1, as the template's event source: see template.yaml.
    let messages = queue.receive(1, wait).await?;
    if messages.is_empty() {
        return Ok(Polled::default());
    }
    let run = worker
        .run_batch(sqs_event(&messages), Instant::now() + job_time)
        .await;
    let failed: HashSet<&str> = run
        .response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    for message in &messages {
        let (Some(id), Some(receipt)) = (message.message_id(), message.receipt_handle()) else {
            continue;
        };
        if failed.contains(id) {
            queue
                .retry_after(receipt, backoff(receive_count(message)))
                .await?;
        } else {
            queue.delete(receipt).await?;
        }
    }
    Ok(Polled {
        handled: messages.len(),
        failed: failed.len(),
        outcomes: run.outcomes,
    })
}

/// Polls with no wait until the queue hands out nothing more now (failed jobs wait out their
/// backoff); what `local-api reconcile` and the tests run after queueing.
pub async fn work_off<Q: JobQueue, W: QueueWorker>(
    queue: &Q,
    worker: &W,
    job_time: Duration,
) -> Result<Polled, QueueError> {
    let mut total = Polled::default();
    loop {
        let polled = poll_once(queue, worker, Duration::ZERO, job_time).await?;
        if polled.handled == 0 {
            return Ok(total);
        }
        total.handled += polled.handled;
        total.failed += polled.failed;
        total.outcomes.extend(polled.outcomes);
    }
}

fn receive_count(message: &Message) -> u32 {
    message
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}

/// The event Lambda would build from these messages.
pub fn sqs_event(messages: &[Message]) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages
        .iter()
        .map(|message| {
            let mut record = SqsMessage::default();
            record.message_id = message.message_id().map(str::to_owned);
            record.receipt_handle = message.receipt_handle().map(str::to_owned);
            record.body = message.body().map(str::to_owned);
            record.attributes = message
                .attributes()
                .into_iter()
                .flatten()
                .map(|(name, value): (&MessageSystemAttributeName, &String)| {
                    (name.as_str().to_owned(), value.clone())
                })
                .collect();
            record.event_source = Some("aws:sqs".into());
            record
        })
        .collect();
    event
}
