//! The audit of the Glassix side: the webhook ledger, and every call Glassix received.

use std::collections::BTreeMap;

use shared::testing::glassix::BASE_PATH;

use super::Snapshot;
use super::world::World;
use crate::CLOSED_TRANSACTIONS;

/// New tickets: the ledger holds both actions done, and only for tickets a signed delivery
/// named. Returns how many acknowledged actions are still `claimed`.
pub(super) fn check_ledger(
    world: &World,
    snapshot: &Snapshot,
    fail: &mut impl FnMut(String),
) -> usize {
    let actions = &snapshot.actions;
    let mut unrecorded_actions = 0;
    for ticket_id in &world.new_tickets {
        for action in ["tags", "note"] {
            let state = actions.get(&format!("{ticket_id}:{action}"));
            match state.map(String::as_str) {
                Some("done") => {}
                // Carried out and answered 200, but recording it ran out of time: a later
                // delivery takes the claim over after its lease and reads the ticket first.
                Some("claimed") => unrecorded_actions += 1,
                _ => fail(format!(
                    "new ticket {ticket_id}: {action} is {state:?} in the ledger, not done"
                )),
            }
        }
    }
    for id in actions.keys() {
        let ticket = id.split(':').next().and_then(|t| t.parse::<i64>().ok());
        let delivered = ticket.is_some_and(|t| {
            world.new_tickets.contains(&t) || world.new_unacknowledged.contains(&t)
        });
        if !delivered {
            fail(format!(
                "the ledger holds {id}, a ticket no signed delivery named"
            ));
        }
    }
    unrecorded_actions
}

/// Glassix got each call of an acknowledged delivery exactly once, and none nobody
/// acknowledged.
pub(super) fn check_calls(
    world: &World,
    snapshot: &Snapshot,
    received: &[wiremock::Request],
    fail: &mut impl FnMut(String),
) {
    let Snapshot {
        ticket_counts,
        transaction_counts,
        ..
    } = snapshot;
    let mut calls: BTreeMap<(&str, i64), usize> = BTreeMap::new();
    for request in received {
        let path = request.url.path();
        let Some(rest) = path.strip_prefix(BASE_PATH) else {
            continue;
        };
        for endpoint in [
            "/tickets/addtags/",
            "/tickets/addnote/",
            "/tickets/scramble/",
        ] {
            if let Some(id) = rest.strip_prefix(endpoint).and_then(|id| id.parse().ok()) {
                *calls.entry((endpoint, id)).or_default() += 1;
            }
        }
    }
    for ticket_id in &world.new_tickets {
        for endpoint in ["/tickets/addtags/", "/tickets/addnote/"] {
            let count = calls.get(&(endpoint, *ticket_id)).copied().unwrap_or(0);
            if count != 1 {
                fail(format!(
                    "new ticket {ticket_id}: {count} POST {endpoint} at Glassix, expected 1"
                ));
            }
        }
    }
    for ticket_id in &world.closed {
        let count = calls
            .get(&("/tickets/scramble/", *ticket_id))
            .copied()
            .unwrap_or(0);
        if count != 1 {
            fail(format!(
                "closed ticket {ticket_id}: scrambled {count} times, expected 1"
            ));
        }
    }
    // A refused closed delivery may have scrambled only what the archive holds whole.
    for ticket_id in world.closed_unacknowledged.keys() {
        let scrambled = calls
            .get(&("/tickets/scramble/", *ticket_id))
            .copied()
            .unwrap_or(0);
        let stored = ticket_counts.get(ticket_id).copied().unwrap_or(0);
        let transactions = transaction_counts.get(ticket_id).copied().unwrap_or(0);
        if scrambled > 1 || (scrambled == 1 && (stored != 1 || transactions != CLOSED_TRANSACTIONS))
        {
            fail(format!(
                "closed ticket {ticket_id} (delivery refused): scrambled {scrambled} times with \
                 {stored} ticket documents and {transactions} transactions archived"
            ));
        }
    }
    for ((endpoint, ticket_id), count) in &calls {
        let expected = match *endpoint {
            "/tickets/scramble/" => {
                world.closed.contains(ticket_id)
                    || world.closed_unacknowledged.contains_key(ticket_id)
            }
            _ => {
                world.new_tickets.contains(ticket_id)
                    || (world.new_unacknowledged.contains(ticket_id) && *count == 1)
            }
        };
        if !expected {
            let why = if world.unsigned.contains(ticket_id) {
                " (a delivery refused for its signature)"
            } else {
                ""
            };
            fail(format!(
                "Glassix got {count} {endpoint}{ticket_id}, never acknowledged{why}"
            ));
        }
    }
}
