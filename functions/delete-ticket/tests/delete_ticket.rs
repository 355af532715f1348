use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state_with_files, assert_requires_token, seed_client, seed_ticket,
};
use shared::testing::{self};

fn delete(ticket_id: &str) -> lambda_http::Request {
    ApiRequest::new("DELETE", "/tickets/x")
        .path("ticketId", ticket_id)
        .build()
}

#[tokio::test]
async fn a_ticket_is_deleted_and_removed_from_its_client() {
    let state = api_state_with_files(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    for id in [42, 43] {
        seed_ticket(&state.store, "972521234567", id).await;
    }

    let response = serve(&state, delete("42"), delete_ticket::HANDLER).await;

    assert_eq!(response.status(), 204);
    assert_eq!(state.store.get_ticket(42).await.expect("read"), None);
    let client = state
        .store
        .get_client("972521234567")
        .await
        .expect("read")
        .expect("client");
    assert_eq!(client.tickets, vec![43]);
    assert_eq!(
        serve(&state, delete("42"), delete_ticket::HANDLER)
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_malformed_id_is_400() {
    let state = api_state_with_files(testing::store().await);
    assert_eq!(
        serve(&state, delete("forty-two"), delete_ticket::HANDLER)
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state_with_files(testing::store().await);
    assert_requires_token(
        |r| serve(&state, r, delete_ticket::HANDLER),
        "DELETE",
        "/tickets/42",
    )
    .await;
}
