use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state_with_files, assert_requires_token, error_code, seed_client, seed_ticket,
};
use shared::testing::{self};

fn delete(identifier: &str) -> lambda_http::Request {
    ApiRequest::new("DELETE", "/clients/x")
        .path("identifier", identifier)
        .build()
}

#[tokio::test]
async fn a_client_is_deleted_with_its_tickets() {
    let state = api_state_with_files(testing::store().await);
    seed_client(&state.store, "dana+vip@example.com", None).await;
    seed_ticket(&state.store, "dana+vip@example.com", 77).await;

    let response = serve(
        &state,
        delete("dana+vip@example.com"),
        delete_client::HANDLER,
    )
    .await;

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
    let state = api_state_with_files(testing::store().await);
    let response = serve(&state, delete("nobody"), delete_client::HANDLER).await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(&response), "not_found");
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state_with_files(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    assert_requires_token(
        |r| serve(&state, r, delete_client::HANDLER),
        "DELETE",
        "/clients/972521234567",
    )
    .await;
    assert!(
        state
            .store
            .get_client("972521234567")
            .await
            .expect("read")
            .is_some()
    );
}
