use shared::db::TicketContent;
use shared::db::bson::DateTime;
use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, json_body, seed_client,
};
use shared::testing::{self};

fn list(ticket_id: &str) -> ApiRequest {
    ApiRequest::new("GET", "/tickets/x/transactions").path("ticketId", ticket_id)
}

fn message(id: i64, html: String) -> shared::db::TransactionDoc {
    shared::db::TransactionDoc {
        id,
        guid: None,
        date_time: DateTime::from_millis(1_710_058_542_000 + id * 1000),
        kind: "Message".into(),
        text: format!("message {id}"),
        html,
        from_protocol_type: Some("Mail".into()),
        sender_name: None,
        sender_type: Some("Client".into()),
        attachments: Vec::new(),
    }
}

async fn seed(state: &shared::state::ApiState, transactions: Vec<shared::db::TransactionDoc>) {
    seed_client(&state.store, "dana@example.com", None).await;
    state
        .store
        .archive_ticket(&TicketContent {
            ticket_id: 5,
            client_identifier: "dana@example.com".into(),
            client_name: None,
            ticket_opening_date: DateTime::from_millis(1_710_058_542_000),
            protocol_type: "Mail".into(),
            closed_at: None,
            tags: Vec::new(),
            transactions,
        })
        .await
        .expect("archived");
}

/// Follows `next` to the end; returns every id and the largest response body.
async fn read_all(state: &shared::state::ApiState, limit: &str) -> (Vec<i64>, usize) {
    let (mut ids, mut largest, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let mut request = list("5").query("limit", limit);
        if let Some(cursor) = &cursor {
            request = request.query("cursor", cursor);
        }
        let response = serve(state, request.build(), list_ticket_transactions::HANDLER).await;
        assert_eq!(response.status(), 200, "{}", json_body(&response));
        largest = largest.max(response.body().len());
        let page = json_body(&response);
        ids.extend(
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|t| t["id"].as_i64().expect("id")),
        );
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (ids, largest),
        }
    }
}

#[tokio::test]
async fn pages_cover_every_transaction_once_in_time_order() {
    let state = api_state(testing::store().await);
    seed(
        &state,
        (1..=45)
            .rev()
            .map(|id| message(id, String::new()))
            .collect(),
    )
    .await;

    let (ids, _) = read_all(&state, "10").await;

    assert_eq!(ids, (1..=45).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_page_of_large_emails_ends_early_and_stays_far_below_six_megabytes() {
    let state = api_state(testing::store().await);
    // 30 e-mails of 900 KB of HTML each: 100 of them would be 90 MB.
    let html = "<p>".to_owned() + &"שלום עולם ".repeat(50_000) + "</p>";
    seed(
        &state,
        (1..=30).map(|id| message(id, html.clone())).collect(),
    )
    .await;

    let (ids, largest) = read_all(&state, "100").await;

    assert_eq!(ids, (1..=30).collect::<Vec<_>>());
    assert!(
        largest < 6 * 1024 * 1024,
        "largest response {largest} bytes"
    );
}

#[tokio::test]
async fn an_unknown_ticket_is_404_and_a_cursor_of_another_list_is_400() {
    let state = api_state(testing::store().await);
    assert_eq!(
        serve(
            &state,
            list("404").build(),
            list_ticket_transactions::HANDLER
        )
        .await
        .status(),
        404
    );
    seed(&state, vec![message(1, String::new())]).await;
    let ticket_cursor = shared::pagination::encode(&shared::pagination::TicketKey(5));
    let response = serve(
        &state,
        list("5").query("cursor", &ticket_cursor).build(),
        list_ticket_transactions::HANDLER,
    )
    .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    assert_requires_token(
        |r| serve(&state, r, list_ticket_transactions::HANDLER),
        "GET",
        "/tickets/5/transactions",
    )
    .await;
}
