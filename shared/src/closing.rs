//! The state-change webhook's work: each change to `Closed` becomes one archive job on the
//! archive queue (`crate::queue`); `archive-worker` archives everything Glassix holds, then
//! scrambles it there. No Glassix or database call here: the delivery is answered 200 once
//! the queue holds every job.

use std::time::Duration;

use crate::credentials::LiveCredentials;
use crate::error::AppError;
use crate::glassix::inbound::Change;
use crate::glassix::{Deadline, EventName, TicketState};
use crate::job::{Outcome, within};
use crate::queue::{ArchiveJob, JobQueue};
use crate::state::ClosingState;
use crate::webhook::{ReceivedChange, WebhookWork};

impl<Q: JobQueue> WebhookWork for ClosingState<Q> {
    const EVENT: EventName = EventName::TicketStateChange;

    /// Sends the ticket's archive job; the change's fingerprint keeps a retried delivery from
    /// queueing it twice.
    async fn on_change(
        &self,
        change: &ReceivedChange<'_>,
        deadline: Deadline,
    ) -> Result<Outcome, AppError> {
        let ticket_id = match closed_ticket(change.change) {
            Ok(ticket_id) => ticket_id,
            Err(ignored) => return Ok(ignored),
        };
        let job = ArchiveJob { ticket_id };
        let fingerprint = change.fingerprint();
        let queued = self.queue.enqueue(&job, &fingerprint);
        within(deadline, "archive queue", queued).await?;
        Ok(Outcome::Processed("queued for archiving"))
    }

    fn intake(&self) -> (&LiveCredentials, Duration) {
        (&self.credentials, self.budget)
    }
}

/// The ticket a change closes, or why there is nothing to archive.
fn closed_ticket(change: &Change) -> Result<i64, Outcome> {
    if change.ticket_state != Some(TicketState::Closed) {
        return Err(Outcome::Ignored("state is not Closed"));
    }
    change.ticket_id().ok_or(Outcome::Ignored("no ticket id"))
}
