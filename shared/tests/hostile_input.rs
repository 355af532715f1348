//! Hostile input to the two parsers of what Glassix sends: the webhook envelope
//! (`Delivery::parse`) and the ticket (`GET tickets/get/{id}`, read by the client's `decode`).
//! Whatever the bytes, each answers a value or an error and never panics; and what each
//! accepts follows its documented rule, computed here independently, so a parser that grows
//! stricter or looser fails these tests too. (One shape is left to the parsers: serde's derive
//! also reads a struct from an array of its field values, which Glassix never sends; see
//! `expected_delivery` and `check_ticket`.)
//!
//! Case counts are modest so that the workspace test run stays quick; `PROPTEST_CASES=5000`
//! runs more of every property.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use shared::glassix::inbound::{Change, Delivery};
use shared::glassix::{EventName, GlassixError, Ticket, TicketList};
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
        // Whatever the snapshot holds, reading it is a value, and the fingerprint is stable.
        let _ = change.snapshot();
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
    fn any_bytes_are_a_delivery_or_a_400_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512)
    ) {
        check_parse(&bytes)?;
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
// The Glassix ticket

/// Parses `bytes` as a ticket the way the client does: a ticket from an object holds what
/// the object holds (its `id`, as many transactions with their ids).
///
/// Other accepted input is taken as it is: serde skips the fields the models do not read
/// without looking into them (invalid UTF-8 or a number out of range there does not refuse a
/// ticket, by design), and its derive also reads a ticket from an array of its field values.
fn check_ticket(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Ok(ticket) = serde_json::from_slice::<Ticket>(bytes) else {
        return Ok(());
    };
    // What the archive job reads of it: never a panic.
    let _ = ticket.client().and_then(|c| c.best_name());
    let Ok(Value::Object(document)) = serde_json::from_slice::<Value>(bytes) else {
        return Ok(());
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
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_bytes_are_a_ticket_or_an_error_never_a_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512)
    ) {
        check_ticket(&bytes)?;
        let _ = serde_json::from_slice::<TicketList>(&bytes);
    }

    #[test]
    fn any_json_is_a_ticket_or_an_error(document in json_value()) {
        check_ticket(&serde_json::to_vec(&document).expect("JSON serializes"))?;
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
    const READ: [&str; 23] = [
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
    ];
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
        prop::collection::vec(any::<u8>(), 0..256),
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
