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

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use local_api::AnyQueue;
use local_api::handlers::{States, Webhooks};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use shared::db::Store;
use shared::db::bson::{Bson, Document, doc};
use shared::db::documents::{CLIENTS, TICKETS, TRANSACTIONS, WEBHOOK_ACTIONS};
use shared::glassix::inbound::sign;
use shared::queue::LocalQueue;
use shared::testing::glassix::{BASE_PATH, GlassixStub, LiveTicket, TEST_API_SECRET};
use shared::testing::requests::{
    TEST_API_TOKEN, api_state_with_files, closing_state, new_ticket_state, ticket_body,
    worker_state,
};
use shared::testing::{self, fixture};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, ResponseTemplate};

/// A webhook answers 200, or 503 when its budget ran out before the database or Glassix did
/// (the designed "deliver again" answer: on a loaded machine FerretDB, which answers no query
/// from an index, gets there). Such a delivery counts as not acknowledged: the audit checks
/// its partial work against the invariants (nothing done twice, nothing scrambled unarchived).
const WEBHOOK_ANSWERS: &[u16] = &[200, 503];

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
    let stub = glassix().await;
    // Closed tickets live in the stub (GET, file, scramble): a few, the archive job is
    // the most expensive request of the mix.
    let closed_count = (requests / 100).clamp(2, 100);
    let mut closed = Vec::new();
    for n in 0..closed_count {
        let ticket_id = CLOSED_TICKETS + n as i64;
        let client = format!("97259{n:07}");
        LiveTicket::mount(&stub, glassix_ticket(ticket_id, &client)).await;
        closed.push(ClosedTicket { ticket_id, client });
    }
    let base = start_local_api(&stub, store.clone()).await;

    let run = Arc::new(Run {
        base,
        http: {
            shared::tls::use_ring();
            reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .pool_max_idle_per_host(concurrency)
                .build()
                .expect("HTTP client")
        },
        budget: requests,
        sent: AtomicUsize::new(0),
        contested_clients: AtomicUsize::new(0),
        contested_tickets: AtomicUsize::new(0),
        new_tickets: AtomicUsize::new(0),
        unsigned: AtomicUsize::new(0),
        closed,
        next_closed: AtomicUsize::new(0),
        contests: Mutex::new(BTreeMap::new()),
    });
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
    archive_queue_worked_off(&store).await;
    let unexpected: Vec<String> = logs
        .iter_mut()
        .flat_map(|l| std::mem::take(&mut l.unexpected))
        .collect();
    let mut failures: Vec<String> = logs
        .iter_mut()
        .flat_map(|l| std::mem::take(&mut l.failures))
        .collect();
    let world = World::from_logs(&run, &logs);
    let summary = audit(&store, &stub, &world, &mut failures).await;
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

// ---------------------------------------------------------------------------------------------
// Set-up: the stub, the server, the events.

/// The Glassix stub. New tickets live in it the way they live in Glassix: tags and notes
/// posted to any of them are kept, and `GET tickets/get/{id}` shows them (a delivery that
/// takes over an uncertain claim reads the ticket before acting). One mock per endpoint,
/// whatever the number of tickets.
async fn glassix() -> GlassixStub {
    let stub = GlassixStub::start().await;
    let tickets = NewTickets::default();
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v1\.2/tickets/addtags/[0-9]+$"))
        .respond_with(AddTags(tickets.clone()))
        .mount(&stub.server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/api/v1\.2/tickets/addnote/[0-9]+$"))
        .respond_with(AddNote(tickets.clone()))
        .mount(&stub.server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v1\.2/tickets/get/5[0-9]{8}$"))
        .respond_with(GetNewTicket(tickets))
        .mount(&stub.server)
        .await;
    stub
}

/// What was posted to a new ticket in the stub.
#[derive(Clone, Default)]
struct StubTicket {
    tags: Vec<String>,
    notes: Vec<String>,
}

/// The new tickets of the stub, by id.
#[derive(Clone, Default)]
struct NewTickets(Arc<Mutex<HashMap<i64, StubTicket>>>);

impl NewTickets {
    /// Applies `change` to the ticket named by the request's last path segment.
    fn update<T>(
        &self,
        request: &wiremock::Request,
        change: impl FnOnce(i64, &mut StubTicket) -> T,
    ) -> Option<T> {
        let id = request.url.path().rsplit('/').next()?.parse().ok()?;
        let mut tickets = self.0.lock().expect("stub tickets");
        Some(change(id, tickets.entry(id).or_default()))
    }
}

struct AddTags(NewTickets);

impl wiremock::Respond for AddTags {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let posted: Vec<String> = serde_json::from_slice(&request.body).unwrap_or_default();
        let kept = self.0.update(request, |_, ticket| {
            for tag in posted {
                if !ticket.tags.contains(&tag) {
                    ticket.tags.push(tag);
                }
            }
            ticket.tags.clone()
        });
        ResponseTemplate::new(200).set_body_json(kept.unwrap_or_default())
    }
}

struct AddNote(NewTickets);

impl wiremock::Respond for AddNote {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let text = body["text"].as_str().unwrap_or_default().to_owned();
        self.0.update(request, |_, ticket| ticket.notes.push(text));
        ResponseTemplate::new(200)
    }
}

struct GetNewTicket(NewTickets);

impl wiremock::Respond for GetNewTicket {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let Some((ticket_id, posted)) = self.0.update(request, |id, ticket| (id, ticket.clone()))
        else {
            return ResponseTemplate::new(404);
        };
        let event: Value =
            serde_json::from_slice(&fixture("glassix/new-ticket-event.json")).expect("json");
        let mut ticket = event["changes"][0]["ticket"].clone();
        ticket["id"] = ticket_id.into();
        ticket["tags"] = json!(posted.tags);
        ticket["transactions"] = posted
            .notes
            .iter()
            .enumerate()
            .map(|(n, text)| {
                json!({
                    "id": n + 1, "dateTime": "2024-03-10T08:15:43.000Z", "type": "Note",
                    "text": text, "html": "",
                    "fromParticipant": {"type": "User", "identifier": "api-bot", "name": "API"},
                    "attachments": []
                })
            })
            .collect();
        ticket["transactionsCount"] = posted.notes.len().into();
        ResponseTemplate::new(200).set_body_json(ticket)
    }
}

/// The local API with REST and webhook states on a free loopback port, and its archive queue's
/// poller running the worker, as `local-api` runs them.
async fn start_local_api(stub: &GlassixStub, store: Store) -> String {
    tokio::spawn(shared::queue::poller::run(
        LocalQueue::new(store.clone()),
        worker_state(stub, store.clone()),
    ));
    common::serve_on_loopback(States {
        api: api_state_with_files(store.clone()),
        webhooks: Some(Webhooks {
            new_ticket: new_ticket_state(stub, store.clone()).await,
            closing: closing_state(stub, store).map_queue(AnyQueue::Database),
        }),
    })
    .await
}

/// Waits until the poller has worked off every queued closing (a job that met a concurrent
/// deletion of its client is retried after its backoff).
async fn archive_queue_worked_off(store: &Store) {
    let queue = LocalQueue::new(store.clone());
    let give_up = Instant::now() + Duration::from_secs(180);
    while !queue
        .waiting()
        .await
        .expect("the local queue answers")
        .is_empty()
    {
        assert!(
            Instant::now() < give_up,
            "archive jobs still queued after 3 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Glassix ticket fixture as ticket `ticket_id` of client `client`.
fn glassix_ticket(ticket_id: i64, client: &str) -> Value {
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
fn new_ticket_event(ticket_id: i64, client: &str) -> Vec<u8> {
    let mut event: Value =
        serde_json::from_slice(&fixture("glassix/new-ticket-event.json")).expect("json");
    event["key"] = format!("load-new-{ticket_id}").into();
    let change = &mut event["changes"][0];
    change["ticketId"] = ticket_id.into();
    change["ticket"]["id"] = ticket_id.into();
    set_client(&mut change["ticket"], client);
    serde_json::to_vec(&event).expect("json")
}

/// A `TICKET_STATE_CHANGE` to `Closed` delivery for `ticket_id`.
fn closed_event(ticket_id: i64, client: &str) -> Vec<u8> {
    let mut event: Value =
        serde_json::from_slice(&fixture("glassix/ticket-state-change-closed-event.json"))
            .expect("json");
    event["key"] = format!("load-closed-{ticket_id}").into();
    let change = &mut event["changes"][0];
    change["ticketId"] = ticket_id.into();
    change["ticket"]["id"] = ticket_id.into();
    set_client(&mut change["ticket"], client);
    serde_json::to_vec(&event).expect("json")
}

fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, NON_ALPHANUMERIC).to_string()
}

// ---------------------------------------------------------------------------------------------
// The run.

struct Run {
    base: String,
    http: reqwest::Client,
    budget: usize,
    sent: AtomicUsize,
    contested_clients: AtomicUsize,
    contested_tickets: AtomicUsize,
    new_tickets: AtomicUsize,
    unsigned: AtomicUsize,
    closed: Vec<ClosedTicket>,
    next_closed: AtomicUsize,
    /// Contested keys: who tried, who won.
    contests: Mutex<BTreeMap<Contested, Contest>>,
}

impl Run {
    /// Takes `count` requests from the budget, all or none.
    fn reserve(&self, count: usize) -> bool {
        self.sent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |sent| {
                (sent + count <= self.budget).then_some(sent + count)
            })
            .is_ok()
    }

    fn take_closed(&self) -> Option<(usize, &ClosedTicket)> {
        let index = self.next_closed.fetch_add(1, Ordering::Relaxed);
        Some((index, self.closed.get(index)?))
    }

    fn closed_left(&self) -> bool {
        self.next_closed.load(Ordering::Relaxed) < self.closed.len()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

struct ClosedTicket {
    ticket_id: i64,
    client: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Contested {
    Client(String),
    Ticket(i64),
}

#[derive(Debug, Clone, Default)]
struct Contest {
    attempts: u32,
    conflicts: u32,
    /// Attempts without an answer, or with one that was not expected.
    unknown: u32,
    /// For a ticket: the client it was created under, for each 201.
    winners: Vec<String>,
}

struct Sample {
    op: &'static str,
    /// 0: no answer (transport error or timeout).
    status: u16,
    elapsed: Duration,
    expected: bool,
}

/// What a worker knows it did.
#[derive(Default)]
struct WorkerLog {
    samples: Vec<Sample>,
    /// Unexpected statuses and requests without an answer.
    unexpected: Vec<String>,
    /// Reads that contradict what was acknowledged.
    failures: Vec<String>,
    /// Clients alive at the end (the anchor first) with what they must hold.
    clients: Vec<ClientModel>,
    deleted_clients: Vec<String>,
    deleted_tickets: Vec<i64>,
    /// Expected tags of every live ticket this worker created.
    tags: HashMap<i64, Vec<String>>,
    /// New-ticket deliveries acknowledged with 200.
    new_tickets: Vec<i64>,
    /// New-ticket deliveries never acknowledged (a failure already): Glassix would retry them.
    new_unacknowledged: Vec<i64>,
    /// Closed-ticket deliveries acknowledged with 200 (index into `Run::closed`).
    closed: Vec<usize>,
    /// Closed-ticket deliveries never acknowledged (a failure already).
    closed_unacknowledged: Vec<usize>,
    /// Unsigned (wrongly signed) deliveries' ticket ids: nothing may happen for them.
    unsigned: Vec<i64>,
    /// Clients a write of which got no answer or an unexpected one (a failure already): their
    /// state is unknown, so they are only checked for duplicates; `tickets` are those they
    /// may hold.
    uncertain: Vec<ClientModel>,
}

#[derive(Debug, Clone)]
struct ClientModel {
    identifier: String,
    name: Option<String>,
    tickets: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
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
    fn requests(self) -> usize {
        match self {
            Op::DeleteClient | Op::DeleteTicket | Op::NewTicketRepeated | Op::ClosedRepeated => 2,
            Op::NewTicketConcurrent => 3,
            _ => 1,
        }
    }
}

/// SplitMix64: a reproducible mix without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

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

async fn work(run: Arc<Run>, id: usize, seed: u64) -> WorkerLog {
    let mut worker = Worker {
        run,
        id,
        rng: Rng(seed.wrapping_mul(1_000_003).wrapping_add(id as u64)),
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

    fn rest(&self, verb: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.run
            .http
            .request(verb, self.run.url(path))
            .bearer_auth(TEST_API_TOKEN)
    }

    fn webhook(&self, route: &str, body: Vec<u8>, secret: &str) -> reqwest::RequestBuilder {
        self.run
            .http
            .post(self.run.url(&format!("/webhooks/glassix/{route}")))
            .header("content-type", "application/json")
            .header("X-Hub-Signature", sign(secret, &body))
            .body(body)
    }

    fn pick(&mut self) -> Op {
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

    async fn perform(&mut self, op: Op) {
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

    fn any_client(&mut self) -> usize {
        self.rng.below(self.log.clients.len())
    }

    fn any_ticket(&mut self) -> i64 {
        let mut ids: Vec<i64> = self.log.tags.keys().copied().collect();
        ids.sort_unstable();
        ids[self.rng.below(ids.len())]
    }

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

    /// A fresh client: an e-mail or phone digits, with a name or without, Hebrew or Latin.
    async fn create_client(&mut self) -> bool {
        self.serial += 1;
        let identifier = if self.rng.chance(50) {
            format!("load.w{}+c{}@example.com", self.id, self.serial)
        } else {
            format!("9725{:03}{:06}", self.id, self.serial)
        };
        let name = match self.rng.below(3) {
            0 => None,
            1 => Some(format!("דנה כהן {}", self.serial)),
            _ => Some(format!("Dana Cohen {}", self.serial)),
        };
        let mut body = json!({"identifier": identifier});
        if let Some(name) = &name {
            body["name"] = name.clone().into();
        }
        let request = self.rest(reqwest::Method::POST, "/clients").json(&body);
        let Some((201, answer)) = self.send("create client", request, &[201]).await else {
            self.log.uncertain.push(ClientModel {
                identifier,
                name,
                tickets: Vec::new(),
            });
            return false;
        };
        if answer["identifier"] != identifier.as_str() {
            self.fail(format!("create client answered {answer}"));
        }
        self.log.clients.push(ClientModel {
            identifier,
            name,
            tickets: Vec::new(),
        });
        true
    }

    async fn duplicate_client(&mut self) {
        let index = self.any_client();
        let client = self.log.clients[index].clone();
        let request = self
            .rest(reqwest::Method::POST, "/clients")
            .json(&json!({"identifier": client.identifier, "name": "Someone Else"}));
        self.send("create client (duplicate)", request, &[409])
            .await;
    }

    async fn contested_client(&mut self) {
        let key = self.run.contested_clients.fetch_add(1, Ordering::Relaxed) / 2;
        let identifier = format!("contested-{key}@example.com");
        let request = self
            .rest(reqwest::Method::POST, "/clients")
            .json(&json!({"identifier": identifier, "name": format!("Contested {key}")}));
        let status = self
            .send("create client (contested)", request, &[201, 409])
            .await
            .map(|(status, _)| status);
        self.contest(Contested::Client(identifier), status, String::new());
    }

    fn contest(&self, key: Contested, status: Option<u16>, winner: String) {
        let mut contests = self.run.contests.lock().expect("contests");
        let contest = contests.entry(key).or_default();
        contest.attempts += 1;
        match status {
            Some(201) => contest.winners.push(winner),
            Some(409) => contest.conflicts += 1,
            _ => contest.unknown += 1,
        }
    }

    async fn get_client(&mut self) {
        let index = self.any_client();
        let client = self.log.clients[index].clone();
        let request = self.rest(
            reqwest::Method::GET,
            &format!("/clients/{}", encode(&client.identifier)),
        );
        let Some((200, body)) = self.send("get client", request, &[200]).await else {
            return;
        };
        let name = body["name"].as_str().map(str::to_owned);
        let mut tickets: Vec<i64> = body["tickets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        tickets.sort_unstable();
        let mut expected = client.tickets.clone();
        expected.sort_unstable();
        if body["identifier"] != client.identifier.as_str()
            || name != client.name
            || tickets != expected
        {
            self.fail(format!(
                "get client {}: read {body}, expected name {:?} and tickets {expected:?}",
                client.identifier, client.name
            ));
        }
    }

    async fn list_clients(&mut self) {
        let mut path = "/clients?limit=50".to_owned();
        if let Some(cursor) = self.list_cursor.take()
            && self.rng.chance(50)
        {
            path.push_str(&format!("&cursor={}", encode(&cursor)));
        }
        let request = self.rest(reqwest::Method::GET, &path);
        let Some((200, body)) = self.send("list clients", request, &[200]).await else {
            return;
        };
        let identifiers: Vec<&str> = body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["identifier"].as_str())
            .collect();
        let ordered = identifiers.windows(2).all(|pair| pair[0] < pair[1]);
        if identifiers.len() > 50 || !ordered {
            self.fail(format!(
                "list clients: {} items, strictly ordered: {ordered}",
                identifiers.len()
            ));
        }
        self.list_cursor = body["next"].as_str().map(str::to_owned);
    }

    async fn update_client(&mut self) {
        let index = self.any_client();
        self.serial += 1;
        let name = (!self.rng.chance(20)).then(|| format!("Renamed {}", self.serial));
        let request = self
            .rest(
                reqwest::Method::PATCH,
                &format!("/clients/{}", encode(&self.log.clients[index].identifier)),
            )
            .json(&json!({ "name": name }));
        let Some((200, body)) = self.send("update client", request, &[200]).await else {
            self.abandon(index, None);
            return;
        };
        if body["name"].as_str().map(str::to_owned) != name {
            self.fail(format!("update client answered {body}, expected {name:?}"));
        }
        self.log.clients[index].name = name;
    }

    async fn delete_client(&mut self) {
        // Never the anchor (index 0).
        let index = 1 + self.rng.below(self.log.clients.len() - 1);
        let identifier = self.log.clients[index].identifier.clone();
        let path = format!("/clients/{}", encode(&identifier));
        let request = self.rest(reqwest::Method::DELETE, &path);
        let expected: &[u16] =
            if let Some((204, _)) = self.send("delete client", request, &[204]).await {
                let client = self.log.clients.remove(index);
                for ticket in client.tickets {
                    self.log.tags.remove(&ticket);
                    self.log.deleted_tickets.push(ticket);
                }
                self.log.deleted_clients.push(identifier);
                &[404]
            } else {
                self.abandon(index, None);
                &[200, 404]
            };
        let request = self.rest(reqwest::Method::GET, &path);
        self.send("get client (deleted)", request, expected).await;
    }

    async fn create_ticket(&mut self) {
        let candidates: Vec<usize> = (0..self.log.clients.len())
            .filter(|&i| self.log.clients[i].tickets.len() < TICKETS_PER_CLIENT)
            .collect();
        let index = candidates[self.rng.below(candidates.len())];
        self.serial += 1;
        let ticket_id = REST_TICKETS + self.id as i64 * 1_000_000 + self.serial as i64;
        let request = self
            .rest(
                reqwest::Method::POST,
                &format!(
                    "/clients/{}/tickets",
                    encode(&self.log.clients[index].identifier)
                ),
            )
            .json(&ticket_body(ticket_id));
        let Some((201, body)) = self.send("create ticket", request, &[201]).await else {
            self.abandon(index, Some(ticket_id));
            return;
        };
        if body["ticketId"] != ticket_id {
            self.fail(format!("create ticket {ticket_id} answered {body}"));
        }
        self.log.clients[index].tickets.push(ticket_id);
        self.log.tags.insert(ticket_id, vec!["Refund".into()]);
    }

    async fn duplicate_ticket(&mut self) {
        let ticket_id = self.any_ticket();
        // Under any of this worker's clients: the ticket id is unique across clients.
        let index = self.any_client();
        let request = self
            .rest(
                reqwest::Method::POST,
                &format!(
                    "/clients/{}/tickets",
                    encode(&self.log.clients[index].identifier)
                ),
            )
            .json(&ticket_body(ticket_id));
        self.send("create ticket (duplicate)", request, &[409])
            .await;
    }

    async fn contested_ticket(&mut self) {
        let key = self.run.contested_tickets.fetch_add(1, Ordering::Relaxed) / 2;
        let ticket_id = CONTESTED_TICKETS + key as i64;
        let anchor = self.log.clients[0].identifier.clone();
        let request = self
            .rest(
                reqwest::Method::POST,
                &format!("/clients/{}/tickets", encode(&anchor)),
            )
            .json(&ticket_body(ticket_id));
        let status = self
            .send("create ticket (contested)", request, &[201, 409])
            .await
            .map(|(status, _)| status);
        match status {
            Some(201) => {
                self.log.clients[0].tickets.push(ticket_id);
                self.log.tags.insert(ticket_id, vec!["Refund".into()]);
                self.contested.insert(ticket_id);
            }
            Some(409) => {}
            _ => self.abandon(0, Some(ticket_id)),
        }
        self.contest(Contested::Ticket(ticket_id), status, anchor);
    }

    async fn get_ticket(&mut self) {
        let ticket_id = self.any_ticket();
        let client = self.log.clients[self.client_of(ticket_id)]
            .identifier
            .clone();
        let tags = self.log.tags[&ticket_id].clone();
        let request = self.rest(reqwest::Method::GET, &format!("/tickets/{ticket_id}"));
        let Some((200, body)) = self.send("get ticket", request, &[200]).await else {
            return;
        };
        let read_tags: Vec<&str> = body["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if body["ticketId"] != ticket_id
            || body["clientIdentifier"] != client.as_str()
            || body["transactionCount"] != REST_TRANSACTIONS
            || read_tags != tags
        {
            self.fail(format!(
                "get ticket {ticket_id}: read {body}, expected client {client} and tags {tags:?}"
            ));
        }
    }

    async fn update_ticket(&mut self) {
        let ticket_id = self.any_ticket();
        self.serial += 1;
        let tags = vec!["Refund".to_owned(), format!("load-{}", self.serial)];
        let request = self
            .rest(reqwest::Method::PATCH, &format!("/tickets/{ticket_id}"))
            .json(&json!({ "tags": tags }));
        let Some((200, body)) = self.send("update ticket", request, &[200]).await else {
            let index = self.client_of(ticket_id);
            self.abandon(index, None);
            return;
        };
        if body["tags"] != json!(tags) {
            self.fail(format!("update ticket {ticket_id} answered {body}"));
        }
        self.log.tags.insert(ticket_id, tags);
    }

    async fn list_client_tickets(&mut self) {
        let index = self.any_client();
        let client = self.log.clients[index].clone();
        let request = self.rest(
            reqwest::Method::GET,
            &format!("/clients/{}/tickets?limit=100", encode(&client.identifier)),
        );
        let Some((200, body)) = self.send("list client tickets", request, &[200]).await else {
            return;
        };
        let read: Vec<i64> = body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["ticketId"].as_i64())
            .collect();
        let mut expected = client.tickets.clone();
        expected.sort_unstable();
        if read != expected {
            self.fail(format!(
                "list client tickets of {}: read {read:?}, expected {expected:?}",
                client.identifier
            ));
        }
    }

    async fn delete_ticket(&mut self) {
        let candidates = self.deletable_tickets();
        let ticket_id = candidates[self.rng.below(candidates.len())];
        let path = format!("/tickets/{ticket_id}");
        let request = self.rest(reqwest::Method::DELETE, &path);
        let index = self.client_of(ticket_id);
        let expected: &[u16] =
            if let Some((204, _)) = self.send("delete ticket", request, &[204]).await {
                self.log.clients[index].tickets.retain(|t| *t != ticket_id);
                self.log.tags.remove(&ticket_id);
                self.log.deleted_tickets.push(ticket_id);
                &[404]
            } else {
                self.abandon(index, None);
                &[200, 404]
            };
        let request = self.rest(reqwest::Method::GET, &path);
        self.send("get ticket (deleted)", request, expected).await;
    }

    async fn no_token(&mut self) {
        let request = self.run.http.get(self.run.url("/clients"));
        self.send("list clients (no token)", request, &[401]).await;
    }

    /// A client for a new ticket: one of this worker's (maybe with tickets), or a stranger.
    fn new_ticket_client(&mut self) -> String {
        if self.rng.chance(50) {
            let index = self.any_client();
            self.log.clients[index].identifier.clone()
        } else {
            format!("97258{:07}", self.rng.below(10_000_000))
        }
    }

    /// A new ticket's delivery; `repeated`: Glassix delivers the same event again (same bytes,
    /// same key), a duplicate after a 200 and the retry that does the work after a refusal.
    async fn new_ticket(&mut self, repeated: bool) {
        let ticket_id = NEW_TICKETS + self.run.new_tickets.fetch_add(1, Ordering::Relaxed) as i64;
        let client = self.new_ticket_client();
        let event = new_ticket_event(ticket_id, &client);
        let request = self.webhook("new-ticket", event.clone(), TEST_API_SECRET);
        let mut acknowledged = false;
        if let Some((200, body)) = self
            .send("webhook new-ticket", request, WEBHOOK_ANSWERS)
            .await
        {
            acknowledged = true;
            if body["processed"] != 1 {
                self.fail(format!("new ticket {ticket_id}: answered {body}"));
            }
        }
        if repeated {
            let request = self.webhook("new-ticket", event, TEST_API_SECRET);
            if let Some((200, body)) = self
                .send("webhook new-ticket (repeat)", request, WEBHOOK_ANSWERS)
                .await
            {
                self.check_retry(ticket_id, acknowledged, &body);
                acknowledged = true;
            }
        }
        self.new_ticket_outcome(ticket_id, acknowledged);
    }

    /// Two deliveries of one ticket at once, then the retry Glassix would make. A delivery
    /// that finds an action claimed by the other may wait for it or answer 503; the retry
    /// finds everything done.
    async fn new_ticket_concurrent(&mut self) {
        let ticket_id = NEW_TICKETS + self.run.new_tickets.fetch_add(1, Ordering::Relaxed) as i64;
        let client = self.new_ticket_client();
        let event = new_ticket_event(ticket_id, &client);
        let (first, second) = tokio::join!(
            timed(self.webhook("new-ticket", event.clone(), TEST_API_SECRET)),
            timed(self.webhook("new-ticket", event.clone(), TEST_API_SECRET)),
        );
        let op = "webhook new-ticket (concurrent)";
        let first = self.record(op, first.0, first.1, &[200, 503]);
        let second = self.record(op, second.0, second.1, &[200, 503]);
        let mut acknowledged = [first, second]
            .iter()
            .any(|answer| matches!(answer, Some((200, _))));
        let request = self.webhook("new-ticket", event, TEST_API_SECRET);
        if let Some((200, body)) = self
            .send("webhook new-ticket (retry)", request, WEBHOOK_ANSWERS)
            .await
        {
            self.check_retry(ticket_id, acknowledged, &body);
            acknowledged = true;
        }
        self.new_ticket_outcome(ticket_id, acknowledged);
    }

    /// A repeated delivery's 200: after an earlier 200 it did nothing; after refusals it may
    /// have finished what they left.
    fn check_retry(&mut self, ticket_id: i64, after_acknowledgement: bool, body: &Value) {
        let fine = if after_acknowledgement {
            body["duplicates"] == 1
        } else {
            body["duplicates"] == 1 || body["processed"] == 1
        };
        if !fine {
            self.fail(format!("repeated new ticket {ticket_id}: answered {body}"));
        }
    }

    fn new_ticket_outcome(&mut self, ticket_id: i64, acknowledged: bool) {
        if acknowledged {
            self.log.new_tickets.push(ticket_id);
        } else {
            self.log.new_unacknowledged.push(ticket_id);
        }
    }

    /// A closed ticket's delivery, queued for archiving; `repeated` as for new tickets (the
    /// queue drops the repeat's copy).
    async fn closed(&mut self, repeated: bool) {
        let run = self.run.clone();
        let Some((index, closed)) = run.take_closed() else {
            // Another worker took the last one: the same number of requests, elsewhere.
            let requests = if repeated { 2 } else { 1 };
            for _ in 0..requests {
                self.list_clients().await;
            }
            return;
        };
        let event = closed_event(closed.ticket_id, &closed.client);
        let request = self.webhook("ticket-state-change", event.clone(), TEST_API_SECRET);
        let mut acknowledged = false;
        if let Some((200, body)) = self.send("webhook closed", request, WEBHOOK_ANSWERS).await {
            acknowledged = true;
            if body["results"][0]["reason"] != "queued for archiving" {
                self.fail(format!("closed {}: answered {body}", closed.ticket_id));
            }
        }
        if repeated {
            let request = self.webhook("ticket-state-change", event, TEST_API_SECRET);
            if let Some((200, body)) = self
                .send("webhook closed (repeat)", request, WEBHOOK_ANSWERS)
                .await
            {
                if body["results"][0]["reason"] != "queued for archiving" {
                    self.fail(format!(
                        "repeated closed {}: answered {body}",
                        closed.ticket_id
                    ));
                }
                acknowledged = true;
            }
        }
        if acknowledged {
            self.log.closed.push(index);
        } else {
            self.log.closed_unacknowledged.push(index);
        }
    }

    async fn bad_signature(&mut self) {
        let ticket_id = UNSIGNED_TICKETS + self.run.unsigned.fetch_add(1, Ordering::Relaxed) as i64;
        let event = new_ticket_event(ticket_id, "972500000000");
        let request = self.webhook("new-ticket", event, "not-the-api-secret");
        self.send("webhook new-ticket (bad signature)", request, &[401])
            .await;
        self.log.unsigned.push(ticket_id);
    }
}

// ---------------------------------------------------------------------------------------------
// The audit: what the database and the stub must hold after the run.

/// What must exist, and what must not, after the run.
struct World {
    /// Identifier → (name to check, or `None` for clients the archive wrote; ticket ids).
    clients: BTreeMap<String, (Option<Option<String>>, BTreeSet<i64>)>,
    gone_clients: BTreeSet<String>,
    /// Ticket id → (client, tags to check or `None`, transactions, scrambled).
    tickets: BTreeMap<i64, ExpectedTicket>,
    gone_tickets: BTreeSet<i64>,
    new_tickets: BTreeSet<i64>,
    /// Refused deliveries (a failure already) may have done part of their work, as Glassix
    /// would retry them: what they did is checked against the invariants only.
    new_unacknowledged: BTreeSet<i64>,
    unsigned: BTreeSet<i64>,
    closed: BTreeSet<i64>,
    /// Ticket id → client.
    closed_unacknowledged: BTreeMap<i64, String>,
    contests: Vec<(Contested, Contest)>,
    /// Identifier → tickets it may hold: clients whose state is unknown after a write without
    /// an answer (see `WorkerLog::uncertain`).
    uncertain: BTreeMap<String, BTreeSet<i64>>,
    deleted_acknowledged: usize,
}

struct ExpectedTicket {
    client: String,
    tags: Option<Vec<String>>,
    transactions: i64,
    scrambled: bool,
}

impl World {
    fn from_logs(run: &Run, logs: &[WorkerLog]) -> Self {
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

#[derive(Default)]
struct AuditSummary {
    clients: usize,
    tickets: usize,
    transactions: i64,
    gone: usize,
    contests: usize,
    new_tickets: usize,
    closed: usize,
    glassix_calls: usize,
    unrecorded_actions: usize,
    refused_new: usize,
    refused_closed: usize,
    /// What each client left in an unknown state holds.
    uncertain: Vec<String>,
}

/// Every document of a collection.
async fn all(store: &Store, collection: &str) -> Vec<Document> {
    let mut cursor = store
        .database()
        .collection::<Document>(collection)
        .find(doc! {})
        .await
        .expect("find");
    let mut documents = Vec::new();
    while cursor.advance().await.expect("cursor") {
        documents.push(cursor.deserialize_current().expect("document"));
    }
    documents
}

/// How many documents hold each value of `field`, counted by the database (`$group`).
async fn counts_by<K: Ord>(
    store: &Store,
    collection: &str,
    field: &str,
    key: impl Fn(&Bson) -> Option<K>,
) -> BTreeMap<K, i64> {
    let pipeline = vec![doc! {"$group": {"_id": format!("${field}"), "n": {"$sum": 1}}}];
    let mut cursor = store
        .database()
        .collection::<Document>(collection)
        .aggregate(pipeline)
        .await
        .expect("aggregate");
    let mut counts = BTreeMap::new();
    while cursor.advance().await.expect("cursor") {
        let group: Document = cursor.deserialize_current().expect("group");
        let n = match group.get("n") {
            Some(Bson::Int32(n)) => i64::from(*n),
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Double(n)) => *n as i64,
            other => panic!("$sum gave {other:?}"),
        };
        let id = group.get("_id").and_then(&key);
        counts.insert(
            id.unwrap_or_else(|| panic!("{collection}: a document without a usable {field}")),
            n,
        );
    }
    counts
}

fn as_i64(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        _ => None,
    }
}

fn as_string(value: &Bson) -> Option<String> {
    value.as_str().map(str::to_owned)
}

async fn audit(
    store: &Store,
    stub: &GlassixStub,
    world: &World,
    failures: &mut Vec<String>,
) -> AuditSummary {
    let mut summary = AuditSummary::default();
    let mut fail = |failure: String| failures.push(failure);

    // Contested keys: exactly one create acknowledged, every other attempt a 409 (attempts
    // without an answer aside: then at most one).
    for (key, contest) in &world.contests {
        let acknowledged = contest.winners.len() as u32;
        let accounted = acknowledged + contest.conflicts + contest.unknown == contest.attempts;
        if acknowledged > 1 || !accounted || (contest.unknown == 0 && acknowledged != 1) {
            fail(format!(
                "{key:?}: {} attempts, {acknowledged} acknowledged, {} conflicts, {} unknown",
                contest.attempts, contest.conflicts, contest.unknown
            ));
        }
    }
    summary.contests = world.contests.len();
    let contested_owner: BTreeMap<i64, &String> = world
        .contests
        .iter()
        .filter_map(|(key, contest)| match (key, contest.winners.as_slice()) {
            (Contested::Ticket(id), [owner]) => Some((*id, owner)),
            _ => None,
        })
        .collect();
    let maybe_tickets: BTreeSet<i64> = world.uncertain.values().flatten().copied().collect();

    // Clients: counted by identifier in the database.
    let client_counts = counts_by(store, CLIENTS, "identifier", as_string).await;
    let client_docs: BTreeMap<String, Document> = all(store, CLIENTS)
        .await
        .into_iter()
        .filter_map(|d| Some((d.get_str("identifier").ok()?.to_owned(), d)))
        .collect();
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
    for (identifier, count) in &client_counts {
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
    summary.clients = world.clients.len();

    // Tickets: counted by ticket id in the database, each under its client.
    let ticket_counts = counts_by(store, TICKETS, "ticketId", as_i64).await;
    let ticket_docs: BTreeMap<i64, Document> = all(store, TICKETS)
        .await
        .into_iter()
        .filter_map(|d| Some((d.get("ticketId").and_then(as_i64)?, d)))
        .collect();
    let transaction_counts = counts_by(store, TRANSACTIONS, "ticketId", as_i64).await;
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
        summary.transactions += transactions;
    }
    for ticket_id in &world.gone_tickets {
        if ticket_counts.contains_key(ticket_id) {
            fail(format!(
                "ticket {ticket_id}: deleted (204) but still stored"
            ));
        }
    }
    for (ticket_id, count) in &ticket_counts {
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
    for (ticket_id, count) in &transaction_counts {
        let partial = (world.closed_unacknowledged.contains_key(ticket_id)
            && *count <= CLOSED_TRANSACTIONS)
            || (maybe_tickets.contains(ticket_id) && *count <= REST_TRANSACTIONS);
        if !world.tickets.contains_key(ticket_id) && !partial {
            fail(format!(
                "{count} transactions of ticket {ticket_id}, which is not stored"
            ));
        }
    }
    summary.tickets = world.tickets.len();
    summary.gone = world.deleted_acknowledged;

    // Clients left in an unknown state by a write without an answer: never stored twice, and
    // holding only what they may hold.
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
        summary.uncertain.push(state);
    }

    // New tickets: the ledger holds both actions done, Glassix got each call exactly once.
    let actions: BTreeMap<String, String> = all(store, WEBHOOK_ACTIONS)
        .await
        .into_iter()
        .filter_map(|d| {
            Some((
                d.get_str("_id").ok()?.to_owned(),
                d.get_str("state").ok()?.to_owned(),
            ))
        })
        .collect();
    for ticket_id in &world.new_tickets {
        for action in ["tags", "note"] {
            let state = actions.get(&format!("{ticket_id}:{action}"));
            match state.map(String::as_str) {
                Some("done") => {}
                // Carried out and answered 200, but recording it ran out of time: a later
                // delivery takes the claim over after its lease and reads the ticket first.
                Some("claimed") => summary.unrecorded_actions += 1,
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
    let received = stub.all_received().await;
    summary.glassix_calls = received.len();
    let mut calls: BTreeMap<(&str, i64), usize> = BTreeMap::new();
    for request in &received {
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
    summary.new_tickets = world.new_tickets.len();
    summary.closed = world.closed.len();
    summary.refused_new = world.new_unacknowledged.len();
    summary.refused_closed = world.closed_unacknowledged.len();
    summary
}

// ---------------------------------------------------------------------------------------------
// The report.

struct Report<'a> {
    requests: usize,
    concurrency: usize,
    seed: u64,
    samples: &'a [&'a Sample],
    wall: Duration,
    setup: Duration,
    audit: Duration,
    summary: &'a AuditSummary,
    unexpected: &'a [String],
    failures: &'a [String],
}

/// What a failure says without its numbers and its body: failures of one kind count together.
fn kind(failure: &str) -> String {
    let text = failure
        .split_once(": ")
        .filter(|(worker, _)| worker.starts_with("worker "))
        .map_or(failure, |(_, rest)| rest);
    let text = text.split(": {").next().unwrap_or(text);
    let mut kind = String::new();
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                kind.push('#');
            }
            in_number = true;
        } else {
            kind.push(c);
            in_number = false;
        }
    }
    kind.chars().take(140).collect()
}

/// Failures by kind: how many, and the first of each.
fn by_kind(failures: &[String]) -> Vec<String> {
    let mut kinds: BTreeMap<String, (usize, &String)> = BTreeMap::new();
    for failure in failures {
        kinds.entry(kind(failure)).or_insert((0, failure)).0 += 1;
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by_key(|kind| std::cmp::Reverse(kind.1.0));
    kinds
        .into_iter()
        .map(|(_, (count, first))| {
            let first: String = first.chars().take(240).collect();
            format!("  {count:>5} × {first}")
        })
        .collect()
}

/// Nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

fn latency_row(label: &str, samples: &[&&Sample]) -> String {
    let mut durations: Vec<Duration> = samples.iter().map(|s| s.elapsed).collect();
    durations.sort_unstable();
    format!(
        "  {label:<36} {:>6} {:>8} {:>8} {:>8}",
        durations.len(),
        ms(percentile(&durations, 0.50)),
        ms(percentile(&durations, 0.99)),
        ms(durations.last().copied().unwrap_or_default()),
    )
}

fn print_report(report: &Report<'_>) {
    let samples = report.samples;
    let seconds = report.wall.as_secs_f64();
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "\n=== load: {} requests, {} workers, seed {}, {cpus} CPUs, {} build ===",
        samples.len(),
        report.concurrency,
        report.seed,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    ));
    line(format!(
        "wall {seconds:.2} s  throughput {:.0} req/s  (set-up {:.2} s, audit {:.2} s; asked for {})",
        samples.len() as f64 / seconds.max(f64::EPSILON),
        report.setup.as_secs_f64(),
        report.audit.as_secs_f64(),
        report.requests,
    ));
    line(format!(
        "latency ms{:<28} {:>6} {:>8} {:>8} {:>8}",
        "", "count", "p50", "p99", "max"
    ));
    let every: Vec<&&Sample> = samples.iter().collect();
    line(latency_row("all requests", &every));
    let mut ops: BTreeMap<&str, Vec<&&Sample>> = BTreeMap::new();
    for sample in samples {
        ops.entry(sample.op).or_default().push(sample);
    }
    for (op, of_op) in &ops {
        line(latency_row(op, of_op));
    }
    let mut statuses: BTreeMap<(u16, bool), usize> = BTreeMap::new();
    for sample in samples {
        *statuses
            .entry((sample.status, sample.expected))
            .or_default() += 1;
    }
    let describe = |(status, expected): &(u16, bool), count: &usize| {
        let status = if *status == 0 {
            "no answer".to_owned()
        } else {
            status.to_string()
        };
        let kind = if *expected { "" } else { " UNEXPECTED" };
        format!("{status}{kind}: {count}")
    };
    let statuses_line: Vec<String> = statuses.iter().map(|(k, v)| describe(k, v)).collect();
    line(format!("statuses: {}", statuses_line.join(", ")));
    let errors: Vec<String> = statuses
        .iter()
        .filter(|((status, _), _)| !(200..300).contains(status))
        .map(|(k, v)| describe(k, v))
        .collect();
    let unexpected: usize = statuses
        .iter()
        .filter(|((_, expected), _)| !expected)
        .map(|(_, count)| count)
        .sum();
    let server_errors: usize = statuses
        .iter()
        .filter(|((status, expected), _)| *status >= 500 && !expected)
        .map(|(_, count)| count)
        .sum();
    line(format!(
        "errors by status (all on purpose unless UNEXPECTED): {}",
        if errors.is_empty() {
            "none".to_owned()
        } else {
            errors.join(", ")
        }
    ));
    line(format!(
        "unexpected statuses: {unexpected} (unexpected 5xx: {server_errors})"
    ));
    let s = report.summary;
    line(format!(
        "audit: {} clients and {} tickets ({} transactions) stored exactly once as acknowledged; \
         {} acknowledged deletes gone; {} contested keys created once; \
         {} new tickets tagged and noted once each, {} closed tickets archived and scrambled once \
         ({} requests at the Glassix stub); deliveries never acknowledged (partial work \
         checked against the invariants): {} new, {} closed; acknowledged Glassix actions \
         whose `done` was not recorded in time: {}",
        s.clients,
        s.tickets,
        s.transactions,
        s.gone,
        s.contests,
        s.new_tickets,
        s.closed,
        s.glassix_calls,
        s.refused_new,
        s.refused_closed,
        s.unrecorded_actions
    ));
    if !s.uncertain.is_empty() {
        line(format!(
            "clients a write of which got no answer or an unexpected one (a failure; checked for \
             duplicates only): {}; those left inconsistent:",
            s.uncertain.len()
        ));
        for client in s.uncertain.iter().filter(|c| c.contains("; ")).take(10) {
            line(format!("  {client}"));
        }
    }
    line(format!(
        "unexpected answers: {} (each kind once, with a count):",
        report.unexpected.len()
    ));
    for group in by_kind(report.unexpected) {
        line(group);
    }
    line(format!(
        "failed checks (reads and audit): {}",
        report.failures.len()
    ));
    for group in by_kind(report.failures) {
        line(group);
    }
    println!("{out}");
}
