//! What Lambda's SQS event source does for the archive worker, locally: receive a batch from
//! the archive queue, hand it to the worker's own handler, delete what succeeded. Runs only
//! when `ARCHIVE_QUEUE_URL` is set (e.g. against moto's SQS); otherwise the webhook archives
//! inline and nothing is queued.

use std::collections::HashSet;
use std::time::Duration;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use shared::queue::ArchiveQueue;
use shared::state::WorkerState;
use tokio::time::Instant;

/// The worker's timeout in `template.yaml`.
const JOB_TIME: Duration = Duration::from_secs(120);
/// Long polling: an idle local API makes one request every 20 s.
const WAIT: Duration = Duration::from_secs(20);

/// Polls until the process ends; a failed receive is logged and retried after a pause.
pub async fn run(queue: ArchiveQueue, worker: WorkerState) {
    tracing::info!("archive queue poller started");
    loop {
        if let Err(error) = poll_once(&queue, &worker, WAIT, JOB_TIME).await {
            tracing::warn!(error = %error, "archive queue poll failed");
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }
}

/// One receive → handle → delete round, each job given `job_time`; returns how many
/// messages were handled.
pub async fn poll_once(
    queue: &ArchiveQueue,
    worker: &WorkerState,
    wait: Duration,
    job_time: Duration,
) -> Result<usize, shared::queue::QueueError> {
    // Batch size 1, as the template's event source: see template.yaml.
    let messages = queue.receive(1, wait).await?;
    if messages.is_empty() {
        return Ok(0);
    }
    let receipts: Vec<(String, String)> = messages
        .iter()
        .filter_map(|m| Some((m.message_id()?.to_owned(), m.receipt_handle()?.to_owned())))
        .collect();
    let event = sqs_event(&messages);
    let response = archive_worker::handle(worker, event, Instant::now() + job_time).await;
    let failed: HashSet<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    for (message_id, receipt) in &receipts {
        if !failed.contains(message_id.as_str()) {
            queue.delete(receipt).await?;
        }
    }
    Ok(messages.len())
}

/// The event Lambda would build from these messages.
fn sqs_event(messages: &[Message]) -> SqsEvent {
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
