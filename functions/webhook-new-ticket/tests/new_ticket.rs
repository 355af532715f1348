//! The new-ticket webhook through its real handler, against FerretDB and a wiremock Glassix.

use std::time::Duration;

use shared::db::{Store, TicketContent};
use shared::testing::glassix::GlassixStub;
use shared::testing::requests::{error_code, json_body, signed_webhook, webhook, webhook_state};
use shared::testing::{self, fixture};
use tokio::time::Instant;
use webhook_new_ticket::handle;
use wiremock::ResponseTemplate;

const TICKET: i64 = 48213977;
const CLIENT: &str = "972521234567";

async fn glassix_accepting_tags_and_notes(delay: Duration) -> GlassixStub {
    let stub = GlassixStub::start().await;
    stub.answer(
        "POST",
        &format!("tickets/addtags/{TICKET}"),
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!([
                "archived-by-ctm",
                "new-client",
                "returning-client"
            ]))
            .set_delay(delay),
    )
    .await;
    stub.answer(
        "POST",
        &format!("tickets/addnote/{TICKET}"),
        ResponseTemplate::new(200).set_delay(delay),
    )
    .await;
    stub
}

fn new_ticket_event() -> Vec<u8> {
    fixture("glassix/new-ticket-event.json")
}

async fn sent_tags(stub: &GlassixStub) -> Vec<Vec<String>> {
    stub.received("POST", &format!("tickets/addtags/{TICKET}"))
        .await
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("a bare JSON array"))
        .collect()
}

async fn sent_notes(stub: &GlassixStub) -> Vec<String> {
    stub.received("POST", &format!("tickets/addnote/{TICKET}"))
        .await
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
            body["text"].as_str().expect("text").to_owned()
        })
        .collect()
}

async fn archive_one_ticket_of_the_client(store: &Store) {
    store
        .archive_ticket(&TicketContent {
            ticket_id: 1001,
            client_identifier: CLIENT.into(),
            client_name: Some("Dana Cohen".into()),
            ticket_opening_date: shared::db::bson::DateTime::from_millis(1_709_546_400_000),
            protocol_type: "Mail".into(),
            closed_at: None,
            tags: vec![],
            transactions: vec![],
        })
        .await
        .expect("archive");
}

#[tokio::test]
async fn a_new_client_gets_the_new_client_tag_and_note() {
    let stub = glassix_accepting_tags_and_notes(Duration::ZERO).await;
    let state = webhook_state(&stub, testing::store().await).await;

    let response = handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["processed"], 1);
    assert_eq!(
        sent_tags(&stub).await,
        vec![vec!["archived-by-ctm", "new-client"]]
    );
    assert_eq!(
        sent_notes(&stub).await,
        vec!["ClientTicketManager: new client, no earlier tickets in the archive."]
    );
}

#[tokio::test]
async fn a_returning_client_gets_the_returning_tag_and_their_history() {
    let stub = glassix_accepting_tags_and_notes(Duration::ZERO).await;
    let store = testing::store().await;
    archive_one_ticket_of_the_client(&store).await;
    let state = webhook_state(&stub, store).await;

    let response = handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        sent_tags(&stub).await,
        vec![vec!["archived-by-ctm", "returning-client"]]
    );
    assert_eq!(
        sent_notes(&stub).await,
        vec![
            "ClientTicketManager: returning client, 1 archived ticket; the most recent was opened on 2024-03-04 via Mail."
        ]
    );
}

#[tokio::test]
async fn tags_and_note_are_sent_at_the_same_time() {
    let stub = glassix_accepting_tags_and_notes(Duration::from_millis(500)).await;
    let state = webhook_state(&stub, testing::store().await).await;
    let started = Instant::now();

    let response = handle(&state, signed_webhook(&new_ticket_event())).await;

    let elapsed = started.elapsed();
    assert_eq!(response.status(), 200);
    assert_eq!(sent_notes(&stub).await.len(), 1);
    assert!(
        elapsed < Duration::from_millis(900),
        "took {elapsed:?}: the calls ran one after the other"
    );
}

#[tokio::test]
async fn repeated_deliveries_add_one_note_and_one_tag_call() {
    let stub = glassix_accepting_tags_and_notes(Duration::ZERO).await;
    let state = webhook_state(&stub, testing::store().await).await;

    let mut bodies = Vec::new();
    for _ in 0..3 {
        let response = handle(&state, signed_webhook(&new_ticket_event())).await;
        assert_eq!(response.status(), 200);
        bodies.push(json_body(&response));
    }

    assert_eq!(sent_notes(&stub).await.len(), 1);
    assert_eq!(sent_tags(&stub).await.len(), 1);
    assert_eq!(bodies[0]["processed"], 1);
    assert_eq!(bodies[1]["duplicates"], 1);
    assert_eq!(bodies[2]["duplicates"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_deliveries_add_one_note() {
    let stub = glassix_accepting_tags_and_notes(Duration::from_millis(300)).await;
    let state = webhook_state(&stub, testing::store().await).await;

    let (first, second) = tokio::join!(
        handle(&state, signed_webhook(&new_ticket_event())),
        handle(&state, signed_webhook(&new_ticket_event())),
    );

    assert_eq!(sent_notes(&stub).await.len(), 1);
    assert_eq!(sent_tags(&stub).await.len(), 1);
    // A delivery that found an action claimed by the other must not report success; which one
    // claims which action depends on scheduling, so both may ask for a retry.
    let statuses = [first.status().as_u16(), second.status().as_u16()];
    assert!(statuses.contains(&503), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [200, 503].contains(s)),
        "{statuses:?}"
    );

    let retry = handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(retry.status(), 200);
    assert_eq!(json_body(&retry)["duplicates"], 1);
    assert_eq!(sent_notes(&stub).await.len(), 1);
}

#[tokio::test]
async fn a_failed_note_is_retried_by_the_next_delivery_without_repeating_the_tags() {
    let stub = GlassixStub::start().await;
    stub.answer(
        "POST",
        &format!("tickets/addtags/{TICKET}"),
        ResponseTemplate::new(200).set_body_json(serde_json::json!([])),
    )
    .await;
    stub.answer_first(
        1,
        "POST",
        &format!("tickets/addnote/{TICKET}"),
        ResponseTemplate::new(400).set_body_json(serde_json::json!({"Message": "rejected"})),
    )
    .await;
    stub.answer(
        "POST",
        &format!("tickets/addnote/{TICKET}"),
        ResponseTemplate::new(200),
    )
    .await;
    let state = webhook_state(&stub, testing::store().await).await;

    let failed = handle(&state, signed_webhook(&new_ticket_event())).await;
    let retried = handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(failed.status(), 503);
    assert_eq!(error_code(&failed), "unavailable");
    assert_eq!(retried.status(), 200);
    assert_eq!(sent_tags(&stub).await.len(), 1);
    assert_eq!(
        sent_notes(&stub).await.len(),
        2,
        "one refused, one accepted"
    );
}

#[tokio::test]
async fn an_unsigned_delivery_is_refused_and_nothing_happens() {
    let stub = glassix_accepting_tags_and_notes(Duration::ZERO).await;
    let state = webhook_state(&stub, testing::store().await).await;

    let response = handle(&state, webhook(new_ticket_event(), None)).await;

    assert_eq!(response.status(), 401);
    assert_eq!(error_code(&response), "unauthorized");
    assert!(stub.all_received().await.is_empty());
}

#[tokio::test]
async fn other_events_are_acknowledged_and_ignored() {
    let stub = GlassixStub::bare().await;
    let state = webhook_state(&stub, testing::store().await).await;

    let response = handle(
        &state,
        signed_webhook(&fixture("glassix/ticket-state-change-closed-event.json")),
    )
    .await;

    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["ignored"], 1);
    assert!(stub.all_received().await.is_empty());
}
