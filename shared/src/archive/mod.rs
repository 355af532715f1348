//! The archive job: everything Glassix holds of a closed ticket is archived before anything is
//! scrambled. Run by the archive worker (`worker`) for each job of the archive queue.
//!
//! 1. The ticket's lock, so that two jobs of one ticket never overlap.
//! 2. GET the ticket and refuse to go on with an answer that is not this ticket, closed and
//!    complete ([`check_answer`]).
//! 3. Archive it, merged into what is stored, then every attachment's file (`attachments`).
//! 4. GET it again right before the scramble. Anything new (a last message, a note) is archived
//!    and compared again, a bounded number of times; a ticket no longer closed is left alone.
//! 5. DELETE scramble, confirm `isScrambled`, mark `scrambledAt`.
//!
//! A refusal is an error: the job fails and is tried again (a 5xx for Glassix, a failed message
//! for SQS, which ends in the dead-letter queue after its redrive count).

mod attachments;
pub mod worker;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::db::{ArchiveWrite, Store};
use crate::domain::{NotArchivable, archive_record};
use crate::error::AppError;
use crate::files::FileStore;
use crate::glassix::{Deadline, GlassixClient, GlassixError, Ticket, TicketState};
use crate::job::{Outcome, within_deadline};

/// How many times a ticket that changed while it was archived is archived again before the
/// job gives up for now (and is retried later).
const MAX_ARCHIVE_ROUNDS: usize = 3;

/// Giving the lock back gets time of its own: a job that failed at its deadline must not
/// keep the next attempt waiting for the lease.
const UNLOCK_TIME: Duration = Duration::from_secs(2);

/// A lock outlives the job's deadline by this much, so a crashed job's lock expires soon after.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

pub struct Archiver<'a> {
    pub store: &'a Store,
    pub glassix: &'a GlassixClient,
    pub files: &'a FileStore,
    /// What this job did, for its metrics.
    pub tally: JobTally,
}

/// What one archive job did (`crate::metrics`).
#[derive(Debug, Default)]
pub struct JobTally {
    archived: AtomicBool,
    refused: AtomicBool,
    files: AtomicU64,
    bytes: AtomicU64,
}

impl JobTally {
    pub fn archived(&self) -> bool {
        self.archived.load(Ordering::Relaxed)
    }

    /// Whether a check refused Glassix's answer.
    pub fn refused(&self) -> bool {
        self.refused.load(Ordering::Relaxed)
    }

    /// Attachment files stored, and their bytes.
    pub fn stored(&self) -> (u64, u64) {
        (
            self.files.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn file_stored(&self, size: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(size, Ordering::Relaxed);
    }
}

impl<'a> Archiver<'a> {
    pub fn new(store: &'a Store, glassix: &'a GlassixClient, files: &'a FileStore) -> Self {
        Self {
            store,
            glassix,
            files,
            tally: JobTally::default(),
        }
    }
}

impl Archiver<'_> {
    /// Runs the job for `ticket_id`, all within `deadline`.
    pub async fn run(&self, ticket_id: i64, deadline: Deadline) -> Result<Outcome, AppError> {
        let lease = deadline.saturating_duration_since(Instant::now()) + LEASE_MARGIN;
        let Some(lock) =
            within_deadline(deadline, self.store.lock_ticket(ticket_id, lease)).await?
        else {
            return Err(AppError::Unavailable(
                "another archive job of this ticket is running".into(),
            ));
        };
        let outcome = self.archive_then_scramble(ticket_id, deadline).await;
        let unlock_by = Instant::now() + UNLOCK_TIME;
        if let Err(error) = within_deadline(unlock_by, self.store.unlock_ticket(lock)).await {
            tracing::warn!(
                ticket_id,
                detail = error.detail().unwrap_or_default(),
                "ticket lock not given back; it expires with its lease"
            );
        }
        outcome
    }

    async fn archive_then_scramble(
        &self,
        ticket_id: i64,
        deadline: Deadline,
    ) -> Result<Outcome, AppError> {
        let mut ticket = match self.fetch(ticket_id, deadline).await? {
            Fetched::Archivable(ticket) => ticket,
            Fetched::Finished(outcome) => return Ok(outcome),
        };
        let mut rounds = 0;
        loop {
            rounds += 1;
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
            match within_deadline(deadline, self.store.archive_ticket(&record)).await? {
                ArchiveWrite::AlreadyScrambled => {
                    tracing::warn!(
                        ticket_id,
                        "archive is marked scrambled but Glassix is not; archive left unchanged"
                    );
                    return Ok(Outcome::Duplicate("already archived and scrambled"));
                }
                ArchiveWrite::Written { added } => {
                    self.tally.archived.store(true, Ordering::Relaxed);
                    tracing::info!(
                        ticket_id,
                        transactions = record.transactions.len(),
                        added,
                        rounds,
                        "ticket archived"
                    )
                }
            }
            self.archive_attachments(&ticket, deadline).await?;
            // Whatever was added since the GET above must be archived before the scramble.
            let again = match self.fetch(ticket_id, deadline).await? {
                Fetched::Archivable(again) => again,
                Fetched::Finished(outcome) => return Ok(outcome),
            };
            if same_content(&ticket, &again) {
                break;
            }
            tracing::info!(ticket_id, rounds, "ticket changed while it was archived");
            if rounds == MAX_ARCHIVE_ROUNDS {
                return Err(AppError::Unavailable(
                    "ticket kept changing while it was archived".into(),
                ));
            }
            ticket = again;
        }
        self.scramble_confirmed(ticket_id, deadline).await?;
        within_deadline(deadline, self.store.mark_scrambled(ticket_id)).await?;
        Ok(Outcome::Processed("archived and scrambled"))
    }

    /// GETs the ticket: archivable, finished (nothing to do, or nothing more that can be done),
    /// or an error when the answer cannot be trusted.
    async fn fetch(&self, ticket_id: i64, deadline: Deadline) -> Result<Fetched, AppError> {
        let ticket = match self.glassix.get_ticket(ticket_id, deadline).await {
            Ok(ticket) => ticket,
            Err(GlassixError::NotFound) => {
                return Ok(Fetched::Finished(Outcome::Ignored(
                    "ticket not found in Glassix",
                )));
            }
            Err(error) => return Err(AppError::glassix("get ticket", &error)),
        };
        if ticket.id != ticket_id {
            return Err(self.refused(ticket_id, "Glassix answered with another ticket"));
        }
        if ticket.is_scrambled {
            return self.already_scrambled(ticket_id, deadline).await;
        }
        // A delivery can arrive days late, and a ticket can be reopened while it is archived:
        // never scramble a conversation that is not closed.
        if ticket.state.as_ref() != Some(&TicketState::Closed) {
            return Ok(Fetched::Finished(Outcome::Ignored(
                "ticket is no longer closed",
            )));
        }
        check_answer(&ticket).map_err(|reason| self.refused(ticket_id, reason))?;
        Ok(Fetched::Archivable(ticket))
    }

    async fn already_scrambled(
        &self,
        ticket_id: i64,
        deadline: Deadline,
    ) -> Result<Fetched, AppError> {
        let outcome = match within_deadline(deadline, self.store.get_ticket(ticket_id)).await? {
            Some(archived) => {
                if archived.scrambled_at.is_none() {
                    within_deadline(deadline, self.store.mark_scrambled(ticket_id)).await?;
                }
                Outcome::Duplicate("already archived and scrambled")
            }
            None => {
                tracing::error!(
                    ticket_id,
                    "ticket was scrambled in Glassix before it was archived; its content is lost"
                );
                Outcome::Ignored("scrambled before it was archived")
            }
        };
        Ok(Fetched::Finished(outcome))
    }

    /// Scrambles the ticket and confirms it with `isScrambled`, whatever the DELETE answered:
    /// a lost answer is common and a second scramble is undocumented.
    async fn scramble_confirmed(&self, ticket_id: i64, deadline: Deadline) -> Result<(), AppError> {
        let scrambled = self.glassix.scramble(ticket_id, deadline).await;
        if let Err(error) = &scrambled {
            tracing::warn!(ticket_id, error = %error, "scramble failed or unanswered; checking the ticket");
        }
        match self.glassix.is_scrambled(ticket_id, deadline).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(match scrambled {
                Err(error) => AppError::glassix("scramble", &error),
                Ok(()) => AppError::Unavailable(
                    "Glassix accepted the scramble but the ticket is not scrambled".into(),
                ),
            }),
            Err(check) => Err(AppError::glassix("scramble confirmation", &check)),
        }
    }
}

enum Fetched {
    Archivable(Ticket),
    Finished(Outcome),
}

/// Whether a closed, unscrambled ticket's answer is complete enough to archive. Each check must
/// let every real-looking ticket through: one that stops them all would stall the archive.
pub fn check_answer(ticket: &Ticket) -> Result<(), &'static str> {
    let Some(transactions) = &ticket.transactions else {
        return Err("Glassix sent no transactions (null or missing)");
    };
    // `transactionsCount` may count a subset of what is sent (e.g. messages only), never more.
    if ticket
        .transactions_count
        .is_some_and(|count| count > transactions.len() as u64)
    {
        return Err("Glassix counts more transactions than it sent");
    }
    Ok(())
}

/// Same state, same transaction ids, same count: nothing to archive again.
fn same_content(before: &Ticket, after: &Ticket) -> bool {
    let ids = |ticket: &Ticket| {
        let mut ids: Vec<i64> = ticket.transactions().iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids
    };
    before.state == after.state
        && before.transactions_count == after.transactions_count
        && ids(before) == ids(after)
}

impl Archiver<'_> {
    fn refused(&self, ticket_id: i64, reason: &'static str) -> AppError {
        self.tally.refused.store(true, Ordering::Relaxed);
        tracing::error!(
            ticket_id,
            reason,
            "archive job refused the Glassix answer; it will be retried"
        );
        AppError::Unavailable(format!("refused to archive: {reason}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(value: serde_json::Value) -> Ticket {
        serde_json::from_value(value).expect("a ticket")
    }

    #[test]
    fn the_documented_fixture_and_real_looking_answers_pass() {
        let fixture: Ticket =
            serde_json::from_slice(include_bytes!("../../fixtures/glassix/ticket.json"))
                .expect("fixture");
        assert_eq!(check_answer(&fixture), Ok(()));
        for value in [
            serde_json::json!({"id": 1, "transactions": []}),
            serde_json::json!({"id": 1, "transactions": [], "transactionsCount": 0}),
            serde_json::json!({"id": 1, "transactions": [{"id": 5}, {"id": 6}], "transactionsCount": 1}),
            serde_json::json!({"id": 1, "transactions": [{"id": 5}], "transactionsCount": null}),
            serde_json::json!({"id": 1, "transactions": [{"id": 5}], "transactionsCount": "1"}),
        ] {
            assert_eq!(check_answer(&ticket(value.clone())), Ok(()), "{value}");
        }
    }

    #[test]
    fn missing_or_short_transactions_are_refused() {
        for value in [
            serde_json::json!({"id": 1}),
            serde_json::json!({"id": 1, "transactions": null}),
            serde_json::json!({"id": 1, "transactions": [{"id": 5}], "transactionsCount": 2}),
        ] {
            assert!(check_answer(&ticket(value.clone())).is_err(), "{value}");
        }
    }

    #[test]
    fn a_new_transaction_or_state_is_a_change() {
        let before = ticket(
            serde_json::json!({"id": 1, "state": "Closed", "transactions": [{"id": 5}, {"id": 6}]}),
        );
        let reordered = ticket(
            serde_json::json!({"id": 1, "state": "Closed", "transactions": [{"id": 6}, {"id": 5}]}),
        );
        let added = ticket(
            serde_json::json!({"id": 1, "state": "Closed", "transactions": [{"id": 5}, {"id": 6}, {"id": 7}]}),
        );
        assert!(same_content(&before, &reordered));
        assert!(!same_content(&before, &added));
    }
}
