//! Glassix payloads made from the fixtures, renamed to one ticket and one client.

use serde_json::Value;
use shared::testing::fixture;

/// The Glassix ticket fixture as ticket `ticket_id` of client `client`.
pub(crate) fn glassix_ticket(ticket_id: i64, client: &str) -> Value {
    let mut ticket: Value = serde_json::from_slice(&fixture("glassix/ticket.json")).expect("json");
    ticket["id"] = ticket_id.into();
    set_client(&mut ticket, client);
    ticket
}

fn set_client(ticket: &mut Value, client: &str) {
    for participant in ticket["participants"].as_array_mut().into_iter().flatten() {
        if participant["type"] == "Client" {
            participant["identifier"] = client.into();
        }
    }
}

/// A `NEW_TICKET` delivery for `ticket_id` of client `client`.
pub(crate) fn new_ticket_event(ticket_id: i64, client: &str) -> Vec<u8> {
    delivery(
        "glassix/new-ticket-event.json",
        format!("load-new-{ticket_id}"),
        ticket_id,
        client,
    )
}

/// A `TICKET_STATE_CHANGE` to `Closed` delivery for `ticket_id`.
pub(crate) fn closed_event(ticket_id: i64, client: &str) -> Vec<u8> {
    delivery(
        "glassix/ticket-state-change-closed-event.json",
        format!("load-closed-{ticket_id}"),
        ticket_id,
        client,
    )
}

/// The delivery fixture `name` under its own key (Glassix repeats a delivery with the same
/// key), its one change naming ticket `ticket_id` of client `client`.
fn delivery(name: &str, key: String, ticket_id: i64, client: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&fixture(name)).expect("json");
    event["key"] = key.into();
    let change = &mut event["changes"][0];
    change["ticketId"] = ticket_id.into();
    change["ticket"]["id"] = ticket_id.into();
    set_client(&mut change["ticket"], client);
    serde_json::to_vec(&event).expect("json")
}
