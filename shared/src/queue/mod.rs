//! The archive queue of the closing pipeline: `webhook-ticket-state-change` and the
//! reconciliation enqueue one job per closed Glassix ticket, and `archive-worker` archives it.
//! There is one path in every mode; only the queue differs:
//!
//! - [`SqsQueue`], deployed (and locally with `ARCHIVE_QUEUE_URL`, e.g. moto's SQS);
//! - [`LocalQueue`], `local-api` with nothing configured: the same contract, kept in the
//!   database so that no job is lost when `local-api` restarts.
//!
//! The contract ([`JobQueue`]):
//!
//! - **One message group per ticket.** A group's next job is handed out only once the previous
//!   one is deleted, so two jobs of the same ticket (it was closed, reopened and closed again)
//!   are never archived at the same time, and they run in the order they were sent. Jobs of
//!   different tickets do not wait for each other.
//! - **One deduplication id per webhook delivery.** Glassix retries a webhook with the identical
//!   body when our answer is slow or lost; the deduplication id is derived from those bytes, so
//!   the retry's copy is dropped (within a 5-minute window) while a later, distinct delivery for
//!   the same ticket still gets its own job.
//! - **Failed jobs come back, then wait for a person.** A job not deleted is handed out again
//!   later; after [`MAX_RECEIVES`] receives it moves to the dead-letter queue.
//!
//! Errors describe failures by kind and error code only: message bodies and service messages
//! (which may echo request parameters) are never put in an error or a log line.

mod any;
mod local;
pub mod poller;
pub mod redrive;
mod sqs;

use std::future::Future;
use std::time::Duration;

use aws_sdk_sqs::types::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use any::AnyQueue;
pub use local::{DEAD_LETTERS, EXPORT_DEAD_LETTERS, EXPORT_QUEUE, LocalQueue, QUEUE, QueuedJob};
pub use sqs::SqsQueue;

/// Receives before a job moves to the dead-letter queue: the template's `maxReceiveCount`
/// (a contract test keeps them equal).
pub const MAX_RECEIVES: u32 = 10;

/// SQS refuses more than 10 messages per receive call.
pub const MAX_RECEIVE_BATCH: i32 = 10;

/// SQS's deduplication window; the local queue keeps the same.
pub const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(5 * 60);

/// What a queue carries of a job: its message group (jobs of one group run one at a time, in
/// order), the deduplication id of one delivery of it, and its body.
pub trait QueueJob: Sync {
    fn group(&self) -> String;
    fn deduplication_id(&self, delivery: &[u8]) -> String;
    fn body(&self) -> String;
}

impl QueueJob for ArchiveJob {
    /// The ticket: two jobs of one ticket never run at the same time.
    fn group(&self) -> String {
        self.ticket_id.to_string()
    }

    fn deduplication_id(&self, delivery: &[u8]) -> String {
        deduplication_id(self.ticket_id, delivery)
    }

    fn body(&self) -> String {
        serde_json::to_string(self).expect("a struct of one integer always serialises")
    }
}

/// The message body of one archive job: `{"ticketId": 48213977}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveJob {
    pub ticket_id: i64,
}

impl ArchiveJob {
    pub fn parse(body: &str) -> Result<Self, QueueError> {
        parse_job(body)
    }
}

/// Reads a message body. The error gives the position and kind of the problem, not the body,
/// because a malformed body may be anything, including someone's message text.
pub fn parse_job<J: serde::de::DeserializeOwned>(body: &str) -> Result<J, QueueError> {
    serde_json::from_str(body).map_err(|e| QueueError::InvalidJob {
        kind: match e.classify() {
            serde_json::error::Category::Io => "read",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "truncated input",
        },
        line: e.line(),
        column: e.column(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// An SQS call failed; `reason` is the error kind or the service's error code.
    #[error("SQS {operation} failed: {reason}")]
    Sqs {
        operation: &'static str,
        reason: String,
        transient: bool,
    },
    /// The local queue's database failed.
    #[error("local queue: {0}")]
    Local(#[from] crate::db::StoreError),
    #[error(
        "the job's message is not what its queue carries: {kind} error at line {line}, column {column}"
    )]
    InvalidJob {
        kind: &'static str,
        line: usize,
        column: usize,
    },
    #[error("a queue hands out 1 to 10 messages per receive, not {0}")]
    InvalidBatchSize(i32),
}

impl QueueError {
    /// Whether trying again later may succeed (a timeout, a dropped connection, throttling),
    /// as opposed to a fault that repeats (a missing queue, a malformed job).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Sqs { transient, .. } => *transient,
            Self::Local(error) => error.is_transient(),
            Self::InvalidJob { .. } | Self::InvalidBatchSize(_) => false,
        }
    }
}

/// What the closing pipeline asks of its queue. Implemented by [`SqsQueue`] and
/// [`LocalQueue`]; messages come back in SQS's shape either way, so the worker's own handler
/// runs on what either hands out.
pub trait JobQueue: Send + Sync {
    /// Sends one job: in its group, deduplicated by its deduplication id for `delivery`.
    fn enqueue<J: QueueJob>(
        &self,
        job: &J,
        delivery: &[u8],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Up to `max` (1..=10) messages, each with its group, deduplication id and receive count
    /// as system attributes; waits up to `wait` (at most 20 s) for one.
    fn receive(
        &self,
        max: i32,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<Message>, QueueError>> + Send;

    /// A job done: it is never handed out again.
    fn delete(&self, receipt_handle: &str) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// A job that failed: handed out again after `after`, not before.
    fn retry_after(
        &self,
        receipt_handle: &str,
        after: Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// How long a failed job waits before it is tried again: doubling from 2 s with each receive,
/// at most 5 minutes (a Glassix outage is not hammered; a passing fault is retried soon).
pub fn backoff(receive_count: u32) -> Duration {
    let doublings = receive_count.saturating_sub(1).min(8);
    Duration::from_secs(2u64 << doublings).min(Duration::from_secs(300))
}

/// `<ticket id>-<hex SHA-256 of (ticket id, delivery bytes)>`: at most 85 characters (SQS allows
/// 128), digits, `-` and `a-f` only.
///
/// The same delivery (Glassix retries the identical body) gives the same id, so the copy is
/// dropped within the deduplication window; another delivery for the same ticket (closed again
/// later) gives another id. The ticket id is hashed too (as fixed-width bytes, so no two
/// `(ticket, delivery)` pairs hash the same input) because the id must not collide across
/// tickets even if two deliveries had the same bytes; the plain prefix only makes it readable.
pub fn deduplication_id(ticket_id: i64, delivery: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(ticket_id.to_be_bytes())
        .chain_update(delivery)
        .finalize();
    format!("{ticket_id}-{}", hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deduplication_id_is_stable_short_and_made_of_allowed_characters() {
        let delivery = br#"{"ticketId":48213977,"state":"Closed"}"#;
        let id = deduplication_id(48_213_977, delivery);

        assert_eq!(id, deduplication_id(48_213_977, delivery));
        assert!(id.starts_with("48213977-"), "{id}");
        assert_eq!(id.len(), "48213977-".len() + 64);
        let longest = deduplication_id(i64::MIN, delivery);
        assert!(longest.len() <= 128, "{}", longest.len());
        for id in [id, longest] {
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || ('a'..='f').contains(&c)),
                "{id}"
            );
        }
    }

    #[test]
    fn the_deduplication_id_separates_deliveries_and_tickets() {
        let first = deduplication_id(48_213_977, b"delivery one");
        assert_ne!(first, deduplication_id(48_213_977, b"delivery two"));
        assert_ne!(first, deduplication_id(48_213_978, b"delivery one"));
        // The hex part alone also differs between tickets, not just the readable prefix.
        let hash = |id: &str| id.rsplit('-').next().map(str::to_owned);
        assert_ne!(
            hash(&first),
            hash(&deduplication_id(48_213_978, b"delivery one"))
        );
    }

    #[test]
    fn a_job_body_is_the_camel_case_ticket_id() {
        let job = ArchiveJob {
            ticket_id: 48_213_977,
        };
        assert_eq!(job.body(), r#"{"ticketId":48213977}"#);
        assert_eq!(ArchiveJob::parse(&job.body()).expect("round trip"), job);
    }

    #[test]
    fn a_failed_job_waits_longer_each_time_up_to_five_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(9), Duration::from_secs(300));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(300));
    }
}
