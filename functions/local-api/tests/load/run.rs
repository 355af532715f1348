//! What the workers share: the server, the request budget, the keys they race for on purpose.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::REQUEST_TIMEOUT;
use crate::glassix_stub::ClosedTicket;

pub(crate) struct Run {
    base: String,
    pub(crate) http: reqwest::Client,
    budget: usize,
    sent: AtomicUsize,
    pub(crate) contested_clients: AtomicUsize,
    pub(crate) contested_tickets: AtomicUsize,
    pub(crate) new_tickets: AtomicUsize,
    pub(crate) unsigned: AtomicUsize,
    pub(crate) closed: Vec<ClosedTicket>,
    next_closed: AtomicUsize,
    /// Contested keys: who tried, who won.
    pub(crate) contests: Mutex<BTreeMap<Contested, Contest>>,
}

impl Run {
    /// A run of `budget` requests against the local API at `base`, from `concurrency` workers.
    pub(crate) fn new(
        base: String,
        budget: usize,
        concurrency: usize,
        closed: Vec<ClosedTicket>,
    ) -> Self {
        shared::tls::use_ring();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .pool_max_idle_per_host(concurrency)
            .build()
            .expect("HTTP client");
        Self {
            base,
            http,
            budget,
            sent: AtomicUsize::new(0),
            contested_clients: AtomicUsize::new(0),
            contested_tickets: AtomicUsize::new(0),
            new_tickets: AtomicUsize::new(0),
            unsigned: AtomicUsize::new(0),
            closed,
            next_closed: AtomicUsize::new(0),
            contests: Mutex::new(BTreeMap::new()),
        }
    }

    /// Takes `count` requests from the budget, all or none.
    pub(crate) fn reserve(&self, count: usize) -> bool {
        self.sent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |sent| {
                (sent + count <= self.budget).then_some(sent + count)
            })
            .is_ok()
    }

    pub(crate) fn take_closed(&self) -> Option<(usize, &ClosedTicket)> {
        let index = self.next_closed.fetch_add(1, Ordering::Relaxed);
        Some((index, self.closed.get(index)?))
    }

    pub(crate) fn closed_left(&self) -> bool {
        self.next_closed.load(Ordering::Relaxed) < self.closed.len()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Contested {
    Client(String),
    Ticket(i64),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Contest {
    pub(crate) attempts: u32,
    pub(crate) conflicts: u32,
    /// Attempts without an answer, or with one that was not expected.
    pub(crate) unknown: u32,
    /// For a ticket: the client it was created under, for each 201.
    pub(crate) winners: Vec<String>,
}
