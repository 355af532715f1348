//! `POST /webhooks/glassix/ticket-state-change`: for each change to `Closed`, fetch the ticket
//! from Glassix, archive it in MongoDB, and only once that write is acknowledged scramble it in
//! Glassix. Archive first, scramble second: a conversation must never be lost.

use lambda_http::{Body, Request, Response};
use shared::domain::{NotArchivable, archive_record};
use shared::error::AppError;
use shared::glassix::inbound::Change;
use shared::glassix::{Deadline, EventName, GlassixError, TicketState};
use shared::state::WebhookState;
use shared::webhook::{Outcome, glassix_unavailable, process_delivery, within_deadline};

pub async fn handle(state: &WebhookState, request: Request) -> Response<Body> {
    process_delivery(
        state,
        &request,
        EventName::TicketStateChange,
        |change, deadline| process_change(state, change, deadline),
    )
    .await
}

async fn process_change(
    state: &WebhookState,
    change: Change,
    deadline: Deadline,
) -> Result<Outcome, AppError> {
    if change.ticket_state != Some(TicketState::Closed) {
        return Ok(Outcome::Ignored("state is not Closed"));
    }
    let Some(ticket_id) = change.ticket_id() else {
        return Ok(Outcome::Ignored("no ticket id"));
    };

    // The event's snapshot is not authoritative and has no transactions.
    let ticket = match state.glassix.get_ticket(ticket_id, deadline).await {
        Ok(ticket) => ticket,
        Err(GlassixError::NotFound) => return Ok(Outcome::Ignored("ticket not found in Glassix")),
        Err(error) => return Err(glassix_unavailable("get ticket", &error)),
    };

    if ticket.is_scrambled {
        return match within_deadline(deadline, state.store.get_ticket(ticket_id)).await? {
            Some(archived) => {
                if archived.scrambled_at.is_none() {
                    within_deadline(deadline, state.store.mark_scrambled(ticket_id)).await?;
                }
                Ok(Outcome::Duplicate("already archived and scrambled"))
            }
            None => {
                tracing::error!(
                    ticket_id,
                    "ticket was scrambled in Glassix before it was archived; its content is lost"
                );
                Ok(Outcome::Ignored("scrambled before it was archived"))
            }
        };
    }
    // A delivery can arrive days late: never scramble a conversation that was reopened.
    if ticket
        .state
        .as_ref()
        .is_some_and(|s| *s != TicketState::Closed)
    {
        return Ok(Outcome::Ignored("ticket is no longer closed"));
    }

    let record = match archive_record(&ticket) {
        Ok(record) => record,
        Err(NotArchivable::NoClient) => {
            tracing::warn!(
                ticket_id,
                "closed ticket has no client participant; left in Glassix unarchived"
            );
            return Ok(Outcome::Ignored("no client participant; left in Glassix"));
        }
    };
    within_deadline(deadline, state.store.archive_ticket(&record)).await?;
    tracing::info!(
        ticket_id,
        transactions = record.transactions.len(),
        "ticket archived"
    );

    scramble_confirmed(state, ticket_id, deadline).await?;
    within_deadline(deadline, state.store.mark_scrambled(ticket_id)).await?;
    Ok(Outcome::Processed("archived and scrambled"))
}

/// Scrambles the ticket; when the answer is an error or never came, asks Glassix whether the
/// ticket is scrambled anyway. Not confirmed is a 5xx: the archive is safe, a retry scrambles.
async fn scramble_confirmed(
    state: &WebhookState,
    ticket_id: i64,
    deadline: Deadline,
) -> Result<(), AppError> {
    let error = match state.glassix.scramble(ticket_id, deadline).await {
        Ok(()) => return Ok(()),
        Err(error) => error,
    };
    tracing::warn!(ticket_id, error = %error, "scramble failed or unanswered; checking the ticket");
    match state.glassix.is_scrambled(ticket_id, deadline).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(glassix_unavailable("scramble", &error)),
        Err(check) => Err(glassix_unavailable("scramble confirmation", &check)),
    }
}
