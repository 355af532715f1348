//! Load (hardening suite, item 3): a bounded run of mixed REST requests and signed webhooks
//! against the local API over loopback — the real handlers, FerretDB, the wiremock Glassix —
//! then an audit of the database and of what Glassix received: every acknowledged write is
//! stored exactly once (counted by the database, `$group`), every deletion acknowledged is
//! gone, every 409 answered a duplicate sent on purpose, and every acknowledged new-ticket
//! delivery tagged and noted its ticket exactly once.
//!
//! `LOAD_REQUESTS` (default 600, small enough for `cargo test`), `LOAD_CONCURRENCY` (default
//! 32), `LOAD_SEED` (default 1). The report goes to stdout (`-- --nocapture`);
//! `scripts/load.sh` runs 10,000 requests in release mode.
//!
//! Each worker owns the clients it creates (so it knows what every read must answer), plus an
//! anchor client it never deletes. Keys that several workers race for on purpose (contested
//! client identifiers and ticket ids) are never deleted, so exactly one create of each may be
//! acknowledged. Webhook deliveries are repeated the way Glassix repeats them (same bytes);
//! a delivery never acknowledged may have done part of its work, which is checked against the
//! invariants only (no duplicate, nothing scrambled that is not archived whole).
//!
//! The run fails on any status that was not expected (every 5xx included, except a webhook's
//! 503 "deliver again" when its budget ran out, see `WEBHOOK_ANSWERS`), any request without an
//! answer, any inconsistent read, and any audit finding.
//!
//! The parts: `glassix_stub`, `payloads` and `server` set the run up; `run` is what the
//! `workers` share while they send the mix; `audit` checks the outcome; `report` prints it.

#[path = "../common/mod.rs"]
mod common;

mod audit;
mod glassix_stub;
mod payloads;
mod report;
mod run;
mod server;
mod workers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::testing;

use crate::audit::audit;
use crate::report::{Report, print_report};
use crate::run::Run;
use crate::workers::{Sample, work};

/// A webhook answers 200, or 503 when its budget ran out before the database or Glassix did
/// (the designed "deliver again" answer: on a loaded machine FerretDB, which answers no query
/// from an index, gets there). Such a delivery counts as not acknowledged: the audit checks
/// its partial work against the invariants (nothing done twice, nothing scrambled unarchived).
const WEBHOOK_ANSWERS: &[u16] = &[200, 503];

// Ticket ids by origin, in ranges that never meet (the stub serves `tickets/get/5…` as new
// tickets).
const REST_TICKETS: i64 = 100_000_000;
const CONTESTED_TICKETS: i64 = 300_000_000;
const NEW_TICKETS: i64 = 500_000_000;
const UNSIGNED_TICKETS: i64 = 800_000_000;
const CLOSED_TICKETS: i64 = 900_000_000;
/// Tickets a worker puts on one client at most (one page of `list client tickets`).
const TICKETS_PER_CLIENT: usize = 30;
/// Transactions in `ticket_body` and in the Glassix ticket fixture.
const REST_TRANSACTIONS: i64 = 1;
const CLOSED_TRANSACTIONS: i64 = 5;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a positive integer, not {value:?}")),
        _ => default,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mixed_load_acknowledges_every_write_exactly_once() {
    let requests = env_usize("LOAD_REQUESTS", 600);
    let concurrency = env_usize("LOAD_CONCURRENCY", 32).max(1);
    let seed = env_usize("LOAD_SEED", 1) as u64;
    let setup_started = Instant::now();

    let store = testing::store().await;
    store.ensure_indexes().await.expect("indexes");
    let stub = glassix_stub::start().await;
    // Closed tickets live in the stub (GET, file, scramble): a few, the archive job is
    // the most expensive request of the mix.
    let closed = glassix_stub::mount_closed_tickets(&stub, (requests / 100).clamp(2, 100)).await;
    let base = server::start_local_api(&stub, store.clone()).await;
    let run = Arc::new(Run::new(base, requests, concurrency, closed));
    let setup = setup_started.elapsed();

    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|id| tokio::spawn(work(run.clone(), id, seed)))
        .collect();
    let mut logs = Vec::new();
    for worker in workers {
        logs.push(worker.await.expect("worker"));
    }
    let wall = started.elapsed();

    let audit_started = Instant::now();
    server::archive_queue_worked_off(&store).await;
    let unexpected: Vec<String> = logs
        .iter_mut()
        .flat_map(|l| std::mem::take(&mut l.unexpected))
        .collect();
    let mut failures: Vec<String> = logs
        .iter_mut()
        .flat_map(|l| std::mem::take(&mut l.failures))
        .collect();
    let summary = audit(&store, &stub, &run, &logs, &mut failures).await;
    let audit_time = audit_started.elapsed();

    let samples: Vec<&Sample> = logs.iter().flat_map(|l| &l.samples).collect();
    print_report(&Report {
        requests,
        concurrency,
        seed,
        samples: &samples,
        wall,
        setup,
        audit: audit_time,
        summary: &summary,
        unexpected: &unexpected,
        failures: &failures,
    });
    assert!(
        unexpected.is_empty() && failures.is_empty(),
        "{} unexpected answers, {} failed checks (see the report above); first: {}",
        unexpected.len(),
        failures.len(),
        unexpected
            .iter()
            .chain(&failures)
            .next()
            .map_or("", String::as_str)
    );
    assert_eq!(samples.len(), requests, "requests sent");
}
