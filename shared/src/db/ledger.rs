//! Ledger of the side effects webhooks make in Glassix (a tag call, a note), so that each
//! happens once per ticket across repeated and concurrent deliveries of the same event.
//!
//! An action is *claimed* before the call and marked *done* after it. A delivery that finds
//! the action claimed by someone else must not report success for it. When the call failed
//! in a way that leaves its fate unknown (a 5xx, a timeout), the claim is kept and marked
//! *uncertain*; a claim left behind by a crashed attempt expires after its lease. Either is
//! then taken over by the next delivery, which must look at the ticket before acting again.
//!
//! Entries are kept for [`RETENTION`], well past the 3 days Glassix retries a delivery, and
//! then removed by a TTL index on MongoDB. FerretDB does not expire documents: there the
//! collection grows by two small documents per ticket (see the README).

use std::time::Duration;

use mongodb::bson::{self, DateTime, doc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, is_duplicate_key};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum ActionState {
    Claimed,
    /// The call failed after Glassix may have received it.
    Uncertain,
    Done,
}

/// How long an entry is kept: deliveries of one event stop after 3 days.
pub const RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ActionDoc {
    #[serde(rename = "_id")]
    id: String,
    ticket_id: i64,
    action: String,
    state: ActionState,
    owner: String,
    claimed_at: DateTime,
    #[serde(default)]
    done_at: Option<DateTime>,
}

/// The outcome of trying to claim an action.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This caller owns the action and must complete, release or mark it uncertain.
    Acquired(ClaimToken),
    /// This caller owns the action, taken over from a delivery that may have carried it out
    /// (its call failed uncertainly, or it stopped mid-way): check the ticket before acting.
    TakenOver(ClaimToken),
    /// The action was already carried out by an earlier delivery.
    AlreadyDone,
    /// Another delivery is carrying it out right now.
    InProgress,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ClaimToken {
    id: String,
    owner: String,
}

impl Store {
    pub async fn claim_action(
        &self,
        ticket_id: i64,
        action: &str,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let id = format!("{ticket_id}:{action}");
        let owner = format!("{:016x}", fastrand::u64(..));
        let token = || ClaimToken {
            id: id.clone(),
            owner: owner.clone(),
        };
        // The document can vanish between a failed insert and the read (a release); try again.
        for _ in 0..3 {
            let now = DateTime::now();
            let fresh = ActionDoc {
                id: id.clone(),
                ticket_id,
                action: action.to_owned(),
                state: ActionState::Claimed,
                owner: owner.clone(),
                claimed_at: now,
                done_at: None,
            };
            match self.actions.insert_one(&fresh).await {
                Ok(_) => return Ok(Claim::Acquired(token())),
                Err(error) if is_duplicate_key(&error) => {}
                Err(error) => return Err(error.into()),
            }
            let Some(existing) = self.actions.find_one(doc! {"_id": &id}).await? else {
                continue;
            };
            let expired_before = DateTime::from_millis(
                now.timestamp_millis() - i64::try_from(lease.as_millis()).unwrap_or(i64::MAX),
            );
            match existing.state {
                ActionState::Done => return Ok(Claim::AlreadyDone),
                ActionState::Claimed if existing.claimed_at > expired_before => {
                    return Ok(Claim::InProgress);
                }
                ActionState::Claimed | ActionState::Uncertain => {}
            }
            // Only one of several deliveries taking over at once matches the old owner.
            let state = bson::to_bson(&existing.state).map_err(mongodb::error::Error::from)?;
            let taken_over = self
                .actions
                .update_one(
                    doc! {"_id": &id, "state": state, "owner": &existing.owner},
                    doc! {"$set": {"state": "claimed", "owner": &owner, "claimedAt": now}},
                )
                .await?;
            return Ok(if taken_over.modified_count == 1 {
                Claim::TakenOver(token())
            } else {
                Claim::InProgress
            });
        }
        Ok(Claim::InProgress)
    }

    /// Marks a claimed action as carried out.
    pub async fn complete_action(&self, token: &ClaimToken) -> Result<(), StoreError> {
        self.actions
            .update_one(
                doc! {"_id": &token.id, "owner": &token.owner},
                doc! {"$set": {"state": "done", "doneAt": DateTime::now()}},
            )
            .await?;
        Ok(())
    }

    /// Keeps the claim after a call that Glassix may have carried out: the next delivery takes
    /// it over at once and checks the ticket before acting (never a blind second call).
    pub async fn mark_uncertain(&self, token: &ClaimToken) -> Result<(), StoreError> {
        self.actions
            .update_one(
                doc! {"_id": &token.id, "owner": &token.owner, "state": "claimed"},
                doc! {"$set": {"state": "uncertain"}},
            )
            .await?;
        Ok(())
    }

    /// Gives a claim up after the action surely did not happen, so that the next delivery can
    /// act at once.
    pub async fn release_action(&self, token: &ClaimToken) -> Result<(), StoreError> {
        self.actions
            .delete_one(doc! {"_id": &token.id, "owner": &token.owner, "state": "claimed"})
            .await?;
        Ok(())
    }
}
