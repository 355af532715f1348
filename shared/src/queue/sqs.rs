//! The archive queue on SQS: a FIFO queue, so that SQS keeps the contract of
//! [`super::JobQueue`] itself (message groups, deduplication ids, and the template's redrive
//! policy to the dead-letter queue).

use std::time::Duration;

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::{JobQueue, MAX_RECEIVE_BATCH, QueueError, QueueJob};
use crate::config::{ConfigError, keys};

/// SQS refuses long polls longer than 20 seconds.
const MAX_WAIT_SECONDS: u64 = 20;

/// The FIFO queue of archive jobs.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// The queue `ARCHIVE_QUEUE_URL` names: a deployed function has nowhere to put a closed
    /// ticket without it, and a cold start that fails says so in the log.
    pub async fn from_config(config: &crate::config::Config) -> Result<Self, ConfigError> {
        match &config.archive_queue_url {
            Some(url) => Ok(Self::from_env(url).await),
            None => Err(ConfigError::Missing(keys::ARCHIVE_QUEUE_URL)),
        }
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
}

impl JobQueue for SqsQueue {
    /// MessageGroupId and MessageDeduplicationId from the job ([`QueueJob`]).
    async fn enqueue<J: QueueJob>(&self, job: &J, delivery: &[u8]) -> Result<(), QueueError> {
        let group = job.group();
        let output = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(job.body())
            .message_group_id(&group)
            .message_deduplication_id(job.deduplication_id(delivery))
            .send()
            .await
            .map_err(|e| sqs_error("SendMessage", &e))?;
        // A copy dropped as a duplicate is also acknowledged (with the original's message id), so
        // "enqueued" means "SQS holds a job for this delivery".
        tracing::info!(
            group,
            message_id = output.message_id().unwrap_or_default(),
            "job enqueued"
        );
        Ok(())
    }

    /// For the local poller: long-polling in whole seconds, at most 20 (SQS's limit; a caller
    /// wanting longer simply polls again). Each message carries the system attributes the
    /// worker's SQS event would also carry.
    async fn receive(&self, max: i32, wait: Duration) -> Result<Vec<Message>, QueueError> {
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

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| sqs_error("DeleteMessage", &e))?;
        Ok(())
    }

    async fn retry_after(&self, receipt_handle: &str, after: Duration) -> Result<(), QueueError> {
        // SQS allows at most 12 hours.
        let seconds = i32::try_from(after.as_secs().min(12 * 3600)).unwrap_or(i32::MAX);
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| sqs_error("ChangeMessageVisibility", &e))?;
        Ok(())
    }
}

fn sqs_error<E>(operation: &'static str, error: &SdkError<E, HttpResponse>) -> QueueError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    // Timeouts, dropped connections, throttling and 5xx: SQS's own retryable kinds.
    let transient = match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(context) => {
            context.raw().status().is_server_error()
                || context.err().code().is_some_and(|code| {
                    code.contains("Throttl") || code.contains("RequestThrottled")
                })
        }
        _ => false,
    };
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
    QueueError::Sqs {
        operation,
        reason,
        transient,
    }
}
