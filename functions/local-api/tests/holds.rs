//! Legal holds over real HTTP and a real database: placed and lifted with `erase`, shown on the
//! views, and while they hold, nothing deletes or rewrites what they hold.

mod caller;
mod common;

use serde_json::{Value, json};
use shared::db::LegalHold;
use shared::db::bson::DateTime;
use shared::testing::requests::{seed_client, seed_ticket, ticket_body};
use shared::testing::{self, access_log, stored_documents};

const CLIENT: &str = "972541112233";
const TICKET: i64 = 4242;
const ADMIN: &str = "admin-token-0123456789abcdefghijklm";

struct Api {
    store: shared::db::Store,
    caller: caller::Caller,
}

impl Api {
    async fn start() -> Self {
        let store = testing::store().await;
        seed_client(&store, CLIENT, None).await;
        seed_ticket(&store, CLIENT, TICKET).await;
        seed_ticket(&store, CLIENT, TICKET + 1).await;
        let tokens = json!([{"name": "dpo", "scopes": ["read", "write", "erase"], "token": ADMIN}]);
        let caller =
            caller::Caller::serving(&store, &tokens.to_string(), testing::local_files()).await;
        Self { store, caller }
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.caller.send(ADMIN, method, path, body).await
    }
}

fn code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_held_ticket_cannot_be_deleted_or_rewritten_until_its_hold_is_lifted() {
    let api = Api::start().await;
    let ticket = format!("/tickets/{TICKET}");
    let hold_path = format!("{ticket}/legal-hold");

    let (status, placed) = api
        .send(
            "PUT",
            &hold_path,
            Some(json!({"reason": "Dispute 2026-117"})),
        )
        .await;
    assert_eq!(status, 200, "{placed}");
    let hold = &placed["legalHold"];
    assert_eq!(
        (&hold["reason"], &hold["by"], &hold["until"]),
        (&json!("Dispute 2026-117"), &json!("dpo"), &Value::Null)
    );
    let (_, view) = api.send("GET", &ticket, None).await;
    assert_eq!(view["legalHold"], *hold, "the ticket's view shows the hold");

    let before = stored_documents(&api.store).await;
    let (status, refused) = api.send("DELETE", &ticket, None).await;
    assert_eq!((status, code(&refused)), (409, "legal_hold"), "{refused}");
    let rewrite = json!({"transactions": ticket_body(TICKET)["transactions"]});
    let (status, refused) = api.send("PATCH", &ticket, Some(rewrite.clone())).await;
    assert_eq!((status, code(&refused)), (409, "legal_hold"), "{refused}");
    assert_eq!(
        stored_documents(&api.store).await,
        before,
        "nothing changed"
    );
    let (status, _) = api
        .send("PATCH", &ticket, Some(json!({"tags": ["vip"]})))
        .await;
    assert_eq!(status, 200, "tags stay writable");

    // Placed again: the reason and until change, `since` stays.
    let until = "2031-01-01T00:00:00Z";
    let (_, replaced) = api
        .send(
            "PUT",
            &hold_path,
            Some(json!({"reason": "Dispute 2026-117, appeal", "until": until})),
        )
        .await;
    assert_eq!(replaced["legalHold"]["since"], hold["since"]);
    assert_eq!(replaced["legalHold"]["until"], "2031-01-01T00:00:00Z");

    let (status, lifted) = api.send("DELETE", &hold_path, None).await;
    assert_eq!((status, &lifted), (200, &json!({"legalHold": null})));
    assert_eq!(api.send("DELETE", &ticket, None).await.0, 204);

    let logged: Vec<(String, i32)> = access_log(&api.store)
        .await
        .into_iter()
        .filter(|e| e.record.route.ends_with("/legal-hold"))
        .map(|e| (e.record.route, e.record.status))
        .collect();
    assert_eq!(
        logged,
        [
            ("DELETE /tickets/{ticketId}/legal-hold".to_owned(), 200),
            ("PUT /tickets/{ticketId}/legal-hold".to_owned(), 200),
            ("PUT /tickets/{ticketId}/legal-hold".to_owned(), 200),
        ],
        "placing and lifting are in the access log, newest first"
    );
}

#[tokio::test]
async fn a_clients_hold_holds_the_client_and_every_ticket_of_it() {
    let api = Api::start().await;
    let client = format!("/clients/{CLIENT}");

    let (status, placed) = api
        .send(
            "PUT",
            &format!("{client}/legal-hold"),
            Some(json!({"reason": "Regulator's request"})),
        )
        .await;
    assert_eq!(status, 200, "{placed}");
    let (_, view) = api.send("GET", &client, None).await;
    assert_eq!(view["legalHold"]["reason"], "Regulator's request");

    let before = stored_documents(&api.store).await;
    for path in [client.clone(), format!("/tickets/{TICKET}")] {
        let (status, refused) = api.send("DELETE", &path, None).await;
        assert_eq!(
            (status, code(&refused)),
            (409, "legal_hold"),
            "{path}: {refused}"
        );
    }
    assert_eq!(
        stored_documents(&api.store).await,
        before,
        "nothing changed"
    );

    assert_eq!(
        api.send("DELETE", &format!("{client}/legal-hold"), None)
            .await
            .0,
        200
    );
    // A ticket's own hold still keeps its client.
    api.send(
        "PUT",
        &format!("/tickets/{TICKET}/legal-hold"),
        Some(json!({"reason": "x"})),
    )
    .await;
    let (status, refused) = api.send("DELETE", &client, None).await;
    assert_eq!((status, code(&refused)), (409, "legal_hold"), "{refused}");
    api.send("DELETE", &format!("/tickets/{TICKET}/legal-hold"), None)
        .await;
    assert_eq!(api.send("DELETE", &client, None).await.0, 204);
}

#[tokio::test]
async fn a_hold_past_its_until_no_longer_holds() {
    let api = Api::start().await;
    let expired = LegalHold {
        reason: "Dispute settled".into(),
        since: DateTime::from_millis(DateTime::now().timestamp_millis() - 86_400_000),
        until: Some(DateTime::from_millis(
            DateTime::now().timestamp_millis() - 1000,
        )),
        by: "dpo".into(),
    };
    api.store
        .set_ticket_hold(TICKET, Some(&expired))
        .await
        .expect("held");

    let (_, view) = api.send("GET", &format!("/tickets/{TICKET}"), None).await;
    assert_eq!(view["legalHold"], Value::Null);
    assert_eq!(
        api.send("DELETE", &format!("/tickets/{TICKET}"), None)
            .await
            .0,
        204
    );
}

#[tokio::test]
async fn a_hold_needs_a_reason_a_future_until_and_something_to_hold() {
    let api = Api::start().await;
    let hold_path = format!("/tickets/{TICKET}/legal-hold");
    let before = stored_documents(&api.store).await;
    for (body, expected) in [
        (json!({"reason": ""}), 422),
        (json!({"reason": " padded "}), 422),
        (json!({"reason": "x", "until": "2020-01-01T00:00:00Z"}), 422),
        (json!({"reason": "x", "until": "tomorrow"}), 400),
        (json!({"reason": "x", "scope": "all"}), 400),
        (json!({}), 400),
    ] {
        let (status, answer) = api.send("PUT", &hold_path, Some(body.clone())).await;
        assert_eq!(status, expected, "{body}: {answer}");
    }
    assert_eq!(
        stored_documents(&api.store).await,
        before,
        "nothing changed"
    );
    for (method, path, body) in [
        (
            "PUT",
            "/tickets/999/legal-hold",
            Some(json!({"reason": "x"})),
        ),
        ("DELETE", "/tickets/999/legal-hold", None),
        (
            "PUT",
            "/clients/972500000000/legal-hold",
            Some(json!({"reason": "x"})),
        ),
        ("DELETE", "/clients/972500000000/legal-hold", None),
    ] {
        let (status, answer) = api.send(method, path, body).await;
        assert_eq!(
            (status, code(&answer)),
            (404, "not_found"),
            "{method} {path}"
        );
    }
}
