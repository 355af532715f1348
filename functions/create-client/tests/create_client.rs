use shared::pagination::{ClientKey, PageRequest};
use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body,
};
use shared::testing::{self};

fn first_page() -> PageRequest<ClientKey> {
    PageRequest::parse(Some("100"), None).expect("valid page")
}

fn post(body: serde_json::Value) -> lambda_http::Request {
    ApiRequest::new("POST", "/clients").json(body).build()
}

#[tokio::test]
async fn a_client_is_created_with_201_and_camel_case_json() {
    let state = api_state(testing::store().await);

    let response = serve(
        &state,
        post(serde_json::json!({"identifier": "dana+vip@example.com", "name": "דנה כהן 🙏"})),
        create_client::HANDLER,
    )
    .await;

    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = json_body(&response);
    assert_eq!(body["identifier"], "dana+vip@example.com");
    assert_eq!(body["name"], "דנה כהן 🙏");
    assert_eq!(body["tickets"], serde_json::json!([]));
    assert!(
        chrono::DateTime::parse_from_rfc3339(body["createdAt"].as_str().expect("string")).is_ok()
    );
    let stored = state
        .store
        .get_client("dana+vip@example.com")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.name.as_deref(), Some("דנה כהן 🙏"));
}

#[tokio::test]
async fn a_taken_identifier_is_409_and_the_first_client_is_unchanged() {
    let state = api_state(testing::store().await);
    serve(
        &state,
        post(serde_json::json!({"identifier": "972521234567", "name": "First"})),
        create_client::HANDLER,
    )
    .await;

    let response = serve(
        &state,
        post(serde_json::json!({"identifier": "972521234567", "name": "Second"})),
        create_client::HANDLER,
    )
    .await;

    assert_eq!(response.status(), 409);
    assert_eq!(error_code(&response), "conflict");
    let stored = state
        .store
        .get_client("972521234567")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(stored.name.as_deref(), Some("First"));
}

#[tokio::test]
async fn invalid_bodies_are_refused_and_nothing_is_written() {
    let state = api_state(testing::store().await);
    let long = "x".repeat(321);
    let cases = [
        (
            "not JSON",
            ApiRequest::new("POST", "/clients")
                .raw("{identifier:")
                .build(),
            400,
        ),
        (
            "empty body",
            ApiRequest::new("POST", "/clients").build(),
            400,
        ),
        (
            "wrong type",
            post(serde_json::json!({"identifier": 972521234567_i64})),
            400,
        ),
        (
            "unknown field",
            post(serde_json::json!({"identifier": "a@example.com", "admin": true})),
            400,
        ),
        (
            "operator key",
            post(serde_json::json!({"identifier": "a@example.com", "$set": {"x": 1}})),
            400,
        ),
        (
            "operator value",
            post(serde_json::json!({"identifier": {"$ne": null}})),
            400,
        ),
        (
            "an array of the field values",
            post(serde_json::json!(["a@example.com", "Dana"])),
            400,
        ),
        (
            "missing identifier",
            post(serde_json::json!({"name": "Dana"})),
            400,
        ),
        (
            "empty identifier",
            post(serde_json::json!({"identifier": ""})),
            422,
        ),
        (
            "operator-looking identifier",
            post(serde_json::json!({"identifier": "$where"})),
            422,
        ),
        (
            "identifier with a slash",
            post(serde_json::json!({"identifier": "a/b"})),
            422,
        ),
        (
            "identifier with a percent sign",
            post(serde_json::json!({"identifier": "a%41@example.com"})),
            422,
        ),
        (
            "identifier with a space",
            post(serde_json::json!({"identifier": "972 52 123"})),
            422,
        ),
        (
            "identifier too long",
            post(serde_json::json!({"identifier": long})),
            422,
        ),
        (
            "name too long",
            post(serde_json::json!({"identifier": "a@example.com", "name": "n".repeat(201)})),
            422,
        ),
        (
            "empty name",
            post(serde_json::json!({"identifier": "a@example.com", "name": ""})),
            422,
        ),
        (
            "body over 1 MiB",
            ApiRequest::new("POST", "/clients")
                .raw(vec![b' '; 1024 * 1024 + 1])
                .build(),
            413,
        ),
    ];

    for (name, request, status) in cases {
        let response = serve(&state, request, create_client::HANDLER).await;
        assert_eq!(
            response.status(),
            status,
            "{name}: {}",
            json_body(&response)
        );
        assert!(!error_code(&response).is_empty(), "{name}");
    }

    let page = state.store.list_clients(&first_page()).await.expect("list");
    assert!(page.items.is_empty(), "nothing was written");
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    assert_requires_token(
        |r| serve(&state, r, create_client::HANDLER),
        "POST",
        "/clients",
    )
    .await;
    assert!(
        state
            .store
            .list_clients(&first_page())
            .await
            .expect("list")
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn the_second_configured_token_is_accepted_for_rotation() {
    let state = api_state(testing::store().await);
    let request = ApiRequest::anonymous("POST", "/clients")
        .header(
            "authorization",
            "Bearer second-token-for-rotation-0123456789",
        )
        .json(serde_json::json!({"identifier": "rotated@example.com"}))
        .build();

    assert_eq!(
        serve(&state, request, create_client::HANDLER)
            .await
            .status(),
        201
    );
}
