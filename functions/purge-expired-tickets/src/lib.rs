//! `purge-expired-tickets`: run by an EventBridge schedule (daily by default). Each run deletes
//! the archived tickets closed longer ago than `RETENTION_DAYS`, with their files, skipping
//! what a legal hold holds (`shared::retention`), within the invocation's time; it logs one
//! JSON report and returns it.

use shared::glassix::Deadline;
use shared::retention::PurgeReport;
use shared::state::PurgeState;

/// One run. The scheduled event carries nothing the run needs.
pub async fn handle(
    state: &PurgeState,
    _event: serde_json::Value,
    deadline: Deadline,
) -> PurgeReport {
    state
        .purger()
        .run_and_report(chrono::Utc::now(), deadline)
        .await
}
