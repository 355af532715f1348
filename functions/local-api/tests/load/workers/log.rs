//! What a worker records: every request's latency and status, and the state it knows it left.

use std::collections::HashMap;
use std::time::Duration;

/// One request.
pub(crate) struct Sample {
    pub(crate) op: &'static str,
    /// 0: no answer (transport error or timeout).
    pub(crate) status: u16,
    pub(crate) elapsed: Duration,
    pub(crate) expected: bool,
}

/// What a worker knows it did.
#[derive(Default)]
pub(crate) struct WorkerLog {
    pub(crate) samples: Vec<Sample>,
    /// Unexpected statuses and requests without an answer.
    pub(crate) unexpected: Vec<String>,
    /// Reads that contradict what was acknowledged.
    pub(crate) failures: Vec<String>,
    /// Clients alive at the end (the anchor first) with what they must hold.
    pub(crate) clients: Vec<ClientModel>,
    pub(crate) deleted_clients: Vec<String>,
    pub(crate) deleted_tickets: Vec<i64>,
    /// Expected tags of every live ticket this worker created.
    pub(crate) tags: HashMap<i64, Vec<String>>,
    /// New-ticket deliveries acknowledged with 200.
    pub(crate) new_tickets: Vec<i64>,
    /// New-ticket deliveries never acknowledged (a failure already): Glassix would retry them.
    pub(crate) new_unacknowledged: Vec<i64>,
    /// Closed-ticket deliveries acknowledged with 200 (index into `Run::closed`).
    pub(crate) closed: Vec<usize>,
    /// Closed-ticket deliveries never acknowledged (a failure already).
    pub(crate) closed_unacknowledged: Vec<usize>,
    /// Unsigned (wrongly signed) deliveries' ticket ids: nothing may happen for them.
    pub(crate) unsigned: Vec<i64>,
    /// Clients a write of which got no answer or an unexpected one (a failure already): their
    /// state is unknown, so they are only checked for duplicates; `tickets` are those they
    /// may hold.
    pub(crate) uncertain: Vec<ClientModel>,
}

/// A client as this worker last left it.
#[derive(Debug, Clone)]
pub(crate) struct ClientModel {
    pub(crate) identifier: String,
    pub(crate) name: Option<String>,
    pub(crate) tickets: Vec<i64>,
}
