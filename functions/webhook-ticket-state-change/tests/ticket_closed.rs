//! The closing pipeline through its real handlers, against FerretDB and a wiremock Glassix:
//! the webhook queues, the worker's own handler archives what the queue hands out. Archive
//! first, scramble second, idempotent, and nothing done on bad input.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use shared::db::Store;
use shared::job::Outcome;
use shared::queue::{ArchiveJob, JobQueue};
use shared::testing::glassix::{GlassixStub, LiveTicket, scrambled};
use shared::testing::pipeline::ClosingPipeline;
use shared::testing::requests::{dated_webhook, error_code, json_body, signed_webhook, webhook};
use shared::testing::{self, CapturedLogs, fixture, servers};
use webhook_ticket_state_change::handle;
use wiremock::{Request, Respond, ResponseTemplate};

const TICKET: i64 = 48213977;

fn closed_event() -> Vec<u8> {
    fixture("glassix/ticket-state-change-closed-event.json")
}

fn ticket_json() -> serde_json::Value {
    serde_json::from_slice(&fixture("glassix/ticket.json")).expect("fixture")
}

async fn mount_get(stub: &GlassixStub, ticket: serde_json::Value) {
    let response = ResponseTemplate::new(200).set_body_json(ticket);
    stub.answer("GET", &format!("tickets/get/{TICKET}"), response)
        .await;
}

async fn mount_scramble(stub: &GlassixStub, response: impl Respond + 'static) {
    stub.answer("DELETE", &format!("tickets/scramble/{TICKET}"), response)
        .await;
}

async fn scrambles(stub: &GlassixStub) -> usize {
    stub.received("DELETE", &format!("tickets/scramble/{TICKET}"))
        .await
        .len()
}

/// The archived copy of the ticket, read as any client of the store would.
async fn archived_ticket(store: &Store) -> Option<shared::db::TicketDoc> {
    store.get_ticket(TICKET).await.expect("read")
}

/// Answers the scramble only after looking in the database, from outside the handler, for the
/// archived ticket: records whether the archive was already there when Glassix was asked.
struct ScrambleThatChecksTheArchive {
    database: String,
    archive_present: Arc<Mutex<Vec<bool>>>,
    live: LiveTicket,
}

impl Respond for ScrambleThatChecksTheArchive {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let database = self.database.clone();
        let present = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let store = Store::connect(servers::mongodb_uri(), &database)
                    .await
                    .expect("connect");
                let ticket = archived_ticket(&store).await;
                ticket.is_some() && testing::transactions_of(&store, TICKET).await.len() == 5
            })
        })
        .join()
        .expect("checker thread");
        self.archive_present.lock().expect("lock").push(present);
        self.live.scramble_now();
        ResponseTemplate::new(200)
    }
}

#[tokio::test]
async fn a_closed_ticket_is_archived_before_it_is_scrambled() {
    let stub = GlassixStub::start().await;
    let store = testing::store().await;
    let archive_present = Arc::new(Mutex::new(Vec::new()));
    let live = LiveTicket::mount(&stub, ticket_json()).await;
    stub.answer_first(
        u64::MAX,
        "DELETE",
        &format!("tickets/scramble/{TICKET}"),
        ScrambleThatChecksTheArchive {
            database: store.database().name().to_owned(),
            archive_present: archive_present.clone(),
            live,
        },
    )
    .await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let worked = pipeline.work_off().await;

    assert_eq!(response.status(), 200, "{}", json_body(&response));
    assert_eq!(json_body(&response)["processed"], 1);
    assert_eq!(
        worked.outcomes,
        vec![Outcome::Processed("archived and scrambled")]
    );
    assert_eq!(
        *archive_present.lock().expect("lock"),
        vec![true],
        "archive written before the scramble"
    );
    let ticket = archived_ticket(&store).await.expect("archived");
    assert_eq!(ticket.client_identifier, "972521234567");
    assert_eq!(ticket.client_name.as_deref(), Some("Dana Cohen"));
    assert_eq!(ticket.protocol_type, "WhatsApp");
    assert_eq!(ticket.tags, vec!["Refund", "Billing"]);
    let transactions = testing::transactions_of(&store, TICKET).await;
    assert_eq!(transactions.len(), 5);
    assert_eq!(
        transactions[0].text,
        "שלום, I was charged twice for order A-1042 😕 אפשר לקבל החזר? You can also reach me at +972 52-123-4567"
    );
    assert!(ticket.closed_at.is_some() && ticket.scrambled_at.is_some());
    let client = store
        .get_client("972521234567")
        .await
        .expect("read")
        .expect("client");
    assert_eq!(client.tickets, vec![TICKET]);
}

#[tokio::test]
async fn a_ticket_with_400_transactions_is_archived_whole() {
    let stub = GlassixStub::start().await;
    let mut ticket = ticket_json();
    let template = ticket["transactions"][0].clone();
    ticket["transactions"] = (0..400)
        .map(|i| {
            let mut t = template.clone();
            t["id"] = (905_000_000 + i).into();
            t["text"] = format!("message {i} ✅").into();
            // Files are the worker's (tests in local-api); here the size is in transactions.
            t["attachments"] = serde_json::json!([]);
            t
        })
        .collect();
    LiveTicket::mount(&stub, ticket).await;
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    pipeline.work_off().await;

    assert_eq!(response.status(), 200);
    let archived = archived_ticket(&store).await.expect("archived");
    let transactions = testing::transactions_of(&store, archived.ticket_id).await;
    assert_eq!(transactions.len(), 400);
    assert_eq!(transactions[399].text, "message 399 ✅");
    assert_eq!(scrambles(&stub).await, 1);
}

#[tokio::test]
async fn an_unreachable_database_means_5xx_and_no_scramble() {
    let stub = GlassixStub::start().await;
    mount_get(&stub, ticket_json()).await;
    mount_scramble(&stub, ResponseTemplate::new(200)).await;
    let unreachable = testing::unreachable_store().await;
    let pipeline = ClosingPipeline::new(&stub, unreachable);

    // The queue is in the database too: the delivery is refused, and Glassix delivers it again.
    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;

    assert_eq!(response.status(), 503);
    assert_eq!(error_code(&response), "unavailable");
    assert_eq!(scrambles(&stub).await, 0);
}

#[tokio::test]
async fn a_failing_glassix_get_fails_the_job_and_nothing_is_scrambled() {
    let stub = GlassixStub::start().await;
    stub.answer(
        "GET",
        &format!("tickets/get/{TICKET}"),
        ResponseTemplate::new(500),
    )
    .await;
    mount_scramble(&stub, ResponseTemplate::new(200)).await;
    let store = testing::store().await;
    let mut pipeline = ClosingPipeline::new(&stub, store.clone());
    pipeline.job_time = Duration::from_millis(800);

    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let worked = pipeline.work_off().await;

    assert_eq!(response.status(), 200, "queued");
    assert_eq!((worked.handled, worked.failed), (1, 1));
    assert_eq!(pipeline.waiting().await.len(), 1, "kept for its retry");
    assert_eq!(scrambles(&stub).await, 0);
    assert!(testing::stored_tickets(&store).await.is_empty());
}

#[tokio::test]
async fn a_failed_scramble_fails_the_job_with_the_archive_kept_and_the_retry_scrambles() {
    let stub = GlassixStub::start().await;
    LiveTicket::mount(&stub, ticket_json()).await;
    stub.answer_first(
        1,
        "DELETE",
        &format!("tickets/scramble/{TICKET}"),
        ResponseTemplate::new(400).set_body_json(serde_json::json!({"Message": "busy"})),
    )
    .await;
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let failed = pipeline.work_off().await;

    assert_eq!(failed.failed, 1);
    let archived = archived_ticket(&store).await.expect("archive kept");
    assert_eq!(testing::transactions_of(&store, TICKET).await.len(), 5);
    assert_eq!(archived.scrambled_at, None);

    let retried = pipeline.retry_now().await;

    assert_eq!(
        retried.outcomes,
        vec![Outcome::Processed("archived and scrambled")]
    );
    assert!(pipeline.waiting().await.is_empty());
    assert_eq!(scrambles(&stub).await, 2);
    assert_eq!(testing::stored_tickets(&store).await.len(), 1);
    assert!(
        archived_ticket(&store)
            .await
            .expect("kept")
            .scrambled_at
            .is_some()
    );
}

#[tokio::test]
async fn a_scramble_whose_answer_is_lost_is_confirmed_with_the_ticket() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_json()).await;
    live.answer_scramble_with(409);
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let worked = pipeline.work_off().await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        worked.outcomes,
        vec![Outcome::Processed("archived and scrambled")]
    );
}

#[tokio::test]
async fn a_redelivery_after_the_scramble_leaves_the_archive_unchanged() {
    let stub = GlassixStub::start().await;
    LiveTicket::mount(&stub, ticket_json()).await;
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());
    assert_eq!(
        handle(&pipeline.webhook, signed_webhook(&closed_event()))
            .await
            .status(),
        200
    );
    pipeline.work_off().await;
    let before = testing::stored_tickets(&store).await;

    // Glassix's retry of the same delivery is acknowledged and never becomes a second job.
    let again = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    assert_eq!(again.status(), 200);
    assert_eq!(pipeline.work_off().await.handled, 0);
    // A later job of the ticket (another closing, the reconciliation) finds it done.
    pipeline
        .queue()
        .enqueue(&ArchiveJob { ticket_id: TICKET }, b"a later closing")
        .await
        .expect("queued");
    let later = pipeline.work_off().await;

    assert_eq!(later.outcomes[0].label(), "duplicate");
    assert_eq!(testing::stored_tickets(&store).await, before);
    assert_eq!(scrambles(&stub).await, 1);
}

#[tokio::test]
async fn a_ticket_scrambled_before_archiving_is_acknowledged_and_nothing_is_written() {
    let stub = GlassixStub::start().await;
    mount_get(&stub, scrambled(ticket_json())).await;
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let worked = pipeline.work_off().await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        worked.outcomes[0].reason(),
        "scrambled before it was archived"
    );
    assert!(testing::stored_tickets(&store).await.is_empty());
    assert_eq!(scrambles(&stub).await, 0);
}

#[tokio::test]
async fn a_reopened_ticket_is_not_archived_or_scrambled() {
    let stub = GlassixStub::start().await;
    let mut reopened = ticket_json();
    reopened["state"] = "Open".into();
    mount_get(&stub, reopened).await;
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());

    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let worked = pipeline.work_off().await;

    assert_eq!(response.status(), 200);
    assert_eq!(worked.outcomes[0].label(), "ignored");
    assert_eq!(scrambles(&stub).await, 0);
}

#[tokio::test]
async fn a_change_to_another_state_is_ignored_without_calling_glassix() {
    let stub = GlassixStub::bare().await;
    let pipeline = ClosingPipeline::new(&stub, testing::store().await);

    let response = handle(
        &pipeline.webhook,
        signed_webhook(&fixture("glassix/ticket-state-change-open-event.json")),
    )
    .await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        json_body(&response)["results"][0]["reason"],
        "state is not Closed"
    );
    assert!(pipeline.waiting().await.is_empty(), "nothing queued");
    assert!(stub.all_received().await.is_empty());
}

#[tokio::test]
async fn bad_deliveries_get_the_right_4xx_and_nothing_is_called_or_written() {
    let stub = GlassixStub::start().await;
    mount_get(&stub, ticket_json()).await;
    mount_scramble(&stub, ResponseTemplate::new(200)).await;
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());
    let body = closed_event();
    let mut tampered = body.clone();
    tampered[20] ^= 1;
    let six_megabytes = vec![b' '; 6 * 1024 * 1024];
    let cases = [
        ("unsigned", webhook(body.clone(), None), 401, "unauthorized"),
        (
            "wrong secret",
            webhook(
                body.clone(),
                Some(shared::glassix::inbound::sign("wrong", &body)),
            ),
            401,
            "unauthorized",
        ),
        (
            "tampered",
            webhook(
                tampered,
                Some(shared::glassix::inbound::sign("test-api-secret", &body)),
            ),
            401,
            "unauthorized",
        ),
        (
            "malformed JSON",
            signed_webhook(b"{\"key\": "),
            400,
            "bad_request",
        ),
        (
            "no changes",
            signed_webhook(b"{\"key\": \"k\", \"dateTime\": \"2024-03-10T09:02:12Z\"}"),
            400,
            "bad_request",
        ),
        ("empty body", signed_webhook(b""), 400, "bad_request"),
        (
            "replayed after Glassix's retry window",
            dated_webhook(
                &body,
                &(chrono::Utc::now() - chrono::TimeDelta::days(4)).to_rfc3339(),
                "x-glassix-auth-signature",
            ),
            401,
            "unauthorized",
        ),
        (
            "6 MB body",
            signed_webhook(&six_megabytes),
            413,
            "payload_too_large",
        ),
    ];

    for (name, request, status, code) in cases {
        let response = handle(&pipeline.webhook, request).await;
        assert_eq!(response.status(), status, "{name}");
        assert_eq!(error_code(&response), code, "{name}");
    }
    assert!(pipeline.waiting().await.is_empty(), "something was queued");

    assert!(stub.all_received().await.is_empty(), "Glassix was called");
    assert!(
        testing::stored_tickets(&store).await.is_empty(),
        "something was written"
    );
}

#[tokio::test]
async fn logs_name_ids_and_outcomes_but_no_personal_data() {
    let (logs, _guard) = CapturedLogs::start();
    let stub = GlassixStub::start().await;
    LiveTicket::mount(&stub, ticket_json()).await;
    let pipeline = ClosingPipeline::new(&stub, testing::store().await);

    let response = handle(&pipeline.webhook, signed_webhook(&closed_event())).await;
    let worked = pipeline.work_off().await;

    assert_eq!(response.status(), 200);
    assert_eq!(worked.outcomes.len(), 1, "the worker's logs are read too");
    let text = logs.text();
    assert!(
        text.contains("48213977") && text.contains("processed"),
        "ids and outcomes are logged:\n{text}"
    );
    for forbidden in [
        "Dana",
        "דנה",
        "972521234567",
        "charged twice",
        "noa.levi",
        "test-api-secret",
        "FAKE-SIGNATURE",
    ] {
        assert!(
            !text.contains(forbidden),
            "{forbidden} leaked into the logs:\n{text}"
        );
    }
}

#[tokio::test]
async fn fields_in_shapes_nobody_expected_never_refuse_the_delivery() {
    let stub = GlassixStub::start().await;
    LiveTicket::mount(&stub, ticket_json()).await;
    let store = testing::store().await;
    let pipeline = ClosingPipeline::new(&stub, store.clone());
    // A null key, a date nobody can parse, a change that is no object, one without `_event`,
    // and the closed ticket's id as a string.
    let body = serde_json::to_vec(&serde_json::json!({
        "key": null,
        "dateTime": "yesterday at noon",
        "changes": [
            "not a change",
            {"ticketId": 1},
            {"_event": "TICKET_STATE_CHANGE", "ticketId": "48213977", "ticketState": "Closed",
             "ticket": "not a snapshot"}
        ]
    }))
    .expect("json");

    let response = handle(&pipeline.webhook, signed_webhook(&body)).await;
    pipeline.work_off().await;

    assert_eq!(response.status(), 200, "{}", json_body(&response));
    assert_eq!(json_body(&response)["processed"], 1);
    assert_eq!(json_body(&response)["ignored"], 2);
    assert!(
        archived_ticket(&store)
            .await
            .expect("archived")
            .scrambled_at
            .is_some()
    );
}
