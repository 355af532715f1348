//! The audit of the database: every acknowledged client and ticket stored exactly once as
//! acknowledged, every acknowledged delete gone, nothing stored that was never acknowledged.

use std::collections::{BTreeMap, BTreeSet};

use shared::db::bson::Bson;

use super::world::World;
use super::{Snapshot, as_i64, as_string};
use crate::run::Contested;
use crate::{CLOSED_TRANSACTIONS, REST_TRANSACTIONS};

/// Clients: counted by identifier in the database.
pub(super) fn check_clients(world: &World, snapshot: &Snapshot, fail: &mut impl FnMut(String)) {
    let Snapshot {
        client_counts,
        client_docs,
        ..
    } = snapshot;
    for (identifier, (name, tickets)) in &world.clients {
        let count = client_counts.get(identifier).copied().unwrap_or(0);
        if count != 1 {
            fail(format!("client {identifier}: stored {count} times"));
            continue;
        }
        let stored = &client_docs[identifier];
        let stored_name = match stored.get("name") {
            Some(Bson::String(name)) => Some(name.clone()),
            _ => None,
        };
        if let Some(name) = name
            && stored_name != *name
        {
            fail(format!(
                "client {identifier}: name {stored_name:?}, last acknowledged {name:?}"
            ));
        }
        let listed: Vec<i64> = stored
            .get_array("tickets")
            .map(|a| a.iter().filter_map(as_i64).collect())
            .unwrap_or_default();
        let listed_set: BTreeSet<i64> = listed.iter().copied().collect();
        if listed.len() != listed_set.len() || listed_set != *tickets {
            fail(format!(
                "client {identifier}: lists tickets {listed:?}, expected {tickets:?}"
            ));
        }
    }
    for identifier in &world.gone_clients {
        if client_counts.contains_key(identifier) {
            fail(format!(
                "client {identifier}: deleted (204) but still stored"
            ));
        }
    }
    let partial_clients: BTreeMap<&String, i64> = world
        .closed_unacknowledged
        .iter()
        .map(|(ticket, client)| (client, *ticket))
        .collect();
    for (identifier, count) in client_counts {
        if world.clients.contains_key(identifier)
            || world.gone_clients.contains(identifier)
            || world.uncertain.contains_key(identifier)
        {
            continue;
        }
        // The client of a closed ticket whose delivery was refused: archived part-way.
        let listed: Vec<i64> = client_docs
            .get(identifier)
            .and_then(|d| d.get_array("tickets").ok())
            .map(|a| a.iter().filter_map(as_i64).collect())
            .unwrap_or_default();
        match partial_clients.get(identifier) {
            Some(ticket) if *count == 1 && listed.iter().all(|t| t == ticket) => {}
            _ => fail(format!(
                "client {identifier}: stored {count} times (tickets {listed:?}), never acknowledged"
            )),
        }
    }
}

/// Tickets: counted by ticket id in the database, each under its client. Returns how many
/// transactions the acknowledged tickets hold.
pub(super) fn check_tickets(
    world: &World,
    snapshot: &Snapshot,
    fail: &mut impl FnMut(String),
) -> i64 {
    let Snapshot {
        ticket_counts,
        ticket_docs,
        transaction_counts,
        ..
    } = snapshot;
    let contested_owner: BTreeMap<i64, &String> = world
        .contests
        .iter()
        .filter_map(|(key, contest)| match (key, contest.winners.as_slice()) {
            (Contested::Ticket(id), [owner]) => Some((*id, owner)),
            _ => None,
        })
        .collect();
    let maybe_tickets: BTreeSet<i64> = world.uncertain.values().flatten().copied().collect();
    let mut transactions_held = 0;
    for (ticket_id, expected) in &world.tickets {
        let count = ticket_counts.get(ticket_id).copied().unwrap_or(0);
        if count != 1 {
            fail(format!("ticket {ticket_id}: stored {count} times"));
            continue;
        }
        let stored = &ticket_docs[ticket_id];
        let client = stored.get_str("clientIdentifier").unwrap_or_default();
        if client != expected.client {
            fail(format!(
                "ticket {ticket_id}: under {client}, expected {}",
                expected.client
            ));
        }
        if let Some(owner) = contested_owner.get(ticket_id)
            && client != owner.as_str()
        {
            fail(format!(
                "contested ticket {ticket_id}: under {client}, acknowledged to {owner}"
            ));
        }
        if let Some(tags) = &expected.tags {
            let stored_tags: Vec<String> = stored
                .get_array("tags")
                .map(|a| a.iter().filter_map(as_string).collect())
                .unwrap_or_default();
            if stored_tags != *tags {
                fail(format!(
                    "ticket {ticket_id}: tags {stored_tags:?}, last acknowledged {tags:?}"
                ));
            }
        }
        let scrambled = matches!(stored.get("scrambledAt"), Some(Bson::DateTime(_)));
        let archived = matches!(stored.get("archivedAt"), Some(Bson::DateTime(_)));
        if scrambled != expected.scrambled || archived != expected.scrambled {
            fail(format!(
                "ticket {ticket_id}: archived {archived}, scrambled {scrambled}"
            ));
        }
        let transactions = transaction_counts.get(ticket_id).copied().unwrap_or(0);
        if transactions != expected.transactions {
            fail(format!(
                "ticket {ticket_id}: {transactions} transactions, expected {}",
                expected.transactions
            ));
        }
        transactions_held += transactions;
    }
    for ticket_id in &world.gone_tickets {
        if ticket_counts.contains_key(ticket_id) {
            fail(format!(
                "ticket {ticket_id}: deleted (204) but still stored"
            ));
        }
    }
    for (ticket_id, count) in ticket_counts {
        if world.tickets.contains_key(ticket_id)
            || world.gone_tickets.contains(ticket_id)
            || maybe_tickets.contains(ticket_id)
        {
            continue;
        }
        let client = ticket_docs
            .get(ticket_id)
            .and_then(|d| d.get_str("clientIdentifier").ok())
            .unwrap_or_default();
        match world.closed_unacknowledged.get(ticket_id) {
            Some(expected) if *count == 1 && client == expected => {}
            _ => fail(format!(
                "ticket {ticket_id}: stored {count} times under {client}, never acknowledged"
            )),
        }
    }
    for (ticket_id, count) in transaction_counts {
        let partial = (world.closed_unacknowledged.contains_key(ticket_id)
            && *count <= CLOSED_TRANSACTIONS)
            || (maybe_tickets.contains(ticket_id) && *count <= REST_TRANSACTIONS);
        if !world.tickets.contains_key(ticket_id) && !partial {
            fail(format!(
                "{count} transactions of ticket {ticket_id}, which is not stored"
            ));
        }
    }
    transactions_held
}

/// Clients left in an unknown state by a write without an answer: never stored twice, and
/// holding only what they may hold. Returns what each of them holds.
pub(super) fn check_uncertain(
    world: &World,
    snapshot: &Snapshot,
    fail: &mut impl FnMut(String),
) -> Vec<String> {
    let Snapshot {
        client_counts,
        client_docs,
        ticket_counts,
        ticket_docs,
        ..
    } = snapshot;
    let mut states = Vec::new();
    for (identifier, maybe) in &world.uncertain {
        let count = client_counts.get(identifier).copied().unwrap_or(0);
        let listed: Vec<i64> = client_docs
            .get(identifier)
            .and_then(|d| d.get_array("tickets").ok())
            .map(|a| a.iter().filter_map(as_i64).collect())
            .unwrap_or_default();
        let stored: Vec<i64> = maybe
            .iter()
            .filter(|t| !world.tickets.contains_key(t))
            .filter(|t| ticket_counts.contains_key(t))
            .copied()
            .collect();
        let listed_set: BTreeSet<i64> = listed.iter().copied().collect();
        let misplaced = stored.iter().any(|t| {
            ticket_counts[t] != 1
                || ticket_docs[t].get_str("clientIdentifier").ok() != Some(identifier.as_str())
        });
        if count > 1
            || listed.len() != listed_set.len()
            || !listed_set.is_subset(maybe)
            || misplaced
            || (count == 0 && !stored.is_empty())
        {
            fail(format!(
                "client {identifier} (a write without an answer): stored {count} times, \
                 lists {listed:?}, its tickets stored: {stored:?}"
            ));
        }
        let gone: Vec<&i64> = listed
            .iter()
            .filter(|t| !ticket_counts.contains_key(t))
            .collect();
        let unlisted: Vec<&i64> = stored.iter().filter(|t| !listed_set.contains(t)).collect();
        let mut state = format!(
            "{identifier}: {}, lists {listed:?}",
            if count == 1 { "present" } else { "absent" }
        );
        if !gone.is_empty() {
            state.push_str(&format!(
                "; {gone:?} listed but gone (a delete cut half-way; retrying it finishes)"
            ));
        }
        if !unlisted.is_empty() {
            state.push_str(&format!(
                "; {unlisted:?} stored under it but not listed (a create cut half-way)"
            ));
        }
        states.push(state);
    }
    states
}
