use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body, seed_client, seed_ticket,
};
use shared::testing::{self};

/// The route as every caller reaches it: through `shared::rest::serve`, token check first.
async fn handle(
    state: &shared::state::ApiState,
    request: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    shared::rest::serve(state, request, get_ticket::HANDLER).await
}

fn get(ticket_id: &str) -> lambda_http::Request {
    ApiRequest::new("GET", "/tickets/x")
        .path("ticketId", ticket_id)
        .build()
}

#[tokio::test]
async fn a_ticket_is_returned_with_its_transactions() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    seed_ticket(&state.store, "972521234567", 42).await;

    let response = handle(&state, get("42")).await;

    assert_eq!(response.status(), 200);
    let ticket = json_body(&response);
    assert_eq!(ticket["ticketId"], 42);
    assert_eq!(
        ticket["transactions"][0]["dateTime"],
        "2024-03-10T08:15:42.487Z"
    );
    assert_eq!(ticket["transactions"][0]["type"], "Message");
    assert_eq!(ticket["closedAt"], serde_json::Value::Null);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404_and_400() {
    let state = api_state(testing::store().await);
    assert_eq!(handle(&state, get("999")).await.status(), 404);
    for id in ["abc", "1.5", "", "99999999999999999999"] {
        let response = handle(&state, get(id)).await;
        assert_eq!(response.status(), 400, "{id:?}");
        assert_eq!(error_code(&response), "bad_request");
    }
    assert_eq!(handle(&state, get("0")).await.status(), 422);
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    assert_requires_token(|r| handle(&state, r), "GET", "/tickets/42").await;
}
