//! What the database and the stub must hold after the run, from what the workers logged.

use std::collections::{BTreeMap, BTreeSet};

use crate::run::{Contest, Contested, Run};
use crate::workers::WorkerLog;
use crate::{CLOSED_TRANSACTIONS, REST_TRANSACTIONS};

/// What must exist, and what must not, after the run.
pub(super) struct World {
    /// Identifier → (name to check, or `None` for clients the archive wrote; ticket ids).
    pub(super) clients: BTreeMap<String, (Option<Option<String>>, BTreeSet<i64>)>,
    pub(super) gone_clients: BTreeSet<String>,
    /// Ticket id → (client, tags to check or `None`, transactions, scrambled).
    pub(super) tickets: BTreeMap<i64, ExpectedTicket>,
    pub(super) gone_tickets: BTreeSet<i64>,
    pub(super) new_tickets: BTreeSet<i64>,
    /// Refused deliveries (a failure already) may have done part of their work, as Glassix
    /// would retry them: what they did is checked against the invariants only.
    pub(super) new_unacknowledged: BTreeSet<i64>,
    pub(super) unsigned: BTreeSet<i64>,
    pub(super) closed: BTreeSet<i64>,
    /// Ticket id → client.
    pub(super) closed_unacknowledged: BTreeMap<i64, String>,
    pub(super) contests: Vec<(Contested, Contest)>,
    /// Identifier → tickets it may hold: clients whose state is unknown after a write without
    /// an answer (see `WorkerLog::uncertain`).
    pub(super) uncertain: BTreeMap<String, BTreeSet<i64>>,
    pub(super) deleted_acknowledged: usize,
}

pub(super) struct ExpectedTicket {
    pub(super) client: String,
    pub(super) tags: Option<Vec<String>>,
    pub(super) transactions: i64,
    pub(super) scrambled: bool,
}

impl World {
    pub(super) fn from_logs(run: &Run, logs: &[WorkerLog]) -> Self {
        let mut world = World {
            clients: BTreeMap::new(),
            gone_clients: BTreeSet::new(),
            tickets: BTreeMap::new(),
            gone_tickets: BTreeSet::new(),
            new_tickets: BTreeSet::new(),
            new_unacknowledged: BTreeSet::new(),
            unsigned: BTreeSet::new(),
            closed: BTreeSet::new(),
            closed_unacknowledged: BTreeMap::new(),
            contests: Vec::new(),
            uncertain: BTreeMap::new(),
            deleted_acknowledged: 0,
        };
        for log in logs {
            for client in &log.clients {
                world.clients.insert(
                    client.identifier.clone(),
                    (
                        Some(client.name.clone()),
                        client.tickets.iter().copied().collect(),
                    ),
                );
                for ticket in &client.tickets {
                    world.tickets.insert(
                        *ticket,
                        ExpectedTicket {
                            client: client.identifier.clone(),
                            tags: log.tags.get(ticket).cloned(),
                            transactions: REST_TRANSACTIONS,
                            scrambled: false,
                        },
                    );
                }
            }
            world
                .gone_clients
                .extend(log.deleted_clients.iter().cloned());
            world
                .gone_tickets
                .extend(log.deleted_tickets.iter().copied());
            world.deleted_acknowledged += log.deleted_clients.len() + log.deleted_tickets.len();
            world.new_tickets.extend(log.new_tickets.iter().copied());
            world
                .new_unacknowledged
                .extend(log.new_unacknowledged.iter().copied());
            for &index in &log.closed_unacknowledged {
                let closed = &run.closed[index];
                world
                    .closed_unacknowledged
                    .insert(closed.ticket_id, closed.client.clone());
            }
            world.unsigned.extend(log.unsigned.iter().copied());
            for client in &log.uncertain {
                world
                    .uncertain
                    .entry(client.identifier.clone())
                    .or_default()
                    .extend(client.tickets.iter().copied());
            }
            for &index in &log.closed {
                let closed = &run.closed[index];
                world.closed.insert(closed.ticket_id);
                let client = world
                    .clients
                    .entry(closed.client.clone())
                    .or_insert((None, BTreeSet::new()));
                client.1.insert(closed.ticket_id);
                world.tickets.insert(
                    closed.ticket_id,
                    ExpectedTicket {
                        client: closed.client.clone(),
                        tags: None,
                        transactions: CLOSED_TRANSACTIONS,
                        scrambled: true,
                    },
                );
            }
        }
        let contests = run.contests.lock().expect("contests");
        for (key, contest) in contests.iter() {
            if let Contested::Client(identifier) = key {
                if let [_] = contest.winners.as_slice() {
                    world
                        .clients
                        .insert(identifier.clone(), (None, BTreeSet::new()));
                } else if contest.winners.is_empty() && contest.unknown > 0 {
                    world.uncertain.entry(identifier.clone()).or_default();
                }
            }
            world.contests.push((key.clone(), contest.clone()));
        }
        world
    }
}
