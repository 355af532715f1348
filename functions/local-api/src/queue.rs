//! The archive queue of `local-api`: SQS when `ARCHIVE_QUEUE_URL` names one (moto's, for the
//! production shape), else the database-backed queue with the same contract. Either way the
//! closing pipeline is the deployed one: the webhook and the reconciliation queue, the poller
//! runs the worker's own handler.

use std::time::Duration;

use aws_sdk_sqs::types::Message;
use shared::config::Config;
use shared::db::Store;
use shared::queue::{ArchiveJob, JobQueue, LocalQueue, QueueError, SqsQueue};

#[derive(Clone)]
pub enum AnyQueue {
    Sqs(SqsQueue),
    Database(LocalQueue),
}

impl AnyQueue {
    /// SQS with `ARCHIVE_QUEUE_URL`, else the queue in `store`'s database.
    pub async fn from_config(config: &Config, store: &Store) -> Self {
        match SqsQueue::from_config(config).await {
            Ok(queue) => Self::Sqs(queue),
            Err(_) => Self::Database(LocalQueue::new(store.clone())),
        }
    }
}

impl JobQueue for AnyQueue {
    async fn enqueue(&self, job: &ArchiveJob, delivery: &[u8]) -> Result<(), QueueError> {
        match self {
            Self::Sqs(queue) => queue.enqueue(job, delivery).await,
            Self::Database(queue) => queue.enqueue(job, delivery).await,
        }
    }

    async fn receive(&self, max: i32, wait: Duration) -> Result<Vec<Message>, QueueError> {
        match self {
            Self::Sqs(queue) => queue.receive(max, wait).await,
            Self::Database(queue) => queue.receive(max, wait).await,
        }
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        match self {
            Self::Sqs(queue) => queue.delete(receipt_handle).await,
            Self::Database(queue) => queue.delete(receipt_handle).await,
        }
    }

    async fn retry_after(&self, receipt_handle: &str, after: Duration) -> Result<(), QueueError> {
        match self {
            Self::Sqs(queue) => queue.retry_after(receipt_handle, after).await,
            Self::Database(queue) => queue.retry_after(receipt_handle, after).await,
        }
    }
}
