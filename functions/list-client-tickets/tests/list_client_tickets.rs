use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body, seed_client, seed_ticket,
};
use shared::testing::{self};

async fn seed_tickets(state: &shared::state::ApiState, identifier: &str, ids: &[i64]) {
    for id in ids {
        seed_ticket(&state.store, identifier, *id).await;
    }
}

fn list(identifier: &str) -> ApiRequest {
    ApiRequest::new("GET", "/clients/x/tickets").path("identifier", identifier)
}

#[tokio::test]
async fn a_clients_tickets_are_paged_in_id_order_without_transactions() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    seed_client(&state.store, "other@example.com", None).await;
    seed_tickets(&state, "972521234567", &[30, 10, 20]).await;
    seed_tickets(&state, "other@example.com", &[15]).await;

    let first = json_body(
        &serve(
            &state,
            list("972521234567").query("limit", "2").build(),
            list_client_tickets::HANDLER,
        )
        .await,
    );
    let cursor = first["next"].as_str().expect("next").to_owned();
    let second = json_body(
        &serve(
            &state,
            list("972521234567")
                .query("limit", "2")
                .query("cursor", &cursor)
                .build(),
            list_client_tickets::HANDLER,
        )
        .await,
    );

    let ids: Vec<i64> = [&first, &second]
        .iter()
        .flat_map(|p| {
            p["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|t| t["ticketId"].as_i64().expect("id"))
        })
        .collect();
    assert_eq!(ids, vec![10, 20, 30]);
    assert_eq!(second["next"], serde_json::Value::Null);
    assert!(first["items"][0].get("transactions").is_none());
    assert_eq!(first["items"][0]["clientName"], "דנה כהן");
}

#[tokio::test]
async fn an_unknown_client_is_404() {
    let state = api_state(testing::store().await);
    let response = serve(&state, list("nobody").build(), list_client_tickets::HANDLER).await;
    assert_eq!(response.status(), 404);
    assert_eq!(error_code(&response), "not_found");
}

#[tokio::test]
async fn a_bad_cursor_is_400() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    let client_cursor = shared::pagination::encode(&shared::pagination::ClientKey("a".into()));
    for cursor in ["@@", client_cursor.as_str()] {
        let response = serve(
            &state,
            list("972521234567").query("cursor", cursor).build(),
            list_client_tickets::HANDLER,
        )
        .await;
        assert_eq!(response.status(), 400, "{cursor}");
    }
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    assert_requires_token(
        |r| serve(&state, r, list_client_tickets::HANDLER),
        "GET",
        "/clients/972521234567/tickets",
    )
    .await;
}
