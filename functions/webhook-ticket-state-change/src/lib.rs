//! `POST /webhooks/glassix/ticket-state-change`: each change to `Closed` becomes one archive
//! job (`shared::archive`): archive everything Glassix holds, then scramble it there.
//!
//! The deployed function ([`enqueue`], on `QueueingState`) sends the job to the SQS FIFO
//! queue and makes no Glassix or database call: it answers 200 once SQS holds every job.
//! `local-api` and the tests serve the route with [`handle`], on `WebhookState`: the queue
//! when `ARCHIVE_QUEUE_URL` is set, else the job inline within the delivery's budget.

use std::future::Future;
use std::time::Duration;

use lambda_http::{Body, Request, Response};
use shared::credentials::LiveCredentials;
use shared::error::AppError;
use shared::glassix::inbound::Change;
use shared::glassix::{Deadline, EventName, TicketState};
use shared::job::Outcome;
use shared::queue::{ArchiveJob, ArchiveQueue};
use shared::state::{QueueingState, WebhookState};
use shared::webhook::process_delivery;

/// The deployed function: every closed ticket is queued.
pub async fn enqueue(state: &QueueingState, request: Request) -> Response<Body> {
    on_each_closing(
        &state.credentials,
        state.budget,
        &request,
        |ticket_id, fingerprint, deadline| {
            queue(&state.archive_queue, ticket_id, fingerprint, deadline)
        },
    )
    .await
}

/// The route in `local-api` and the tests: queued with a queue, else archived inline.
pub async fn handle(state: &WebhookState, request: Request) -> Response<Body> {
    on_each_closing(
        &state.credentials,
        state.budget,
        &request,
        |ticket_id, fingerprint, deadline| async move {
            match &state.archive_queue {
                Some(archive_queue) => queue(archive_queue, ticket_id, fingerprint, deadline).await,
                None => state.archiver().run(ticket_id, deadline).await,
            }
        },
    )
    .await
}

/// Receives a delivery and hands each ticket it closes to `hand_off` (with the change's
/// fingerprint and the delivery's deadline); every other change is acknowledged as ignored.
async fn on_each_closing<F, Fut>(
    credentials: &LiveCredentials,
    budget: Duration,
    request: &Request,
    hand_off: F,
) -> Response<Body>
where
    F: Fn(i64, Vec<u8>, Deadline) -> Fut,
    Fut: Future<Output = Result<Outcome, AppError>>,
{
    let hand_off = &hand_off;
    process_delivery(
        credentials,
        budget,
        request,
        EventName::TicketStateChange,
        |change, fingerprint, deadline| {
            let closed = closed_ticket(&change);
            async move {
                match closed {
                    Ok(ticket_id) => hand_off(ticket_id, fingerprint, deadline).await,
                    Err(ignored) => Ok(ignored),
                }
            }
        },
    )
    .await
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
    archive_queue: &ArchiveQueue,
    ticket_id: i64,
    fingerprint: Vec<u8>,
    deadline: Deadline,
) -> Result<Outcome, AppError> {
    let job = ArchiveJob { ticket_id };
    tokio::time::timeout_at(deadline, archive_queue.enqueue(&job, &fingerprint))
        .await
        .map_err(|_| AppError::Unavailable("SQS did not answer before the deadline".into()))?
        .map_err(|error| AppError::Unavailable(error.to_string()))?;
    Ok(Outcome::Processed("queued for archiving"))
}
