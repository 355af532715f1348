use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body, seed_client, ticket_body,
};
use shared::testing::{self};

fn post(identifier: &str, body: serde_json::Value) -> lambda_http::Request {
    ApiRequest::new("POST", "/clients/x/tickets")
        .path("identifier", identifier)
        .json(body)
        .build()
}

#[tokio::test]
async fn a_ticket_is_created_for_an_existing_client_and_listed_on_it() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "dana+vip@example.com", None).await;

    let response = serve(
        &state,
        post("dana+vip@example.com", ticket_body(48213977)),
        create_ticket::HANDLER,
    )
    .await;

    assert_eq!(response.status(), 201, "{}", json_body(&response));
    let body = json_body(&response);
    assert_eq!(body["ticketId"], 48213977);
    assert_eq!(body["clientIdentifier"], "dana+vip@example.com");
    assert_eq!(body["clientName"], "דנה כהן");
    assert_eq!(body["ticketOpeningDate"], "2024-03-10T08:15:42.370Z");
    assert_eq!(body["transactions"][0]["text"], "שלום 😕");
    assert_eq!(
        body["transactions"][0]["attachments"][0]["originalFileName"],
        "קבלה.jpg"
    );
    let client = state
        .store
        .get_client("dana+vip@example.com")
        .await
        .expect("read")
        .expect("client");
    assert_eq!(client.tickets, vec![48213977]);
}

#[tokio::test]
async fn a_ticket_for_an_unknown_client_is_404_and_not_written() {
    let state = api_state(testing::store().await);

    let response = serve(
        &state,
        post("nobody@example.com", ticket_body(5)),
        create_ticket::HANDLER,
    )
    .await;

    assert_eq!(response.status(), 404);
    assert_eq!(error_code(&response), "not_found");
    assert_eq!(state.store.get_ticket(5).await.expect("read"), None);
}

#[tokio::test]
async fn a_taken_ticket_id_is_409() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    serve(
        &state,
        post("972521234567", ticket_body(6)),
        create_ticket::HANDLER,
    )
    .await;

    let response = serve(
        &state,
        post("972521234567", ticket_body(6)),
        create_ticket::HANDLER,
    )
    .await;

    assert_eq!(response.status(), 409);
    assert_eq!(error_code(&response), "conflict");
}

#[tokio::test]
async fn invalid_tickets_are_refused_and_nothing_is_written() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    let with = |key: &str, value: serde_json::Value| {
        let mut body = ticket_body(9);
        body[key] = value;
        body
    };
    let cases = [
        ("ticket id as text", with("ticketId", "nine".into()), 400),
        (
            "date not RFC 3339",
            with("ticketOpeningDate", "10/03/2024".into()),
            400,
        ),
        ("unknown field", with("isScrambled", true.into()), 400),
        (
            "transaction as an array",
            with(
                "transactions",
                serde_json::json!([[1, "2024-03-10T08:15:42Z", "Message"]]),
            ),
            400,
        ),
        (
            "attachment as an array",
            with(
                "transactions",
                serde_json::json!([{"id": 1, "dateTime": "2024-03-10T08:15:42Z", "type": "Message", "attachments": [[null, null]]}]),
            ),
            400,
        ),
        (
            "operator in a transaction",
            with("transactions", serde_json::json!([{"$where": "1"}])),
            400,
        ),
        ("negative ticket id", with("ticketId", (-9).into()), 422),
        ("empty protocol", with("protocolType", "".into()), 422),
        (
            "operator-looking tag",
            with("tags", serde_json::json!(["$ne"])),
            422,
        ),
        (
            "name too long",
            with("clientName", "n".repeat(201).into()),
            422,
        ),
    ];

    for (name, body, status) in cases {
        let response = serve(&state, post("972521234567", body), create_ticket::HANDLER).await;
        assert_eq!(
            response.status(),
            status,
            "{name}: {}",
            json_body(&response)
        );
    }

    assert_eq!(state.store.get_ticket(9).await.expect("read"), None);
    assert!(
        state
            .store
            .get_client("972521234567")
            .await
            .expect("read")
            .expect("client")
            .tickets
            .is_empty()
    );
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    assert_requires_token(
        |r| serve(&state, r, create_ticket::HANDLER),
        "POST",
        "/clients/972521234567/tickets",
    )
    .await;
}
