//! The archive queue's contract, kept by both queues: SQS (a real SQS API, moto_server, through
//! the real SDK client) and the local queue in the database (FerretDB). Each contract test runs
//! against both; the SQS-only ones (its errors, its logs) follow.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use shared::queue::LocalQueue;
use shared::queue::{ArchiveJob, JobQueue, QueueError, SqsQueue, deduplication_id};
use shared::testing::queue::{
    VISIBILITY_TIMEOUT, counts, drain, fail_every_receive, fifo_queue, sqs_client,
};
use shared::testing::{CapturedLogs, servers::moto_endpoint};

const TICKET: i64 = 48_213_977;

/// What Glassix posts when a ticket is closed; the queue only ever sees a hash of it.
fn delivery(ticket_id: i64, closed_at: &str) -> Vec<u8> {
    format!(
        r#"{{"ticketId":{ticket_id},"newState":"Closed","dateTime":"{closed_at}","customer":"Dana Cohen"}}"#
    )
    .into_bytes()
}

fn attribute(message: &Message, name: MessageSystemAttributeName) -> &str {
    message
        .attributes()
        .and_then(|attributes| attributes.get(&name))
        .map(String::as_str)
        .unwrap_or_else(|| panic!("the message has no {name} attribute"))
}

fn group(message: &Message) -> &str {
    attribute(message, MessageSystemAttributeName::MessageGroupId)
}

fn dedup_id(message: &Message) -> &str {
    attribute(message, MessageSystemAttributeName::MessageDeduplicationId)
}

fn job(ticket_id: i64) -> ArchiveJob {
    ArchiveJob { ticket_id }
}

/// A queue under test, and what it holds: (waiting, in flight).
trait HeldQueue: JobQueue {
    async fn counts(&self) -> (u64, u64);
}

impl HeldQueue for SqsQueue {
    async fn counts(&self) -> (u64, u64) {
        counts(self).await
    }
}

impl HeldQueue for LocalQueue {
    async fn counts(&self) -> (u64, u64) {
        let now = shared::db::bson::DateTime::now();
        let jobs = self.waiting().await.expect("the local queue answers");
        let in_flight = jobs.iter().filter(|job| job.visible_at > now).count() as u64;
        (jobs.len() as u64 - in_flight, in_flight)
    }
}

/// A local queue in a database of its own, with the test SQS queue's visibility timeout.
async fn local_queue() -> LocalQueue {
    LocalQueue::new(shared::testing::store().await).with_visibility(VISIBILITY_TIMEOUT)
}

/// Each contract test, once on SQS and once on the local queue.
macro_rules! on_both_queues {
    ($($test:ident),* $(,)?) => {
        mod on_sqs {
            $(#[tokio::test]
            async fn $test() {
                super::$test(shared::testing::queue::fifo_queue().await).await
            })*
        }
        mod on_the_local_queue {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::local_queue().await).await
            })*
        }
    };
}

on_both_queues!(
    a_sent_job_is_received_with_its_json_body_and_the_ticket_as_message_group,
    the_same_delivery_sent_twice_is_held_and_received_once,
    two_deliveries_for_one_ticket_are_both_kept_in_the_order_sent,
    a_tickets_next_job_waits_for_the_previous_one_while_other_tickets_proceed,
    a_deleted_message_is_gone_and_does_not_come_back,
    an_undeleted_message_comes_back_after_the_visibility_timeout,
    a_long_poll_returns_a_job_sent_while_it_waits,
    receive_refuses_a_batch_size_sqs_would_reject,
);

async fn a_sent_job_is_received_with_its_json_body_and_the_ticket_as_message_group(
    queue: impl HeldQueue,
) {
    let closed = delivery(TICKET, "2024-03-10T08:15:42Z");

    queue.enqueue(&job(TICKET), &closed).await.expect("sent");

    let received = queue
        .receive(10, Duration::from_secs(1))
        .await
        .expect("received");
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message.body(), Some(r#"{"ticketId":48213977}"#));
    assert_eq!(group(message), "48213977");
    assert_eq!(dedup_id(message), deduplication_id(TICKET, &closed));
    assert_eq!(
        attribute(message, MessageSystemAttributeName::ApproximateReceiveCount),
        "1"
    );
    assert_eq!(
        ArchiveJob::parse(message.body().unwrap_or_default()).expect("a job"),
        job(TICKET)
    );
}

async fn the_same_delivery_sent_twice_is_held_and_received_once(queue: impl HeldQueue) {
    let closed = delivery(TICKET, "2024-03-10T08:15:42Z");

    queue.enqueue(&job(TICKET), &closed).await.expect("sent");
    queue
        .enqueue(&job(TICKET), &closed)
        .await
        .expect("a duplicate is acknowledged, not refused");

    assert_eq!(queue.counts().await, (1, 0), "SQS holds one message");
    let received = drain(&queue).await;
    assert_eq!(received.len(), 1);
    assert_eq!(dedup_id(&received[0]), deduplication_id(TICKET, &closed));
}

async fn two_deliveries_for_one_ticket_are_both_kept_in_the_order_sent(queue: impl HeldQueue) {
    let first = delivery(TICKET, "2024-03-10T08:15:42Z");
    let second = delivery(TICKET, "2024-03-12T17:02:09Z");

    queue.enqueue(&job(TICKET), &first).await.expect("sent");
    queue.enqueue(&job(TICKET), &second).await.expect("sent");

    assert_eq!(queue.counts().await, (2, 0));
    let received = drain(&queue).await;
    let ids: Vec<&str> = received.iter().map(dedup_id).collect();
    assert_eq!(
        ids,
        vec![
            deduplication_id(TICKET, &first),
            deduplication_id(TICKET, &second)
        ]
    );
    assert!(received.iter().all(|m| group(m) == "48213977"));
    assert!(
        received
            .iter()
            .all(|m| m.body() == Some(r#"{"ticketId":48213977}"#))
    );
}

async fn a_tickets_next_job_waits_for_the_previous_one_while_other_tickets_proceed(
    queue: impl HeldQueue,
) {
    let other = TICKET + 1;
    let first = delivery(TICKET, "2024-03-10T08:15:42Z");
    let second = delivery(TICKET, "2024-03-12T17:02:09Z");
    queue.enqueue(&job(TICKET), &first).await.expect("sent");
    queue.enqueue(&job(TICKET), &second).await.expect("sent");
    queue
        .enqueue(&job(other), &delivery(other, "2024-03-10T09:00:00Z"))
        .await
        .expect("sent");

    let in_progress = queue.receive(1, Duration::ZERO).await.expect("received");
    assert_eq!(in_progress.len(), 1);
    assert_eq!(dedup_id(&in_progress[0]), deduplication_id(TICKET, &first));

    let meanwhile = queue.receive(10, Duration::ZERO).await.expect("received");
    let groups: Vec<&str> = meanwhile.iter().map(group).collect();
    assert_eq!(groups, vec!["48213978"], "only the other ticket's job");

    queue
        .delete(in_progress[0].receipt_handle().expect("a receipt handle"))
        .await
        .expect("deleted");
    let next = queue.receive(10, Duration::ZERO).await.expect("received");
    assert_eq!(next.len(), 1);
    assert_eq!(dedup_id(&next[0]), deduplication_id(TICKET, &second));
}

async fn a_deleted_message_is_gone_and_does_not_come_back(queue: impl HeldQueue) {
    queue
        .enqueue(&job(TICKET), &delivery(TICKET, "2024-03-10T08:15:42Z"))
        .await
        .expect("sent");
    let received = queue
        .receive(10, Duration::from_secs(1))
        .await
        .expect("received");
    assert_eq!(queue.counts().await, (0, 1), "in flight");

    queue
        .delete(received[0].receipt_handle().expect("a receipt handle"))
        .await
        .expect("deleted");

    assert_eq!(queue.counts().await, (0, 0));
    tokio::time::sleep(VISIBILITY_TIMEOUT + Duration::from_millis(500)).await;
    assert!(drain(&queue).await.is_empty());
}

async fn an_undeleted_message_comes_back_after_the_visibility_timeout(queue: impl HeldQueue) {
    queue
        .enqueue(&job(TICKET), &delivery(TICKET, "2024-03-10T08:15:42Z"))
        .await
        .expect("sent");
    let first = queue
        .receive(10, Duration::from_secs(1))
        .await
        .expect("received");
    assert_eq!(first.len(), 1);

    tokio::time::sleep(VISIBILITY_TIMEOUT + Duration::from_millis(500)).await;

    let again = queue.receive(10, Duration::ZERO).await.expect("received");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message_id(), first[0].message_id());
    assert_eq!(
        attribute(
            &again[0],
            MessageSystemAttributeName::ApproximateReceiveCount
        ),
        "2"
    );
}

async fn a_long_poll_returns_a_job_sent_while_it_waits(queue: impl HeldQueue) {
    let started = Instant::now();

    let (received, sent) = tokio::join!(queue.receive(10, Duration::from_secs(10)), async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        queue
            .enqueue(&job(TICKET), &delivery(TICKET, "2024-03-10T08:15:42Z"))
            .await
    });

    sent.expect("sent");
    assert_eq!(received.expect("received").len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

async fn receive_refuses_a_batch_size_sqs_would_reject(queue: impl HeldQueue) {
    for max in [0, 11, -1] {
        let error = queue
            .receive(max, Duration::ZERO)
            .await
            .expect_err("out of range");
        assert!(matches!(error, QueueError::InvalidBatchSize(n) if n == max));
    }
}

#[test]
fn parse_refuses_garbage_without_quoting_the_body() {
    for body in [
        "hunter2 is not json",
        r#"{"ticketId":"hunter2"}"#,
        r#"{"ticket":"hunter2"}"#,
        r#"{"ticketId":4.5,"note":"hunter2"}"#,
        r#"{"ticketId":48213977,"note":"hunter2""#,
        r#"["hunter2"]"#,
        "",
    ] {
        let error = ArchiveJob::parse(body).expect_err(body);
        assert!(matches!(error, QueueError::InvalidJob { .. }), "{error:?}");
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!text.contains("ticket\""), "{text}");
        }
    }
    assert_eq!(
        ArchiveJob::parse(r#"{"ticketId":"hunter2"}"#)
            .expect_err("a string id")
            .to_string(),
        "the job's message is not what its queue carries: data error at line 1, column 21"
    );
    assert_eq!(
        ArchiveJob::parse(" { \"ticketId\" : 48213977 } ").expect("spacing is fine"),
        job(TICKET)
    );
}

#[tokio::test]
async fn an_sqs_failure_names_the_operation_and_error_code_only() {
    let missing = SqsQueue::new(
        sqs_client().await,
        format!("{}/123456789012/no-such-queue.fifo", moto_endpoint()),
    );

    let error = missing
        .enqueue(&job(TICKET), b"delivery")
        .await
        .expect_err("no such queue");

    let QueueError::Sqs {
        operation,
        reason,
        transient,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert!(!transient, "a missing queue stays missing");
    assert_eq!(*operation, "SendMessage");
    assert!(reason.starts_with("service error "), "{reason}");
    assert!(reason.contains("NonExistentQueue"), "{reason}");
    assert!(!error.to_string().contains("no-such-queue"), "{error}");
}

#[tokio::test]
async fn an_unreachable_sqs_is_reported_as_a_dispatch_failure() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port");
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{closed_port}"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    let queue = SqsQueue::new(
        aws_sdk_sqs::Client::new(&sdk),
        format!("http://{closed_port}/123456789012/archive.fifo"),
    );

    let error = queue.delete("receipt").await.expect_err("nothing listens");

    let text = error.to_string();
    assert!(
        text.starts_with("SQS DeleteMessage failed: dispatch failure"),
        "{text}"
    );
    assert!(
        error.is_transient(),
        "a connection refused may succeed later"
    );
}

#[tokio::test]
async fn enqueueing_logs_the_ticket_but_nothing_of_the_delivery() {
    let queue = fifo_queue().await;
    let (logs, _guard) = CapturedLogs::start();

    queue
        .enqueue(&job(TICKET), &delivery(TICKET, "2024-03-10T08:15:42Z"))
        .await
        .expect("sent");

    let text = logs.text();
    assert!(text.contains("job enqueued"), "{text}");
    assert!(text.contains("48213977"), "{text}");
    assert!(!text.contains("Dana Cohen"), "{text}");
}

#[tokio::test]
async fn the_local_queue_keeps_its_jobs_across_a_restart() {
    let store = shared::testing::store().await;
    let before = LocalQueue::new(store.clone());
    before
        .enqueue(&job(TICKET), &delivery(TICKET, "2024-03-10T08:15:42Z"))
        .await
        .expect("sent");
    drop(before);

    // A new process: a new client of the same database.
    let store_again = shared::db::Store::connect(
        shared::testing::servers::mongodb_uri(),
        store.database().name(),
    )
    .await
    .expect("connect");
    let after = LocalQueue::new(store_again);

    let received = after.receive(10, Duration::ZERO).await.expect("received");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].body(), Some(r#"{"ticketId":48213977}"#));
}

#[tokio::test]
async fn a_failed_job_of_the_local_queue_waits_out_its_backoff_and_holds_its_ticket_back() {
    let queue = local_queue().await;
    let first = delivery(TICKET, "2024-03-10T08:15:42Z");
    queue.enqueue(&job(TICKET), &first).await.expect("sent");
    queue
        .enqueue(&job(TICKET), &delivery(TICKET, "2024-03-12T17:02:09Z"))
        .await
        .expect("sent");
    let received = queue.receive(1, Duration::ZERO).await.expect("received");

    queue
        .retry_after(
            received[0].receipt_handle().expect("a receipt"),
            Duration::from_millis(700),
        )
        .await
        .expect("given back");

    assert!(
        queue
            .receive(10, Duration::ZERO)
            .await
            .expect("received")
            .is_empty(),
        "neither the failed job nor its ticket's next one before the backoff ends"
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    let again = queue.receive(1, Duration::ZERO).await.expect("received");
    assert_eq!(dedup_id(&again[0]), deduplication_id(TICKET, &first));
    assert_eq!(
        attribute(
            &again[0],
            MessageSystemAttributeName::ApproximateReceiveCount
        ),
        "2"
    );
}

#[tokio::test]
async fn a_job_that_fails_every_receive_moves_to_the_dead_letter_list_and_frees_its_ticket() {
    let queue = local_queue().await;
    queue
        .enqueue(&job(TICKET), &delivery(TICKET, "2024-03-10T08:15:42Z"))
        .await
        .expect("sent");
    let next = delivery(TICKET, "2024-03-12T17:02:09Z");
    queue.enqueue(&job(TICKET), &next).await.expect("sent");

    fail_every_receive(&queue).await;

    let after = queue.receive(10, Duration::ZERO).await.expect("received");
    assert_eq!(after.len(), 1, "the ticket's next job goes on");
    assert_eq!(dedup_id(&after[0]), deduplication_id(TICKET, &next));
    let dead = queue.dead().await.expect("dead letters");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].group, "48213977");
    assert_eq!(dead[0].receive_count, shared::queue::MAX_RECEIVES);
}

#[tokio::test]
async fn a_redrive_sends_each_dead_letter_back_to_its_ticket_group_once() {
    let dead_letters = fifo_queue().await;
    let queue = fifo_queue().await;
    let other = TICKET + 1;
    let first = delivery(TICKET, "2024-03-10T08:15:42Z");
    let second = delivery(TICKET, "2024-03-12T17:02:09Z");
    dead_letters
        .enqueue(&job(TICKET), &first)
        .await
        .expect("sent");
    dead_letters
        .enqueue(&job(TICKET), &second)
        .await
        .expect("sent");
    dead_letters
        .enqueue(&job(other), &delivery(other, "2024-03-10T09:00:00Z"))
        .await
        .expect("sent");

    let moved = shared::queue::redrive::redrive(&dead_letters, &queue)
        .await
        .expect("redriven");

    assert_eq!(moved, 3);
    assert_eq!(
        dead_letters.counts().await,
        (0, 0),
        "the dead-letter queue is empty"
    );
    let back = drain(&queue).await;
    let ticket_jobs: Vec<&str> = back
        .iter()
        .filter(|m| group(m) == "48213977")
        .map(|m| m.body().unwrap_or_default())
        .collect();
    assert_eq!(
        ticket_jobs.len(),
        2,
        "both of the ticket's jobs, in its group"
    );
    assert_eq!(back.len(), 3);
    assert_eq!(
        shared::queue::redrive::redrive(&dead_letters, &queue)
            .await
            .expect("nothing left"),
        0
    );
}

#[tokio::test]
async fn the_local_dead_letter_list_is_sent_back_as_new_jobs() {
    let queue = local_queue().await;
    queue
        .enqueue(&job(TICKET), &delivery(TICKET, "2024-03-10T08:15:42Z"))
        .await
        .expect("sent");
    fail_every_receive(&queue).await;
    assert!(
        queue
            .receive(1, Duration::ZERO)
            .await
            .expect("received")
            .is_empty()
    );
    assert_eq!(queue.dead().await.expect("dead letters").len(), 1);

    assert_eq!(queue.redrive_dead_letters().await.expect("redriven"), 1);

    assert!(queue.dead().await.expect("dead letters").is_empty());
    let again = queue.receive(1, Duration::ZERO).await.expect("received");
    assert_eq!(again.len(), 1);
    assert_eq!(
        attribute(
            &again[0],
            MessageSystemAttributeName::ApproximateReceiveCount
        ),
        "1",
        "a fresh receive count"
    );
}
