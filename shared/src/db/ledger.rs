//! Ledger of the side effects webhooks make in Glassix (a tag call, a note), so that each
//! happens once per ticket across repeated and concurrent deliveries of the same event.
//!
//! An action is *claimed* before the call and marked *done* after it. A delivery that finds
//! the action claimed by someone else must not report success for it; a claim left behind by
//! a crashed attempt expires after its lease and can then be taken over.

use std::time::Duration;

use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, is_duplicate_key};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum ActionState {
    Claimed,
    Done,
}

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
    /// This caller owns the action and must complete or release it.
    Acquired(ClaimToken),
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
            if existing.state == ActionState::Done {
                return Ok(Claim::AlreadyDone);
            }
            let expired_before = DateTime::from_millis(
                now.timestamp_millis() - i64::try_from(lease.as_millis()).unwrap_or(i64::MAX),
            );
            if existing.claimed_at > expired_before {
                return Ok(Claim::InProgress);
            }
            let taken_over = self
                .actions
                .update_one(
                    doc! {"_id": &id, "state": "claimed", "owner": &existing.owner},
                    doc! {"$set": {"owner": &owner, "claimedAt": now}},
                )
                .await?;
            return Ok(if taken_over.modified_count == 1 {
                Claim::Acquired(token())
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

    /// Gives a claim up after the action failed, so that the next delivery can try at once.
    pub async fn release_action(&self, token: &ClaimToken) -> Result<(), StoreError> {
        self.actions
            .delete_one(doc! {"_id": &token.id, "owner": &token.owner, "state": "claimed"})
            .await?;
        Ok(())
    }
}
