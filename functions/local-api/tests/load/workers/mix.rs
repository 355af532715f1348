//! The request mix: which operation a worker sends next, reproducibly from the seed.

use super::Worker;
use crate::TICKETS_PER_CLIENT;

/// One step of the mix: one request, or a few that belong together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    CreateClient,
    DuplicateClient,
    ContestedClient,
    GetClient,
    ListClients,
    UpdateClient,
    DeleteClient,
    CreateTicket,
    DuplicateTicket,
    ContestedTicket,
    GetTicket,
    UpdateTicket,
    ListClientTickets,
    DeleteTicket,
    NoToken,
    NewTicket,
    NewTicketRepeated,
    NewTicketConcurrent,
    Closed,
    ClosedRepeated,
    BadSignature,
}

/// The mix, by weight (out of 100).
const MIX: [(Op, u32); 21] = [
    (Op::CreateClient, 11),
    (Op::DuplicateClient, 2),
    (Op::ContestedClient, 2),
    (Op::GetClient, 11),
    (Op::ListClients, 6),
    (Op::UpdateClient, 7),
    (Op::DeleteClient, 3),
    (Op::CreateTicket, 12),
    (Op::DuplicateTicket, 2),
    (Op::ContestedTicket, 2),
    (Op::GetTicket, 10),
    (Op::UpdateTicket, 3),
    (Op::ListClientTickets, 8),
    (Op::DeleteTicket, 3),
    (Op::NoToken, 1),
    (Op::NewTicket, 8),
    (Op::NewTicketRepeated, 2),
    (Op::NewTicketConcurrent, 2),
    (Op::Closed, 2),
    (Op::ClosedRepeated, 1),
    (Op::BadSignature, 2),
];

impl Op {
    /// Requests the operation sends.
    pub(super) fn requests(self) -> usize {
        match self {
            Op::DeleteClient | Op::DeleteTicket | Op::NewTicketRepeated | Op::ClosedRepeated => 2,
            Op::NewTicketConcurrent => 3,
            _ => 1,
        }
    }
}

/// SplitMix64: a reproducible mix without a dependency.
pub(super) struct Rng(u64);

impl Rng {
    /// Each worker's own sequence, the same for the same seed.
    pub(super) fn for_worker(seed: u64, worker: usize) -> Self {
        Self(seed.wrapping_mul(1_000_003).wrapping_add(worker as u64))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

impl Worker {
    /// The next operation by the weights of `MIX`, among those this worker's state allows.
    pub(super) fn pick(&mut self) -> Op {
        let total: u32 = MIX.iter().map(|(_, weight)| weight).sum();
        for _ in 0..20 {
            let mut roll = (self.rng.next() % u64::from(total)) as u32;
            let op = MIX
                .iter()
                .find(|(_, weight)| {
                    if roll < *weight {
                        true
                    } else {
                        roll -= weight;
                        false
                    }
                })
                .map_or(Op::ListClients, |(op, _)| *op);
            let possible = match op {
                Op::DeleteClient => self.log.clients.len() > 1,
                Op::CreateTicket => self
                    .log
                    .clients
                    .iter()
                    .any(|c| c.tickets.len() < TICKETS_PER_CLIENT),
                Op::DuplicateTicket | Op::GetTicket | Op::UpdateTicket => !self.log.tags.is_empty(),
                Op::DeleteTicket => !self.deletable_tickets().is_empty(),
                Op::Closed | Op::ClosedRepeated => self.run.closed_left(),
                _ => true,
            };
            if possible {
                return op;
            }
        }
        Op::ListClients
    }

    pub(super) async fn perform(&mut self, op: Op) {
        match op {
            Op::CreateClient => {
                self.create_client().await;
            }
            Op::DuplicateClient => self.duplicate_client().await,
            Op::ContestedClient => self.contested_client().await,
            Op::GetClient => self.get_client().await,
            Op::ListClients => self.list_clients().await,
            Op::UpdateClient => self.update_client().await,
            Op::DeleteClient => self.delete_client().await,
            Op::CreateTicket => self.create_ticket().await,
            Op::DuplicateTicket => self.duplicate_ticket().await,
            Op::ContestedTicket => self.contested_ticket().await,
            Op::GetTicket => self.get_ticket().await,
            Op::UpdateTicket => self.update_ticket().await,
            Op::ListClientTickets => self.list_client_tickets().await,
            Op::DeleteTicket => self.delete_ticket().await,
            Op::NoToken => self.no_token().await,
            Op::NewTicket => {
                self.new_ticket(false).await;
            }
            Op::NewTicketRepeated => self.new_ticket(true).await,
            Op::NewTicketConcurrent => self.new_ticket_concurrent().await,
            Op::Closed => self.closed(false).await,
            Op::ClosedRepeated => self.closed(true).await,
            Op::BadSignature => self.bad_signature().await,
        }
    }
}
