use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body, seed_client,
};
use shared::testing::{self};

#[tokio::test]
async fn a_client_is_found_by_its_url_encoded_identifier() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "dana+vip@example.com", Some("דנה")).await;

    let response = serve(
        &state,
        ApiRequest::new("GET", "/clients/dana%2Bvip%40example.com")
            .path("identifier", "dana+vip@example.com")
            .build(),
        get_client::HANDLER,
    )
    .await;

    assert_eq!(response.status(), 200);
    let body = json_body(&response);
    assert_eq!(body["identifier"], "dana+vip@example.com");
    assert_eq!(body["name"], "דנה");
}

#[tokio::test]
async fn an_already_decoded_identifier_is_found_too() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "dana+vip@example.com", None).await;

    let response = serve(
        &state,
        ApiRequest::new("GET", "/clients/x")
            .path("identifier", "dana+vip@example.com")
            .build(),
        get_client::HANDLER,
    )
    .await;

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_unknown_client_is_404() {
    let state = api_state(testing::store().await);
    let response = serve(
        &state,
        ApiRequest::new("GET", "/clients/nobody")
            .path("identifier", "nobody")
            .build(),
        get_client::HANDLER,
    )
    .await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(&response), "not_found");
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    assert_requires_token(
        |r| serve(&state, r, get_client::HANDLER),
        "GET",
        "/clients/972521234567",
    )
    .await;
}
