use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state_with_files, assert_requires_token, json_body, seed_client, seed_ticket,
};
use shared::testing::{self};

async fn seeded() -> shared::state::ApiState<shared::files::FileStore> {
    let state = api_state_with_files(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    seed_ticket(&state.store, "972521234567", 42).await;
    state
}

fn patch(ticket_id: &str, body: serde_json::Value) -> lambda_http::Request {
    ApiRequest::new("PATCH", "/tickets/x")
        .path("ticketId", ticket_id)
        .json(body)
        .build()
}

#[tokio::test]
async fn named_fields_change_and_the_rest_stays() {
    let state = seeded().await;

    let response = serve(
        &state,
        patch("42", serde_json::json!({"tags": ["vip", "refund"], "closedAt": "2024-03-10T09:02:11.903Z", "clientName": null})), update_ticket::HANDLER)
    .await;

    assert_eq!(response.status(), 200, "{}", json_body(&response));
    let ticket = json_body(&response);
    assert_eq!(ticket["tags"], serde_json::json!(["vip", "refund"]));
    assert_eq!(ticket["closedAt"], "2024-03-10T09:02:11.903Z");
    assert_eq!(ticket["clientName"], serde_json::Value::Null);
    assert_eq!(ticket["protocolType"], "WhatsApp");
    assert_eq!(ticket["transactions"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn invalid_patches_change_nothing() {
    let state = seeded().await;
    for (name, body, status) in [
        (
            "ticket id is not writable",
            serde_json::json!({"ticketId": 43}),
            400,
        ),
        (
            "client is not writable",
            serde_json::json!({"clientIdentifier": "x"}),
            400,
        ),
        ("wrong type", serde_json::json!({"tags": "vip"}), 400),
        (
            "null for a required field",
            serde_json::json!({"protocolType": null}),
            422,
        ),
        (
            "operator-looking protocol",
            serde_json::json!({"protocolType": "$set"}),
            422,
        ),
    ] {
        let response = serve(&state, patch("42", body), update_ticket::HANDLER).await;
        assert_eq!(
            response.status(),
            status,
            "{name}: {}",
            json_body(&response)
        );
    }
    let ticket = state
        .store
        .get_ticket(42)
        .await
        .expect("read")
        .expect("ticket");
    assert_eq!(ticket.tags, vec!["Refund"]);
    assert_eq!(ticket.protocol_type, "WhatsApp");
}

#[tokio::test]
async fn an_unknown_ticket_is_404() {
    let state = seeded().await;
    assert_eq!(
        serve(
            &state,
            patch("7", serde_json::json!({"tags": []})),
            update_ticket::HANDLER
        )
        .await
        .status(),
        404
    );
}

#[tokio::test]
async fn a_token_is_required() {
    let state = seeded().await;
    assert_requires_token(
        |r| serve(&state, r, update_ticket::HANDLER),
        "PATCH",
        "/tickets/42",
    )
    .await;
}
