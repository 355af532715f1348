use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body, seed_client,
};
use shared::testing::{self};

#[tokio::test]
async fn pages_follow_the_cursor_to_a_null_next() {
    let state = api_state(testing::store().await);
    for i in 0..5 {
        seed_client(&state.store, &format!("client-{i}@example.com"), None).await;
    }

    let first = json_body(
        &serve(
            &state,
            ApiRequest::new("GET", "/clients")
                .query("limit", "2")
                .build(),
            list_clients::HANDLER,
        )
        .await,
    );
    let cursor = first["next"].as_str().expect("a next cursor").to_owned();
    let second = json_body(
        &serve(
            &state,
            ApiRequest::new("GET", "/clients")
                .query("limit", "2")
                .query("cursor", &cursor)
                .build(),
            list_clients::HANDLER,
        )
        .await,
    );
    let third_cursor = second["next"].as_str().expect("a next cursor").to_owned();
    let third = json_body(
        &serve(
            &state,
            ApiRequest::new("GET", "/clients")
                .query("limit", "2")
                .query("cursor", &third_cursor)
                .build(),
            list_clients::HANDLER,
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
    let response = serve(
        &state,
        ApiRequest::new("GET", "/clients").build(),
        list_clients::HANDLER,
    )
    .await;
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
        let response = serve(
            &state,
            ApiRequest::new("GET", "/clients").query(key, value).build(),
            list_clients::HANDLER,
        )
        .await;
        assert_eq!(response.status(), 400, "{name}");
        assert_eq!(error_code(&response), "bad_request", "{name}");
    }
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    assert_requires_token(
        |r| serve(&state, r, list_clients::HANDLER),
        "GET",
        "/clients",
    )
    .await;
}

/// The identifiers of one page listed with `prefix` (and `limit`, `cursor` when given).
async fn identifiers_with_prefix(
    state: &shared::state::ApiState,
    prefix: &str,
    limit: &str,
    cursor: Option<&str>,
) -> (Vec<String>, Option<String>) {
    let mut request = ApiRequest::new("GET", "/clients")
        .query("prefix", prefix)
        .query("limit", limit);
    if let Some(cursor) = cursor {
        request = request.query("cursor", cursor);
    }
    let response = serve(state, request.build(), list_clients::HANDLER).await;
    assert_eq!(response.status(), 200, "{}", json_body(&response));
    let page = json_body(&response);
    let ids = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["identifier"].as_str().expect("id").to_owned())
        .collect();
    (ids, page["next"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn a_prefix_lists_only_the_identifiers_that_start_with_it() {
    let state = api_state(testing::store().await);
    for identifier in [
        "dam@example.com",
        "dan@example.com",
        "dana+vip@example.com",
        "dana.cohen@example.com",
        "danax@example.com",
        "danb@example.com",
        "Dana@example.com",
        "972521234567",
        "972531234567",
        "97252",
    ] {
        seed_client(&state.store, identifier, None).await;
    }

    let (dana, _) = identifiers_with_prefix(&state, "dana", "100", None).await;
    let (phones, _) = identifiers_with_prefix(&state, "97252", "100", None).await;
    let (nobody, next) = identifiers_with_prefix(&state, "zz", "100", None).await;

    assert_eq!(
        dana,
        [
            "dana+vip@example.com",
            "dana.cohen@example.com",
            "danax@example.com"
        ]
    );
    assert_eq!(phones, ["97252", "972521234567"]);
    assert!(nobody.is_empty());
    assert_eq!(next, None);
}

#[tokio::test]
async fn a_prefix_is_literal_text_not_a_pattern() {
    let state = api_state(testing::store().await);
    for identifier in [
        "a+b@example.com",
        "aab@example.com",
        "a.b@example.com",
        "axb@example.com",
        "a*b@example.com",
        "a(b@example.com",
        "a\\b@example.com",
        "$x@example.com",
    ] {
        seed_client(&state.store, identifier, None).await;
    }

    for (prefix, expected) in [
        ("a+", "a+b@example.com"),
        ("a.", "a.b@example.com"),
        ("a*", "a*b@example.com"),
        ("a(", "a(b@example.com"),
        ("a\\", "a\\b@example.com"),
        ("$x", "$x@example.com"),
    ] {
        let (ids, _) = identifiers_with_prefix(&state, prefix, "100", None).await;
        assert_eq!(ids, [expected], "prefix {prefix:?}");
    }
    let (everything_a, _) = identifiers_with_prefix(&state, "a", "100", None).await;
    assert_eq!(everything_a.len(), 7);
}

#[tokio::test]
async fn a_prefix_of_any_script_matches_by_characters() {
    let state = api_state(testing::store().await);
    for identifier in ["דנה@example.com", "דנ", "דס@example.com", "ד@example.com"] {
        seed_client(&state.store, identifier, None).await;
    }
    let (ids, _) = identifiers_with_prefix(&state, "דנ", "100", None).await;
    assert_eq!(ids, ["דנ", "דנה@example.com"]);
}

#[tokio::test]
async fn prefixed_pages_follow_the_cursor_within_the_prefix() {
    let state = api_state(testing::store().await);
    for i in 0..5 {
        seed_client(&state.store, &format!("dana-{i}@example.com"), None).await;
        seed_client(&state.store, &format!("noa-{i}@example.com"), None).await;
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (ids, next) = identifiers_with_prefix(&state, "dana", "2", cursor.as_deref()).await;
        seen.extend(ids);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }

    assert_eq!(
        seen,
        (0..5)
            .map(|i| format!("dana-{i}@example.com"))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_empty_or_overlong_prefix_is_400() {
    let state = api_state(testing::store().await);
    for (name, prefix) in [
        ("empty", String::new()),
        ("321 characters", "a".repeat(321)),
    ] {
        let response = serve(
            &state,
            ApiRequest::new("GET", "/clients")
                .query("prefix", &prefix)
                .build(),
            list_clients::HANDLER,
        )
        .await;
        assert_eq!(response.status(), 400, "{name}");
        assert_eq!(error_code(&response), "bad_request", "{name}");
    }
    let longest = serve(
        &state,
        ApiRequest::new("GET", "/clients")
            .query("prefix", &"a".repeat(320))
            .build(),
        list_clients::HANDLER,
    )
    .await;
    assert_eq!(longest.status(), 200);
}
