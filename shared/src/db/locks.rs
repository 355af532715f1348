//! A lock per ticket, so that two archive jobs of one ticket never overlap: the FIFO queue
//! already serialises them per ticket, but a job still running when its message's visibility
//! ran out races its own redelivery, which the queue then hands out.
//!
//! A lock is a document `{_id: ticketId, owner, expiresAt}`. Taking it is one upsert whose
//! filter matches only an expired lock: when a live one exists the upsert tries to insert a
//! second `_id` and fails with a duplicate key, which means "held". A crashed holder's lock
//! expires after its lease.

use std::time::Duration;

use mongodb::bson::{DateTime, doc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, is_duplicate_key};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct LockDoc {
    #[serde(rename = "_id")]
    ticket_id: i64,
    owner: String,
    expires_at: DateTime,
}

/// Proof of holding a ticket's lock; give it back with [`Store::unlock_ticket`].
#[derive(Debug, PartialEq, Eq)]
pub struct TicketLock {
    ticket_id: i64,
    owner: String,
}

impl Store {
    /// Takes the ticket's lock for `lease`; `None` while another job holds it.
    pub async fn lock_ticket(
        &self,
        ticket_id: i64,
        lease: Duration,
    ) -> Result<Option<TicketLock>, StoreError> {
        let owner = format!("{:016x}", fastrand::u64(..));
        let now = DateTime::now();
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
        let expires_at = DateTime::from_millis(now.timestamp_millis().saturating_add(lease_ms));
        let taken = self
            .locks
            .update_one(
                doc! {"_id": ticket_id, "expiresAt": {"$lte": now}},
                doc! {"$set": {"owner": &owner, "expiresAt": expires_at}},
            )
            .upsert(true)
            .await;
        match taken {
            Ok(_) => Ok(Some(TicketLock { ticket_id, owner })),
            Err(error) if is_duplicate_key(&error) => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Gives the lock back, if it is still ours.
    pub async fn unlock_ticket(&self, lock: TicketLock) -> Result<(), StoreError> {
        self.locks
            .delete_one(doc! {"_id": lock.ticket_id, "owner": &lock.owner})
            .await?;
        Ok(())
    }
}
