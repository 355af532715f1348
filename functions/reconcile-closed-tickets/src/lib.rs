//! `reconcile-closed-tickets`: run by an EventBridge schedule (every 15 minutes by default).
//! Each run lists closed Glassix tickets since its checkpoint and queues every one not yet
//! archived-and-scrambled for the archive job (`shared::reconcile`), within the invocation's
//! time; it logs one JSON summary and returns it.

use shared::glassix::Deadline;
use shared::queue::JobQueue;
use shared::reconcile::Report;
use shared::state::ReconcileState;

/// One run. The scheduled event carries nothing the run needs.
pub async fn handle<Q: JobQueue>(
    state: &ReconcileState<Q>,
    _event: serde_json::Value,
    deadline: Deadline,
) -> Report {
    state
        .reconciler()
        .run_and_report(chrono::Utc::now(), deadline)
        .await
}
