//! The new-ticket webhook through its real handler, against FerretDB and a wiremock Glassix.

use std::time::Duration;

use shared::db::ledger::Claim;
use shared::db::{Store, TicketContent};
use shared::error::AppError;
use shared::new_ticket::{Action, claim_and_carry_out};
use shared::testing::glassix::GlassixStub;
use shared::testing::requests::{error_code, json_body, new_ticket_state, signed_webhook, webhook};
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
    let state = new_ticket_state(&stub, testing::store().await).await;

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
    let state = new_ticket_state(&stub, store).await;

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
    let state = new_ticket_state(&stub, testing::store().await).await;
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
    let state = new_ticket_state(&stub, testing::store().await).await;

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
async fn five_concurrent_duplicates_all_answer_200_with_one_note_and_one_tag_call() {
    let stub = glassix_accepting_tags_and_notes(Duration::from_millis(300)).await;
    let state = new_ticket_state(&stub, testing::store().await).await;

    let deliveries = (0..5).map(|_| handle(&state, signed_webhook(&new_ticket_event())));
    let responses = futures_util::future::join_all(deliveries).await;

    // Each delivery holds one claim and finds the other held; it waits for the holder and
    // answers 200 instead of making Glassix retry.
    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses, [200; 5]);
    assert_eq!(sent_notes(&stub).await.len(), 1);
    assert_eq!(sent_tags(&stub).await.len(), 1);
    let processed: u64 = responses
        .iter()
        .map(|r| json_body(r)["processed"].as_u64().expect("count"))
        .sum();
    assert!((1..=2).contains(&processed), "{processed}");
}

/// The ticket as Glassix shows it once our note (or none) is on it.
fn ticket_showing(note: Option<&str>) -> serde_json::Value {
    let mut ticket: serde_json::Value =
        serde_json::from_slice(&fixture("glassix/ticket.json")).expect("fixture");
    if let Some(text) = note {
        ticket["transactions"]
            .as_array_mut()
            .expect("transactions")
            .push(serde_json::json!({
                "id": 99, "type": "Note", "text": text, "html": "",
                "fromParticipant": {"id": 2, "type": "User", "identifier": "agent-guid"}
            }));
    }
    ticket
}

async fn ledger_state(store: &Store, action: &str) -> String {
    ledger_entry(store, action).await.expect("a ledger entry")
}

#[tokio::test]
async fn a_note_answered_with_500_is_never_posted_twice_and_the_next_delivery_reads_the_ticket() {
    let stub = glassix_accepting_tags_and_notes(Duration::ZERO).await;
    stub.answer_first(
        1,
        "POST",
        &format!("tickets/addnote/{TICKET}"),
        ResponseTemplate::new(500),
    )
    .await;
    // The 500 hid a note that was in fact added.
    let note = "ClientTicketManager: new client, no earlier tickets in the archive.";
    stub.answer(
        "GET",
        &format!("tickets/get/{TICKET}"),
        ResponseTemplate::new(200).set_body_json(ticket_showing(Some(note))),
    )
    .await;
    let store = testing::store().await;
    let state = new_ticket_state(&stub, store.clone()).await;

    let failed = handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(failed.status(), 503);
    assert_eq!(sent_notes(&stub).await.len(), 1, "a 500 is not retried");
    assert_eq!(ledger_state(&store, "note").await, "uncertain");

    let next = handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(next.status(), 200);
    assert_eq!(json_body(&next)["duplicates"], 1);
    assert_eq!(
        sent_notes(&stub).await.len(),
        1,
        "the ticket showed the note"
    );
    assert_eq!(sent_tags(&stub).await.len(), 1);
    assert_eq!(ledger_state(&store, "note").await, "done");
}

#[tokio::test]
async fn a_note_call_that_outlasts_the_budget_is_settled_by_the_next_delivery() {
    let stub = glassix_accepting_tags_and_notes(Duration::ZERO).await;
    stub.answer_first(
        1,
        "POST",
        &format!("tickets/addnote/{TICKET}"),
        ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
    )
    .await;
    stub.answer(
        "GET",
        &format!("tickets/get/{TICKET}"),
        ResponseTemplate::new(200).set_body_json(ticket_showing(None)),
    )
    .await;
    let store = testing::store().await;
    let mut state = new_ticket_state(&stub, store.clone()).await;
    state.budget = Duration::from_millis(1500);

    let cut = handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(cut.status(), 503);
    // The outcome is recorded in the time kept for it after the cut-off Glassix call, so the
    // next delivery settles it at once instead of waiting out the claim's lease.
    assert_eq!(ledger_state(&store, "note").await, "uncertain");

    let next = handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(next.status(), 200);
    assert_eq!(
        sent_notes(&stub).await.len(),
        2,
        "the ticket showed no note, so it is added"
    );
    assert_eq!(
        stub.received("GET", &format!("tickets/get/{TICKET}"))
            .await
            .len(),
        1
    );
    assert_eq!(ledger_state(&store, "note").await, "done");
}

/// Whether a ledger entry is left for `action`: `None` when there is none.
async fn ledger_entry(store: &Store, action: &str) -> Option<String> {
    store
        .database()
        .collection::<shared::db::bson::Document>(shared::db::documents::WEBHOOK_ACTIONS)
        .find_one(shared::db::bson::doc! {"_id": format!("{TICKET}:{action}")})
        .await
        .expect("find")
        .map(|entry| entry.get_str("state").expect("state").to_owned())
}

#[tokio::test]
async fn a_claim_taken_while_the_history_read_fails_is_given_back_as_it_was() {
    // The action is claimed while the client's history is read. When the read fails nothing
    // is carried out, and the claim must be left as this delivery found it: free for the
    // retry, or (taken over from a delivery that may have acted) still to be checked.
    for tags_before in [None, Some("uncertain")] {
        let stub = glassix_accepting_tags_and_notes(Duration::ZERO).await;
        let store = testing::store().await;
        if tags_before.is_some() {
            let claimed = store
                .claim_action(TICKET, "tags", Duration::from_secs(30))
                .await
                .expect("claim");
            let Claim::Acquired(token) = claimed else {
                panic!("a fresh claim: {claimed:?}");
            };
            store.mark_uncertain(&token).await.expect("uncertain");
        }
        let state = new_ticket_state(&stub, store.clone()).await;
        let failed_read = async { Err(AppError::Unavailable("the history read failed".into())) };

        let outcome = claim_and_carry_out(
            &state,
            TICKET,
            "tags",
            failed_read,
            Instant::now() + Duration::from_secs(4),
            |_| Action::Tags(vec!["new-client".into()]),
        )
        .await;

        assert!(outcome.is_err(), "{outcome:?}");
        assert!(sent_tags(&stub).await.is_empty(), "nothing was carried out");
        assert_eq!(
            ledger_entry(&store, "tags").await.as_deref(),
            tags_before,
            "the claim as this delivery found it"
        );
    }
}

#[tokio::test]
async fn a_note_throttled_with_429_is_sent_again_because_glassix_did_not_act() {
    let stub = glassix_accepting_tags_and_notes(Duration::ZERO).await;
    stub.answer_first(
        1,
        "POST",
        &format!("tickets/addnote/{TICKET}"),
        ResponseTemplate::new(429).insert_header("retry-after", "0"),
    )
    .await;
    let state = new_ticket_state(&stub, testing::store().await).await;

    let response = handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(response.status(), 200);
    assert_eq!(sent_notes(&stub).await.len(), 2);
    assert!(
        stub.received("GET", &format!("tickets/get/{TICKET}"))
            .await
            .is_empty()
    );
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
    let state = new_ticket_state(&stub, testing::store().await).await;

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
    let state = new_ticket_state(&stub, testing::store().await).await;

    let response = handle(&state, webhook(new_ticket_event(), None)).await;

    assert_eq!(response.status(), 401);
    assert_eq!(error_code(&response), "unauthorized");
    assert!(stub.all_received().await.is_empty());
}

#[tokio::test]
async fn other_events_are_acknowledged_and_ignored() {
    let stub = GlassixStub::bare().await;
    let state = new_ticket_state(&stub, testing::store().await).await;

    let response = handle(
        &state,
        signed_webhook(&fixture("glassix/ticket-state-change-closed-event.json")),
    )
    .await;

    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["ignored"], 1);
    assert!(stub.all_received().await.is_empty());
}
