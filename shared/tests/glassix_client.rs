//! The Glassix client against a wiremock Glassix speaking the documented shapes.

use std::sync::Arc;
use std::time::Duration;

use shared::glassix::{GlassixError, RetryPolicy};
use shared::testing::glassix::{BASE_PATH, GlassixStub, json_fixture};
use shared::testing::{CapturedLogs, fixture};
use tokio::time::Instant;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, ResponseTemplate};

fn deadline_in(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

fn token_with_lifetime(seconds: u64, token: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "access_token": token, "token_type": "bearer", "expires_in": seconds
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_calls_share_one_token_request() {
    let stub = GlassixStub::start().await;
    stub.answer(
        "GET",
        "tickets/get/48213977",
        json_fixture("glassix/ticket.json"),
    )
    .await;
    let client = Arc::new(stub.client());

    let calls: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_ticket(48213977, deadline_in(5000)).await })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("ticket");
    }

    assert_eq!(stub.received("POST", "token/get").await.len(), 1);
    assert_eq!(stub.received("GET", "tickets/get/48213977").await.len(), 50);
}

#[tokio::test]
async fn an_expired_token_is_renewed() {
    let stub = GlassixStub::bare().await;
    stub.answer("POST", "token/get", token_with_lifetime(1, "short-lived"))
        .await;
    stub.answer(
        "GET",
        "tickets/get/48213977",
        json_fixture("glassix/ticket.json"),
    )
    .await;
    let client = stub.client();

    client
        .get_ticket(48213977, deadline_in(2000))
        .await
        .expect("first");
    client
        .get_ticket(48213977, deadline_in(2000))
        .await
        .expect("still cached");
    assert_eq!(stub.received("POST", "token/get").await.len(), 1);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    client
        .get_ticket(48213977, deadline_in(2000))
        .await
        .expect("after expiry");

    assert_eq!(stub.received("POST", "token/get").await.len(), 2);
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_retries_once() {
    let stub = GlassixStub::bare().await;
    stub.answer_first(
        1,
        "POST",
        "token/get",
        token_with_lifetime(10800, "stale-token"),
    )
    .await;
    stub.answer(
        "POST",
        "token/get",
        token_with_lifetime(10800, "fresh-token"),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE_PATH}/tickets/get/48213977")))
        .and(header("authorization", "Bearer stale-token"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&stub.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{BASE_PATH}/tickets/get/48213977")))
        .and(header("authorization", "Bearer fresh-token"))
        .respond_with(json_fixture("glassix/ticket.json"))
        .mount(&stub.server)
        .await;

    let ticket = stub
        .client()
        .get_ticket(48213977, deadline_in(3000))
        .await
        .expect("retried");

    assert_eq!(ticket.id, 48213977);
    assert_eq!(stub.received("POST", "token/get").await.len(), 2);
    assert_eq!(stub.received("GET", "tickets/get/48213977").await.len(), 2);
}

#[tokio::test]
async fn a_second_401_is_an_error_not_a_loop() {
    let stub = GlassixStub::start().await;
    stub.answer("GET", "tickets/get/1", ResponseTemplate::new(401))
        .await;

    let result = stub.client().get_ticket(1, deadline_in(3000)).await;

    assert!(
        matches!(result, Err(GlassixError::Unauthorized)),
        "{result:?}"
    );
    assert_eq!(stub.received("GET", "tickets/get/1").await.len(), 2);
    assert_eq!(stub.received("POST", "token/get").await.len(), 2);
}

#[tokio::test]
async fn two_503s_then_a_200_succeed_within_the_deadline() {
    let stub = GlassixStub::start().await;
    stub.answer_first(2, "GET", "tickets/get/48213977", ResponseTemplate::new(503))
        .await;
    stub.answer(
        "GET",
        "tickets/get/48213977",
        json_fixture("glassix/ticket.json"),
    )
    .await;
    let started = Instant::now();

    let ticket = stub
        .client()
        .get_ticket(48213977, deadline_in(2000))
        .await
        .expect("third try");

    assert_eq!(ticket.transactions().len(), 5);
    assert_eq!(stub.received("GET", "tickets/get/48213977").await.len(), 3);
    assert!(started.elapsed() < Duration::from_millis(2000));
}

#[tokio::test]
async fn a_503_forever_fails_before_the_deadline() {
    let stub = GlassixStub::start().await;
    stub.answer("GET", "tickets/get/7", ResponseTemplate::new(503))
        .await;
    let deadline = deadline_in(1500);

    let result = stub.client().get_ticket(7, deadline).await;

    let finished = Instant::now();
    assert!(
        matches!(&result, Err(GlassixError::DeadlineExceeded { last }) if last == "503"),
        "{result:?}"
    );
    assert!(
        finished <= deadline,
        "returned {:?} after the deadline",
        finished - deadline
    );
    assert!(
        stub.received("GET", "tickets/get/7").await.len() >= 3,
        "it did retry"
    );
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let stub = GlassixStub::start().await;
    stub.answer_first(
        1,
        "GET",
        "tickets/get/48213977",
        ResponseTemplate::new(429).insert_header("Retry-After", "1"),
    )
    .await;
    stub.answer(
        "GET",
        "tickets/get/48213977",
        json_fixture("glassix/ticket.json"),
    )
    .await;
    let client = stub.client().with_retry_policy(RetryPolicy {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(1),
    });
    let started = Instant::now();

    client
        .get_ticket(48213977, deadline_in(3000))
        .await
        .expect("after waiting");

    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_deadline_fails_at_once() {
    let stub = GlassixStub::start().await;
    stub.answer(
        "GET",
        "tickets/get/9",
        ResponseTemplate::new(429).insert_header("Retry-After", "30"),
    )
    .await;
    let started = Instant::now();

    let result = stub.client().get_ticket(9, deadline_in(2000)).await;

    assert!(
        matches!(result, Err(GlassixError::DeadlineExceeded { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[tokio::test]
async fn a_404_is_not_found_without_retry() {
    let stub = GlassixStub::start().await;
    stub.answer("GET", "tickets/get/404", ResponseTemplate::new(404))
        .await;

    let result = stub.client().get_ticket(404, deadline_in(3000)).await;

    assert!(matches!(result, Err(GlassixError::NotFound)), "{result:?}");
    assert_eq!(stub.received("GET", "tickets/get/404").await.len(), 1);
}

#[tokio::test]
async fn another_4xx_carries_status_and_message_without_retry() {
    let stub = GlassixStub::start().await;
    stub.answer(
        "POST",
        "tickets/addtags/5",
        ResponseTemplate::new(400)
            .set_body_json(serde_json::json!({"Message": "Tag does not exist"})),
    )
    .await;

    let result = stub
        .client()
        .add_tags(5, &["nope".into()], deadline_in(3000))
        .await;

    match result {
        Err(GlassixError::Status { status, message }) => {
            assert_eq!(status, 400);
            assert_eq!(message.as_deref(), Some("Tag does not exist"));
        }
        other => panic!("expected a status error, got {other:?}"),
    }
    assert_eq!(stub.received("POST", "tickets/addtags/5").await.len(), 1);
}

#[tokio::test]
async fn requests_have_the_shapes_glassix_expects() {
    let stub = GlassixStub::start().await;
    let token = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ3b3Jrc3BhY2UiOiJhY21lLXN1cHBvcnQiLCJ1c2VyIjoiYXBpLWJvdEBleGFtcGxlLmNvbSJ9.FAKE-SIGNATURE-FOR-TESTS-ONLY";
    Mock::given(method("POST"))
        .and(path(format!("{BASE_PATH}/tickets/addtags/11")))
        .and(header("authorization", token))
        .and(body_json(serde_json::json!(["new-client", "archived"])))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!(["new-client", "archived"])),
        )
        .expect(1)
        .mount(&stub.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{BASE_PATH}/tickets/addnote/11")))
        .and(header("authorization", token))
        .and(body_json(serde_json::json!({"text": "New client"})))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&stub.server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{BASE_PATH}/tickets/scramble/11")))
        .and(header("authorization", token))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&stub.server)
        .await;
    let client = stub.client();

    let tags = client
        .add_tags(
            11,
            &["new-client".into(), "archived".into()],
            deadline_in(3000),
        )
        .await
        .expect("tags");
    client
        .add_note(11, "New client", deadline_in(3000))
        .await
        .expect("note");
    client
        .scramble(11, deadline_in(3000))
        .await
        .expect("scramble");

    assert_eq!(tags, vec!["new-client", "archived"]);
    let token_request = &stub.received("POST", "token/get").await[0];
    let sent: serde_json::Value = serde_json::from_slice(&token_request.body).expect("json");
    assert_eq!(
        sent,
        serde_json::json!({
            "apiKey": "0f9c7c1e-1111-2222-3333-444455556666",
            "apiSecret": "test-api-secret",
            "userName": "api-bot@example.com"
        })
    );
    // `expect(1)` on each mock is verified when the stub drops.
}

#[tokio::test]
async fn a_scrambled_ticket_is_reported_as_scrambled() {
    let stub = GlassixStub::start().await;
    let mut ticket: serde_json::Value =
        serde_json::from_slice(&fixture("glassix/ticket.json")).expect("json");
    ticket["isScrambled"] = true.into();
    stub.answer(
        "GET",
        "tickets/get/48213977",
        ResponseTemplate::new(200).set_body_json(ticket),
    )
    .await;

    assert!(
        stub.client()
            .is_scrambled(48213977, deadline_in(3000))
            .await
            .expect("answer")
    );
}

#[tokio::test]
async fn logs_never_show_secrets_tokens_or_message_text() {
    let (logs, _guard) = CapturedLogs::start();
    let stub = GlassixStub::start().await;
    stub.answer(
        "GET",
        "tickets/get/48213977",
        json_fixture("glassix/ticket.json"),
    )
    .await;
    stub.answer(
        "POST",
        "tickets/addnote/48213977",
        ResponseTemplate::new(503),
    )
    .await;
    let client = stub.client();

    client
        .get_ticket(48213977, deadline_in(3000))
        .await
        .expect("ticket");
    let _ = client
        .add_note(
            48213977,
            "Returning client Dana 972521234567",
            deadline_in(400),
        )
        .await;

    let text = logs.text();
    assert!(text.contains("Glassix"), "something was logged: {text}");
    for forbidden in [
        "test-api-secret",
        "FAKE-SIGNATURE-FOR-TESTS-ONLY",
        "0f9c7c1e-1111-2222-3333-444455556666",
        "Dana",
        "972521234567",
        "charged twice",
        "api-bot@example.com",
    ] {
        assert!(
            !text.contains(forbidden),
            "{forbidden} leaked into the logs:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_next_page_on_another_host_is_refused_and_gets_no_token() {
    let stub = GlassixStub::start().await;
    let elsewhere = wiremock::MockServer::start().await;
    let client = stub.client();
    let deadline = Instant::now() + Duration::from_secs(5);

    let next = shared::glassix::ListPage::Next(format!(
        "{}/api/v1.2/tickets/list?page=x",
        elsewhere.uri()
    ));
    let result = client.list_closed_tickets(&next, deadline).await;

    assert!(matches!(result, Err(GlassixError::Decode(_))), "{result:?}");
    assert!(
        elsewhere
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn an_answer_announced_larger_than_the_limit_is_refused_unread_and_not_retried() {
    let stub = GlassixStub::start().await;
    stub.answer(
        "GET",
        "tickets/get/48213977",
        json_fixture("glassix/ticket.json"),
    )
    .await;
    let client = stub.client().with_answer_limit(1024);

    let result = client.get_ticket(48213977, deadline_in(3000)).await;

    assert!(
        matches!(result, Err(GlassixError::TooLarge { limit: 1024 })),
        "{result:?}"
    );
    assert_eq!(stub.received("GET", "tickets/get/48213977").await.len(), 1);
}

/// A server that gives a token, then answers every other request with a chunked body that
/// never ends (no Content-Length to refuse it by). Returns the API base URL.
async fn endless_answer_server() -> url::Url {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0_u8; 8192];
                let read = socket.read(&mut request).await.unwrap_or(0);
                if String::from_utf8_lossy(&request[..read]).contains("token/get") {
                    let token = br#"{"access_token":"t","token_type":"bearer","expires_in":10800}"#;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        token.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(token).await;
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                let _ = socket.write_all(head.as_bytes()).await;
                let chunk = format!("400\r\n{}\r\n", " ".repeat(0x400));
                while socket.write_all(chunk.as_bytes()).await.is_ok() {}
            });
        }
    });
    url::Url::parse(&format!("http://{address}/api/v1.2/")).expect("URL")
}

#[tokio::test]
async fn an_answer_that_streams_past_the_limit_is_cut_off() {
    let stub = GlassixStub::bare().await;
    let mut settings = stub.settings();
    settings.base_url = endless_answer_server().await;
    let client = shared::glassix::GlassixClient::new(settings)
        .expect("client")
        .with_answer_limit(64 * 1024);

    let result = client.get_ticket(48213977, deadline_in(1000)).await;

    assert!(
        matches!(result, Err(GlassixError::TooLarge { limit: 65536 })),
        "{result:?}"
    );
}
