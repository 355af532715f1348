//! A queue that is SQS when the configuration names one (deployed, or moto's for the production
//! shape locally), else the database-backed queue with the same contract (`local-api` with
//! nothing configured). Either way a pipeline is the deployed one: the producers queue, and a
//! poller runs the worker's own handler.

use std::time::Duration;

use aws_sdk_sqs::types::Message;

use super::{JobQueue, LocalQueue, QueueError, QueueJob, SqsQueue};
use crate::config::Config;
use crate::db::Store;

#[derive(Clone)]
pub enum AnyQueue {
    Sqs(SqsQueue),
    Database(LocalQueue),
}

impl AnyQueue {
    /// The archive queue: SQS with `ARCHIVE_QUEUE_URL`, else the queue in `store`'s database.
    pub async fn from_config(config: &Config, store: &Store) -> Self {
        match SqsQueue::from_config(config).await {
            Ok(queue) => Self::Sqs(queue),
            Err(_) => Self::Database(LocalQueue::new(store.clone())),
        }
    }

    /// The export queue: SQS with `EXPORT_QUEUE_URL`, else the export queue in `store`'s
    /// database.
    pub async fn exports(config: &Config, store: &Store) -> Self {
        match &config.export_queue_url {
            Some(url) => Self::Sqs(SqsQueue::from_env(url.clone()).await),
            None => Self::Database(LocalQueue::exports(store.clone())),
        }
    }
}

impl JobQueue for AnyQueue {
    async fn enqueue<J: QueueJob>(&self, job: &J, delivery: &[u8]) -> Result<(), QueueError> {
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
