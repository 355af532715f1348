//! The workers: each sends its share of the mix (`mix`) through the REST API (`rest`) and the
//! webhooks (`webhooks`), checks every answer it can against what it knows, and logs it (`log`).

mod log;
mod mix;
mod rest;
mod webhooks;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use self::log::ClientModel;
pub(crate) use self::log::{Sample, WorkerLog};
use self::mix::Rng;
use crate::run::Run;

/// One answer: status and body, or no answer.
type Answer = Result<(u16, Vec<u8>), String>;

async fn timed(request: reqwest::RequestBuilder) -> (Answer, Duration) {
    let started = Instant::now();
    let answer = async {
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        Ok((status, body.to_vec()))
    }
    .await;
    (answer, started.elapsed())
}

/// One worker: it sends the mix until the run's budget is spent, and knows what each client it
/// made must hold.
struct Worker {
    run: Arc<Run>,
    id: usize,
    rng: Rng,
    serial: u64,
    list_cursor: Option<String>,
    /// Won contested tickets: never deleted.
    contested: HashSet<i64>,
    /// Set when the anchor's state became unknown: the worker stops.
    stopped: bool,
    log: WorkerLog,
}

/// Worker `id` of the run: creates its anchor client, then sends the mix.
pub(crate) async fn work(run: Arc<Run>, id: usize, seed: u64) -> WorkerLog {
    let mut worker = Worker {
        run,
        id,
        rng: Rng::for_worker(seed, id),
        serial: 0,
        list_cursor: None,
        contested: HashSet::new(),
        stopped: false,
        log: WorkerLog::default(),
    };
    if !worker.run.reserve(1) {
        return worker.log;
    }
    if !worker.create_client().await {
        worker.fail("the anchor client was not created; this worker stops".into());
        return worker.log;
    }
    while !worker.stopped {
        let op = worker.pick();
        if worker.run.reserve(op.requests()) {
            worker.perform(op).await;
        } else if worker.run.reserve(1) {
            // The operation no longer fits the budget: one read fills it, so that the run
            // sends exactly the requests it was asked for.
            worker.list_clients().await;
        } else {
            break;
        }
    }
    worker.log
}

impl Worker {
    /// A write to this client got no answer or an unexpected one: it leaves the run's exact
    /// model (with `maybe_ticket`, a ticket it may now hold). The anchor's loss stops the
    /// worker.
    fn abandon(&mut self, index: usize, maybe_ticket: Option<i64>) {
        let mut client = self.log.clients.remove(index);
        client.tickets.extend(maybe_ticket);
        for ticket in &client.tickets {
            self.log.tags.remove(ticket);
            self.contested.remove(ticket);
        }
        self.log.uncertain.push(client);
        self.stopped |= index == 0;
    }

    fn fail(&mut self, failure: String) {
        self.log
            .failures
            .push(format!("worker {}: {failure}", self.id));
    }

    /// Sends a request, records its latency and status, and checks the status is one of
    /// `expected`. The body is returned as JSON (`Null` when empty or not JSON).
    async fn send(
        &mut self,
        op: &'static str,
        request: reqwest::RequestBuilder,
        expected: &[u16],
    ) -> Option<(u16, Value)> {
        let (answer, elapsed) = timed(request).await;
        self.record(op, answer, elapsed, expected)
    }

    /// Records an answer to a request sent some other way than `send` (several at once).
    fn record(
        &mut self,
        op: &'static str,
        answer: Answer,
        elapsed: Duration,
        expected: &[u16],
    ) -> Option<(u16, Value)> {
        match answer {
            Ok((status, body)) => {
                let ok = expected.contains(&status);
                self.log.samples.push(Sample {
                    op,
                    status,
                    elapsed,
                    expected: ok,
                });
                if !ok {
                    let text = String::from_utf8_lossy(&body);
                    let text: String = text.chars().take(300).collect();
                    self.log
                        .unexpected
                        .push(format!("{op}: {status} (expected {expected:?}): {text}"));
                }
                let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
                Some((status, json))
            }
            Err(error) => {
                self.log.samples.push(Sample {
                    op,
                    status: 0,
                    elapsed,
                    expected: false,
                });
                self.log
                    .unexpected
                    .push(format!("{op}: no answer after {elapsed:?}: {error}"));
                None
            }
        }
    }

    fn any_client(&mut self) -> usize {
        self.rng.below(self.log.clients.len())
    }

    /// Sorted first: the same seed picks the same ticket (a `HashMap` iterates in random order).
    fn any_ticket(&mut self) -> i64 {
        let mut ids: Vec<i64> = self.log.tags.keys().copied().collect();
        ids.sort_unstable();
        ids[self.rng.below(ids.len())]
    }

    /// Not the contested tickets it won: a contested key stays taken, so that exactly one of its
    /// creates is acknowledged.
    fn deletable_tickets(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .log
            .tags
            .keys()
            .filter(|id| !self.contested.contains(id))
            .copied()
            .collect();
        ids.sort_unstable();
        ids
    }

    fn client_of(&self, ticket_id: i64) -> usize {
        self.log
            .clients
            .iter()
            .position(|c| c.tickets.contains(&ticket_id))
            .expect("a live ticket belongs to a live client")
    }
}
