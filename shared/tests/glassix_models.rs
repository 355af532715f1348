//! Glassix JSON models and webhook envelopes against the shared fixtures.

use chrono::{TimeZone, Utc};
use shared::glassix::inbound::{Delivery, sign, verify_signature};
use shared::glassix::{
    EventName, ParticipantType, ProtocolType, Ticket, TicketState, TransactionType,
};
use shared::testing::fixture;

#[test]
fn the_full_ticket_fixture_parses() {
    let ticket: Ticket = serde_json::from_slice(&fixture("glassix/ticket.json")).expect("parses");

    assert_eq!(ticket.id, 48213977);
    assert_eq!(ticket.state, Some(TicketState::Closed));
    assert_eq!(ticket.primary_protocol_type, Some(ProtocolType::WhatsApp));
    assert_eq!(ticket.transactions().len(), 5);
    assert_eq!(ticket.transactions()[2].kind, Some(TransactionType::Note));
    assert_eq!(
        ticket.transactions()[0].attachments[0]
            .original_file_name
            .as_deref(),
        Some("קבלה-receipt.jpg")
    );
    let client = ticket
        .participants
        .iter()
        .find(|p| p.kind == Some(ParticipantType::Client))
        .expect("client");
    assert_eq!(client.identifier.as_deref(), Some("972521234567"));
    assert_eq!(
        ticket.close,
        Some(
            Utc.with_ymd_and_hms(2024, 3, 10, 9, 2, 11)
                .single()
                .expect("date")
                + chrono::TimeDelta::nanoseconds(903_441_800)
        )
    );
}

#[test]
fn every_event_fixture_parses_with_its_snapshot() {
    for (name, event, state) in [
        ("glassix/new-ticket-event.json", EventName::NewTicket, None),
        (
            "glassix/ticket-state-change-closed-event.json",
            EventName::TicketStateChange,
            Some(TicketState::Closed),
        ),
        (
            "glassix/ticket-state-change-open-event.json",
            EventName::TicketStateChange,
            Some(TicketState::Open),
        ),
    ] {
        let delivery = Delivery::parse(&fixture(name)).expect(name);
        let (_, change) = delivery.changes().next().expect("one change");
        assert_eq!(change.event, event, "{name}");
        assert_eq!(change.ticket_state, state, "{name}");
        assert!(change.ticket_id().is_some(), "{name}");
        assert!(change.snapshot().is_some(), "{name} snapshot parses");
    }
}

#[test]
fn the_open_ticket_sentinel_close_date_is_none() {
    let delivery =
        Delivery::parse(&fixture("glassix/ticket-state-change-open-event.json")).expect("parses");
    let snapshot = delivery
        .changes()
        .next()
        .expect("change")
        .1
        .snapshot()
        .expect("snapshot");
    assert_eq!(snapshot.close, None);
    assert!(snapshot.open.is_some());
}

#[test]
fn unknown_values_and_fields_are_kept_not_errors() {
    let body = serde_json::json!({
        "key": "k", "dateTime": "2024-03-10T09:02:12Z",
        "changes": [
            {"_event": "SOMETHING_NEW", "whatever": {"nested": 1}},
            {"_event": "NEW_TICKET", "ticketId": 5, "ticket": {
                "id": 5, "primaryProtocolType": "Carrier-Pigeon", "state": 7, "tags": null,
                "participants": [{"type": "Robot", "identifier": "x"}], "brandNewField": [1, 2],
                "transactions": [{"id": 1, "type": "Reaction", "text": null}]
            }}
        ]
    });
    let delivery = Delivery::parse(body.to_string().as_bytes()).expect("parses");
    let changes: Vec<_> = delivery.changes().map(|(_, c)| c).collect();

    assert_eq!(changes[0].event, EventName::Other("SOMETHING_NEW".into()));
    let ticket = changes[1].snapshot().expect("lenient snapshot");
    assert_eq!(
        ticket.primary_protocol_type,
        Some(ProtocolType::Other("Carrier-Pigeon".into()))
    );
    assert_eq!(ticket.state, Some(TicketState::Other("7".into())));
    assert_eq!(
        ticket.participants[0].kind,
        Some(ParticipantType::Other("Robot".into()))
    );
    assert_eq!(
        ticket.transactions()[0].kind,
        Some(TransactionType::Other("Reaction".into()))
    );
    assert!(ticket.tags.is_empty());
    assert_eq!(ticket.transactions()[0].text, "");
}

#[test]
fn an_array_of_envelopes_is_accepted_and_every_change_is_seen() {
    let one = String::from_utf8(fixture("glassix/new-ticket-event.json")).expect("utf8");
    let two =
        String::from_utf8(fixture("glassix/ticket-state-change-closed-event.json")).expect("utf8");
    let delivery = Delivery::parse(format!("[{one},{two}]").as_bytes()).expect("array");
    assert_eq!(delivery.changes().count(), 2);
}

#[test]
fn bodies_that_are_not_envelopes_are_refused() {
    for body in [
        "",
        "  ",
        "{",
        "null",
        "[]",
        "{\"key\": \"k\"}",
        "{\"changes\": 5}",
        "42",
    ] {
        assert!(
            Delivery::parse(body.as_bytes()).is_err(),
            "{body:?} was accepted"
        );
    }
}

#[test]
fn a_correct_signature_passes_in_either_hex_case() {
    let secret = secrecy::SecretString::from("test-api-secret");
    let body = fixture("glassix/new-ticket-event.json");
    let signature = sign("test-api-secret", &body);

    assert!(verify_signature(&secret, &body, Some(&signature)).is_ok());
    let upper_hex = format!(
        "sha1={}",
        signature.trim_start_matches("sha1=").to_uppercase()
    );
    assert!(verify_signature(&secret, &body, Some(&upper_hex)).is_ok());
}

#[test]
fn the_signature_matches_an_independent_hmac_sha1() {
    // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
    assert_eq!(
        sign("Jefe", b"what do ya want for nothing?"),
        "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    );
}

#[test]
fn wrong_or_missing_signatures_fail() {
    let secret = secrecy::SecretString::from("test-api-secret");
    let body = fixture("glassix/new-ticket-event.json");
    let good = sign("test-api-secret", &body);
    let mut changed = body.clone();
    changed[10] ^= 1;

    assert!(
        verify_signature(&secret, &changed, Some(&good)).is_err(),
        "one byte changed"
    );
    assert!(
        verify_signature(&secret, &body, Some(&sign("other-secret", &body))).is_err(),
        "wrong secret"
    );
    assert!(
        verify_signature(&secret, &body, None).is_err(),
        "missing header"
    );
    assert!(
        verify_signature(&secret, &body, Some("sha1=zz-not-hex")).is_err(),
        "garbage"
    );
    assert!(
        verify_signature(&secret, &body, Some("sha1=")).is_err(),
        "empty"
    );
    assert!(
        verify_signature(&secret, &body, Some(good.trim_start_matches("sha1="))).is_err(),
        "no prefix"
    );
}
