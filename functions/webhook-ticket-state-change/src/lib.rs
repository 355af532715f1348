//! `POST /webhooks/glassix/ticket-state-change`: each change to `Closed` becomes one archive
//! job (`shared::archive`): archive everything Glassix holds, then scramble it there.
//!
//! With `ARCHIVE_QUEUE_URL` (production) the job goes to the SQS FIFO queue and this function
//! makes no Glassix or database call: it answers 200 once SQS holds every job. Without it
//! (local API, tests, `sam local invoke`) the job runs inline within the delivery's budget.

use lambda_http::{Body, Request, Response};
use shared::error::AppError;
use shared::glassix::inbound::Change;
use shared::glassix::{Deadline, EventName, TicketState};
use shared::job::Outcome;
use shared::queue::ArchiveJob;
use shared::state::WebhookState;
use shared::webhook::process_delivery;

pub async fn handle(state: &WebhookState, request: Request) -> Response<Body> {
    process_delivery(
        state,
        &request,
        EventName::TicketStateChange,
        |change, fingerprint, deadline| process_change(state, change, fingerprint, deadline),
    )
    .await
}

async fn process_change(
    state: &WebhookState,
    change: Change,
    fingerprint: Vec<u8>,
    deadline: Deadline,
) -> Result<Outcome, AppError> {
    if change.ticket_state != Some(TicketState::Closed) {
        return Ok(Outcome::Ignored("state is not Closed"));
    }
    let Some(ticket_id) = change.ticket_id() else {
        return Ok(Outcome::Ignored("no ticket id"));
    };
    match &state.archive_queue {
        Some(queue) => {
            let job = ArchiveJob { ticket_id };
            tokio::time::timeout_at(deadline, queue.enqueue(&job, &fingerprint))
                .await
                .map_err(|_| {
                    AppError::Unavailable("SQS did not answer before the deadline".into())
                })?
                .map_err(|error| AppError::Unavailable(error.to_string()))?;
            Ok(Outcome::Processed("queued for archiving"))
        }
        None => state.archiver().run(ticket_id, deadline).await,
    }
}
