use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, seed_client, seed_ticket,
};
use shared::testing::{self};

/// The route as every caller reaches it: through `shared::rest::serve`, token check first.
async fn handle(
    state: &shared::state::ApiState,
    request: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    shared::rest::serve(state, request, delete_client::HANDLER).await
}

fn delete(identifier: &str) -> lambda_http::Request {
    ApiRequest::new("DELETE", "/clients/x")
        .path("identifier", identifier)
        .build()
}

#[tokio::test]
async fn a_client_is_deleted_with_its_tickets() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "dana+vip@example.com", None).await;
    seed_ticket(&state.store, "dana+vip@example.com", 77).await;

    let response = handle(&state, delete("dana+vip@example.com")).await;

    assert_eq!(response.status(), 204);
    assert!(response.body().is_empty());
    assert_eq!(
        state
            .store
            .get_client("dana+vip@example.com")
            .await
            .expect("read"),
        None
    );
    assert_eq!(state.store.get_ticket(77).await.expect("read"), None);
}

#[tokio::test]
async fn an_unknown_client_is_404() {
    let state = api_state(testing::store().await);
    let response = handle(&state, delete("nobody")).await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(&response), "not_found");
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    assert_requires_token(|r| handle(&state, r), "DELETE", "/clients/972521234567").await;
    assert!(
        state
            .store
            .get_client("972521234567")
            .await
            .expect("read")
            .is_some()
    );
}
