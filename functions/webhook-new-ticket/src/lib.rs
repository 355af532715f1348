//! `POST /webhooks/glassix/new-ticket`: for each `NEW_TICKET` change, tag the ticket and add an
//! agent-only note saying who the client is (new, or returning with their archived history).
//! Both Glassix calls run at the same time, and each happens once per ticket across repeated
//! and concurrent deliveries (see `shared::db::ledger`): concurrent duplicates wait for the one
//! that holds the claim, and a call whose fate is unknown is settled by reading the ticket.

use std::time::Duration;

use lambda_http::{Body, Request, Response};
use shared::db::ledger::Claim;
use shared::domain::{has_our_note, has_tags, new_ticket_note, new_ticket_tags};
use shared::error::AppError;
use shared::glassix::inbound::Change;
use shared::glassix::{Deadline, EventName, GlassixError, Ticket};
use shared::job::{Outcome, glassix_unavailable, within_deadline};
use shared::state::WebhookState;
use shared::webhook::process_delivery;
use tokio::time::Instant;

/// How long a claim protects an action before another delivery may take it over; longer than
/// any one delivery may run.
const CLAIM_LEASE: Duration = Duration::from_secs(30);

/// How often a delivery that found an action claimed by a live delivery looks again.
const CLAIM_POLL: Duration = Duration::from_millis(100);

/// The end of the delivery's budget kept for recording an action's outcome in the ledger, so
/// that a Glassix call answering at the last moment is still recorded as done.
pub const LEDGER_RESERVE: Duration = Duration::from_millis(500);

pub async fn handle(state: &WebhookState, request: Request) -> Response<Body> {
    process_delivery(
        &state.credentials,
        state.budget,
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
        once(state, ticket_id, Action::Tags(&tags), deadline),
        once(state, ticket_id, Action::Note(&note), deadline),
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

#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    Now,
    AlreadyDone,
}

/// A side effect in Glassix that must happen once per ticket.
#[derive(Debug, Clone, Copy)]
pub enum Action<'a> {
    Tags(&'a [String]),
    Note(&'a str),
}

impl Action<'_> {
    fn name(&self) -> &'static str {
        match self {
            Self::Tags(_) => "tags",
            Self::Note(_) => "note",
        }
    }

    async fn perform(
        &self,
        state: &WebhookState,
        ticket_id: i64,
        deadline: Deadline,
    ) -> Result<(), GlassixError> {
        match self {
            Self::Tags(tags) => {
                let kept = state.glassix.add_tags(ticket_id, tags, deadline).await?;
                let missing = tags.iter().filter(|t| !kept.contains(t)).count();
                if missing > 0 {
                    tracing::warn!(
                        ticket_id,
                        missing,
                        "Glassix did not keep every tag (are they defined in the workspace?)"
                    );
                }
                Ok(())
            }
            Self::Note(text) => state.glassix.add_note(ticket_id, text, deadline).await,
        }
    }

    /// Whether the ticket shows the action carried out already.
    fn is_in(&self, ticket: &Ticket) -> bool {
        match self {
            Self::Tags(tags) => has_tags(ticket, tags),
            Self::Note(_) => has_our_note(ticket),
        }
    }
}

/// Carries `action` out unless an earlier delivery did. A claim held by a live delivery is
/// waited for; one taken over from a delivery that may have acted is checked against the
/// ticket first. After a failure that leaves the call's fate unknown the claim is kept,
/// never released, so no later delivery posts blindly again.
pub async fn once(
    state: &WebhookState,
    ticket_id: i64,
    action: Action<'_>,
    deadline: Deadline,
) -> Result<Done, AppError> {
    let name = action.name();
    // Glassix calls end early enough to leave the ledger its own time to record the outcome.
    let glassix_deadline = deadline.checked_sub(LEDGER_RESERVE).unwrap_or(deadline);
    let (token, check_first) = loop {
        match within_deadline(
            glassix_deadline,
            state.store.claim_action(ticket_id, name, CLAIM_LEASE),
        )
        .await?
        {
            Claim::Acquired(token) => break (token, false),
            Claim::TakenOver(token) => break (token, true),
            Claim::AlreadyDone => return Ok(Done::AlreadyDone),
            Claim::InProgress if Instant::now() + CLAIM_POLL < glassix_deadline => {
                tokio::time::sleep(CLAIM_POLL).await;
            }
            Claim::InProgress => {
                return Err(AppError::Unavailable(format!(
                    "{name} is being added by another delivery"
                )));
            }
        }
    };
    let mut unsure = check_first;
    let result = async {
        if check_first {
            let ticket = state
                .glassix
                .get_ticket(ticket_id, glassix_deadline)
                .await?;
            if action.is_in(&ticket) {
                return Ok(Done::AlreadyDone);
            }
            unsure = false;
        }
        action
            .perform(state, ticket_id, glassix_deadline)
            .await
            .map(|()| Done::Now)
    }
    .await;
    let (recorded, outcome) = match result {
        Ok(done) => (
            within_deadline(deadline, state.store.complete_action(&token)).await,
            Ok(done),
        ),
        Err(error) if unsure || error.may_have_acted() => (
            within_deadline(deadline, state.store.mark_uncertain(&token)).await,
            Err(glassix_unavailable(name, &error)),
        ),
        Err(error) => (
            within_deadline(deadline, state.store.release_action(&token)).await,
            Err(glassix_unavailable(name, &error)),
        ),
    };
    if let Err(error) = recorded {
        // The claim stays as it was: after its lease a later delivery takes it over and
        // checks the ticket, so nothing is lost or doubled either way.
        tracing::warn!(
            ticket_id,
            action = name,
            detail = error.detail().unwrap_or_default(),
            "the claim's outcome was not recorded; it will expire"
        );
    }
    outcome
}
