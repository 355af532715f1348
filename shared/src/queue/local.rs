//! The archive queue of `local-api` with nothing configured: SQS's contract kept in the
//! database `local-api` already has (the embedded FerretDB, or `MONGODB_URI`), so a job waiting
//! there survives a restart of `local-api` and needs no other process. moto's SQS (an
//! in-memory server) would lose every job with its own process; `LOCAL_QUEUE=moto` still runs
//! the production shape against it.
//!
//! A job is one document of [`QUEUE`]; a group's next job is the oldest (`_id` order) of its
//! ticket, handed out only while no job of that group is in flight. Handing out is one
//! conditional update (`findAndModify` on the job as it was read), so two pollers never get
//! the same job. A job received [`MAX_RECEIVES`] times without being deleted moves to
//! [`DEAD_LETTERS`], where a person finds it (`local-api dead-letters`).

use std::time::Duration;

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use futures_util::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{DateTime, doc};
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::{
    DEDUPLICATION_WINDOW, JobQueue, MAX_RECEIVE_BATCH, MAX_RECEIVES, QueueError, QueueJob,
};
use crate::db::{Store, StoreError};

/// The collection of waiting and in-flight jobs.
pub const QUEUE: &str = "local_archive_queue";
/// Jobs that failed [`MAX_RECEIVES`] times.
pub const DEAD_LETTERS: &str = "local_archive_dead_letters";
/// The export queue's waiting and in-flight jobs.
pub const EXPORT_QUEUE: &str = "local_export_queue";
/// Export jobs that failed [`MAX_RECEIVES`] times.
pub const EXPORT_DEAD_LETTERS: &str = "local_export_dead_letters";

/// How long a received job stays hidden: longer than the worker's timeout in the template, as
/// the deployed queue's visibility timeout is.
const VISIBILITY: Duration = Duration::from_secs(720);
/// How often an empty queue is looked at again while a receive waits.
const POLL: Duration = Duration::from_millis(200);

/// One job as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedJob {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    /// The ticket id: the message group.
    pub group: String,
    pub deduplication_id: String,
    pub body: String,
    pub sent_at: DateTime,
    /// Hidden until then (in flight, or waiting out its backoff).
    pub visible_at: DateTime,
    pub receive_count: u32,
    /// The receipt of the last receive; only its holder may delete the job.
    pub receipt: Option<String>,
    /// When it was deleted (done). Kept until the deduplication window has passed, so that a
    /// copy of its delivery is still recognised, as SQS does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime>,
}

#[derive(Debug, Clone)]
pub struct LocalQueue {
    store: Store,
    visibility: Duration,
    /// The collections of waiting and of dead jobs.
    collections: (&'static str, &'static str),
}

impl LocalQueue {
    /// The archive queue.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            visibility: VISIBILITY,
            collections: (QUEUE, DEAD_LETTERS),
        }
    }

    /// The export queue: the same contract, its own jobs and dead letters.
    pub fn exports(store: Store) -> Self {
        Self {
            collections: (EXPORT_QUEUE, EXPORT_DEAD_LETTERS),
            ..Self::new(store)
        }
    }

    /// A job received and neither deleted nor retried is handed out again after `visibility`
    /// (tests shorten it to see a crashed worker's job come back).
    pub fn with_visibility(mut self, visibility: Duration) -> Self {
        self.visibility = visibility;
        self
    }

    fn jobs(&self) -> mongodb::Collection<QueuedJob> {
        self.store.database().collection(self.collections.0)
    }

    fn dead_letters(&self) -> mongodb::Collection<QueuedJob> {
        self.store.database().collection(self.collections.1)
    }

    /// Every job waiting or in flight, oldest first.
    pub async fn waiting(&self) -> Result<Vec<QueuedJob>, QueueError> {
        let not_deleted = doc! {"deletedAt": {"$exists": false}};
        Ok(collect(self.jobs().find(not_deleted).sort(doc! {"_id": 1})).await?)
    }

    /// Every job in the dead-letter list, oldest first.
    pub async fn dead(&self) -> Result<Vec<QueuedJob>, QueueError> {
        Ok(collect(self.dead_letters().find(doc! {}).sort(doc! {"_id": 1})).await?)
    }

    /// Sends every job of the dead-letter list back to the queue, as new (a fresh receive
    /// count, visible now), in the order they were first sent; returns how many. Copied back
    /// before it leaves the list, so a failure half-way loses none (`crate::queue::redrive` has
    /// the same rule for SQS).
    pub async fn redrive_dead_letters(&self) -> Result<usize, QueueError> {
        let dead = self.dead().await?;
        for job in &dead {
            let back = QueuedJob {
                visible_at: DateTime::now(),
                receive_count: 0,
                receipt: None,
                ..job.clone()
            };
            self.jobs()
                .replace_one(doc! {"_id": job.id}, &back)
                .upsert(true)
                .await
                .map_err(StoreError::from)?;
            self.dead_letters()
                .delete_one(doc! {"_id": job.id})
                .await
                .map_err(StoreError::from)?;
        }
        Ok(dead.len())
    }

    /// Hands out up to `max` jobs: each group's oldest while it is visible, and after it, in
    /// the same batch, the group's next ones (as SQS FIFO does).
    async fn receive_batch(&self, max: usize, now: DateTime) -> Result<Vec<Message>, QueueError> {
        let mut blocked = std::collections::HashSet::new();
        let mut batch = Vec::new();
        for job in self.waiting().await? {
            if batch.len() == max {
                break;
            }
            // A group whose head is in flight, waiting out its backoff or taken by another
            // poller hands out nothing after it.
            if blocked.contains(&job.group) {
                continue;
            }
            if job.visible_at > now {
                blocked.insert(job.group);
                continue;
            }
            if job.receive_count >= MAX_RECEIVES {
                self.bury(&job).await?;
                continue;
            }
            let receipt = format!("{}-{:016x}", job.id.to_hex(), fastrand::u64(..));
            let taken = self
                .jobs()
                .find_one_and_update(
                    doc! {"_id": job.id, "receiveCount": job.receive_count, "visibleAt": job.visible_at},
                    doc! {
                        "$set": {"visibleAt": later(now, self.visibility), "receipt": &receipt},
                        "$inc": {"receiveCount": 1},
                    },
                )
                .return_document(ReturnDocument::After)
                .await
                .map_err(StoreError::from)?;
            match taken {
                Some(taken) => batch.push(message(taken)),
                None => {
                    blocked.insert(job.group);
                }
            }
        }
        Ok(batch)
    }

    /// Moves a job to the dead-letter list: copied first, then removed, so a failure between
    /// the two leaves a copy in both (it is buried again, idempotently) and never in neither.
    async fn bury(&self, job: &QueuedJob) -> Result<(), QueueError> {
        let copied = self
            .dead_letters()
            .replace_one(doc! {"_id": job.id}, job)
            .upsert(true)
            .await;
        copied.map_err(StoreError::from)?;
        self.jobs()
            .delete_one(doc! {"_id": job.id})
            .await
            .map_err(StoreError::from)?;
        tracing::error!(
            group = %job.group,
            receive_count = job.receive_count,
            "archive job moved to the dead-letter list after its last attempt"
        );
        Ok(())
    }
}

impl JobQueue for LocalQueue {
    async fn enqueue<J: QueueJob>(&self, job: &J, delivery: &[u8]) -> Result<(), QueueError> {
        let deduplication_id = job.deduplication_id(delivery);
        let now = DateTime::now();
        let window_start =
            DateTime::from_millis(now.timestamp_millis() - DEDUPLICATION_WINDOW.as_millis() as i64);
        // Done jobs are kept only as long as their deduplication ids count.
        self.jobs()
            .delete_many(doc! {"deletedAt": {"$lt": window_start}})
            .await
            .map_err(StoreError::from)?;
        let recent = doc! {"deduplicationId": &deduplication_id, "sentAt": {"$gte": window_start}};
        let duplicate = self
            .jobs()
            .find_one(recent.clone())
            .await
            .map_err(StoreError::from)?
            .is_some()
            || self
                .dead_letters()
                .find_one(recent)
                .await
                .map_err(StoreError::from)?
                .is_some();
        if !duplicate {
            let queued = QueuedJob {
                id: ObjectId::new(),
                group: job.group(),
                deduplication_id,
                body: job.body(),
                sent_at: now,
                visible_at: now,
                receive_count: 0,
                receipt: None,
                deleted_at: None,
            };
            self.jobs()
                .insert_one(&queued)
                .await
                .map_err(StoreError::from)?;
        }
        tracing::info!(group = job.group(), duplicate, "job enqueued");
        Ok(())
    }

    async fn receive(&self, max: i32, wait: Duration) -> Result<Vec<Message>, QueueError> {
        if !(1..=MAX_RECEIVE_BATCH).contains(&max) {
            return Err(QueueError::InvalidBatchSize(max));
        }
        let give_up = tokio::time::Instant::now() + wait.min(Duration::from_secs(20));
        loop {
            let batch = self.receive_batch(max as usize, DateTime::now()).await?;
            if !batch.is_empty() || tokio::time::Instant::now() + POLL > give_up {
                return Ok(batch);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.jobs()
            .update_one(
                doc! {"receipt": receipt_handle, "deletedAt": {"$exists": false}},
                doc! {"$set": {"deletedAt": DateTime::now()}},
            )
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }

    async fn retry_after(&self, receipt_handle: &str, after: Duration) -> Result<(), QueueError> {
        self.jobs()
            .update_one(
                doc! {"receipt": receipt_handle, "deletedAt": {"$exists": false}},
                doc! {"$set": {"visibleAt": later(DateTime::now(), after)}},
            )
            .await
            .map_err(StoreError::from)?;
        Ok(())
    }
}

/// A stored job in the shape SQS hands out, with the system attributes the worker reads.
fn message(job: QueuedJob) -> Message {
    Message::builder()
        .message_id(job.id.to_hex())
        .set_receipt_handle(job.receipt)
        .body(job.body)
        .attributes(MessageSystemAttributeName::MessageGroupId, job.group)
        .attributes(
            MessageSystemAttributeName::MessageDeduplicationId,
            job.deduplication_id,
        )
        .attributes(
            MessageSystemAttributeName::ApproximateReceiveCount,
            job.receive_count.to_string(),
        )
        .build()
}

fn later(now: DateTime, after: Duration) -> DateTime {
    let after_ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
    DateTime::from_millis(now.timestamp_millis().saturating_add(after_ms))
}

async fn collect(find: mongodb::action::Find<'_, QueuedJob>) -> Result<Vec<QueuedJob>, StoreError> {
    Ok(find.await?.try_collect().await?)
}
