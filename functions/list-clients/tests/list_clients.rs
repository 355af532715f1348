use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body, seed_client,
};
use shared::testing::{self};

/// The route as every caller reaches it: through `shared::rest::serve`, token check first.
async fn handle(
    state: &shared::state::ApiState,
    request: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    shared::rest::serve(state, request, list_clients::HANDLER).await
}

#[tokio::test]
async fn pages_follow_the_cursor_to_a_null_next() {
    let state = api_state(testing::store().await);
    for i in 0..5 {
        seed_client(&state.store, &format!("client-{i}@example.com"), None).await;
    }

    let first = json_body(
        &handle(
            &state,
            ApiRequest::new("GET", "/clients")
                .query("limit", "2")
                .build(),
        )
        .await,
    );
    let cursor = first["next"].as_str().expect("a next cursor").to_owned();
    let second = json_body(
        &handle(
            &state,
            ApiRequest::new("GET", "/clients")
                .query("limit", "2")
                .query("cursor", &cursor)
                .build(),
        )
        .await,
    );
    let third_cursor = second["next"].as_str().expect("a next cursor").to_owned();
    let third = json_body(
        &handle(
            &state,
            ApiRequest::new("GET", "/clients")
                .query("limit", "2")
                .query("cursor", &third_cursor)
                .build(),
        )
        .await,
    );

    let ids: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|page| {
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|c| c["identifier"].as_str().expect("id").to_owned())
        })
        .collect();
    assert_eq!(
        ids,
        (0..5)
            .map(|i| format!("client-{i}@example.com"))
            .collect::<Vec<_>>()
    );
    assert_eq!(third["next"], serde_json::Value::Null);
}

#[tokio::test]
async fn an_empty_list_is_200_with_no_items() {
    let state = api_state(testing::store().await);
    let response = handle(&state, ApiRequest::new("GET", "/clients").build()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        json_body(&response),
        serde_json::json!({"items": [], "next": null})
    );
}

#[tokio::test]
async fn a_bad_limit_or_cursor_is_400() {
    let state = api_state(testing::store().await);
    let ticket_cursor = shared::pagination::encode(&shared::pagination::TicketKey(5));
    for (name, key, value) in [
        ("zero", "limit", "0"),
        ("too large", "limit", "101"),
        ("not a number", "limit", "ten"),
        ("negative", "limit", "-1"),
        ("garbage cursor", "cursor", "!!!"),
        ("cursor of another list", "cursor", ticket_cursor.as_str()),
    ] {
        let response = handle(
            &state,
            ApiRequest::new("GET", "/clients").query(key, value).build(),
        )
        .await;
        assert_eq!(response.status(), 400, "{name}");
        assert_eq!(error_code(&response), "bad_request", "{name}");
    }
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    assert_requires_token(|r| handle(&state, r), "GET", "/clients").await;
}
