//! Hostile input to the two parsers of what Glassix sends: the webhook envelope
//! (`Delivery::parse`) and the ticket (`GET tickets/get/{id}`, read by the client's `decode`).
//! Whatever the input, each answers a value or an error and never panics; and what each
//! accepts follows its documented rule, computed here independently (`expected_delivery`,
//! `expected_ticket`), so a parser that grows stricter or looser fails these tests too. (One
//! shape is left to the parsers: serde's derive also reads a struct from an array of its field
//! values, which Glassix never sends.)
//!
//! The inputs reach the parsers' rules: the fixtures with fields they read dropped, retyped or
//! replaced (huge strings, odd Unicode, edge numbers), not random bytes, which are refused at
//! the first byte. The ticket properties count what they reached and fail when too few cases
//! are read as tickets, or refused, for the property to say anything.
//!
//! Case counts are modest so that the workspace test run stays quick; `PROPTEST_CASES=5000`
//! runs more of every property.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use shared::glassix::inbound::{Change, Delivery};
use shared::glassix::{EventName, GlassixError, Participant, Ticket, TicketList};
use shared::testing::fixture;
use shared::testing::glassix::{BASE_PATH, GlassixStub};
use shared::testing::hostile::{ByteEdit, JsonEdit, edit_bytes, edit_json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

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

const EVENT_FIXTURES: [&str; 3] = [
    "glassix/new-ticket-event.json",
    "glassix/ticket-state-change-closed-event.json",
    "glassix/ticket-state-change-open-event.json",
];

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|e| panic!("{name} is JSON: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Strategies

/// Strings a parser may meet: anything, the names and values these parsers look for, numbers
/// as text, dates good and bad, and operator-looking text.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => prop::sample::select(vec![
            "", " ", "NEW_TICKET", "TICKET_STATE_CHANGE", "Closed", "Open", "Client", "User",
            "WhatsApp", "Message", "Note", "48213977", " 48213977 ", "-1", "9223372036854775808",
            "1e3", "0x10", "2024-03-10T08:15:42.37Z", "2024-03-10T08:15:42", "0001-01-01T00:00:00",
            "2024-13-40T00:00:00", "+275760-09-13T00:00:00Z", "yesterday", "{\"$gt\": \"\"}",
            "$where", "a.b", "\u{0}", "\u{202e}", "😕", "null",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Object keys: mostly the fields these parsers read, so that generated values reach them.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "key", "dateTime", "changes", "_event", "ticketId", "ticketState", "ticket", "id",
            "state", "open", "close", "primaryProtocolType", "tags", "isScrambled", "participants",
            "transactions", "transactionsCount", "type", "identifier", "name", "displayName",
            "protocolType", "guidTransactionId", "fromProtocolType", "text", "html",
            "fromParticipant", "attachments", "uri", "fileIdentifier", "originalFileName",
            "isEmbedded", "paging", "next", "tickets",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("JSON has no NaN or infinity", |f| {
            serde_json::Number::from_f64(f).map(Value::Number)
        }),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

fn json_edit() -> impl Strategy<Value = (Vec<usize>, JsonEdit)> {
    let edit = prop_oneof![
        3 => json_value().prop_map(JsonEdit::Replace),
        2 => Just(JsonEdit::Remove),
        2 => (key(), json_value()).prop_map(|(k, v)| JsonEdit::Insert(k, v)),
        1 => Just(JsonEdit::Wrap),
        1 => Just(JsonEdit::Stringify),
    ];
    (prop::collection::vec(any::<usize>(), 0..8), edit)
}

/// A fixture after 1 to 4 edits anywhere in it.
fn mutated(document: Value) -> impl Strategy<Value = Value> {
    prop::collection::vec(json_edit(), 1..5).prop_map(move |edits| {
        let mut value = document.clone();
        for (path, edit) in &edits {
            edit_json(&mut value, path, edit);
        }
        value
    })
}

/// A fixture's bytes after 1 to 8 edits: broken JSON, broken UTF-8, cut short.
fn edited_bytes(bytes: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let edit = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, mask)| ByteEdit::Flip(at, mask)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| ByteEdit::Insert(at, byte)),
        any::<usize>().prop_map(ByteEdit::Delete),
        any::<usize>().prop_map(ByteEdit::Truncate),
    ];
    prop::collection::vec(edit, 1..9).prop_map(move |edits| {
        let mut bytes = bytes.clone();
        for edit in &edits {
            edit_bytes(&mut bytes, edit);
        }
        bytes
    })
}

/// Text that strains a reader: the names and values the parsers look for, huge strings, and
/// odd Unicode (bidi overrides, zero-width and combining marks, other scripts' digits and
/// blanks, the last code point).
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => text(),
        1 => (
            prop::sample::select(vec!["a", "ד", "😕", "e\u{301}", "\u{202e}", "\u{200b}", "\u{0}", "7"]),
            10_000..100_000_usize,
        )
            .prop_map(|(unit, times)| unit.repeat(times)),
        2 => prop::sample::select(vec![
            "\u{feff}", "\u{3000}", "\u{200b}\u{200d}", " \t\n", "\u{fffd}", "\u{10ffff}",
            "\u{e000}", "דָּנָה כֹּהֵן", "👩\u{200d}👩\u{200d}👧", "Z\u{335}\u{321}a\u{336}\u{317}",
            "\u{202e}2024-03-10T08:15:42Z", "２０２４-０３-１０T08:15:42", "2024-03-10T08:15:42.37Z\u{0}",
            "972521234567\u{200b}", "\u{2028}",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Numbers at the edges of what the models hold.
fn edge_number() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!(0),
        json!(-1),
        json!(48213977),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1.5),
        json!(-0.0),
        json!(1e300),
        json!(48213977.0),
    ])
}

/// What a field the parsers read is replaced with: any type, mostly text and numbers.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => hostile_text().prop_map(Value::String),
        2 => edge_number(),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => json_value(),
    ]
}

/// Fields some parser here reads: of a ticket, a participant, a transaction, an attachment,
/// a page of the list, an envelope and a change.
const READ: [&str; 35] = [
    "id",
    "state",
    "open",
    "close",
    "primaryProtocolType",
    "tags",
    "isScrambled",
    "participants",
    "transactions",
    "transactionsCount",
    "guidTransactionId",
    "dateTime",
    "fromProtocolType",
    "type",
    "text",
    "html",
    "fromParticipant",
    "attachments",
    "identifier",
    "name",
    "displayName",
    "protocolType",
    "isEmbedded",
    "uri",
    "fileIdentifier",
    "originalFileName",
    "tickets",
    "paging",
    "next",
    "key",
    "changes",
    "_event",
    "ticketId",
    "ticketState",
    "ticket",
];

/// Where `document` holds something a parser reads, as JSON pointers: every field named in
/// `READ` under such fields from the root, and every item of a list among them.
fn read_paths(document: &Value) -> Vec<String> {
    fn walk(node: &Value, at: &str, paths: &mut Vec<String>) {
        let children: Vec<(String, &Value)> = match node {
            Value::Object(fields) => fields
                .iter()
                .filter(|(key, _)| READ.contains(&key.as_str()))
                .map(|(key, value)| (key.replace('~', "~0").replace('/', "~1"), value))
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
            _ => Vec::new(),
        };
        for (step, child) in children {
            let here = format!("{at}/{step}");
            paths.push(here.clone());
            walk(child, &here, paths);
        }
    }
    let mut paths = Vec::new();
    walk(document, "", &mut paths);
    paths
}

#[derive(Debug, Clone)]
enum FieldEdit {
    Drop,
    Set(Value),
}

/// Drops the node `path` points to from its parent, or replaces it; a path that an earlier
/// edit removed is left alone.
fn edit_field(document: &mut Value, path: &str, edit: &FieldEdit) {
    match edit {
        FieldEdit::Set(value) => {
            if let Some(node) = document.pointer_mut(path) {
                *node = value.clone();
            }
        }
        FieldEdit::Drop => {
            let Some((parent, last)) = path.rsplit_once('/') else {
                return;
            };
            match document.pointer_mut(parent) {
                Some(Value::Object(fields)) => {
                    fields.remove(&last.replace("~1", "/").replace("~0", "~"));
                }
                Some(Value::Array(items)) => {
                    if let Ok(index) = last.parse::<usize>()
                        && index < items.len()
                    {
                        items.remove(index);
                    }
                }
                _ => {}
            }
        }
    }
}

/// `document` with 1 to 4 of the places its parser reads dropped or replaced by a hostile
/// value (of another type, huge, odd Unicode, an edge number).
fn hostile_fields(document: Value) -> impl Strategy<Value = Value> {
    let edit = prop_oneof![
        1 => Just(FieldEdit::Drop),
        4 => hostile_value().prop_map(FieldEdit::Set),
    ];
    let paths = read_paths(&document);
    prop::collection::vec((prop::sample::select(paths), edit), 1..5).prop_map(move |edits| {
        let mut value = document.clone();
        for (path, edit) in &edits {
            edit_field(&mut value, path, edit);
        }
        value
    })
}

/// An object with an id (of any sort) and some of the fields a ticket has, holding anything.
fn ticket_like() -> impl Strategy<Value = Value> {
    let field = (
        prop::sample::select(READ[..26].to_vec()),
        prop_oneof![hostile_value(), json_value()],
    );
    (
        prop_oneof![3 => any::<i64>().prop_map(Value::from), 1 => hostile_value()],
        prop::collection::vec(field, 0..8),
    )
        .prop_map(|(id, fields)| {
            let mut ticket: Map<String, Value> =
                fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            ticket.insert("id".into(), id);
            Value::Object(ticket)
        })
}

/// A page of `tickets/list` as Glassix sends it.
fn list_page() -> Value {
    json!({
        "tickets": [
            {"id": 48213977, "state": "Closed", "isScrambled": false, "field1": "x"},
            {"id": 48213978, "state": "Open"},
            {"id": 48213979, "state": "Closed", "isScrambled": true},
        ],
        "paging": {"next": "https://acme-support.glassix.com/api/v1.2/tickets/list?page=2"}
    })
}

/// A document shaped like a delivery, whose parts are anything: so that most cases get past
/// the envelope and into the changes.
fn delivery_like() -> impl Strategy<Value = Value> {
    let change = prop::collection::vec((key(), json_value()), 0..6)
        .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<String, Value>>()));
    let change = prop_oneof![3 => change, 1 => json_value()];
    let envelope = (
        json_value(),
        json_value(),
        prop::collection::vec(change, 0..4),
        any::<bool>(),
    )
        .prop_map(|(key, date_time, changes, with_header)| {
            if with_header {
                json!({"key": key, "dateTime": date_time, "changes": changes})
            } else {
                json!({"changes": changes})
            }
        })
        .boxed();
    prop_oneof![
        2 => envelope.clone(),
        1 => prop::collection::vec(envelope, 0..3).prop_map(Value::Array),
        1 => json_value(),
    ]
}

// ---------------------------------------------------------------------------------------------
// What the envelope parser must do, written independently of it

/// The documented rule: one object with a `changes` list, or a non-empty array of them.
///
/// `None` where serde's derive has its say: it also reads an envelope from an array of its
/// field values (`[key, dateTime, changes]`), a shape no Glassix delivery has; either answer
/// is then taken, as long as it is a value.
fn expected_delivery(value: &Value) -> Option<bool> {
    let is_envelope = |v: &Value| v.get("changes").is_some_and(Value::is_array);
    let field_values = |v: &Value| {
        v.as_array()
            .is_some_and(|a| a.len() == 3 && a.get(2).is_some_and(Value::is_array))
    };
    if field_values(value) || value.as_array().is_some_and(|a| a.iter().any(field_values)) {
        return None;
    }
    Some(match value {
        Value::Array(envelopes) => !envelopes.is_empty() && envelopes.iter().all(is_envelope),
        other => is_envelope(other),
    })
}

/// An id as a number or a string of digits (surrounding space allowed).
fn lenient_id(value: Option<&Value>) -> Option<i64> {
    let value = value?;
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Checks a parsed delivery against the document it came from, change by change.
fn check_delivery(delivery: &Delivery, document: &Value) -> Result<(), TestCaseError> {
    let envelopes: Vec<&Value> = match document {
        Value::Array(envelopes) => envelopes.iter().collect(),
        one => vec![one],
    };
    prop_assert_eq!(delivery.0.len(), envelopes.len());
    let sent: Vec<&Value> = envelopes
        .iter()
        .flat_map(|e| e["changes"].as_array().into_iter().flatten())
        .collect();
    let parsed: Vec<(&shared::glassix::inbound::Envelope, &Change)> = delivery.changes().collect();
    prop_assert_eq!(parsed.len(), sent.len());
    for ((envelope, change), raw) in parsed.into_iter().zip(sent) {
        let event = raw
            .get("_event")
            .and_then(Value::as_str)
            .unwrap_or_default();
        prop_assert_eq!(&change.event, &EventName::from(event));
        let snapshot = raw.get("ticket").filter(|t| t.is_object());
        let expected_id = lenient_id(raw.get("ticketId"))
            .or_else(|| lenient_id(snapshot.and_then(|t| t.get("id"))));
        prop_assert_eq!(change.ticket_id(), expected_id);
        prop_assert_eq!(change.ticket.as_ref(), snapshot);
        // The snapshot is read by the ticket's rule, and the fingerprint is stable.
        let read = change.snapshot();
        match snapshot.map(expected_ticket) {
            Some(Some(true)) => {
                prop_assert_eq!(read.map(|t| t.id), snapshot.and_then(|t| t["id"].as_i64()))
            }
            None | Some(Some(false)) => {
                prop_assert!(read.is_none(), "read a snapshot: {:?}", snapshot)
            }
            Some(None) => {}
        }
        prop_assert_eq!(change.fingerprint(envelope), change.fingerprint(envelope));
    }
    Ok(())
}

/// Parses `bytes` and holds the result to the rule: accepted exactly when the bytes are JSON
/// of a delivery's shape, and refused with a 400 otherwise.
fn check_parse(bytes: &[u8]) -> Result<(), TestCaseError> {
    let document: Option<Value> = serde_json::from_slice(bytes).ok();
    let expected = document.as_ref().map_or(Some(false), expected_delivery);
    match Delivery::parse(bytes) {
        Ok(delivery) => {
            prop_assert_ne!(
                expected,
                Some(false),
                "accepted {}",
                String::from_utf8_lossy(bytes)
            );
            match (&document, expected) {
                (Some(document), Some(true)) => check_delivery(&delivery, document),
                _ => Ok(()),
            }
        }
        Err(refusal) => {
            prop_assert_eq!(refusal.status(), 400, "{}", refusal);
            prop_assert_eq!(refusal.code(), "bad_request");
            prop_assert_ne!(
                expected,
                Some(true),
                "refused a delivery: {}",
                String::from_utf8_lossy(bytes)
            );
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The webhook envelope

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn event_fixtures_with_hostile_fields_are_a_delivery_or_a_400_by_the_rule(
        document in prop::sample::select(EVENT_FIXTURES.to_vec())
            .prop_flat_map(|name| hostile_fields(fixture_json(name)))
    ) {
        check_parse(&serde_json::to_vec(&document).expect("JSON serializes"))?;
    }

    #[test]
    fn any_json_is_a_delivery_exactly_when_it_has_the_documented_shape(document in delivery_like()) {
        check_parse(&serde_json::to_vec(&document).expect("JSON serializes"))?;
    }

    #[test]
    fn mutated_event_fixtures_are_a_delivery_or_a_400(
        document in prop::sample::select(EVENT_FIXTURES.to_vec())
            .prop_flat_map(|name| mutated(fixture_json(name)))
    ) {
        check_parse(&serde_json::to_vec(&document).expect("JSON serializes"))?;
    }

    #[test]
    fn event_fixtures_with_broken_bytes_are_a_delivery_or_a_400(
        bytes in prop::sample::select(EVENT_FIXTURES.to_vec())
            .prop_flat_map(|name| edited_bytes(fixture(name)))
    ) {
        check_parse(&bytes)?;
    }

    /// Glassix retries a refused delivery for three days: no value of a field other than
    /// `changes` may refuse it, nor any value inside a change.
    #[test]
    fn no_value_outside_the_changes_list_refuses_a_delivery(
        name in prop::sample::select(EVENT_FIXTURES.to_vec()),
        header in prop::sample::select(vec!["key", "dateTime", "somethingNew"]),
        value in json_value(),
        inside in prop::collection::vec(json_edit(), 0..4),
    ) {
        let mut document = fixture_json(name);
        document[header] = value;
        for (path, edit) in &inside {
            if let Some(first) = document["changes"].get_mut(0) {
                edit_json(first, path, edit);
            }
        }
        let bytes = serde_json::to_vec(&document).expect("JSON serializes");
        let delivery = Delivery::parse(&bytes);
        prop_assert!(delivery.is_ok(), "refused: {}", document);
        check_parse(&bytes)?;
    }
}

#[test]
fn nesting_past_the_parsers_depth_limit_is_a_400_not_a_stack_overflow() {
    for body in [
        "[".repeat(100_000),
        "{\"changes\":".repeat(100_000),
        format!("{{\"changes\": [{{\"ticket\": {}}}]}}", "[".repeat(100_000)),
    ] {
        let refusal = Delivery::parse(body.as_bytes()).expect_err("too deep to be a delivery");
        assert_eq!(refusal.code(), "bad_request", "{}", &body[..20]);
    }
}

#[test]
fn nesting_within_the_limit_is_read_and_never_refuses_the_delivery() {
    // 120 levels inside the snapshot: serde_json's limit is 128 for the whole document.
    let deep = format!("{}{}", "[".repeat(120), "]".repeat(120));
    let body = format!(
        "{{\"changes\": [{{\"_event\": \"NEW_TICKET\", \"ticketId\": 7, \"ticket\": {{\"id\": 7, \"x\": {deep}}}}}]}}"
    );
    let delivery = Delivery::parse(body.as_bytes()).expect("within the depth limit");
    let (_, change) = delivery.changes().next().expect("one change");
    assert_eq!(change.ticket_id(), Some(7));
    assert_eq!(change.snapshot().map(|t| t.id), Some(7));
}

// ---------------------------------------------------------------------------------------------
// The Glassix ticket: what its parser must do, written independently of it

/// Refused if any part is; read if every part is; else (a part left to the parsers) either.
fn all_of(parts: impl IntoIterator<Item = Option<bool>>) -> Option<bool> {
    let mut all = Some(true);
    for part in parts {
        match part {
            Some(false) => return Some(false),
            None => all = None,
            Some(true) => {}
        }
    }
    all
}

/// A field that may be absent or `null`, else holds what `read` accepts.
fn optional(value: Option<&Value>, read: impl Fn(&Value) -> Option<bool>) -> Option<bool> {
    match value {
        None | Some(Value::Null) => Some(true),
        Some(value) => read(value),
    }
}

/// A list (`null` or absent: none) whose every item `item` accepts.
fn list_of(value: Option<&Value>, item: impl Fn(&Value) -> Option<bool>) -> Option<bool> {
    optional(value, |list| match list {
        Value::Array(items) => all_of(items.iter().map(&item)),
        _ => Some(false),
    })
}

/// A model: an object whose fields `fields` accepts. An array is serde's field-values form,
/// left to the parser.
fn object(value: &Value, fields: impl Fn(&Map<String, Value>) -> Option<bool>) -> Option<bool> {
    match value {
        Value::Object(object) => fields(object),
        Value::Array(_) => None,
        _ => Some(false),
    }
}

fn text_field(value: &Value) -> Option<bool> {
    Some(value.is_string())
}

fn id_field(value: Option<&Value>) -> Option<bool> {
    Some(value.is_some_and(|id| id.as_i64().is_some()))
}

/// A flag: absent is false; `null` is no flag.
fn flag(value: Option<&Value>) -> Option<bool> {
    Some(value.is_none_or(Value::is_boolean))
}

/// A Glassix datetime: blank text is none, text without a digit is no date; other text is the
/// date parser's to judge (its own tests hold it to the documented shapes).
fn datetime(value: &Value) -> Option<bool> {
    match value.as_str() {
        None => Some(false),
        Some(text) if text.trim().is_empty() => Some(true),
        Some(text) if !text.bytes().any(|b| b.is_ascii_digit()) => Some(false),
        Some(_) => None,
    }
}

/// Whether a ticket parses from `value`: an integer `id`; datetimes that are blank or dates;
/// text where text is read; lists (or `null`) of models where lists are read; a boolean
/// `isScrambled` if any. State, channel, kind and `transactionsCount` take any value.
fn expected_ticket(value: &Value) -> Option<bool> {
    object(value, |ticket| {
        all_of([
            id_field(ticket.get("id")),
            optional(ticket.get("open"), datetime),
            optional(ticket.get("close"), datetime),
            list_of(ticket.get("tags"), text_field),
            flag(ticket.get("isScrambled")),
            list_of(ticket.get("participants"), expected_participant),
            list_of(ticket.get("transactions"), expected_transaction),
        ])
    })
}

/// Each of `keys` absent, `null` or text.
fn texts<'a>(
    fields: &'a Map<String, Value>,
    keys: &'a [&str],
) -> impl Iterator<Item = Option<bool>> + 'a {
    keys.iter().map(|k| optional(fields.get(*k), text_field))
}

fn expected_participant(value: &Value) -> Option<bool> {
    object(value, |participant| {
        all_of(texts(participant, &["identifier", "name", "displayName"]))
    })
}

fn expected_transaction(value: &Value) -> Option<bool> {
    object(value, |transaction| {
        let read = [
            id_field(transaction.get("id")),
            optional(transaction.get("dateTime"), datetime),
            optional(transaction.get("fromParticipant"), expected_participant),
            list_of(transaction.get("attachments"), expected_attachment),
        ];
        all_of(
            read.into_iter()
                .chain(texts(transaction, &["guidTransactionId", "text", "html"])),
        )
    })
}

fn expected_attachment(value: &Value) -> Option<bool> {
    object(value, |attachment| {
        let read = [
            optional(attachment.get("id"), |id| Some(id.as_i64().is_some())),
            flag(attachment.get("isEmbedded")),
        ];
        let names = ["uri", "type", "fileIdentifier", "originalFileName"];
        all_of(read.into_iter().chain(texts(attachment, &names)))
    })
}

/// The start of an input, for a failure message.
fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(600)]).into_owned()
}

/// What a case reached.
#[derive(Debug, Clone, Copy)]
enum Reached {
    Ticket = 0,
    Refusal = 1,
}

/// Parses `bytes` as a ticket the way the client does and holds the result to
/// `expected_ticket`; a ticket read from an object holds what the object holds (its id, its
/// transactions and their ids, its client and the client's best name, tags, flag and count).
///
/// Bytes that are no JSON document may still be read, by design: serde skips the fields the
/// models do not read without looking into them (invalid UTF-8 or a number out of range there
/// does not refuse a ticket).
fn check_ticket(bytes: &[u8]) -> Result<Reached, TestCaseError> {
    let document = serde_json::from_slice::<Value>(bytes).ok();
    let expected = document.as_ref().and_then(expected_ticket);
    let ticket = match serde_json::from_slice::<Ticket>(bytes) {
        Ok(ticket) => ticket,
        Err(refusal) => {
            prop_assert_ne!(
                expected,
                Some(true),
                "refused ({}): {}",
                refusal,
                excerpt(bytes)
            );
            return Ok(Reached::Refusal);
        }
    };
    prop_assert_ne!(expected, Some(false), "accepted: {}", excerpt(bytes));
    // What the archive job reads of any ticket: a client has an identifier, a name is not blank.
    let client = ticket.client();
    prop_assert!(client.is_none_or(|c| c.identifier.as_deref().is_some_and(|i| !i.is_empty())));
    let name = client.and_then(Participant::best_name);
    prop_assert!(name.is_none_or(|n| !n.trim().is_empty()));
    let Some(Value::Object(document)) = document else {
        return Ok(Reached::Ticket);
    };
    prop_assert_eq!(Some(ticket.id), document.get("id").and_then(Value::as_i64));
    let sent_transactions = document.get("transactions").and_then(Value::as_array);
    prop_assert_eq!(
        ticket.transactions.as_ref().map(Vec::len),
        sent_transactions.map(Vec::len)
    );
    for (transaction, sent) in ticket
        .transactions()
        .iter()
        .zip(sent_transactions.into_iter().flatten())
    {
        prop_assert_eq!(Some(transaction.id), sent.get("id").and_then(Value::as_i64));
    }
    let sent_participants = document.get("participants").and_then(Value::as_array);
    if sent_participants
        .into_iter()
        .flatten()
        .all(Value::is_object)
    {
        let sent_client = sent_participants.into_iter().flatten().find(|p| {
            p.get("type").and_then(Value::as_str) == Some("Client")
                && p.get("identifier")
                    .and_then(Value::as_str)
                    .is_some_and(|i| !i.is_empty())
        });
        prop_assert_eq!(
            client.and_then(|c| c.identifier.as_deref()),
            sent_client.and_then(|p| p["identifier"].as_str())
        );
        let sent_name = sent_client.and_then(|p| {
            ["name", "displayName"]
                .into_iter()
                .filter_map(|k| p.get(k).and_then(Value::as_str))
                .find(|n| !n.trim().is_empty())
        });
        prop_assert_eq!(name, sent_name);
    }
    let sent_tags: Vec<&str> = document
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    prop_assert_eq!(
        ticket.tags.iter().map(String::as_str).collect::<Vec<_>>(),
        sent_tags
    );
    prop_assert_eq!(
        ticket.is_scrambled,
        document
            .get("isScrambled")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    );
    prop_assert_eq!(
        ticket.transactions_count,
        document.get("transactionsCount").and_then(Value::as_u64)
    );
    Ok(Reached::Ticket)
}

/// Runs `check_ticket` over the cases of `documents`, and fails unless a fifth of them were
/// read as tickets and a twentieth refused: inputs that never reach the rules prove nothing.
fn run_reaching(documents: impl Strategy<Value = Value>) {
    let config = config(256);
    let cases = config.cases as usize;
    let counts = Mutex::new([0_usize; 2]);
    TestRunner::new(config)
        .run(&documents, |document| {
            let bytes = serde_json::to_vec(&document).expect("JSON serializes");
            let reached = check_ticket(&bytes)?;
            counts.lock().expect("counts")[reached as usize] += 1;
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    let [read, refused] = *counts.lock().expect("counts");
    assert!(
        read >= cases / 5 && refused >= cases / 20,
        "{read} read and {refused} refused of {cases}: the inputs do not reach the rules"
    );
}

#[test]
fn a_ticket_with_hostile_fields_is_read_or_refused_by_the_documented_rule() {
    run_reaching(hostile_fields(fixture_json("glassix/ticket.json")));
}

#[test]
fn ticket_shaped_json_is_read_or_refused_by_the_documented_rule() {
    run_reaching(ticket_like());
}

/// Whether a page of the list parses: a list (or `null`) of listed tickets, each an object
/// with an integer id and a boolean `isScrambled` if any; paging `null` or an object whose
/// `next` is text if anything.
fn expected_list(value: &Value) -> Option<bool> {
    object(value, |page| {
        all_of([
            list_of(page.get("tickets"), |listed| {
                object(listed, |t| {
                    all_of([id_field(t.get("id")), flag(t.get("isScrambled"))])
                })
            }),
            optional(page.get("paging"), |paging| {
                object(paging, |p| optional(p.get("next"), text_field))
            }),
        ])
    })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn a_page_of_the_list_with_hostile_fields_is_read_or_refused_by_its_rule(
        document in hostile_fields(list_page())
    ) {
        let bytes = serde_json::to_vec(&document).expect("JSON serializes");
        let expected = expected_list(&document);
        match serde_json::from_slice::<TicketList>(&bytes) {
            Err(refusal) => prop_assert_ne!(expected, Some(true), "refused ({}): {}", refusal, document),
            Ok(page) => {
                prop_assert_ne!(expected, Some(false), "accepted: {}", document);
                if expected == Some(true) {
                    let read: Vec<Value> = page.tickets.iter().map(|t| t.id.into()).collect();
                    let sent = document["tickets"].as_array().map(|tickets| {
                        tickets.iter().map(|t| t["id"].clone()).collect::<Vec<_>>()
                    });
                    prop_assert_eq!(read, sent.unwrap_or_default());
                    let next = document["paging"]["next"].as_str().filter(|n| !n.is_empty());
                    prop_assert_eq!(page.next(), next);
                }
            }
        }
    }

    #[test]
    fn a_mutated_ticket_fixture_is_a_ticket_or_an_error(
        document in mutated(fixture_json("glassix/ticket.json"))
    ) {
        check_ticket(&serde_json::to_vec(&document).expect("JSON serializes"))?;
    }

    #[test]
    fn a_ticket_fixture_with_broken_bytes_is_a_ticket_or_an_error(
        bytes in edited_bytes(fixture("glassix/ticket.json"))
    ) {
        check_ticket(&bytes)?;
    }

    /// The models' promise: a field the service does not read never makes a ticket fail.
    #[test]
    fn fields_the_service_does_not_read_never_refuse_a_ticket(
        changes in prop::collection::vec(
            (prop::sample::select(vec!["ticket", "transaction", "participant"]), unread_key(), json_value()),
            1..5,
        )
    ) {
        let original = fixture_json("glassix/ticket.json");
        let mut document = original.clone();
        for (target, name, value) in changes {
            let object = match target {
                "transaction" => document["transactions"].get_mut(0),
                "participant" => document["participants"].get_mut(0),
                _ => Some(&mut document),
            };
            if let Some(Value::Object(fields)) = object {
                fields.insert(name, value);
            }
        }
        let bytes = serde_json::to_vec(&document).expect("JSON serializes");
        let ticket = serde_json::from_slice::<Ticket>(&bytes);
        prop_assert!(ticket.is_ok(), "refused: {}", document);
        let ticket = ticket.expect("checked above");
        let expected: Ticket = serde_json::from_value(original).expect("the fixture parses");
        prop_assert_eq!(ticket.id, expected.id);
        prop_assert_eq!(ticket.transactions().len(), expected.transactions().len());
        prop_assert_eq!(
            ticket.client().and_then(|c| c.identifier.clone()),
            expected.client().and_then(|c| c.identifier.clone())
        );
    }
}

/// Keys no model of a ticket, transaction or participant reads.
fn unread_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "departmentId",
            "field1",
            "owner",
            "details",
            "lastActivity",
            "uniqueArgument",
            "culture",
            "ticketType",
            "somethingNew",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
    .prop_filter("a key the models read", |k| !READ.contains(&k.as_str()))
}

#[test]
fn the_clients_decode_refuses_hostile_answers_with_an_error_that_quotes_nothing() {
    // Through the real client: `GET tickets/get/{id}` answered with each case's bytes.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let answer: Arc<Mutex<Vec<u8>>> = Arc::default();
    let (stub, client) = runtime.block_on(async {
        let stub = GlassixStub::start().await;
        let served = answer.clone();
        Mock::given(method("GET"))
            .and(path(format!("{BASE_PATH}/tickets/get/48213977")))
            .respond_with(move |_: &wiremock::Request| {
                let body = served.lock().expect("the answer").clone();
                ResponseTemplate::new(200).set_body_raw(body, "application/json")
            })
            .mount(&stub.server)
            .await;
        let client = stub.client();
        (stub, client)
    });
    let cases = prop_oneof![
        hostile_fields(fixture_json("glassix/ticket.json"))
            .prop_map(|v| serde_json::to_vec(&v).expect("JSON serializes")),
        mutated(fixture_json("glassix/ticket.json"))
            .prop_map(|v| serde_json::to_vec(&v).expect("JSON serializes")),
        edited_bytes(fixture("glassix/ticket.json")),
    ];
    let mut runner = TestRunner::new(config(64));
    runner
        .run(&cases, |bytes| {
            *answer.lock().expect("the answer") = bytes.clone();
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
            let result = runtime.block_on(client.get_ticket(48213977, deadline));
            let parsed = serde_json::from_slice::<Ticket>(&bytes);
            match result {
                Ok(ticket) => {
                    prop_assert_eq!(Some(ticket.id), parsed.ok().map(|t| t.id));
                }
                Err(GlassixError::Decode(message)) => {
                    prop_assert!(parsed.is_err(), "decode refused what parses");
                    prop_assert!(
                        is_decode_message(&message),
                        "a decode error names a category and a position only: {}",
                        message
                    );
                }
                Err(other) => {
                    return Err(TestCaseError::fail(format!("not a decode error: {other}")));
                }
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
    drop(stub);
}

/// `<category> error at line <n> column <n>`, nothing else.
fn is_decode_message(message: &str) -> bool {
    let Some((category, position)) = message.split_once(" error at line ") else {
        return false;
    };
    let Some((line, column)) = position.split_once(" column ") else {
        return false;
    };
    ["syntax", "data", "end of input", "i/o"].contains(&category)
        && !line.is_empty()
        && line.bytes().all(|b| b.is_ascii_digit())
        && !column.is_empty()
        && column.bytes().all(|b| b.is_ascii_digit())
}

#[test]
fn a_ticket_nested_past_the_depth_limit_is_an_error_not_a_stack_overflow() {
    for body in [
        "[".repeat(100_000),
        format!("{{\"id\": 1, \"transactions\": {}", "[".repeat(100_000)),
        format!("{{\"id\": 1, \"owner\": {}", "{\"a\":".repeat(100_000)),
    ] {
        assert!(serde_json::from_slice::<Ticket>(body.as_bytes()).is_err());
    }
}
