use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body, seed_client,
};
use shared::testing::{self};

fn patch(identifier: &str, body: serde_json::Value) -> lambda_http::Request {
    ApiRequest::new("PATCH", "/clients/x")
        .path("identifier", identifier)
        .json(body)
        .build()
}

#[tokio::test]
async fn the_name_is_set_then_cleared() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", Some("Dana")).await;

    let renamed = serve(
        &state,
        patch("972521234567", serde_json::json!({"name": "דנה כהן"})),
        update_client::HANDLER,
    )
    .await;
    assert_eq!(renamed.status(), 200);
    assert_eq!(json_body(&renamed)["name"], "דנה כהן");

    let cleared = serve(
        &state,
        patch("972521234567", serde_json::json!({"name": null})),
        update_client::HANDLER,
    )
    .await;
    assert_eq!(cleared.status(), 200);
    assert_eq!(json_body(&cleared)["name"], serde_json::Value::Null);
    let stored = state
        .store
        .get_client("972521234567")
        .await
        .expect("read")
        .expect("client");
    assert_eq!(stored.name, None);
}

#[tokio::test]
async fn an_empty_patch_changes_nothing() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", Some("Dana")).await;

    let response = serve(
        &state,
        patch("972521234567", serde_json::json!({})),
        update_client::HANDLER,
    )
    .await;

    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["name"], "Dana");
}

#[tokio::test]
async fn an_unknown_client_is_404_and_invalid_bodies_change_nothing() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", Some("Dana")).await;

    let missing = serve(
        &state,
        patch("nobody", serde_json::json!({"name": "X"})),
        update_client::HANDLER,
    )
    .await;
    assert_eq!(missing.status(), 404);
    for (name, body, status) in [
        (
            "unknown field",
            serde_json::json!({"identifier": "other"}),
            400,
        ),
        ("wrong type", serde_json::json!({"name": 5}), 400),
        ("operator", serde_json::json!({"name": {"$set": "x"}}), 400),
        (
            "too long",
            serde_json::json!({"name": "n".repeat(201)}),
            422,
        ),
    ] {
        let response = serve(&state, patch("972521234567", body), update_client::HANDLER).await;
        assert_eq!(response.status(), status, "{name}");
        assert!(!error_code(&response).is_empty());
    }

    let stored = state
        .store
        .get_client("972521234567")
        .await
        .expect("read")
        .expect("client");
    assert_eq!(stored.name.as_deref(), Some("Dana"));
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", Some("Dana")).await;
    assert_requires_token(
        |r| serve(&state, r, update_client::HANDLER),
        "PATCH",
        "/clients/972521234567",
    )
    .await;
    let stored = state
        .store
        .get_client("972521234567")
        .await
        .expect("read")
        .expect("client");
    assert_eq!(stored.name.as_deref(), Some("Dana"));
}
