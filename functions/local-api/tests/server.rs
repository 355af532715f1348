//! The local API over real HTTP, on a free port, with the handlers and a real database.

mod common;

use local_api::handlers::States;
use shared::testing::requests::{TEST_API_TOKEN, api_state_with_files};
use shared::testing::{self};

async fn start() -> String {
    common::serve_on_loopback(States::new(
        api_state_with_files(testing::store().await),
        None,
    ))
    .await
}

#[tokio::test]
async fn routes_answer_over_http_like_api_gateway() {
    let base = start().await;
    let http = shared::testing::http_client();
    let token = format!("Bearer {TEST_API_TOKEN}");

    let created = http
        .post(format!("{base}/clients"))
        .header("authorization", &token)
        .json(&serde_json::json!({"identifier": "dana+vip@example.com", "name": "דנה כהן"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["content-type"], "application/json");

    let fetched = http
        .get(format!("{base}/clients/dana%2Bvip%40example.com"))
        .header("authorization", &token)
        .send()
        .await
        .expect("GET");
    assert_eq!(fetched.status(), 200);
    let body: serde_json::Value = fetched.json().await.expect("json");
    assert_eq!(body["name"], "דנה כהן");

    let page: serde_json::Value = http
        .get(format!("{base}/clients?limit=1"))
        .header("authorization", &token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["next"], serde_json::Value::Null);

    let anonymous = http
        .get(format!("{base}/clients"))
        .send()
        .await
        .expect("GET");
    assert_eq!(anonymous.status(), 401);
    let unknown = http
        .get(format!("{base}/nothing-here"))
        .header("authorization", &token)
        .send()
        .await
        .expect("GET");
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn webhooks_without_glassix_settings_answer_503() {
    let base = start().await;
    let response = shared::testing::http_client()
        .post(format!("{base}/webhooks/glassix/new-ticket"))
        .body("{}")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn path_parameters_are_decoded_exactly_once_like_api_gateway() {
    use shared::db::TicketContent;
    use shared::db::bson::DateTime;
    let store = testing::store().await;
    // Identifiers as the archive may write them (it does not apply the REST rules).
    let identifiers = [
        "a%41@x.com",
        "aA@x.com",
        "dana+vip@example.com",
        "דנה כהן@example.com",
        "a/b",
    ];
    for (n, identifier) in identifiers.iter().enumerate() {
        store
            .archive_ticket(&TicketContent {
                ticket_id: 900 + n as i64,
                client_identifier: (*identifier).into(),
                client_name: None,
                ticket_opening_date: DateTime::from_millis(1_710_058_542_370),
                protocol_type: "WhatsApp".into(),
                closed_at: None,
                tags: Vec::new(),
                transactions: Vec::new(),
            })
            .await
            .expect("archived");
    }
    let api = shared::testing::requests::api_state_accepting(store.clone(), TEST_API_TOKEN)
        .with_files(testing::local_files());
    let base = common::serve_on_loopback(States::new(api, None)).await;
    let http = shared::testing::http_client();
    let token = format!("Bearer {TEST_API_TOKEN}");
    let encoded = |identifier: &str| {
        percent_encoding::utf8_percent_encode(identifier, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
    };

    for identifier in identifiers {
        let response = http
            .get(format!("{base}/clients/{}", encoded(identifier)))
            .header("authorization", &token)
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "{identifier}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["identifier"], identifier);
    }

    let deleted = http
        .delete(format!("{base}/clients/a%2541%40x.com"))
        .header("authorization", &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(deleted.status(), 204);
    assert_eq!(store.get_client("a%41@x.com").await.expect("read"), None);
    assert!(
        store.get_client("aA@x.com").await.expect("read").is_some(),
        "a different client is untouched"
    );
}

#[tokio::test]
async fn a_caller_that_hangs_up_does_not_stop_the_handler_half_way() {
    use tokio::io::AsyncWriteExt;
    let stub = shared::testing::glassix::GlassixStub::start().await;
    for action in ["addtags", "addnote"] {
        stub.answer(
            "POST",
            &format!("tickets/{action}/48213977"),
            wiremock::ResponseTemplate::new(200)
                .set_body_json(serde_json::json!([]))
                .set_delay(std::time::Duration::from_millis(300)),
        )
        .await;
    }
    let store = testing::store().await;
    let base = common::serve_on_loopback(States::new(
        api_state_with_files(store.clone()),
        Some(local_api::handlers::Webhooks {
            new_ticket: shared::testing::requests::new_ticket_state(&stub, store.clone()).await,
            closing: shared::testing::requests::closing_state(&stub, store.clone())
                .map_queue(local_api::AnyQueue::Database),
        }),
    ))
    .await;
    let address = base.trim_start_matches("http://").to_owned();
    let body = testing::fixture("glassix/new-ticket-event.json");
    let signature =
        shared::glassix::inbound::sign(shared::testing::glassix::TEST_API_SECRET, &body);

    // The delivery is sent, and the connection closed before any answer can come.
    let mut socket = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = format!(
        "POST /webhooks/glassix/new-ticket HTTP/1.1\r\nhost: local\r\ncontent-type: application/json\r\nx-hub-signature: {signature}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await.expect("head");
    socket.write_all(&body).await.expect("body");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    drop(socket);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    // The handler finished: the note was added and recorded as done.
    assert_eq!(
        stub.received("POST", "tickets/addnote/48213977")
            .await
            .len(),
        1
    );
    let entry = store
        .database()
        .collection::<shared::db::bson::Document>(shared::db::documents::WEBHOOK_ACTIONS)
        .find_one(shared::db::bson::doc! {"_id": "48213977:note"})
        .await
        .expect("find")
        .expect("the ledger entry");
    assert_eq!(entry.get_str("state"), Ok("done"));
}
