//! `POST /webhooks/glassix/new-ticket`: for each `NEW_TICKET` change, tag the ticket and add an
//! agent-only note saying who the client is (new, or returning with their archived history).
//! Both Glassix calls run at the same time, and each happens once per ticket across repeated
//! and concurrent deliveries (see `shared::db::ledger`).

use std::future::Future;
use std::time::Duration;

use lambda_http::{Body, Request, Response};
use shared::db::ledger::Claim;
use shared::domain::{new_ticket_note, new_ticket_tags};
use shared::error::AppError;
use shared::glassix::inbound::Change;
use shared::glassix::{Deadline, EventName, GlassixError};
use shared::job::{Outcome, glassix_unavailable, within_deadline};
use shared::state::WebhookState;
use shared::webhook::process_delivery;

/// How long a claim protects an action before another delivery may take it over; longer than
/// any one delivery may run.
const CLAIM_LEASE: Duration = Duration::from_secs(30);

pub async fn handle(state: &WebhookState, request: Request) -> Response<Body> {
    process_delivery(
        state,
        &request,
        EventName::NewTicket,
        |change, _, deadline| process_change(state, change, deadline),
    )
    .await
}

async fn process_change(
    state: &WebhookState,
    change: Change,
    deadline: Deadline,
) -> Result<Outcome, AppError> {
    let Some(ticket_id) = change.ticket_id() else {
        return Ok(Outcome::Ignored("no ticket id"));
    };
    let Some(identifier) = client_identifier(state, &change, ticket_id, deadline).await? else {
        return Ok(Outcome::Ignored("no client participant"));
    };

    let history = within_deadline(deadline, state.store.client_history(&identifier)).await?;
    let tags = new_ticket_tags(&state.new_ticket_tags, &history);
    let note = new_ticket_note(&history);

    let (tagged, noted) = tokio::join!(
        once(state, ticket_id, "tags", deadline, async {
            let result = state.glassix.add_tags(ticket_id, &tags, deadline).await?;
            let missing = tags.iter().filter(|t| !result.contains(t)).count();
            if missing > 0 {
                tracing::warn!(
                    ticket_id,
                    missing,
                    "Glassix did not keep every tag (are they defined in the workspace?)"
                );
            }
            Ok(())
        }),
        once(
            state,
            ticket_id,
            "note",
            deadline,
            state.glassix.add_note(ticket_id, &note, deadline)
        ),
    );
    match (tagged?, noted?) {
        (Done::AlreadyDone, Done::AlreadyDone) => {
            Ok(Outcome::Duplicate("tags and note were already added"))
        }
        _ => Ok(Outcome::Processed("tagged and noted")),
    }
}

/// The client's identifier from the event's snapshot, else from the ticket itself.
async fn client_identifier(
    state: &WebhookState,
    change: &Change,
    ticket_id: i64,
    deadline: Deadline,
) -> Result<Option<String>, AppError> {
    let from_snapshot = change
        .snapshot()
        .and_then(|t| t.client()?.identifier.clone());
    if from_snapshot.is_some() {
        return Ok(from_snapshot);
    }
    match state.glassix.get_ticket(ticket_id, deadline).await {
        Ok(ticket) => Ok(ticket.client().and_then(|c| c.identifier.clone())),
        Err(GlassixError::NotFound) => Ok(None),
        Err(error) => Err(glassix_unavailable("get ticket", &error)),
    }
}

enum Done {
    Now,
    AlreadyDone,
}

/// Performs `action` unless an earlier delivery did; a claim held by a delivery still running
/// is not success (5xx, so Glassix tries again later).
async fn once(
    state: &WebhookState,
    ticket_id: i64,
    name: &'static str,
    deadline: Deadline,
    action: impl Future<Output = Result<(), GlassixError>>,
) -> Result<Done, AppError> {
    let token = match within_deadline(
        deadline,
        state.store.claim_action(ticket_id, name, CLAIM_LEASE),
    )
    .await?
    {
        Claim::Acquired(token) => token,
        Claim::AlreadyDone => return Ok(Done::AlreadyDone),
        Claim::InProgress => {
            return Err(AppError::Unavailable(format!(
                "{name} is being added by another delivery"
            )));
        }
    };
    match action.await {
        Ok(()) => {
            within_deadline(deadline, state.store.complete_action(&token)).await?;
            Ok(Done::Now)
        }
        Err(error) => {
            if let Err(release) =
                within_deadline(deadline, state.store.release_action(&token)).await
            {
                tracing::warn!(
                    ticket_id,
                    action = name,
                    detail = release.detail().unwrap_or_default(),
                    "claim not released; it will expire"
                );
            }
            Err(glassix_unavailable(name, &error))
        }
    }
}
