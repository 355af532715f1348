//! The fault matrix: each scenario through the real handlers against real servers (FerretDB,
//! moto, a wiremock Glassix, raw TCP servers for what wiremock cannot do), asserting on what a
//! caller gets, what the database holds and what Glassix received. The README's "Reliability"
//! table lists these scenarios and their results.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use shared::db::Store;
use shared::state::NewTicketState;
use shared::testing::faults::{host_of, slow_relay};
use shared::testing::glassix::{GlassixStub, LiveTicket};
use shared::testing::pipeline::ClosingPipeline;
use shared::testing::requests::{
    ApiRequest, api_state, error_code, new_ticket_state, signed_webhook,
};
use shared::testing::{self, fixture, servers};
use tokio::time::Instant;
use wiremock::ResponseTemplate;

const TICKET: i64 = 48213977;

fn new_ticket_event() -> Vec<u8> {
    fixture("glassix/new-ticket-event.json")
}

fn closed_event() -> Vec<u8> {
    fixture("glassix/ticket-state-change-closed-event.json")
}

fn ticket_json() -> serde_json::Value {
    serde_json::from_slice(&fixture("glassix/ticket.json")).expect("fixture")
}

/// A Glassix that would accept everything: tags, notes, the ticket, its scramble.
async fn glassix_accepting_everything() -> GlassixStub {
    let stub = GlassixStub::start().await;
    LiveTicket::mount(&stub, ticket_json()).await;
    stub.answer(
        "POST",
        &format!("tickets/addtags/{TICKET}"),
        ResponseTemplate::new(200).set_body_json(serde_json::json!([])),
    )
    .await;
    stub.answer(
        "POST",
        &format!("tickets/addnote/{TICKET}"),
        ResponseTemplate::new(200),
    )
    .await;
    stub
}

/// Glassix requests other than the token: what the service did there.
async fn glassix_calls(stub: &GlassixStub) -> Vec<String> {
    stub.all_received()
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .filter(|call| !call.ends_with("/token/get"))
        .collect()
}

fn scrambles(calls: &[String]) -> usize {
    calls.iter().filter(|c| c.starts_with("DELETE")).count()
}

fn posts(calls: &[String]) -> usize {
    calls.iter().filter(|c| c.starts_with("POST")).count()
}

async fn store_at(uri: &str) -> Store {
    Store::connect(uri, &testing::unique_database_name())
        .await
        .expect("the client is built lazily")
}

/// Both webhooks, each delivery (and each archive job) given `budget_ms`.
struct Webhooks {
    new_ticket: NewTicketState,
    closing: ClosingPipeline,
}

async fn webhooks_with_budget(stub: &GlassixStub, store: Store, budget_ms: u64) -> Webhooks {
    let budget = Duration::from_millis(budget_ms);
    let mut new_ticket = new_ticket_state(stub, store.clone()).await;
    new_ticket.budget = budget;
    let mut closing = ClosingPipeline::new(stub, store);
    closing.webhook.budget = budget;
    closing.job_time = budget;
    Webhooks {
        new_ticket,
        closing,
    }
}

impl Webhooks {
    async fn new_ticket(&self) -> lambda_http::Response<lambda_http::Body> {
        webhook_new_ticket::handle(&self.new_ticket, signed_webhook(&new_ticket_event())).await
    }

    async fn closed(&self) -> lambda_http::Response<lambda_http::Body> {
        webhook_ticket_state_change::handle(&self.closing.webhook, signed_webhook(&closed_event()))
            .await
    }
}

fn list_clients() -> lambda_http::Request {
    ApiRequest::new("GET", "/clients").build()
}

fn create_client() -> lambda_http::Request {
    ApiRequest::new("POST", "/clients")
        .json(serde_json::json!({"identifier": "fault@example.com", "name": "Fault"}))
        .build()
}

#[tokio::test]
async fn database_down_rest_answers_503_and_webhooks_ask_for_a_retry_without_acting() {
    // The local archive queue is in the database too: the closing cannot be queued.
    let stub = glassix_accepting_everything().await;
    let api = api_state(testing::unreachable_store().await);
    let state = webhooks_with_budget(&stub, testing::unreachable_store().await, 2000).await;

    let listed = shared::rest::serve(&api, list_clients(), list_clients::HANDLER).await;
    let new_ticket = state.new_ticket().await;
    let closed = state.closed().await;

    assert_eq!(listed.status(), 503);
    assert_eq!(error_code(&listed), "unavailable");
    assert_eq!(new_ticket.status(), 503);
    assert_eq!(closed.status(), 503);
    let calls = glassix_calls(&stub).await;
    assert_eq!(posts(&calls), 0, "{calls:?}");
    assert_eq!(scrambles(&calls), 0, "{calls:?}");
}

#[tokio::test]
async fn database_slower_than_the_budget_webhooks_answer_503_within_it_and_never_scramble() {
    let stub = glassix_accepting_everything().await;
    let relay = slow_relay(host_of(servers::mongodb_uri()), Duration::from_secs(3)).await;
    let state =
        webhooks_with_budget(&stub, store_at(&format!("mongodb://{relay}/")).await, 1500).await;

    let started = Instant::now();
    let new_ticket = state.new_ticket().await;
    let closed = state.closed().await;
    let elapsed = started.elapsed();

    assert_eq!(new_ticket.status(), 503);
    assert_eq!(closed.status(), 503);
    assert!(
        elapsed < Duration::from_millis(2 * 1500 + 800),
        "each answered within its budget: {elapsed:?}"
    );
    let calls = glassix_calls(&stub).await;
    assert_eq!(posts(&calls), 0, "{calls:?}");
    assert_eq!(scrambles(&calls), 0, "{calls:?}");
}

#[tokio::test]
async fn database_refusing_writes_nothing_is_claimed_and_nothing_is_scrambled() {
    let stub = glassix_accepting_everything().await;
    let read_only = store_at(servers::read_only_mongodb_uri()).await;
    let api = api_state(read_only.clone());
    let state = webhooks_with_budget(&stub, read_only, 3000).await;

    let listed = shared::rest::serve(&api, list_clients(), list_clients::HANDLER).await;
    let created = shared::rest::serve(&api, create_client(), create_client::HANDLER).await;
    let new_ticket = state.new_ticket().await;
    let closed = state.closed().await;

    // A refusal the driver does not mark as retryable is a 500 in the error shape; Glassix
    // retries any non-2xx delivery.
    assert_eq!(listed.status(), 200, "reads still answer");
    assert_eq!(created.status(), 500);
    assert_eq!(error_code(&created), "internal");
    assert_eq!(new_ticket.status(), 500);
    assert_eq!(closed.status(), 500);
    let calls = glassix_calls(&stub).await;
    assert_eq!(posts(&calls), 0, "no claim, no call: {calls:?}");
    assert_eq!(
        scrambles(&calls),
        0,
        "not archived, never scrambled: {calls:?}"
    );
}

/// Tags and notes accepted, with the token endpoint answering `token`.
async fn mount_token_and_actions(stub: &GlassixStub, token: ResponseTemplate) {
    stub.answer("POST", "token/get", token).await;
    for action in ["addtags", "addnote"] {
        stub.answer(
            "POST",
            &format!("tickets/{action}/{TICKET}"),
            ResponseTemplate::new(200).set_body_json(serde_json::json!([])),
        )
        .await;
    }
}

#[tokio::test]
async fn glassix_token_endpoint_failing_nothing_is_sent_and_the_next_delivery_completes() {
    let stub = GlassixStub::bare().await;
    mount_token_and_actions(&stub, ResponseTemplate::new(500)).await;
    LiveTicket::mount(&stub, ticket_json()).await;
    let store = testing::store().await;
    let state = webhooks_with_budget(&stub, store.clone(), 800).await;

    let new_ticket = state.new_ticket().await;
    let closed = state.closed().await;
    let worked = state.closing.work_off().await;

    assert_eq!(new_ticket.status(), 503);
    assert_eq!(closed.status(), 200, "queued");
    assert_eq!(worked.failed, 1, "the job fails and is kept for its retry");
    assert!(glassix_calls(&stub).await.is_empty());
    assert!(store.get_ticket(TICKET).await.expect("read").is_none());

    // Recovered. Nothing was sent, so the claims were given back (not left uncertain): the
    // next delivery acts at once, without reading the ticket first.
    stub.server.reset().await;
    mount_token_and_actions(
        &stub,
        shared::testing::glassix::json_fixture("glassix/token-response.json"),
    )
    .await;
    let retried = state.new_ticket().await;

    assert_eq!(retried.status(), 200);
    let calls = glassix_calls(&stub).await;
    assert_eq!(posts(&calls), 2, "one tag call, one note: {calls:?}");
    assert_eq!(calls.len(), 2, "no GET of the ticket: {calls:?}");
}

#[tokio::test]
async fn a_stale_token_refused_with_401_is_renewed_once_and_the_note_is_added() {
    let stub = glassix_accepting_everything().await;
    stub.answer_first(
        1,
        "POST",
        &format!("tickets/addnote/{TICKET}"),
        ResponseTemplate::new(401),
    )
    .await;
    let state = webhooks_with_budget(&stub, testing::store().await, 4500).await;

    let response = state.new_ticket().await;

    assert_eq!(response.status(), 200);
    assert_eq!(stub.received("POST", "token/get").await.len(), 2);
    // The 401 was refused before Glassix acted: sending the note again adds it once.
    assert_eq!(
        stub.received("POST", &format!("tickets/addnote/{TICKET}"))
            .await
            .len(),
        2
    );
}

#[tokio::test]
async fn glassix_answering_500_then_200_the_closed_ticket_is_archived_and_scrambled() {
    let stub = glassix_accepting_everything().await;
    stub.answer_first(
        1,
        "GET",
        &format!("tickets/get/{TICKET}"),
        ResponseTemplate::new(500),
    )
    .await;
    let store = testing::store().await;
    let state = webhooks_with_budget(&stub, store.clone(), 4500).await;

    let response = state.closed().await;
    let worked = state.closing.work_off().await;

    assert_eq!(response.status(), 200);
    assert_eq!((worked.handled, worked.failed), (1, 0));
    let stored = store
        .get_ticket(TICKET)
        .await
        .expect("read")
        .expect("archived");
    assert!(stored.scrambled_at.is_some());
    assert_eq!(testing::transactions_of(&store, TICKET).await.len(), 5);
}

#[tokio::test]
async fn glassix_too_slow_for_the_budget_the_closed_ticket_is_neither_archived_nor_scrambled() {
    let stub = GlassixStub::start().await;
    let live = LiveTicket::mount(&stub, ticket_json()).await;
    live.delay_gets(Duration::from_secs(3));
    let store = testing::store().await;
    let state = webhooks_with_budget(&stub, store.clone(), 1000).await;

    let response = state.closed().await;
    let started = Instant::now();
    let worked = state.closing.work_off().await;

    assert_eq!(response.status(), 200, "queued");
    assert_eq!(worked.failed, 1);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(state.closing.waiting().await.len(), 1, "kept for its retry");
    assert!(store.get_ticket(TICKET).await.expect("read").is_none());
    assert_eq!(scrambles(&glassix_calls(&stub).await), 0);
}

#[tokio::test]
async fn glassix_answering_malformed_json_nothing_is_archived_or_scrambled() {
    let stub = GlassixStub::start().await;
    stub.answer(
        "GET",
        &format!("tickets/get/{TICKET}"),
        ResponseTemplate::new(200).set_body_raw(
            r#"{"id": 48213977, "transactions": [{"id": 1, "#,
            "application/json",
        ),
    )
    .await;
    let store = testing::store().await;
    let state = webhooks_with_budget(&stub, store.clone(), 4500).await;

    let response = state.closed().await;
    let worked = state.closing.work_off().await;

    assert_eq!(response.status(), 200, "queued");
    assert_eq!(worked.failed, 1);
    assert!(store.get_ticket(TICKET).await.expect("read").is_none());
    assert_eq!(scrambles(&glassix_calls(&stub).await), 0);
}

/// A Glassix on a raw socket: a token, an empty tag list, and for the note a connection
/// closed once the request is read (sent, never answered). Counts the note requests.
async fn glassix_resetting_notes() -> (url::Url, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let notes = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let address = listener.local_addr().expect("address");
    let counted = notes.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut request = vec![0_u8; 16 * 1024];
                let read = socket.read(&mut request).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&request[..read]).to_string();
                let body: &[u8] = if head.contains("/token/get") {
                    br#"{"access_token":"t","token_type":"bearer","expires_in":10800}"#
                } else if head.contains("/addtags/") {
                    b"[]"
                } else {
                    counted.fetch_add(1, Ordering::SeqCst);
                    return; // dropped: the connection is closed without an answer
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.write_all(body).await;
            });
        }
    });
    let base = url::Url::parse(&format!("http://{address}/api/v1.2/")).expect("URL");
    (base, notes)
}

#[tokio::test]
async fn a_connection_cut_after_the_note_was_sent_is_not_repeated_and_is_left_uncertain() {
    let stub = GlassixStub::bare().await;
    let (base, notes) = glassix_resetting_notes().await;
    let mut settings = stub.settings();
    settings.base_url = base;
    let store = testing::store().await;
    let mut state = new_ticket_state(&stub, store.clone()).await;
    state.glassix = shared::glassix::GlassixClient::new(settings).expect("client");

    let response = webhook_new_ticket::handle(&state, signed_webhook(&new_ticket_event())).await;

    assert_eq!(response.status(), 503);
    assert_eq!(notes.load(Ordering::SeqCst), 1, "sent once, never again");
    let entry = store
        .database()
        .collection::<shared::db::bson::Document>(shared::db::documents::WEBHOOK_ACTIONS)
        .find_one(shared::db::bson::doc! {"_id": format!("{TICKET}:note")})
        .await
        .expect("find")
        .expect("the claim is kept");
    assert_eq!(entry.get_str("state"), Ok("uncertain"));
}
