//! Sending the jobs that gave up back to the archive queue, once their cause is fixed.
//!
//! Each job goes back in its ticket's group, in the order the dead-letter queue hands them out
//! (a FIFO dead-letter queue keeps each group's order), with a deduplication id of its own
//! (`redrive:` and its message id): a redrive that is cut off and run again within 5 minutes
//! sends no job twice, and a redriven job is never dropped as a copy of the delivery that first
//! queued it. It is deleted from the dead-letter queue only once the archive queue holds it.
//! A ticket archived meanwhile is found done by its job (a duplicate), so a redrive is safe to
//! run at any time.

use std::time::Duration;

use aws_sdk_sqs::types::Message;

use super::{ArchiveJob, JobQueue, MAX_RECEIVE_BATCH, QueueError};

/// Moves every job `dead_letters` hands out now to `queue`; returns how many.
pub async fn redrive(
    dead_letters: &impl JobQueue,
    queue: &impl JobQueue,
) -> Result<usize, QueueError> {
    let mut moved = 0;
    loop {
        let batch = dead_letters
            .receive(MAX_RECEIVE_BATCH, Duration::ZERO)
            .await?;
        if batch.is_empty() {
            return Ok(moved);
        }
        for message in &batch {
            send_back(message, queue).await?;
            if let Some(receipt) = message.receipt_handle() {
                dead_letters.delete(receipt).await?;
            }
            moved += 1;
        }
        tracing::info!(moved, "dead-letter jobs sent back to the archive queue");
    }
}

async fn send_back(message: &Message, queue: &impl JobQueue) -> Result<(), QueueError> {
    let job = ArchiveJob::parse(message.body().unwrap_or_default())?;
    let delivery = format!("redrive:{}", message.message_id().unwrap_or_default());
    queue.enqueue(&job, delivery.as_bytes()).await
}
