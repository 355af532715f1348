//! The archive worker through its own handler, as Lambda's SQS event source calls it: real
//! FerretDB, a Glassix stub with live tickets, SQS events as AWS sends them.

use std::time::Duration;

use archive_worker::handle;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use shared::state::WorkerState;
use shared::testing::glassix::{GlassixStub, LiveTicket};
use shared::testing::{self, fixture};
use tokio::time::Instant;

const TICKET: i64 = 48213977;

fn ticket_json(id: i64) -> serde_json::Value {
    let mut ticket: serde_json::Value =
        serde_json::from_slice(&fixture("glassix/ticket.json")).expect("fixture");
    ticket["id"] = id.into();
    ticket
}

fn record(message_id: &str, body: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = Some(message_id.into());
    record.body = Some(body.into());
    record
}

fn event(records: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = records;
    event
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

fn failures(response: &aws_lambda_events::sqs::SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn the_event_file_is_archived_and_scrambled() {
    let stub = GlassixStub::start().await;
    LiveTicket::mount(&stub, ticket_json(TICKET)).await;
    let store = testing::store().await;
    let state = WorkerState {
        store: store.clone(),
        glassix: stub.client(),
        files: testing::local_files(),
    };
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/archive-worker.json");
    let event: SqsEvent =
        serde_json::from_str(&std::fs::read_to_string(path).expect("events/archive-worker.json"))
            .expect("an SQS event");

    let response = handle(&state, event, deadline()).await;

    assert!(failures(&response).is_empty());
    let archived = store
        .get_ticket(TICKET)
        .await
        .expect("read")
        .expect("archived");
    assert_eq!(testing::transactions_of(&store, TICKET).await.len(), 5);
    assert!(archived.scrambled_at.is_some());
    assert_eq!(
        stub.received("DELETE", &format!("tickets/scramble/{TICKET}"))
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn after_a_failed_message_every_later_message_is_reported_failed_and_not_run() {
    let stub = GlassixStub::start().await;
    LiveTicket::mount(&stub, ticket_json(TICKET)).await;
    LiveTicket::mount(&stub, ticket_json(48213978)).await;
    let store = testing::store().await;
    let state = WorkerState {
        store: store.clone(),
        glassix: stub.client(),
        files: testing::local_files(),
    };
    let batch = event(vec![
        record("m-1", r#"{"ticketId":48213977}"#),
        record("m-2", r#"{"ticket":"not a job"}"#),
        record("m-3", r#"{"ticketId":48213978}"#),
    ]);

    let response = handle(&state, batch, deadline()).await;

    assert_eq!(failures(&response), vec!["m-2", "m-3"]);
    assert!(
        store.get_ticket(TICKET).await.expect("read").is_some(),
        "m-1 ran"
    );
    assert!(
        stub.received("GET", "tickets/get/48213978")
            .await
            .is_empty(),
        "m-3 did not run"
    );
    assert_eq!(store.get_ticket(48213978).await.expect("read"), None);
}

#[tokio::test]
async fn a_job_that_cannot_reach_the_database_fails_and_nothing_is_scrambled() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_json(TICKET)).await;
    let unreachable = testing::unreachable_store().await;
    let state = WorkerState {
        store: unreachable,
        glassix: stub.client(),
        files: testing::local_files(),
    };

    let response = handle(
        &state,
        event(vec![record("m-1", r#"{"ticketId":48213977}"#)]),
        deadline(),
    )
    .await;

    assert_eq!(failures(&response), vec!["m-1"]);
    assert!(
        stub.received("DELETE", &format!("tickets/scramble/{TICKET}"))
            .await
            .is_empty()
    );
    assert_eq!(live.ticket()["isScrambled"], false);
}

#[tokio::test]
async fn each_job_counts_what_it_archived_stored_and_refused_for_its_metrics() {
    use shared::archive::worker::job_metrics;
    let stub = GlassixStub::start().await;
    LiveTicket::mount(&stub, ticket_json(TICKET)).await;
    let mut broken = ticket_json(48213978);
    broken["transactions"] = serde_json::Value::Null;
    LiveTicket::mount(&stub, broken).await;
    let state = WorkerState {
        store: testing::store().await,
        glassix: stub.client(),
        files: testing::local_files(),
    };
    let value = |metrics: &[shared::metrics::Metric], name: &str| {
        metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.value)
            .unwrap_or_else(|| panic!("no {name}"))
    };

    let archived = state.archiver();
    let result = archived.run(TICKET, deadline()).await;
    let metrics = job_metrics(&result, &archived.tally);
    let refused = state.archiver();
    let refusal = refused
        .run(48213978, Instant::now() + Duration::from_secs(2))
        .await;
    let refusal_metrics = job_metrics(&refusal, &refused.tally);

    for (name, expected) in [
        ("TicketsArchived", 1.0),
        ("TicketsScrambled", 1.0),
        ("ArchiveRefused", 0.0),
        ("FilesStored", 1.0),
        ("BytesStored", 1024.0),
        ("JobsFailed", 0.0),
    ] {
        assert_eq!(value(&metrics, name), expected, "{name}");
    }
    for (name, expected) in [
        ("TicketsArchived", 0.0),
        ("TicketsScrambled", 0.0),
        ("ArchiveRefused", 1.0),
        ("JobsFailed", 1.0),
    ] {
        assert_eq!(value(&refusal_metrics, name), expected, "refused: {name}");
    }
}
