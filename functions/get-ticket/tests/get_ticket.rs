use shared::rest::serve;
use shared::testing::requests::{
    ApiRequest, api_state, assert_requires_token, error_code, json_body, seed_client, seed_ticket,
};
use shared::testing::{self};

fn get(ticket_id: &str) -> lambda_http::Request {
    ApiRequest::new("GET", "/tickets/x")
        .path("ticketId", ticket_id)
        .build()
}

#[tokio::test]
async fn a_ticket_is_returned_with_its_transactions() {
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    seed_ticket(&state.store, "972521234567", 42).await;

    let response = serve(&state, get("42"), get_ticket::HANDLER).await;

    assert_eq!(response.status(), 200);
    let ticket = json_body(&response);
    assert_eq!(ticket["ticketId"], 42);
    assert_eq!(
        ticket["transactions"][0]["dateTime"],
        "2024-03-10T08:15:42.487Z"
    );
    assert_eq!(ticket["transactions"][0]["type"], "Message");
    assert_eq!(ticket["closedAt"], serde_json::Value::Null);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404_and_400() {
    let state = api_state(testing::store().await);
    assert_eq!(
        serve(&state, get("999"), get_ticket::HANDLER)
            .await
            .status(),
        404
    );
    for id in ["abc", "1.5", "", "99999999999999999999"] {
        let response = serve(&state, get(id), get_ticket::HANDLER).await;
        assert_eq!(response.status(), 400, "{id:?}");
        assert_eq!(error_code(&response), "bad_request");
    }
    assert_eq!(
        serve(&state, get("0"), get_ticket::HANDLER).await.status(),
        422
    );
}

#[tokio::test]
async fn a_token_is_required() {
    let state = api_state(testing::store().await);
    assert_requires_token(
        |r| serve(&state, r, get_ticket::HANDLER),
        "GET",
        "/tickets/42",
    )
    .await;
}

#[tokio::test]
async fn a_ticket_stored_with_embedded_transactions_is_read_whole_and_moved_to_documents() {
    use shared::db::bson::{DateTime, doc};
    let state = api_state(testing::store().await);
    seed_client(&state.store, "972521234567", None).await;
    // A ticket as the schema before transaction documents wrote it.
    let now = DateTime::now();
    let transaction = |id: i64, text: &str| {
        doc! {"id": id, "guid": null, "dateTime": DateTime::from_millis(1_710_058_542_000 + id),
        "type": "Message", "text": text, "html": "", "fromProtocolType": "WhatsApp",
        "senderName": "Dana Cohen", "senderType": "Client",
        "attachments": [{"id": 7781204_i64, "type": "Image", "originalFileName": "קבלה.jpg",
                         "fileIdentifier": null, "isEmbedded": false}]}
    };
    state
        .store
        .database()
        .collection("tickets")
        .insert_one(doc! {
            "ticketId": 77_i64, "clientIdentifier": "972521234567", "clientName": "Dana Cohen",
            "ticketOpeningDate": DateTime::from_millis(1_710_058_542_370), "protocolType": "WhatsApp",
            "transactions": [transaction(1, "שלום"), transaction(2, "second")],
            "closedAt": null, "tags": ["Refund"], "archivedAt": now, "scrambledAt": null,
            "createdAt": now, "updatedAt": now,
        })
        .await
        .expect("legacy ticket");

    let response = serve(&state, get("77"), get_ticket::HANDLER).await;

    assert_eq!(response.status(), 200, "{}", json_body(&response));
    let ticket = json_body(&response);
    assert_eq!(ticket["transactionCount"], 2);
    assert_eq!(ticket["transactions"][0]["text"], "שלום");
    assert_eq!(ticket["transactions"][1]["text"], "second");
    assert_eq!(
        ticket["transactions"][0]["attachments"][0]["originalFileName"],
        "קבלה.jpg"
    );
    assert_eq!(ticket["transactionsNext"], serde_json::Value::Null);
    let stored = testing::stored_tickets(&state.store).await;
    assert!(
        !stored[0].contains_key("transactions"),
        "moved out of the ticket"
    );
    assert_eq!(testing::transactions_of(&state.store, 77).await.len(), 2);
    // Read again: same answer from the transaction documents.
    assert_eq!(
        json_body(&serve(&state, get("77"), get_ticket::HANDLER).await),
        ticket
    );
}
