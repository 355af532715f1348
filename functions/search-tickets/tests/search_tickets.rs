//! The function's own handler, as Lambda calls it: the query read from API Gateway's
//! parameters, the answer's shape, and a token required.

use shared::rest::serve;
use shared::testing;
use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body, seed_client, seed_ticket,
};

#[tokio::test]
async fn a_search_through_the_handler_finds_the_seeded_ticket_with_its_quote() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972541112233", Some("דנה כהן")).await;
    seed_ticket(&state.store, "972541112233", 4242).await;

    let found = serve(
        &state,
        ApiRequest::new("GET", "/tickets")
            .query("q", "שָׁלוֹם +972 54-111-2233")
            .query("channel", "WhatsApp")
            .build(),
        search_tickets::HANDLER,
    )
    .await;
    assert_eq!(found.status(), 200);
    let page = json_body(&found);
    assert_eq!(page["next"], serde_json::Value::Null);
    assert_eq!(page["items"][0]["ticketId"], 4242);
    assert_eq!(page["items"][0]["matches"][0]["snippet"], "שלום 😕");
    assert_eq!(
        page["items"][0]["matches"][0]["highlights"],
        serde_json::json!([{"start": 0, "length": 4}])
    );

    let other_channel = serve(
        &state,
        ApiRequest::new("GET", "/tickets")
            .query("q", "שלום")
            .query("channel", "Mail")
            .build(),
        search_tickets::HANDLER,
    )
    .await;
    assert_eq!(json_body(&other_channel)["items"], serde_json::json!([]));
}

#[tokio::test]
async fn a_prefix_too_short_is_a_bad_request() {
    let state = api_state(testing::store().await);
    let answer = serve(
        &state,
        ApiRequest::new("GET", "/tickets").query("q", "שׁל*").build(),
        search_tickets::HANDLER,
    )
    .await;
    assert_eq!(
        (answer.status().as_u16(), error_code(&answer)),
        (400, "bad_request".to_owned())
    );
}

#[tokio::test]
async fn a_search_requires_a_token() {
    let state = api_state(testing::store().await);
    assert_requires_token(
        |r| serve(&state, r, search_tickets::HANDLER),
        "GET",
        "/tickets",
    )
    .await;
}
