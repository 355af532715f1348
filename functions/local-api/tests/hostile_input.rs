//! Hostile input to every REST body (create and update a client, create and update a ticket)
//! through the real handlers, token check first (`shared::rest::serve`), on the real test
//! database; and over HTTP through the local API, and as API Gateway events, for what the
//! transport shapes (sizes, encodings).
//!
//! The rules: no input panics or gets a 5xx; every refusal is a 4xx in the one error shape
//! `{"error": {"code", "message"}}` and writes nothing; what is accepted is read back exactly
//! as sent; text that looks like a MongoDB operator is stored as text, never interpreted.
//!
//! Case counts are modest so that the workspace test run stays quick; `PROPTEST_CASES=1000`
//! runs more of every property.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use chrono::{DateTime, Utc};
use lambda_http::{Body, Request, Response};
use local_api::handlers::States;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use shared::db::bson::{Bson, Document};
use shared::rest::{RestHandler, serve};
use shared::state::ApiState;
use shared::testing::hostile::{DOLLAR_PREFIXED, JsonEdit, OPERATOR_LOOKING, edit_json};
use shared::testing::requests::{ApiRequest, TEST_API_TOKEN, api_state, seed_client, seed_ticket};
use shared::testing::{self, stored_documents};

/// Seeded in every database: two clients with a ticket each.
const DANA: &str = "dana+vip@example.com";
const DANA_TICKET: i64 = 1001;
const OTHER: &str = "972521234567";
const OTHER_TICKET: i64 = 1002;

const MIB: usize = 1024 * 1024;

/// `PROPTEST_CASES` when set, else `default_cases`; failures are reported, not written into
/// the source tree.
fn config(default_cases: u32) -> Config {
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_some() {
        config
    } else {
        Config {
            cases: default_cases,
            ..config
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Routes and what they may answer

#[derive(Debug, Clone)]
enum Route {
    CreateClient,
    UpdateClient(String),
    CreateTicket(String),
    UpdateTicket(String),
}

impl Route {
    /// The route's answer to `request`, through `serve` as every caller reaches it. A ticket's
    /// update may erase archived files: it gets a file store of its own.
    async fn answer(&self, state: &ApiState, request: Request) -> Response<Body> {
        let handler = match self {
            Self::CreateClient => create_client::HANDLER,
            Self::UpdateClient(_) => update_client::HANDLER,
            Self::CreateTicket(_) => create_ticket::HANDLER,
            Self::UpdateTicket(_) => {
                let with_files = state.with_files(testing::local_files());
                return serve(&with_files, request, update_ticket::HANDLER).await;
            }
        };
        serve(state, request, handler).await
    }

    /// The request as API Gateway hands it over (the URI is only for show: handlers read the
    /// path parameters).
    fn request(&self, body: Vec<u8>) -> Request {
        match self {
            Self::CreateClient => ApiRequest::new("POST", "/clients"),
            Self::UpdateClient(identifier) => {
                ApiRequest::new("PATCH", "/clients/identifier").path("identifier", identifier)
            }
            Self::CreateTicket(identifier) => {
                ApiRequest::new("POST", "/clients/identifier/tickets")
                    .path("identifier", identifier)
            }
            Self::UpdateTicket(ticket_id) => {
                ApiRequest::new("PATCH", "/tickets/ticketId").path("ticketId", ticket_id)
            }
        }
        .raw(body)
        .build()
    }

    /// Every status the route may answer a body with (`openapi.yaml`).
    fn statuses(&self) -> &'static [u16] {
        match self {
            Self::CreateClient => &[201, 400, 409, 413, 422],
            Self::UpdateClient(_) => &[200, 400, 404, 413, 422],
            Self::CreateTicket(_) => &[201, 400, 404, 409, 413, 422],
            Self::UpdateTicket(_) => &[200, 400, 404, 413, 422],
        }
    }

    fn all() -> [Route; 4] {
        [
            Self::CreateClient,
            Self::UpdateClient(DANA.into()),
            Self::CreateTicket(DANA.into()),
            Self::UpdateTicket(DANA_TICKET.to_string()),
        ]
    }
}

/// A database with the seed, the state the handlers run with, and a runtime of its own for
/// the property tests (proptest runs each case synchronously).
struct Api {
    runtime: tokio::runtime::Runtime,
    state: ApiState,
}

impl Api {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let state = runtime.block_on(seeded_state());
        Self { runtime, state }
    }

    fn call(&self, route: &Route, request: Request) -> Response<Body> {
        self.runtime.block_on(route.answer(&self.state, request))
    }

    fn stored(&self) -> Stored {
        self.runtime.block_on(stored_documents(&self.state.store))
    }
}

type Stored = Vec<(&'static str, Vec<Document>)>;

async fn seeded_state() -> ApiState {
    let store = testing::store().await;
    seed_client(&store, DANA, Some("Dana")).await;
    seed_ticket(&store, DANA, DANA_TICKET).await;
    seed_client(&store, OTHER, None).await;
    seed_ticket(&store, OTHER, OTHER_TICKET).await;
    api_state(store)
}

/// The code each refusal status carries.
fn code_of(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "bad_request",
        401 => "unauthorized",
        404 => "not_found",
        409 => "conflict",
        413 => "payload_too_large",
        422 => "validation_failed",
        _ => return None,
    })
}

/// The one error shape, exactly: `{"error": {"code": <the status's code>, "message": <text>}}`
/// as `application/json`, nothing more.
fn check_error_shape(status: u16, content_type: Option<&str>, body: &[u8]) -> Result<(), String> {
    if content_type != Some("application/json") {
        return Err(format!("content type {content_type:?}"));
    }
    let body: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        )
    })?;
    let error = body
        .as_object()
        .filter(|o| o.len() == 1)
        .and_then(|o| o.get("error"))
        .and_then(Value::as_object)
        .filter(|e| e.len() == 2)
        .ok_or_else(|| format!("not the error shape: {body}"))?;
    let code = error.get("code").and_then(Value::as_str);
    if code != code_of(status) {
        return Err(format!("{status} with code {code:?}"));
    }
    match error.get("message").and_then(Value::as_str) {
        Some(message) if !message.is_empty() => Ok(()),
        _ => Err(format!("no message: {body}")),
    }
}

fn assert_refused(response: &Response<Body>, status: u16, case: &str) {
    assert_eq!(
        response.status().as_u16(),
        status,
        "{case}: {}",
        String::from_utf8_lossy(response.body().as_ref())
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    check_error_shape(status, content_type, response.body().as_ref())
        .unwrap_or_else(|problem| panic!("{case}: {problem}"));
}

fn body_json(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(response.body().as_ref())
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Reading back through the handlers

async fn get(state: &ApiState, handler: RestHandler, name: &str, value: &str) -> Response<Body> {
    let request = ApiRequest::new("GET", "/read-back")
        .path(name, value)
        .build();
    serve(state, request, handler).await
}

async fn get_client(state: &ApiState, identifier: &str) -> Response<Body> {
    get(state, get_client::HANDLER, "identifier", identifier).await
}

async fn get_ticket(state: &ApiState, ticket_id: i64) -> Response<Body> {
    get(
        state,
        get_ticket::HANDLER,
        "ticketId",
        &ticket_id.to_string(),
    )
    .await
}

/// The ticket ids `GET /clients/{identifier}/tickets` lists (every one: the seed is small).
async fn listed_tickets(state: &ApiState, identifier: &str) -> Option<Vec<i64>> {
    let request = ApiRequest::new("GET", "/clients/identifier/tickets")
        .path("identifier", identifier)
        .query("limit", "100")
        .build();
    let response = serve(state, request, list_client_tickets::HANDLER).await;
    if response.status() != 200 {
        return None;
    }
    let page = body_json(&response);
    Some(
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|t| t["ticketId"].as_i64().expect("a ticket id"))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// What an accepted body must have done

/// Two dates are the same instant at the store's precision (milliseconds).
fn same_instant(sent: &Value, read: &Value) -> bool {
    let instant = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .map(|d| d.timestamp_millis())
    };
    match (sent, read) {
        (Value::Null, Value::Null) => true,
        _ => instant(sent).is_some() && instant(sent) == instant(read),
    }
}

/// Each field sent is read back as sent; a field left out is read as its default.
fn check_fields(
    sent: &Map<String, Value>,
    read: &Value,
    defaults: &[(&str, Value)],
    dates: &[&str],
) -> Result<(), TestCaseError> {
    for (name, default) in defaults {
        let expected = sent.get(*name).unwrap_or(default);
        let actual = &read[*name];
        if dates.contains(name) {
            prop_assert!(
                same_instant(expected, actual),
                "{}: sent {}, read {}",
                name,
                expected,
                actual
            );
        } else if *name == "attachments" {
            let (Some(expected), Some(actual)) = (expected.as_array(), actual.as_array()) else {
                return Err(TestCaseError::fail(format!("attachments: {actual}")));
            };
            prop_assert_eq!(expected.len(), actual.len());
            for (sent, read) in expected.iter().zip(actual) {
                let sent = sent
                    .as_object()
                    .expect("an accepted attachment is an object");
                check_fields(sent, read, &attachment_defaults(), &[])?;
            }
        } else {
            prop_assert_eq!(expected, actual, "{}", name);
        }
    }
    Ok(())
}

fn attachment_defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("id", Value::Null),
        ("type", Value::Null),
        ("originalFileName", Value::Null),
        ("fileIdentifier", Value::Null),
        ("isEmbedded", json!(false)),
    ]
}

fn transaction_defaults() -> Vec<(&'static str, Value)> {
    vec![
        ("id", Value::Null),
        ("guid", Value::Null),
        ("dateTime", Value::Null),
        ("type", Value::Null),
        ("text", json!("")),
        ("html", json!("")),
        ("fromProtocolType", Value::Null),
        ("senderName", Value::Null),
        ("senderType", Value::Null),
        ("attachments", json!([])),
    ]
}

/// The transactions read are those sent, each as sent.
fn check_transactions(sent: &Value, read: &Value) -> Result<(), TestCaseError> {
    let sent = sent.as_array().expect("accepted transactions are a list");
    let read = read.as_array().expect("a ticket's transactions");
    prop_assert_eq!(sent.len(), read.len(), "transactions read back: {:?}", read);
    for transaction in sent {
        let id = &transaction["id"];
        let found = read.iter().find(|t| &t["id"] == id);
        let Some(found) = found else {
            return Err(TestCaseError::fail(format!("transaction {id} is missing")));
        };
        let transaction = transaction.as_object().expect("an accepted transaction");
        check_fields(transaction, found, &transaction_defaults(), &["dateTime"])?;
    }
    Ok(())
}

/// The documents of `collection` other than those `changed` picks.
fn others<'a>(
    stored: &'a Stored,
    collection: &str,
    changed: impl Fn(&Document) -> bool,
) -> Vec<&'a Document> {
    stored
        .iter()
        .filter(|(name, _)| *name == collection)
        .flat_map(|(_, documents)| documents)
        .filter(|d| !changed(d))
        .collect()
}

fn has_str(field: &'static str, value: String) -> impl Fn(&Document) -> bool {
    move |d| d.get_str(field).is_ok_and(|v| v == value)
}

fn has_ticket_id(ticket_id: i64) -> impl Fn(&Document) -> bool {
    move |d| matches!(d.get("ticketId"), Some(Bson::Int64(id)) if *id == ticket_id)
}

/// Everything but what the accepted request was about is as it was.
fn check_nothing_else_changed(
    before: &Stored,
    after: &Stored,
    client: Option<&str>,
    ticket: Option<i64>,
) -> Result<(), TestCaseError> {
    let client = client.unwrap_or_default().to_owned();
    let ticket = ticket.unwrap_or_default();
    for (collection, changed) in [
        (
            "clients",
            Box::new(has_str("identifier", client.clone())) as Box<dyn Fn(&Document) -> bool>,
        ),
        ("tickets", Box::new(has_ticket_id(ticket))),
        ("transactions", Box::new(has_ticket_id(ticket))),
    ] {
        prop_assert_eq!(
            others(before, collection, &changed),
            others(after, collection, &changed),
            "{} changed beyond the request's own documents",
            collection
        );
    }
    Ok(())
}

/// The name a client had before the request.
fn stored_name(stored: &Stored, identifier: &str) -> Value {
    let client = others(stored, "clients", |d| {
        !d.get_str("identifier").is_ok_and(|v| v == identifier)
    });
    match client.first().and_then(|d| d.get("name")) {
        Some(Bson::String(name)) => json!(name),
        _ => Value::Null,
    }
}

/// Holds the response to one body to the rules; an accepted body is read back through the
/// handlers and compared with what was sent.
fn check_case(api: &Api, route: &Route, body: Vec<u8>) -> Result<(), TestCaseError> {
    let before = api.stored();
    let response = api.call(route, route.request(body.clone()));
    let status = response.status().as_u16();
    let shown = || String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    prop_assert!(
        route.statuses().contains(&status),
        "{:?} answered {} to {}: {}",
        route,
        status,
        shown(),
        String::from_utf8_lossy(response.body().as_ref())
    );
    if status >= 400 {
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        check_error_shape(status, content_type, response.body().as_ref())
            .map_err(|problem| TestCaseError::fail(format!("{problem} for {}", shown())))?;
        prop_assert!(api.stored() == before, "a refused body wrote: {}", shown());
        return Ok(());
    }

    // Accepted: JSON, an object (anything else is refused).
    let sent: Value = serde_json::from_slice(&body).expect("an accepted body is JSON");
    let sent = sent
        .as_object()
        .expect("an accepted body is an object")
        .clone();
    let after = api.stored();
    let state = &api.state;
    match route {
        Route::CreateClient => {
            let identifier = sent["identifier"].as_str().expect("a string identifier");
            let read = api.runtime.block_on(get_client(state, identifier));
            prop_assert_eq!(read.status(), 200);
            let read = body_json(&read);
            check_fields(
                &sent,
                &read,
                &[("identifier", Value::Null), ("name", Value::Null)],
                &[],
            )?;
            prop_assert_eq!(&read["tickets"], &json!([]));
            check_nothing_else_changed(&before, &after, Some(identifier), None)?;
        }
        Route::UpdateClient(identifier) => {
            let read = api.runtime.block_on(get_client(state, identifier));
            prop_assert_eq!(read.status(), 200);
            let read = body_json(&read);
            let name = stored_name(&before, identifier);
            check_fields(&sent, &read, &[("name", name)], &[])?;
            prop_assert_eq!(&read["identifier"], &json!(identifier));
            check_nothing_else_changed(&before, &after, Some(identifier), None)?;
        }
        Route::CreateTicket(identifier) => {
            let ticket_id = sent["ticketId"].as_i64().expect("an integer ticket id");
            let read = api.runtime.block_on(get_ticket(state, ticket_id));
            prop_assert_eq!(read.status(), 200);
            let read = body_json(&read);
            check_fields(
                &sent,
                &read,
                &[
                    ("ticketId", Value::Null),
                    ("clientName", Value::Null),
                    ("ticketOpeningDate", Value::Null),
                    ("protocolType", Value::Null),
                    ("closedAt", Value::Null),
                    ("tags", json!([])),
                ],
                &["ticketOpeningDate", "closedAt"],
            )?;
            prop_assert_eq!(&read["clientIdentifier"], &json!(identifier));
            let sent_transactions = sent.get("transactions").cloned().unwrap_or(json!([]));
            check_transactions(&sent_transactions, &read["transactions"])?;
            prop_assert_eq!(
                read["transactionCount"].as_u64(),
                sent_transactions.as_array().map(|t| t.len() as u64)
            );
            let listed = api
                .runtime
                .block_on(listed_tickets(state, identifier))
                .expect("the client's tickets");
            prop_assert!(listed.contains(&ticket_id), "{:?}", listed);
            check_nothing_else_changed(&before, &after, Some(identifier), Some(ticket_id))?;
        }
        Route::UpdateTicket(ticket_id) => {
            let ticket_id: i64 = ticket_id.parse().expect("an accepted ticket id");
            let read = api.runtime.block_on(get_ticket(state, ticket_id));
            prop_assert_eq!(read.status(), 200);
            let read = body_json(&read);
            for (name, value) in &sent {
                match name.as_str() {
                    "transactions" => {
                        check_transactions(value, &read["transactions"])?;
                        prop_assert_eq!(
                            read["transactionCount"].as_u64(),
                            value.as_array().map(|t| t.len() as u64)
                        );
                    }
                    "ticketOpeningDate" | "closedAt" => {
                        prop_assert!(same_instant(value, &read[name]), "{}", name)
                    }
                    _ => prop_assert_eq!(value, &read[name], "{}", name),
                }
            }
            let client = read["clientIdentifier"].as_str().map(str::to_owned);
            check_nothing_else_changed(&before, &after, client.as_deref(), Some(ticket_id))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// Text for identifiers, names, tags and labels: valid, operator-looking, `$`-prefixed,
/// empty, too long, with white space or control characters, anything.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(OPERATOR_LOOKING.to_vec()).prop_map(str::to_owned),
        1 => prop::sample::select(DOLLAR_PREFIXED.to_vec()).prop_map(str::to_owned),
        6 => "[a-z0-9@.+_{}:\"$-]{1,12}",
        1 => any::<String>(),
        1 => prop::sample::select(vec![
            "", " lead", "trail ", "tab\there", "nul\u{0}", "bidi\u{202e}x", "דנה כהן", "😕",
            "a/b", "100%", DANA, OTHER,
        ])
        .prop_map(str::to_owned),
        1 => prop::sample::select(vec![101, 201, 321]).prop_map(|n| "x".repeat(n)),
    ]
}

/// Free text (a transaction's text or HTML): anything.
fn free_text() -> impl Strategy<Value = String> {
    prop_oneof![label(), any::<String>(), ".{0,300}"]
}

/// Dates: valid RFC 3339 in every precision and offset, edges of the range, and not dates.
fn date() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (1970i32..2100, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60, 0u32..60, 0u32..1000)
            .prop_map(|(y, mo, d, h, mi, s, ms)| {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
            }),
        1 => (0u32..10_000_000, -14i32..=14).prop_map(|(frac, offset)| {
            format!("2024-03-10T08:15:42.{frac:07}{:+03}:00", offset)
        }),
        1 => prop::sample::select(vec![
            "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z",
            "1900-02-28T12:00:00-12:00", "2024-02-30T00:00:00Z", "2024-03-10T08:15:42",
            "2024-03-10 08:15:42Z", "+10000-01-01T00:00:00Z", "yesterday", "", "1710058542",
        ])
        .prop_map(str::to_owned),
    ]
}

fn id() -> impl Strategy<Value = i64> {
    prop_oneof![3 => 1i64..5, 1 => any::<i64>(), 1 => Just(0), 1 => Just(i64::MAX)]
}

/// A field that may be left out: `None`.
fn maybe<T: std::fmt::Debug + Clone>(
    value: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::weighted(0.7, value)
}

fn insert(object: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(value) = value {
        object.insert(name.into(), value);
    }
}

fn attachment() -> impl Strategy<Value = Value> {
    (
        maybe(id()),
        maybe(label()),
        maybe(label()),
        maybe(label()),
        maybe(any::<bool>()),
    )
        .prop_map(|(id, kind, name, file, embedded)| {
            let mut object = Map::new();
            insert(&mut object, "id", id.map(Value::from));
            insert(&mut object, "type", kind.map(Value::from));
            insert(&mut object, "originalFileName", name.map(Value::from));
            insert(&mut object, "fileIdentifier", file.map(Value::from));
            insert(&mut object, "isEmbedded", embedded.map(Value::from));
            Value::Object(object)
        })
}

fn transaction() -> impl Strategy<Value = Value> {
    (
        (
            id(),
            date(),
            label(),
            maybe(free_text()),
            maybe(free_text()),
        ),
        (
            maybe(label()),
            maybe(label()),
            maybe(label()),
            maybe(label()),
            maybe(prop::collection::vec(attachment(), 0..3)),
        ),
    )
        .prop_map(
            |((id, date, kind, text, html), (guid, from, sender, sender_type, attachments))| {
                let mut object = Map::new();
                object.insert("id".into(), id.into());
                object.insert("dateTime".into(), date.into());
                object.insert("type".into(), kind.into());
                insert(&mut object, "text", text.map(Value::from));
                insert(&mut object, "html", html.map(Value::from));
                insert(&mut object, "guid", guid.map(Value::from));
                insert(&mut object, "fromProtocolType", from.map(Value::from));
                insert(&mut object, "senderName", sender.map(Value::from));
                insert(&mut object, "senderType", sender_type.map(Value::from));
                insert(&mut object, "attachments", attachments.map(Value::from));
                Value::Object(object)
            },
        )
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| {
            serde_json::Number::from_f64(f).map(Value::Number)
        }),
        label().prop_map(Value::String),
        date().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Object keys: the fields of the bodies (so that edits reach them), operator keys, anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "identifier", "name", "ticketId", "clientName", "ticketOpeningDate", "protocolType",
            "transactions", "closedAt", "tags", "id", "dateTime", "type", "text", "html", "guid",
            "fromProtocolType", "senderName", "senderType", "attachments", "originalFileName",
            "fileIdentifier", "isEmbedded", "file", "$set", "$where", "a.b", "_id", "createdAt",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// 1 or 2 edits anywhere in a body: a value replaced by any other, a field removed or added,
/// a value wrapped in a list or turned into its JSON text.
fn edited(body: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    let edit = prop_oneof![
        3 => json_value().prop_map(JsonEdit::Replace),
        2 => Just(JsonEdit::Remove),
        2 => (key(), json_value()).prop_map(|(k, v)| JsonEdit::Insert(k, v)),
        1 => Just(JsonEdit::Wrap),
        1 => Just(JsonEdit::Stringify),
    ];
    let edits = prop::collection::vec((prop::collection::vec(any::<usize>(), 0..5), edit), 1..3);
    (body, edits).prop_map(|(mut body, edits)| {
        for (path, edit) in &edits {
            edit_json(&mut body, path, edit);
        }
        body
    })
}

/// A body's bytes, shown as text when a case fails.
#[derive(Clone)]
struct Bytes(Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// A body's bytes: mostly the route's own shape, as generated or edited; sometimes any JSON
/// or any bytes.
fn bytes_of(body: impl Strategy<Value = Value> + 'static) -> impl Strategy<Value = Bytes> {
    let body = body.boxed();
    prop_oneof![
        6 => body.clone().prop_map(|v| Bytes(v.to_string().into_bytes())),
        3 => edited(body).prop_map(|v| Bytes(v.to_string().into_bytes())),
        1 => json_value().prop_map(|v| Bytes(v.to_string().into_bytes())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Bytes),
    ]
}

fn client_body() -> impl Strategy<Value = Value> {
    (label(), maybe(label())).prop_map(|(identifier, name)| {
        let mut object = Map::new();
        object.insert("identifier".into(), identifier.into());
        insert(&mut object, "name", name.map(Value::from));
        Value::Object(object)
    })
}

fn client_patch() -> impl Strategy<Value = Value> {
    maybe(maybe(label())).prop_map(|name| {
        let mut object = Map::new();
        insert(
            &mut object,
            "name",
            name.map(|n| n.map_or(Value::Null, Value::from)),
        );
        Value::Object(object)
    })
}

fn ticket_body() -> impl Strategy<Value = Value> {
    (
        prop_oneof![3 => 1i64..100_000, 1 => Just(DANA_TICKET), 1 => any::<i64>()],
        maybe(label()),
        date(),
        label(),
        maybe(prop::collection::vec(transaction(), 0..4)),
        maybe(maybe(date())),
        maybe(prop::collection::vec(label(), 0..4)),
    )
        .prop_map(
            |(ticket_id, name, opened, protocol, transactions, closed, tags)| {
                let mut object = Map::new();
                object.insert("ticketId".into(), ticket_id.into());
                insert(&mut object, "clientName", name.map(Value::from));
                object.insert("ticketOpeningDate".into(), opened.into());
                object.insert("protocolType".into(), protocol.into());
                insert(&mut object, "transactions", transactions.map(Value::from));
                insert(
                    &mut object,
                    "closedAt",
                    closed.map(|c| c.map_or(Value::Null, Value::from)),
                );
                insert(&mut object, "tags", tags.map(Value::from));
                Value::Object(object)
            },
        )
}

fn ticket_patch() -> impl Strategy<Value = Value> {
    let nullable = |s: BoxedStrategy<Value>| maybe(prop_oneof![4 => s, 1 => Just(Value::Null)]);
    (
        nullable(label().prop_map(Value::from).boxed()),
        nullable(date().prop_map(Value::from).boxed()),
        nullable(label().prop_map(Value::from).boxed()),
        nullable(
            prop::collection::vec(transaction(), 0..4)
                .prop_map(Value::from)
                .boxed(),
        ),
        nullable(date().prop_map(Value::from).boxed()),
        nullable(
            prop::collection::vec(label(), 0..4)
                .prop_map(Value::from)
                .boxed(),
        ),
    )
        .prop_map(|(name, opened, protocol, transactions, closed, tags)| {
            let mut object = Map::new();
            insert(&mut object, "clientName", name);
            insert(&mut object, "ticketOpeningDate", opened);
            insert(&mut object, "protocolType", protocol);
            insert(&mut object, "transactions", transactions);
            insert(&mut object, "closedAt", closed);
            insert(&mut object, "tags", tags);
            Value::Object(object)
        })
}

/// Mostly the seeded client (so that bodies reach the database), sometimes any text.
fn client_in_path() -> impl Strategy<Value = String> {
    prop_oneof![4 => Just(DANA.to_owned()), 1 => Just(OTHER.to_owned()), 1 => label()]
}

fn ticket_in_path() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(DANA_TICKET.to_string()),
        1 => any::<i64>().prop_map(|id| id.to_string()),
        1 => label(),
    ]
}

fn run_property<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(&Api, S::Value) -> Result<(), TestCaseError>,
) {
    let api = Api::start();
    let mut runner = TestRunner::new(config(cases));
    runner
        .run(&strategy, |value| test(&api, value))
        .unwrap_or_else(|failure| panic!("{failure}"));
}

// ---------------------------------------------------------------------------------------------
// Properties

#[test]
fn any_client_body_is_created_as_sent_or_refused_in_the_error_shape_writing_nothing() {
    run_property(96, bytes_of(client_body()), |api, body| {
        check_case(api, &Route::CreateClient, body.0)
    });
}

#[test]
fn any_client_patch_is_applied_as_sent_or_refused_in_the_error_shape_writing_nothing() {
    run_property(
        96,
        (client_in_path(), bytes_of(client_patch())),
        |api, (identifier, body)| check_case(api, &Route::UpdateClient(identifier), body.0),
    );
}

#[test]
fn any_ticket_body_is_created_as_sent_or_refused_in_the_error_shape_writing_nothing() {
    run_property(
        96,
        (client_in_path(), bytes_of(ticket_body())),
        |api, (identifier, body)| check_case(api, &Route::CreateTicket(identifier), body.0),
    );
}

#[test]
fn any_ticket_patch_is_applied_as_sent_or_refused_in_the_error_shape_writing_nothing() {
    run_property(
        96,
        (ticket_in_path(), bytes_of(ticket_patch())),
        |api, (ticket_id, body)| check_case(api, &Route::UpdateTicket(ticket_id), body.0),
    );
}

/// Text made of operator syntax that the rules accept (no leading `$`, no white space).
fn operator_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "a", "{", "x.", "[", "\""]),
        prop::sample::select(OPERATOR_LOOKING.to_vec()),
        prop::sample::select(vec!["", "}", ".c", "$", "\":null}"]),
    )
        .prop_map(|(before, operator, after)| format!("{before}{operator}{after}"))
}

#[test]
fn operator_looking_text_is_stored_and_read_back_literally_and_selects_nothing_else() {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let texts = prop::collection::vec(operator_text(), 12);
    run_property(64, texts, |api, texts| {
        let state = &api.state;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        // Unique per case, so that every case creates its own client and ticket.
        let identifier = format!("{}#{n}", texts[0]);
        let ticket_id = 50_000 + n as i64;
        let call = |route: Route, body: Value| {
            let response = api.call(&route, route.request(body.to_string().into_bytes()));
            (response.status().as_u16(), body_json(&response))
        };

        let client = json!({"identifier": identifier, "name": texts[1]});
        let (status, created) = call(Route::CreateClient, client.clone());
        prop_assert_eq!(status, 201, "{}", created);
        let read = body_json(&api.runtime.block_on(get_client(state, &identifier)));
        prop_assert_eq!(&read["identifier"], &client["identifier"]);
        prop_assert_eq!(&read["name"], &client["name"]);

        let ticket = json!({
            "ticketId": ticket_id,
            "clientName": texts[2],
            "ticketOpeningDate": "2024-03-10T08:15:42.370Z",
            "protocolType": texts[3],
            "tags": [texts[4], texts[5]],
            "transactions": [{
                "id": 1,
                "dateTime": "2024-03-10T08:15:42.487Z",
                "type": texts[6],
                "text": texts[7],
                "html": texts[8],
                "guid": texts[9],
                "senderName": texts[10],
                "senderType": texts[11],
                "fromProtocolType": texts[3],
                "attachments": [{"id": 1, "type": texts[4], "originalFileName": texts[5],
                                 "fileIdentifier": texts[6]}]
            }]
        });
        let (status, created) = call(Route::CreateTicket(identifier.clone()), ticket.clone());
        prop_assert_eq!(status, 201, "{}", created);
        let read = body_json(&api.runtime.block_on(get_ticket(state, ticket_id)));
        for name in ["clientName", "protocolType", "tags"] {
            prop_assert_eq!(&read[name], &ticket[name], "{}", name);
        }
        let sent = ticket["transactions"][0].as_object().expect("an object");
        check_fields(
            sent,
            &read["transactions"][0],
            &transaction_defaults(),
            &["dateTime"],
        )?;

        // Filters by these identifiers select exactly their own documents.
        let listed = api.runtime.block_on(listed_tickets(state, &identifier));
        prop_assert_eq!(listed, Some(vec![ticket_id]));
        let listed = api.runtime.block_on(listed_tickets(state, DANA));
        prop_assert_eq!(listed, Some(vec![DANA_TICKET]));
        for never_created in [texts[0].as_str(), texts[1].as_str()] {
            let response = api.runtime.block_on(get_client(state, never_created));
            prop_assert_eq!(response.status(), 404, "{}", never_created);
            prop_assert_eq!(
                api.runtime.block_on(listed_tickets(state, never_created)),
                None
            );
        }

        // And the same text through the patches.
        let (status, patched) = call(
            Route::UpdateClient(identifier.clone()),
            json!({"name": texts[11]}),
        );
        prop_assert_eq!(status, 200, "{}", patched);
        let read = body_json(&api.runtime.block_on(get_client(state, &identifier)));
        prop_assert_eq!(&read["name"], &json!(texts[11]));
        let (status, patched) = call(
            Route::UpdateTicket(ticket_id.to_string()),
            json!({"tags": [texts[10], texts[9]], "clientName": texts[8]}),
        );
        prop_assert_eq!(status, 200, "{}", patched);
        let read = body_json(&api.runtime.block_on(get_ticket(state, ticket_id)));
        prop_assert_eq!(&read["tags"], &json!([texts[10], texts[9]]));
        prop_assert_eq!(&read["clientName"], &json!(texts[8]));
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Explicit cases

#[tokio::test]
async fn a_client_named_ne_null_is_read_back_literally_and_its_identifier_selects_no_other() {
    let state = seeded_state().await;
    let identifier = r#"{"$gt":""}"#;
    let request = ApiRequest::new("POST", "/clients")
        .json(json!({"identifier": identifier, "name": r#"{"$ne": null}"#}))
        .build();
    let created = serve(&state, request, create_client::HANDLER).await;
    assert_eq!(created.status(), 201, "{}", body_json(&created));

    let read = body_json(&get_client(&state, identifier).await);
    assert_eq!(read["identifier"], identifier);
    assert_eq!(read["name"], r#"{"$ne": null}"#);
    assert_eq!(read["tickets"], json!([]));
    // `{"$gt": ""}` as a filter would match every client and list their tickets.
    assert_eq!(listed_tickets(&state, identifier).await, Some(vec![]));
    assert_eq!(listed_tickets(&state, DANA).await, Some(vec![DANA_TICKET]));
    for lookalike in [r#"{"$ne":null}"#, r#"{"$gt": ""}"#, "$where", "a.b"] {
        assert_eq!(
            get_client(&state, lookalike).await.status(),
            404,
            "{lookalike}"
        );
    }
}

#[tokio::test]
async fn text_starting_with_a_dollar_is_refused_wherever_a_rule_applies_and_nothing_is_written() {
    let state = seeded_state().await;
    let before = stored_documents(&state.store).await;
    for dollar in DOLLAR_PREFIXED {
        let mut ticket = shared::testing::requests::ticket_body(77);
        let cases = [
            (Route::CreateClient, json!({"identifier": dollar})),
            (
                Route::CreateClient,
                json!({"identifier": "x@example.com", "name": dollar}),
            ),
            (Route::UpdateClient(DANA.into()), json!({"name": dollar})),
            (Route::CreateTicket(DANA.into()), {
                ticket["tags"] = json!(["ok", dollar]);
                ticket.clone()
            }),
            (Route::CreateTicket(DANA.into()), {
                ticket["tags"] = json!([]);
                ticket["protocolType"] = json!(dollar);
                ticket.clone()
            }),
            (
                Route::UpdateTicket(DANA_TICKET.to_string()),
                json!({"clientName": dollar}),
            ),
            (
                Route::UpdateTicket(DANA_TICKET.to_string()),
                json!({"transactions": [{"id": 1, "dateTime": "2024-03-10T08:15:42Z", "type": dollar}]}),
            ),
            (
                Route::UpdateTicket(DANA_TICKET.to_string()),
                json!({"transactions": [{"id": 1, "dateTime": "2024-03-10T08:15:42Z",
                                         "type": "Message", "senderName": dollar}]}),
            ),
        ];
        for (route, body) in cases {
            let request = route.request(body.to_string().into_bytes());
            let response = route.answer(&state, request).await;
            assert_refused(&response, 422, &format!("{route:?} {body}"));
        }
    }
    assert!(stored_documents(&state.store).await == before);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413_on_every_body_route_and_one_mebibyte_is_read() {
    let state = seeded_state().await;
    let before = stored_documents(&state.store).await;
    for route in Route::all() {
        // Valid JSON, padded with white space: only the size can refuse it.
        let mut body = br#"{"name": "Dana"}"#.to_vec();
        body.resize(MIB + 1, b' ');
        let response = route.answer(&state, route.request(body)).await;
        assert_refused(&response, 413, &format!("{route:?}"));
    }
    assert!(stored_documents(&state.store).await == before);

    let mut body = json!({"identifier": "padded@example.com"})
        .to_string()
        .into_bytes();
    body.resize(MIB, b' ');
    let response = serve(
        &state,
        Route::CreateClient.request(body),
        create_client::HANDLER,
    )
    .await;
    assert_eq!(response.status(), 201, "1 MiB is within the limit");
}

#[tokio::test]
async fn a_transaction_id_sent_twice_is_refused_rather_than_half_stored() {
    let state = seeded_state().await;
    let before = stored_documents(&state.store).await;
    let twice = json!([
        {"id": 7, "dateTime": "2024-03-10T08:15:42Z", "type": "Message", "text": "first"},
        {"id": 7, "dateTime": "2024-03-10T08:16:42Z", "type": "Message", "text": "second"},
    ]);
    let mut ticket = shared::testing::requests::ticket_body(77);
    ticket["transactions"] = twice.clone();
    for (route, body) in [
        (Route::CreateTicket(DANA.into()), ticket),
        (
            Route::UpdateTicket(DANA_TICKET.to_string()),
            json!({"transactions": twice}),
        ),
    ] {
        let response = route
            .answer(&state, route.request(body.to_string().into_bytes()))
            .await;
        assert_refused(&response, 422, &format!("{route:?}"));
        assert_eq!(
            body_json(&response)["error"]["message"],
            "transactions[].id 7 appears more than once"
        );
    }
    assert!(stored_documents(&state.store).await == before);
}

/// Bodies that are not JSON at all; each is refused with 400 by every body route.
fn unreadable_bodies() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("100k [", "[".repeat(100_000).into_bytes()),
        (
            "100k [ closed",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
        ("100k {\"a\":", "{\"a\":".repeat(100_000).into_bytes()),
        (
            "deep inside a field",
            format!(
                "{{\"identifier\": {}1{}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
        ),
        (
            "invalid UTF-8 in a string",
            b"{\"identifier\": \"a\xff\xfeb\"}".to_vec(),
        ),
        (
            "invalid UTF-8 in a key",
            b"{\"name\xc3\x28\": \"x\"}".to_vec(),
        ),
        ("an overlong encoding", b"{\"name\": \"\xc0\xaf\"}".to_vec()),
        (
            "a UTF-16 surrogate in UTF-8",
            b"{\"name\": \"\xed\xa0\x80\"}".to_vec(),
        ),
        ("a lone surrogate escape", br#"{"name": "\ud800"}"#.to_vec()),
        (
            "UTF-16",
            "{\"name\": \"x\"}"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
        ),
        ("a number out of range", br#"{"ticketId": 1e999}"#.to_vec()),
        ("NUL bytes", b"{\0}".to_vec()),
    ]
}

#[tokio::test]
async fn deep_nesting_and_invalid_utf8_are_a_400_on_every_body_route_and_nothing_is_written() {
    let state = seeded_state().await;
    let before = stored_documents(&state.store).await;
    for route in Route::all() {
        for (case, body) in unreadable_bodies() {
            let response = route.answer(&state, route.request(body)).await;
            assert_refused(&response, 400, &format!("{route:?} {case}"));
        }
    }
    assert!(stored_documents(&state.store).await == before);
}

#[tokio::test]
async fn nesting_within_the_depth_limit_is_refused_as_a_wrong_type_not_a_crash() {
    let state = seeded_state().await;
    // 120 levels: within serde_json's limit of 128, so it is read, then refused by its type.
    let body = format!(
        "{{\"identifier\": \"deep@example.com\", \"name\": {}1{}}}",
        "[".repeat(120),
        "]".repeat(120)
    );
    let response = serve(
        &state,
        Route::CreateClient.request(body.into_bytes()),
        create_client::HANDLER,
    )
    .await;
    assert_refused(&response, 400, "a name 120 lists deep");
}

/// Duplicate keys: the JSON text is read into a value first, where the last occurrence of a
/// key wins (as in JavaScript's `JSON.parse`); the rules then apply to that value, so what is
/// checked is what is stored.
#[tokio::test]
async fn a_duplicate_key_takes_its_last_value_which_is_the_one_checked_and_stored() {
    let state = seeded_state().await;
    let response = serve(
        &state,
        Route::CreateClient.request(
            br#"{"identifier": "first@example.com", "identifier": "last@example.com"}"#.to_vec(),
        ),
        create_client::HANDLER,
    )
    .await;
    assert_eq!(response.status(), 201);
    assert_eq!(body_json(&response)["identifier"], "last@example.com");
    assert_eq!(get_client(&state, "first@example.com").await.status(), 404);
    assert_eq!(get_client(&state, "last@example.com").await.status(), 200);

    // A refused first value does not matter; a refused last value is refused.
    let response = serve(
        &state,
        Route::UpdateClient(DANA.into()).request(br#"{"name": 5, "name": "Dana Cohen"}"#.to_vec()),
        update_client::HANDLER,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        body_json(&get_client(&state, DANA).await)["name"],
        "Dana Cohen"
    );
    let before = stored_documents(&state.store).await;
    for (route, body) in [
        (
            Route::UpdateClient(DANA.into()),
            br#"{"name": "fine", "name": "$where"}"#.to_vec(),
        ),
        (
            Route::UpdateTicket(DANA_TICKET.to_string()),
            br#"{"tags": ["ok"], "tags": null}"#.to_vec(),
        ),
        (
            Route::UpdateTicket(DANA_TICKET.to_string()),
            br#"{"tags": ["ok"], "tags": ["$gt"]}"#.to_vec(),
        ),
    ] {
        let response = route.answer(&state, route.request(body)).await;
        assert_refused(&response, 422, &format!("{route:?}"));
    }
    // Nested objects too: the last `type` of the transaction is the one checked.
    let route = Route::UpdateTicket(DANA_TICKET.to_string());
    let response = route
        .answer(
            &state,
            route.request(
                br#"{"transactions": [{"id": 1, "dateTime": "2024-03-10T08:15:42Z", "type": "Message", "type": ""}]}"#
                    .to_vec(),
            ),
        )
        .await;
    assert_refused(&response, 422, "an empty last type");
    assert!(stored_documents(&state.store).await == before);
}

// ---------------------------------------------------------------------------------------------
// API Gateway events with base64 bodies

/// `events/create-client.json` carrying `body` base64-encoded, as API Gateway sends a body it
/// treats as binary, with the test token.
fn base64_event(body: &str) -> String {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/create-client.json");
    let mut event: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the event file"))
            .expect("the event is JSON");
    event["headers"]["authorization"] = json!(format!("Bearer {TEST_API_TOKEN}"));
    event["isBase64Encoded"] = json!(true);
    event["body"] = json!(body);
    event.to_string()
}

fn encoded(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn a_base64_body_is_decoded_as_api_gateway_sends_it_and_hostile_bytes_inside_are_refused() {
    let state = seeded_state().await;
    let event = base64_event(&encoded(
        json!({"identifier": "b64@example.com", "name": "דנה כהן"})
            .to_string()
            .as_bytes(),
    ));
    let request = lambda_http::request::from_str(&event).expect("an API Gateway event");
    let response = serve(&state, request, create_client::HANDLER).await;
    assert_eq!(response.status(), 201, "{}", body_json(&response));
    let read = body_json(&get_client(&state, "b64@example.com").await);
    assert_eq!(read["name"], "דנה כהן");

    let before = stored_documents(&state.store).await;
    let mut oversized = json!({"identifier": "big@example.com"})
        .to_string()
        .into_bytes();
    oversized.resize(MIB + 1, b' ');
    let mut cases: Vec<(String, Vec<u8>, u16)> = unreadable_bodies()
        .into_iter()
        .map(|(case, body)| (case.to_owned(), body, 400))
        .collect();
    cases.push(("over 1 MiB once decoded".into(), oversized, 413));
    cases.push(("empty".into(), Vec::new(), 400));
    for (case, body, status) in cases {
        let request =
            lambda_http::request::from_str(&base64_event(&encoded(&body))).expect("an event");
        let response = serve(&state, request, create_client::HANDLER).await;
        assert_refused(&response, status, &case);
    }
    assert!(stored_documents(&state.store).await == before);
}

#[test]
fn a_body_marked_base64_that_is_not_base64_is_refused_before_lambda_http_reads_it() {
    use lambda_http::request::LambdaRequest;
    for body in [
        "not base64!",
        "eyJ",
        "eyJpZGVudGlmaWVyIjoiYSJ9=",
        "e yJ9",
        "\u{0}",
        "ü",
    ] {
        let event: LambdaRequest =
            serde_json::from_str(&base64_event(body)).expect("an API Gateway event");
        let refusal = shared::runtime::undecodable_body(&event).expect("refused");
        assert_eq!(refusal.status(), 400, "{body}");
        assert_eq!(refusal.code(), "bad_request", "{body}");
    }
    for body in ["", "eyJpZGVudGlmaWVyIjoiYSJ9", "AA=="] {
        let event: LambdaRequest =
            serde_json::from_str(&base64_event(body)).expect("an API Gateway event");
        assert!(
            shared::runtime::undecodable_body(&event).is_none(),
            "{body}"
        );
        // What passes is what lambda_http decodes without a panic.
        let _ = lambda_http::request::from_str(&base64_event(body)).expect("an event");
    }
}

// ---------------------------------------------------------------------------------------------
// Over HTTP, through the local API

#[tokio::test]
async fn over_http_hostile_bodies_get_the_error_shape_and_write_nothing() {
    let state = seeded_state().await;
    let store = state.store.clone();
    let base =
        common::serve_on_loopback(States::new(state.with_files(testing::local_files()), None))
            .await;
    let http = shared::testing::http_client();
    let before = stored_documents(&store).await;

    let mut over_a_mebibyte = br#"{"name": "x"}"#.to_vec();
    over_a_mebibyte.resize(MIB + 1, b' ');
    let mut over_ten = over_a_mebibyte.clone();
    over_ten.resize(10 * MIB + 1, b' ');
    let mut cases: Vec<(String, Vec<u8>, u16)> = unreadable_bodies()
        .into_iter()
        .map(|(case, body)| (case.to_owned(), body, 400))
        .collect();
    cases.push(("over 1 MiB".into(), over_a_mebibyte, 413));
    // Over API Gateway's own 10 MB: refused by the local API before any handler.
    cases.push(("over 10 MiB".into(), over_ten, 413));
    cases.push(("not JSON".into(), b"identifier=a".to_vec(), 400));
    let dana = "dana%2Bvip%40example.com";
    for (method, path) in [
        ("POST", "/clients".to_owned()),
        ("PATCH", format!("/clients/{dana}")),
        ("POST", format!("/clients/{dana}/tickets")),
        ("PATCH", format!("/tickets/{DANA_TICKET}")),
    ] {
        for (case, body, status) in &cases {
            let response = http
                .request(method.parse().expect("a method"), format!("{base}{path}"))
                .header("authorization", format!("Bearer {TEST_API_TOKEN}"))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("an answer");
            let got = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let answer = response.bytes().await.expect("a body");
            assert_eq!(
                got,
                *status,
                "{method} {path} {case}: {}",
                String::from_utf8_lossy(&answer)
            );
            check_error_shape(got, content_type.as_deref(), &answer)
                .unwrap_or_else(|problem| panic!("{method} {path} {case}: {problem}"));
        }
    }
    assert!(stored_documents(&store).await == before);

    // Duplicate keys over HTTP too: the last one.
    let response = http
        .post(format!("{base}/clients"))
        .header("authorization", format!("Bearer {TEST_API_TOKEN}"))
        .body(r#"{"identifier": "first@example.com", "identifier": "http@example.com"}"#)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.expect("JSON");
    assert_eq!(created["identifier"], "http@example.com");
}
