//! Who may do what, and who did: every route of `template.yaml` refuses a token without its
//! scope, and the access log records reads, changes and refusals, over real HTTP and a real
//! database.

mod caller;
mod common;

use local_api::routes::from_template;
use serde_json::{Value, json};
use shared::access::AccessEntry;
use shared::db::bson::doc;
use shared::testing::requests::{seed_client, seed_ticket, ticket_body};
use shared::testing::{self, CapturedLogs, access_log, stored_documents};

const CLIENT: &str = "972541112233";
const TICKET: i64 = 4242;
const READER: &str = "reader-token-0123456789abcdefghijkl";
const ADMIN: &str = "admin-token-0123456789abcdefghijklm";
const AUDITOR: &str = "dpo-token-0123456789abcdefghijklmno";
const SCOPES: [&str; 5] = ["read", "write", "erase", "export", "audit"];

/// A token holding every scope but `scope`, named `all-but-<scope>`.
fn all_but(scope: &str) -> String {
    format!("all-but-{scope}-token-0123456789abcdefghijkl")
}

fn api_tokens() -> String {
    let mut entries = vec![
        json!({"name": "support-viewer", "scopes": ["read"], "token": READER}),
        json!({"name": "admin", "scopes": SCOPES, "token": ADMIN}),
        json!({"name": "dpo", "scopes": ["read", "audit"], "token": AUDITOR}),
    ];
    for scope in SCOPES {
        let others: Vec<&str> = SCOPES.into_iter().filter(|s| *s != scope).collect();
        entries.push(
            json!({"name": format!("all-but-{scope}"), "scopes": others, "token": all_but(scope)}),
        );
    }
    Value::Array(entries).to_string()
}

struct Api {
    store: shared::db::Store,
    caller: caller::Caller,
}

impl Api {
    /// local-api over a database holding one client with one ticket.
    async fn start() -> Self {
        let store = testing::store().await;
        seed_client(&store, CLIENT, Some("דנה כהן")).await;
        seed_ticket(&store, CLIENT, TICKET).await;
        let caller = caller::Caller::serving(&store, &api_tokens(), testing::local_files()).await;
        Self { store, caller }
    }

    async fn send(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.caller.send(token, method, path, body).await
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        self.send(token, "GET", path, None).await
    }
}

/// A request to `route` that would succeed for a token holding its scope: real parameters,
/// a valid body, so that a missing refusal would change something.
fn request_for(method: &str, path: &str) -> (String, Option<Value>) {
    let concrete = path
        .replace("{identifier}", CLIENT)
        .replace("{ticketId}", &TICKET.to_string())
        .replace("{transactionId}", "905113201")
        .replace("{attachmentId}", "a1")
        .replace("{exportId}", "65f0c0ffee42a1b2c3d4e5f6");
    let body = match (method, path) {
        ("POST", "/clients") => Some(json!({"identifier": "972500000001", "name": "Eve"})),
        ("PATCH", "/clients/{identifier}") => Some(json!({"name": "Dana Cohen"})),
        ("POST", "/clients/{identifier}/tickets") => Some(ticket_body(TICKET + 1)),
        ("PATCH", "/tickets/{ticketId}") => Some(json!({"tags": ["vip"]})),
        ("PUT", "/tickets/{ticketId}/legal-hold" | "/clients/{identifier}/legal-hold") => {
            Some(json!({"reason": "Dispute 2026-117"}))
        }
        _ => None,
    };
    (concrete, body)
}

#[tokio::test]
async fn every_route_refuses_a_token_without_its_scope_changes_nothing_and_logs_the_refusal() {
    let api = Api::start().await;
    let template = std::fs::read_to_string(local_api::template_path()).expect("template.yaml");
    let routes = from_template(&template).expect("routes");
    let mut refused = 0;

    for route in &routes {
        let Some(scope) = route.scope.as_deref().filter(|s| *s != "any-token") else {
            continue;
        };
        let (path, body) = request_for(&route.method, &route.path);
        let before = stored_documents(&api.store).await;
        let logged_before = access_log(&api.store).await.len();

        let (status, answer) = api.send(&all_but(scope), &route.method, &path, body).await;

        assert_eq!(
            (status, &answer["error"]["code"]),
            (403, &json!("forbidden")),
            "{}",
            route.key()
        );
        assert_eq!(
            stored_documents(&api.store).await,
            before,
            "{} changed nothing",
            route.key()
        );
        let log = access_log(&api.store).await;
        assert_eq!(log.len(), logged_before + 1, "{}: one entry", route.key());
        let entry = &log[0];
        assert_eq!(
            (
                entry.record.token.as_str(),
                entry.record.route.as_str(),
                entry.record.method.as_str(),
                entry.record.status
            ),
            (
                format!("all-but-{scope}").as_str(),
                route.key().as_str(),
                route.method.as_str(),
                403
            ),
        );
        refused += 1;
    }
    assert_eq!(refused, 21, "every scoped route was tried");
}

#[tokio::test]
async fn a_read_is_logged_with_its_token_client_and_ticket_and_a_listing_with_its_count() {
    let api = Api::start().await;

    let (status, _) = api.get(READER, &format!("/tickets/{TICKET}")).await;
    assert_eq!(status, 200);
    let (status, page) = api.get(READER, &format!("/clients/{CLIENT}/tickets")).await;
    assert_eq!(
        (status, page["items"].as_array().map(Vec::len)),
        (200, Some(1))
    );

    let log = access_log(&api.store).await;
    assert_eq!(log.len(), 2, "{log:?}");
    let (listing, read) = (&log[0], &log[1]);
    assert_eq!(
        (
            read.record.token.as_str(),
            read.record.route.as_str(),
            read.record.status
        ),
        ("support-viewer", "GET /tickets/{ticketId}", 200)
    );
    assert_eq!(
        (
            read.record.client_identifier.as_deref(),
            read.record.ticket_id
        ),
        (Some(CLIENT), Some(TICKET))
    );
    assert_eq!(read.record.items, None);
    assert_eq!(read.record.source_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(read.record.user_agent.as_deref(), Some("access-test/1.0"));
    assert!(read.record.request_id.is_some());
    assert_eq!(
        (
            listing.record.route.as_str(),
            listing.record.client_identifier.as_deref(),
            listing.record.items
        ),
        ("GET /clients/{identifier}/tickets", Some(CLIENT), Some(1))
    );
    assert!(
        read.expires_at.timestamp_millis() - read.at.timestamp_millis() == 730 * 86_400_000,
        "kept ACCESS_LOG_DAYS"
    );
}

#[tokio::test]
async fn the_access_log_is_read_with_audit_filtered_newest_first_in_pages_and_cannot_be_changed() {
    let api = Api::start().await;
    for _ in 0..3 {
        assert_eq!(api.get(READER, &format!("/tickets/{TICKET}")).await.0, 200);
    }
    assert_eq!(api.get(ADMIN, &format!("/clients/{CLIENT}")).await.0, 200);

    let (status, answer) = api.get(READER, "/access-log").await;
    assert_eq!(
        (status, &answer["error"]["code"]),
        (403, &json!("forbidden"))
    );

    let (status, first) = api
        .get(
            AUDITOR,
            &format!("/access-log?ticketId={TICKET}&token=support-viewer&limit=2"),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    let items = first["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert!(
        items
            .iter()
            .all(|e| e["token"] == "support-viewer" && e["ticketId"] == TICKET)
    );
    assert!(
        items[0]["at"].as_str() >= items[1]["at"].as_str(),
        "newest first"
    );
    let next = first["next"].as_str().expect("a second page");
    let (_, second) = api
        .get(
            AUDITOR,
            &format!("/access-log?ticketId={TICKET}&token=support-viewer&limit=2&cursor={next}"),
        )
        .await;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["next"], Value::Null);

    let (_, by_client) = api
        .get(
            AUDITOR,
            &format!("/access-log?clientIdentifier={CLIENT}&token=admin"),
        )
        .await;
    assert_eq!(by_client["items"][0]["route"], "GET /clients/{identifier}");
    let (_, none_yet) = api
        .get(AUDITOR, "/access-log?from=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(none_yet["items"], json!([]));
    for bad in ["from=yesterday", "ticketId=x", "limit=101"] {
        assert_eq!(
            api.get(AUDITOR, &format!("/access-log?{bad}")).await.0,
            400,
            "{bad}"
        );
    }
    let (status, _) = api
        .get(
            AUDITOR,
            "/access-log?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
        )
        .await;
    assert_eq!(status, 422);

    // Auditing is logged, but a client's or ticket's entries stay those of its data.
    let audits: Vec<AccessEntry> = access_log(&api.store)
        .await
        .into_iter()
        .filter(|entry| entry.record.route == "GET /access-log")
        .collect();
    assert_eq!(audits.len(), 9, "every read of the log, and the refusal");
    assert!(
        audits
            .iter()
            .all(|entry| entry.record.client_identifier.is_none()
                && entry.record.ticket_id.is_none())
    );
    assert_eq!(audits[0].record.token, "dpo");

    // No route changes or deletes an entry, whatever the token.
    let before: Vec<AccessEntry> = access_log(&api.store).await;
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let (status, _) = api
            .send(ADMIN, method, "/access-log", Some(json!({})))
            .await;
        assert_eq!(status, 405, "{method}");
    }
    assert_eq!(access_log(&api.store).await, before);
}

#[tokio::test]
async fn me_answers_any_valid_token_with_its_name_and_scopes_and_is_not_logged() {
    let api = Api::start().await;
    assert_eq!(
        api.get(READER, "/me").await,
        (200, json!({"name": "support-viewer", "scopes": ["read"]}))
    );
    assert_eq!(
        api.get(AUDITOR, "/me").await,
        (200, json!({"name": "dpo", "scopes": ["read", "audit"]}))
    );
    assert_eq!(
        api.get("not-a-token-0123456789abcdefghijklmn", "/me")
            .await
            .0,
        401
    );
    assert!(access_log(&api.store).await.is_empty());
}

#[tokio::test]
async fn an_entry_the_database_refuses_does_not_lose_the_completed_write() {
    let api = Api::start().await;
    // The access log refuses every entry of `admin`: a unique index it already holds a value
    // of, the way a real database refuses a write.
    let database = api.store.database();
    database
        .run_command(doc! {"createIndexes": "access_log", "indexes": [
            {"key": {"token": 1}, "name": "one_entry_per_token", "unique": true}
        ]})
        .await
        .expect("index");
    database
        .run_command(doc! {"insert": "access_log", "documents": [{"token": "admin"}]})
        .await
        .expect("insert");
    let (logs, _guard) = CapturedLogs::start();

    let (status, created) = api
        .send(
            ADMIN,
            "POST",
            "/clients",
            Some(json!({"identifier": "972500000001", "name": "Eve"})),
        )
        .await;

    assert_eq!(status, 201, "{created}");
    let (status, read) = api.get(READER, "/clients/972500000001").await;
    assert_eq!(
        (status, &read["name"]),
        (200, &json!("Eve")),
        "the write is kept"
    );
    let text = logs.text();
    assert!(text.contains("access log entry not written"), "{text}");
    for personal in ["972500000001", "Eve", "access-test/1.0", ADMIN] {
        assert!(!text.contains(personal), "{personal} in the logs: {text}");
    }
}
