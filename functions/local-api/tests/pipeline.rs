//! The production shape of the closing pipeline, locally: the webhook enqueues to an SQS FIFO
//! queue (moto, through the real SDK client), and the poller hands each message to the archive
//! worker's own handler, as Lambda's SQS event source does. `local-api` picks that queue with
//! `ARCHIVE_QUEUE_URL`, else its database's.

use std::time::Duration;

use local_api::AnyQueue;
use shared::config::Config;
use shared::glassix::inbound::SIGNATURE_HEADER;
use shared::queue::SqsQueue;
use shared::queue::poller::poll_once;
use shared::state::{ClosingState, FromConfig, ReconcileState, WorkerState};
use shared::testing::glassix::{GlassixStub, LiveTicket};
use shared::testing::queue::{counts, drain, fifo_queue};
use shared::testing::requests::{closing_state, json_body, signed_webhook};
use shared::testing::{self, fixture};
use webhook_ticket_state_change::handle;

const TICKET: i64 = 48213977;
const WAIT: Duration = Duration::from_secs(2);
const JOB_TIME: Duration = Duration::from_secs(2);

fn closed_event() -> Vec<u8> {
    fixture("glassix/ticket-state-change-closed-event.json")
}

fn ticket_json() -> serde_json::Value {
    serde_json::from_slice(&fixture("glassix/ticket.json")).expect("fixture")
}

/// The deployed function's state: the test credentials, and `queue`.
async fn queueing_state(stub: &GlassixStub, queue: SqsQueue) -> ClosingState<SqsQueue> {
    let store = testing::unreachable_store().await;
    let local = closing_state(stub, store);
    ClosingState {
        credentials: local.credentials,
        budget: local.budget,
        queue,
    }
}

#[tokio::test]
async fn the_deployed_function_queues_each_closed_ticket_once_and_nothing_else() {
    // No Glassix route and no database: the webhook must need neither.
    let stub = GlassixStub::bare().await;
    let queue = fifo_queue().await;
    let state = queueing_state(&stub, queue.clone()).await;
    let reopened = fixture("glassix/ticket-state-change-open-event.json");
    let mut forged = signed_webhook(&closed_event());
    forged.headers_mut().insert(
        SIGNATURE_HEADER,
        "c2lnbmVkIGJ5IG5vYm9keQ==".parse().expect("a header"),
    );

    let first = handle(&state, signed_webhook(&closed_event())).await;
    let retry = handle(&state, signed_webhook(&closed_event())).await;
    let other_state = handle(&state, signed_webhook(&reopened)).await;
    let refused = handle(&state, forged).await;

    for response in [&first, &retry] {
        assert_eq!(response.status(), 200, "{}", json_body(response));
        assert_eq!(
            json_body(response)["results"][0]["reason"],
            "queued for archiving"
        );
    }
    assert_eq!(other_state.status(), 200, "{}", json_body(&other_state));
    assert_eq!(json_body(&other_state)["results"][0]["outcome"], "ignored");
    assert_eq!(refused.status(), 401, "{}", json_body(&refused));
    let queued = drain(&queue).await;
    assert_eq!(
        queued.len(),
        1,
        "one job for the one closed ticket: {queued:?}"
    );
    assert_eq!(queued[0].body(), Some(r#"{"ticketId":48213977}"#));
    assert!(stub.all_received().await.is_empty(), "Glassix was called");
}

#[tokio::test]
async fn the_deployed_functions_that_queue_do_not_start_without_a_queue() {
    let env: std::collections::HashMap<String, String> = [
        ("MONGODB_URI", "mongodb://127.0.0.1:9"),
        ("MONGODB_DATABASE", "ctm"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let config = Config::from_sources(&env, &Default::default()).expect("a configuration");

    let webhook = ClosingState::<SqsQueue>::from_config(config.clone())
        .await
        .err();
    let reconciliation = ReconcileState::<SqsQueue>::from_config(config).await.err();

    for error in [webhook, reconciliation] {
        let error = error.expect("no queue, no function");
        assert!(
            error
                .detail()
                .unwrap_or_default()
                .contains("ARCHIVE_QUEUE_URL"),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn local_api_queues_to_sqs_when_one_is_named_and_to_its_database_otherwise() {
    let store = testing::store().await;
    let config = |queue_url: Option<&str>| {
        let mut env: std::collections::HashMap<String, String> =
            [("MONGODB_URI", "mongodb://127.0.0.1:9")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        if let Some(url) = queue_url {
            env.insert("ARCHIVE_QUEUE_URL".into(), url.into());
        }
        Config::from_sources(&env, &Default::default()).expect("a configuration")
    };
    let sqs = fifo_queue().await;

    let named = AnyQueue::from_config(&config(Some(sqs.url())), &store).await;
    let nothing = AnyQueue::from_config(&config(None), &store).await;

    assert!(matches!(named, AnyQueue::Sqs(ref queue) if queue.url() == sqs.url()));
    assert!(matches!(nothing, AnyQueue::Database(_)));
}

#[tokio::test]
async fn a_queued_job_is_archived_and_scrambled_by_the_worker_and_leaves_the_queue() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_json()).await;
    let store = testing::store().await;
    let queue = fifo_queue().await;
    let state = queueing_state(&stub, queue.clone()).await;
    let worker = WorkerState {
        store: store.clone(),
        glassix: stub.client(),
        files: testing::local_files(),
    };

    let response = handle(&state, signed_webhook(&closed_event())).await;
    assert_eq!(response.status(), 200);
    assert!(
        store.get_ticket(TICKET).await.expect("read").is_none(),
        "not yet"
    );

    let polled = poll_once(&queue, &worker, WAIT, JOB_TIME)
        .await
        .expect("poll");

    assert_eq!((polled.handled, polled.failed), (1, 0));
    let archived = store
        .get_ticket(TICKET)
        .await
        .expect("read")
        .expect("archived");
    assert_eq!(testing::transactions_of(&store, TICKET).await.len(), 5);
    assert!(archived.scrambled_at.is_some());
    assert_eq!(live.ticket()["isScrambled"], true);
    assert_eq!(counts(&queue).await, (0, 0), "the message was deleted");
}

#[tokio::test]
async fn a_failed_job_stays_in_the_queue_for_another_attempt() {
    let stub = GlassixStub::start().await;
    stub.answer(
        "GET",
        &format!("tickets/get/{TICKET}"),
        wiremock::ResponseTemplate::new(500),
    )
    .await;
    let store = testing::store().await;
    let queue = fifo_queue().await;
    let state = queueing_state(&stub, queue.clone()).await;
    let worker = WorkerState {
        store: store.clone(),
        glassix: stub.client(),
        files: testing::local_files(),
    };
    assert_eq!(
        handle(&state, signed_webhook(&closed_event()))
            .await
            .status(),
        200
    );

    // Glassix keeps failing: the job's retries give up at its deadline.
    let polled = poll_once(&queue, &worker, WAIT, JOB_TIME)
        .await
        .expect("poll");

    assert_eq!((polled.handled, polled.failed), (1, 1));
    assert!(store.get_ticket(TICKET).await.expect("read").is_none());
    assert!(
        stub.received("DELETE", &format!("tickets/scramble/{TICKET}"))
            .await
            .is_empty()
    );
    assert_eq!(
        counts(&queue).await,
        (0, 1),
        "not deleted: it comes back after its backoff"
    );
}
