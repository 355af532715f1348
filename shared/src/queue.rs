//! The archive queue of the closing pipeline: `webhook-ticket-state-change` enqueues one job per
//! closed Glassix ticket and `archive-worker` (or, locally, a poller) archives it.
//!
//! The queue is an SQS FIFO queue for two reasons:
//!
//! - **One message group per ticket.** SQS hands out a group's next message only once the
//!   previous one is deleted, so two jobs of the same ticket (it was closed, reopened and closed
//!   again) are never archived at the same time, and they run in the order they were sent. Jobs
//!   of different tickets are in different groups and do not wait for each other.
//! - **One deduplication id per webhook delivery.** Glassix retries a webhook with the identical
//!   body when our answer is slow or lost; the deduplication id is derived from those bytes, so
//!   SQS drops the retry's copy (within its 5-minute deduplication window) while a later, distinct
//!   delivery for the same ticket still gets its own job.
//!
//! Errors describe SQS failures by kind and error code only: message bodies and service messages
//! (which may echo request parameters) are never put in an error or a log line.

use std::time::Duration;

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{ConfigError, keys};

/// SQS refuses more than 10 messages per receive call.
const MAX_RECEIVE_BATCH: i32 = 10;

/// SQS refuses long polls longer than 20 seconds.
const MAX_WAIT_SECONDS: u64 = 20;

/// The message body of one archive job: `{"ticketId": 48213977}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveJob {
    pub ticket_id: i64,
}

impl ArchiveJob {
    /// Reads a message body. The error gives the position and kind of the problem, not the body,
    /// because a malformed body may be anything, including someone's message text.
    pub fn parse(body: &str) -> Result<Self, QueueError> {
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

    fn body(&self) -> String {
        serde_json::to_string(self).expect("a struct of one integer always serialises")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// An SQS call failed; `reason` is the error kind or the service's error code.
    #[error("SQS {operation} failed: {reason}")]
    Sqs {
        operation: &'static str,
        reason: String,
    },
    #[error(
        "the archive job is not {{\"ticketId\": <integer>}}: {kind} error at line {line}, column {column}"
    )]
    InvalidJob {
        kind: &'static str,
        line: usize,
        column: usize,
    },
    #[error("SQS hands out 1 to 10 messages per receive, not {0}")]
    InvalidBatchSize(i32),
}

/// The FIFO queue of archive jobs.
#[derive(Debug, Clone)]
pub struct ArchiveQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl ArchiveQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// The queue `ARCHIVE_QUEUE_URL` names; `None` without it (the inline mode).
    pub async fn from_config(config: &crate::config::Config) -> Option<Self> {
        match &config.archive_queue_url {
            Some(url) => Some(Self::from_env(url).await),
            None => None,
        }
    }

    /// The configured queue, for a function that has nothing to do without one.
    pub async fn required(config: &crate::config::Config) -> Result<Self, ConfigError> {
        Self::from_config(config)
            .await
            .ok_or(ConfigError::Missing(keys::ARCHIVE_QUEUE_URL))
    }

    pub async fn from_env(url: impl Into<String>) -> Self {
        Self::new(
            aws_sdk_sqs::Client::new(crate::aws::sdk_config().await),
            url,
        )
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends one job. MessageGroupId = the ticket id, so jobs of one ticket never overlap;
    /// MessageDeduplicationId = [`deduplication_id`]`(ticket_id, delivery)`, so a retried webhook
    /// delivery does not archive twice.
    pub async fn enqueue(&self, job: &ArchiveJob, delivery: &[u8]) -> Result<(), QueueError> {
        let output = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(job.body())
            .message_group_id(job.ticket_id.to_string())
            .message_deduplication_id(deduplication_id(job.ticket_id, delivery))
            .send()
            .await
            .map_err(|e| sqs_error("SendMessage", &e))?;
        // A copy dropped as a duplicate is also acknowledged (with the original's message id), so
        // "enqueued" means "SQS holds a job for this delivery".
        tracing::info!(
            ticket_id = job.ticket_id,
            message_id = output.message_id().unwrap_or_default(),
            "archive job enqueued"
        );
        Ok(())
    }

    /// For the local poller: up to `max` (1..=10) messages, long-polling up to `wait` (whole
    /// seconds, at most 20: SQS's limit; a caller wanting longer simply polls again).
    ///
    /// Each message carries the system attributes the worker's SQS event would also carry and
    /// that matter for archiving: its group (the ticket), its deduplication id and its receive
    /// count (to tell a retry from a first attempt).
    pub async fn receive(&self, max: i32, wait: Duration) -> Result<Vec<Message>, QueueError> {
        if !(1..=MAX_RECEIVE_BATCH).contains(&max) {
            return Err(QueueError::InvalidBatchSize(max));
        }
        let wait_seconds = i32::try_from(wait.as_secs().min(MAX_WAIT_SECONDS))
            .expect("at most 20 seconds fits an i32");
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
            .message_system_attribute_names(MessageSystemAttributeName::MessageDeduplicationId)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| sqs_error("ReceiveMessage", &e))?;
        Ok(output.messages.unwrap_or_default())
    }

    pub async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| sqs_error("DeleteMessage", &e))?;
        Ok(())
    }
}

/// `<ticket id>-<hex SHA-256 of (ticket id, delivery bytes)>`: at most 85 characters (SQS allows
/// 128), digits, `-` and `a-f` only.
///
/// The same delivery (Glassix retries the identical body) gives the same id, so SQS drops the
/// copy within its 5-minute window; another delivery for the same ticket (closed again later)
/// gives another id. The ticket id is hashed too (as fixed-width bytes, so no two
/// `(ticket, delivery)` pairs hash the same input) because the id must not collide across tickets
/// even if two deliveries had the same bytes; the plain prefix only makes the id readable.
pub fn deduplication_id(ticket_id: i64, delivery: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(ticket_id.to_be_bytes())
        .chain_update(delivery)
        .finalize();
    format!("{ticket_id}-{}", hex::encode(digest))
}

fn sqs_error<E, R>(operation: &'static str, error: &SdkError<E, R>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let reason = match error {
        // The code ("AWS.SimpleQueueService.NonExistentQueue", "InvalidParameterValue", ...) is
        // enough to act on; the service's message can quote the parameters we sent.
        SdkError::ServiceError(context) => format!(
            "service error {}",
            context.err().code().unwrap_or("without an error code")
        ),
        // The raw response may hold message bodies.
        SdkError::ResponseError(_) => "the response could not be read".to_owned(),
        // Timeouts, connection and configuration failures carry no message data, and their
        // source chain ("connection refused", "no region") is what an operator needs.
        other => {
            let mut reason = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                reason = format!("{reason}: {cause}");
                source = cause.source();
            }
            reason
        }
    };
    QueueError::Sqs { operation, reason }
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
}
