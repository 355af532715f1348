//! The audit: the database (counted by the database, `$group`) and the requests Glassix
//! received, against what the workers saw acknowledged.

mod database;
mod glassix;
mod world;

use std::collections::BTreeMap;

use shared::db::Store;
use shared::db::bson::{Bson, Document, doc};
use shared::db::documents::{CLIENTS, TICKETS, TRANSACTIONS, WEBHOOK_ACTIONS};
use shared::testing::glassix::GlassixStub;

use self::world::World;
use crate::run::Run;
use crate::workers::WorkerLog;

/// What the audit checked and found as acknowledged, for the report.
pub(crate) struct AuditSummary {
    pub(crate) clients: usize,
    pub(crate) tickets: usize,
    pub(crate) transactions: i64,
    pub(crate) gone: usize,
    pub(crate) contests: usize,
    pub(crate) new_tickets: usize,
    pub(crate) closed: usize,
    pub(crate) glassix_calls: usize,
    pub(crate) unrecorded_actions: usize,
    pub(crate) refused_new: usize,
    pub(crate) refused_closed: usize,
    /// What each client left in an unknown state holds.
    pub(crate) uncertain: Vec<String>,
}

/// Checks what the database and `stub` hold after the run against what the workers logged;
/// every finding goes to `failures`.
pub(crate) async fn audit(
    store: &Store,
    stub: &GlassixStub,
    run: &Run,
    logs: &[WorkerLog],
    failures: &mut Vec<String>,
) -> AuditSummary {
    let world = World::from_logs(run, logs);
    let mut fail = |failure: String| failures.push(failure);
    check_contests(&world, &mut fail);
    let snapshot = Snapshot::read(store).await;
    database::check_clients(&world, &snapshot, &mut fail);
    let transactions = database::check_tickets(&world, &snapshot, &mut fail);
    let uncertain = database::check_uncertain(&world, &snapshot, &mut fail);
    let unrecorded_actions = glassix::check_ledger(&world, &snapshot, &mut fail);
    let received = stub.all_received().await;
    glassix::check_calls(&world, &snapshot, &received, &mut fail);
    AuditSummary {
        clients: world.clients.len(),
        tickets: world.tickets.len(),
        transactions,
        gone: world.deleted_acknowledged,
        contests: world.contests.len(),
        new_tickets: world.new_tickets.len(),
        closed: world.closed.len(),
        glassix_calls: received.len(),
        unrecorded_actions,
        refused_new: world.new_unacknowledged.len(),
        refused_closed: world.closed_unacknowledged.len(),
        uncertain,
    }
}

/// Contested keys: exactly one create acknowledged, every other attempt a 409 (attempts
/// without an answer aside: then at most one).
fn check_contests(world: &World, fail: &mut impl FnMut(String)) {
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
}

/// The database after the run, read once.
struct Snapshot {
    /// Identifier → client documents that hold it.
    client_counts: BTreeMap<String, i64>,
    client_docs: BTreeMap<String, Document>,
    /// Ticket id → ticket documents that hold it.
    ticket_counts: BTreeMap<i64, i64>,
    ticket_docs: BTreeMap<i64, Document>,
    /// Ticket id → transaction documents that name it.
    transaction_counts: BTreeMap<i64, i64>,
    /// The webhook ledger: action id (`{ticket}:{action}`) → state.
    actions: BTreeMap<String, String>,
}

impl Snapshot {
    async fn read(store: &Store) -> Self {
        let client_counts = counts_by(store, CLIENTS, "identifier", as_string).await;
        let client_docs: BTreeMap<String, Document> = all(store, CLIENTS)
            .await
            .into_iter()
            .filter_map(|d| Some((d.get_str("identifier").ok()?.to_owned(), d)))
            .collect();
        let ticket_counts = counts_by(store, TICKETS, "ticketId", as_i64).await;
        let ticket_docs: BTreeMap<i64, Document> = all(store, TICKETS)
            .await
            .into_iter()
            .filter_map(|d| Some((d.get("ticketId").and_then(as_i64)?, d)))
            .collect();
        let transaction_counts = counts_by(store, TRANSACTIONS, "ticketId", as_i64).await;
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
        Self {
            client_counts,
            client_docs,
            ticket_counts,
            ticket_docs,
            transaction_counts,
            actions,
        }
    }
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
