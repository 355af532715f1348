//! `reconcile-closed-tickets`: run by an EventBridge schedule (every 15 minutes by default).
//! Each run lists closed Glassix tickets since its checkpoint and hands every one not yet
//! archived-and-scrambled to the archive job (`shared::reconcile`), within the invocation's
//! time; it logs one JSON summary and returns it.

use shared::glassix::Deadline;
use shared::reconcile::{Reconciles, Report};

/// One run, on the deployed function's state (`QueueingReconcileState`: every ticket to
/// archive is queued) or on `local-api`'s (`ReconcileState`: queued with a queue, else
/// archived inline). The scheduled event carries nothing the run needs.
pub async fn handle<S: Reconciles>(
    state: &S,
    _event: serde_json::Value,
    deadline: Deadline,
) -> Report {
    state
        .reconciler()
        .run_and_report(chrono::Utc::now(), deadline)
        .await
}
