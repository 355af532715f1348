//! `POST /webhooks/glassix/ticket-state-change`: each change to `Closed` becomes one archive
//! job on the archive queue (`shared::queue`); `archive-worker` archives everything Glassix
//! holds, then scrambles it there. No Glassix or database call here: the delivery is answered
//! 200 once the queue holds every job.

use lambda_http::{Body, Request, Response};
use shared::error::AppError;
use shared::glassix::inbound::Change;
use shared::glassix::{Deadline, EventName, TicketState};
use shared::job::{Outcome, within};
use shared::queue::{ArchiveJob, JobQueue};
use shared::response::error_response;
use shared::state::ClosingState;
use shared::webhook::{self, OTHER_EVENT};
use tokio::time::Instant;

pub async fn handle<Q: JobQueue>(state: &ClosingState<Q>, request: Request) -> Response<Body> {
    let received = match webhook::receive(&request, &state.credentials, state.budget).await {
        Ok(received) => received,
        Err(error) => return error_response(&error),
    };
    let mut answer = received.answer();
    for change in received.changes() {
        let started = Instant::now();
        let result = match closed_ticket(change.change) {
            _ if !change.is(EventName::TicketStateChange) => Ok(Outcome::Ignored(OTHER_EVENT)),
            Ok(ticket_id) => {
                queue(
                    &state.queue,
                    ticket_id,
                    &change.fingerprint(),
                    received.deadline,
                )
                .await
            }
            Err(ignored) => Ok(ignored),
        };
        answer.record(&change, result, started);
    }
    answer.into_response()
}

/// The ticket a change closes, or why there is nothing to archive.
fn closed_ticket(change: &Change) -> Result<i64, Outcome> {
    if change.ticket_state != Some(TicketState::Closed) {
        return Err(Outcome::Ignored("state is not Closed"));
    }
    change.ticket_id().ok_or(Outcome::Ignored("no ticket id"))
}

/// Sends the ticket's archive job; the delivery's fingerprint keeps a retried delivery from
/// queueing it twice.
async fn queue(
    queue: &impl JobQueue,
    ticket_id: i64,
    fingerprint: &[u8],
    deadline: Deadline,
) -> Result<Outcome, AppError> {
    let job = ArchiveJob { ticket_id };
    within(deadline, "archive queue", queue.enqueue(&job, fingerprint)).await?;
    Ok(Outcome::Processed("queued for archiving"))
}
