//! The new-ticket job: for a `NEW_TICKET` change, tag the ticket and add an agent-only note
//! saying who the client is (new, or returning with their archived history). Both Glassix
//! calls run at the same time, and each happens once per ticket across repeated and concurrent
//! deliveries (see `crate::db::ledger`): concurrent duplicates wait for the one that holds the
//! claim, and a call whose fate is unknown is settled by reading the ticket.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::credentials::LiveCredentials;
use crate::db::ClientHistory;
use crate::db::ledger::{Claim, ClaimToken};
use crate::domain::{has_our_note, has_tags, new_ticket_note, new_ticket_tags};
use crate::error::AppError;
use crate::glassix::inbound::Change;
use crate::glassix::{Deadline, EventName, GlassixError, Ticket};
use crate::job::{Outcome, within_deadline};
use crate::state::NewTicketState;
use crate::webhook::{ReceivedChange, WebhookWork};

/// How long a claim protects an action before another delivery may take it over; longer than
/// any one delivery may run.
const CLAIM_LEASE: Duration = Duration::from_secs(30);

/// How often a delivery that found an action claimed by a live delivery looks again.
const CLAIM_POLL: Duration = Duration::from_millis(100);

/// The end of the delivery's budget kept for recording an action's outcome in the ledger, so
/// that a Glassix call answering at the last moment is still recorded as done.
pub const LEDGER_RESERVE: Duration = Duration::from_millis(500);

impl WebhookWork for NewTicketState {
    const EVENT: EventName = EventName::NewTicket;

    fn intake(&self) -> (&LiveCredentials, Duration) {
        (&self.credentials, self.budget)
    }

    async fn on_change(
        &self,
        change: &ReceivedChange<'_>,
        deadline: Deadline,
    ) -> Result<Outcome, AppError> {
        tag_and_note(self, change.change, deadline).await
    }
}

/// Tags and notes the ticket a change created, once.
async fn tag_and_note(
    state: &NewTicketState,
    change: &Change,
    deadline: Deadline,
) -> Result<Outcome, AppError> {
    let Some(ticket_id) = change.ticket_id() else {
        return Ok(Outcome::Ignored("no ticket id"));
    };
    let Some(identifier) = client_identifier(state, change, ticket_id, deadline).await? else {
        return Ok(Outcome::Ignored("no client participant"));
    };

    // Each action is claimed while the client's history is read (one read for both), one
    // database round trip sooner. Each action goes on by itself: a delivery never holds one
    // claim while it waits for the other, so concurrent duplicates cannot wait on each other.
    let history = tokio::sync::OnceCell::new();
    let read_history = || {
        history
            .get_or_try_init(|| within_deadline(deadline, state.store.client_history(&identifier)))
    };
    let (tagged, noted) = tokio::join!(
        claim_and_carry_out(
            state,
            ticket_id,
            Action::TAGS,
            read_history(),
            deadline,
            |h| { Action::Tags(new_ticket_tags(&state.new_ticket_tags, h)) }
        ),
        claim_and_carry_out(
            state,
            ticket_id,
            Action::NOTE,
            read_history(),
            deadline,
            |h| { Action::Note(new_ticket_note(h)) }
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
    state: &NewTicketState,
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
        Err(error) => Err(AppError::glassix("get ticket", &error)),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    Now,
    AlreadyDone,
}

/// A side effect in Glassix that must happen once per ticket.
#[derive(Debug, Clone)]
pub enum Action {
    Tags(Vec<String>),
    Note(String),
}

impl Action {
    const TAGS: &'static str = "tags";
    const NOTE: &'static str = "note";

    fn name(&self) -> &'static str {
        match self {
            Self::Tags(_) => Self::TAGS,
            Self::Note(_) => Self::NOTE,
        }
    }

    async fn perform(
        &self,
        state: &NewTicketState,
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

/// Claims the action `name` while `history` is read, then carries out what `plan` makes of
/// the history. A claim that cannot be used (the history could not be read) is given back.
pub async fn claim_and_carry_out<'h>(
    state: &NewTicketState,
    ticket_id: i64,
    name: &str,
    history: impl Future<Output = Result<&'h ClientHistory, AppError>>,
    deadline: Deadline,
    plan: impl FnOnce(&ClientHistory) -> Action,
) -> Result<Done, AppError> {
    let (claimed, history) = tokio::join!(claim(state, ticket_id, name, deadline), history);
    let claimed = claimed?;
    match history {
        Ok(history) => carry_out(state, ticket_id, claimed, plan(history), deadline).await,
        Err(error) => {
            claimed.give_back(state, ticket_id).await;
            Err(error)
        }
    }
}

/// An action claimed for this delivery, or found carried out by an earlier one.
#[derive(Debug)]
enum Claimed {
    /// This delivery owns the action; `check_first` when taken over from a delivery that may
    /// have carried it out (the ticket is looked at before acting).
    Mine {
        token: ClaimToken,
        check_first: bool,
    },
    AlreadyDone,
}

impl Claimed {
    /// Gives the claim back unused. A claim taken over stays marked uncertain: the delivery
    /// it came from may have acted, so the next one must still check the ticket first.
    async fn give_back(self, state: &NewTicketState, ticket_id: i64) {
        let Self::Mine { token, check_first } = self else {
            return;
        };
        let given_back = if check_first {
            state.store.mark_uncertain(&token).await
        } else {
            state.store.release_action(&token).await
        };
        if let Err(error) = given_back {
            // It expires after its lease and is then taken over with a check of the ticket.
            tracing::warn!(
                ticket_id,
                detail = %error,
                "an unused claim was not given back; it will expire"
            );
        }
    }
}

/// Claims the action `name` unless an earlier delivery carried it out. A claim held by a live
/// delivery is waited for, within the part of `deadline` left for Glassix calls.
async fn claim(
    state: &NewTicketState,
    ticket_id: i64,
    name: &str,
    deadline: Deadline,
) -> Result<Claimed, AppError> {
    let glassix_deadline = glassix_deadline(deadline);
    loop {
        match within_deadline(
            glassix_deadline,
            state.store.claim_action(ticket_id, name, CLAIM_LEASE),
        )
        .await?
        {
            Claim::Acquired(token) => {
                return Ok(Claimed::Mine {
                    token,
                    check_first: false,
                });
            }
            Claim::TakenOver(token) => {
                return Ok(Claimed::Mine {
                    token,
                    check_first: true,
                });
            }
            Claim::AlreadyDone => return Ok(Claimed::AlreadyDone),
            Claim::InProgress if Instant::now() + CLAIM_POLL < glassix_deadline => {
                tokio::time::sleep(CLAIM_POLL).await;
            }
            Claim::InProgress => {
                return Err(AppError::Unavailable(format!(
                    "{name} is being added by another delivery"
                )));
            }
        }
    }
}

/// Glassix calls end early enough to leave the ledger its own time to record the outcome.
fn glassix_deadline(deadline: Deadline) -> Deadline {
    deadline.checked_sub(LEDGER_RESERVE).unwrap_or(deadline)
}

/// Carries the claimed `action` out. A claim taken over from a delivery that may have acted is
/// checked against the ticket first. After a failure that leaves the call's fate unknown the
/// claim is kept, never released, so no later delivery posts blindly again.
async fn carry_out(
    state: &NewTicketState,
    ticket_id: i64,
    claimed: Claimed,
    action: Action,
    deadline: Deadline,
) -> Result<Done, AppError> {
    let (token, check_first) = match claimed {
        Claimed::Mine { token, check_first } => (token, check_first),
        Claimed::AlreadyDone => return Ok(Done::AlreadyDone),
    };
    let name = action.name();
    let glassix_deadline = glassix_deadline(deadline);
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
            Err(AppError::glassix(name, &error)),
        ),
        Err(error) => (
            within_deadline(deadline, state.store.release_action(&token)).await,
            Err(AppError::glassix(name, &error)),
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
