//! Archive queues in this test binary's `moto_server`, one per test so tests run in parallel.

use std::collections::HashSet;
use std::time::Duration;

use aws_sdk_sqs::types::{Message, QueueAttributeName};

use super::servers::moto_endpoint;
use crate::queue::{JobQueue, SqsQueue};

/// Short, so a test that leaves a message undeleted sees it come back quickly.
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(2);

/// A client of the moto server with dummy credentials, as the Lambdas' client would be with
/// `AWS_ENDPOINT_URL` set.
pub async fn sqs_client() -> aws_sdk_sqs::Client {
    let sdk = super::moto_sdk_config(moto_endpoint());
    aws_sdk_sqs::Client::new(&sdk)
}

/// A new, empty FIFO queue configured like the deployed one: explicit deduplication ids only
/// (content-based deduplication would merge two closings of one ticket, whose bodies are equal).
pub async fn fifo_queue() -> SqsQueue {
    let client = sqs_client().await;
    let created = client
        .create_queue()
        .queue_name(format!("{}-archive.fifo", super::unique_database_name()))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::ContentBasedDeduplication, "false")
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            VISIBILITY_TIMEOUT.as_secs().to_string(),
        )
        .send()
        .await
        .expect("moto creates the FIFO queue");
    let url = created.queue_url().expect("a queue URL").to_owned();
    SqsQueue::new(client, url)
}

/// Every message SQS hands out now, without deleting any (each stays invisible for
/// [`VISIBILITY_TIMEOUT`]). A message seen twice (its visibility ran out during the drain) is
/// kept once, so a slow drain does not look like a duplicate delivery. As on real SQS, a FIFO
/// group's messages beyond the first batch stay hidden while that batch is in flight.
pub async fn drain(queue: &impl JobQueue) -> Vec<Message> {
    let mut seen = HashSet::new();
    let mut all = Vec::new();
    loop {
        let batch = queue
            .receive(10, Duration::ZERO)
            .await
            .expect("the queue answers ReceiveMessage");
        let before = all.len();
        for message in batch {
            if seen.insert(message.message_id().unwrap_or_default().to_owned()) {
                all.push(message);
            }
        }
        if all.len() == before {
            return all;
        }
    }
}

/// `ApproximateNumberOfMessages` and `ApproximateNumberOfMessagesNotVisible` (waiting, in
/// flight): what SQS still holds, whether or not it would hand it out now.
pub async fn counts(queue: &SqsQueue) -> (u64, u64) {
    let attributes = sqs_client()
        .await
        .get_queue_attributes()
        .queue_url(queue.url())
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("moto answers GetQueueAttributes");
    let count = |name: QueueAttributeName| -> u64 {
        attributes
            .attributes()
            .and_then(|all| all.get(&name))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{name} is a number"))
    };
    (
        count(QueueAttributeName::ApproximateNumberOfMessages),
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// Receives the job `queue` hands out next and fails it, [`crate::queue::MAX_RECEIVES`] times:
/// what a job whose cause is never fixed goes through before the dead-letter list.
pub async fn fail_every_receive(queue: &crate::queue::LocalQueue) {
    for attempt in 1..=crate::queue::MAX_RECEIVES {
        let received = queue.receive(1, Duration::ZERO).await.expect("received");
        assert_eq!(received.len(), 1, "attempt {attempt}");
        let receipt = received[0].receipt_handle().expect("a receipt");
        queue
            .retry_after(receipt, Duration::ZERO)
            .await
            .expect("given back");
    }
}
