//! What the retention purge reads and writes: expired tickets in ticket-id order, the run's
//! checkpoint, clients left without tickets, and expired access-log entries.

use futures_util::TryStreamExt;
use mongodb::bson::{Bson, DateTime, doc};
use serde::{Deserialize, Serialize};

use super::holds::held_at;
use super::{Store, StoreError, TicketDoc};

const PURGE_CHECKPOINT: &str = "purge";

/// Where a purge pass stands: every ticket up to this id was seen in the current pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PurgeCheckpoint {
    #[serde(rename = "_id")]
    name: String,
    after_ticket_id: i64,
}

impl Store {
    /// Up to `limit` tickets after `after` (by id) that were closed before `cutoff`: by
    /// `closedAt`, or for a ticket never closed (created through the API) by `archivedAt`,
    /// else `createdAt`.
    pub async fn expired_tickets(
        &self,
        cutoff: DateTime,
        after: i64,
        limit: i64,
    ) -> Result<Vec<TicketDoc>, StoreError> {
        let filter = doc! {
            "ticketId": {"$gt": after},
            "$or": [
                {"closedAt": {"$lt": cutoff}},
                {"closedAt": Bson::Null, "archivedAt": {"$lt": cutoff}},
                {"closedAt": Bson::Null, "archivedAt": Bson::Null, "createdAt": {"$lt": cutoff}},
            ],
        };
        Ok(self
            .tickets
            .find(filter)
            .projection(doc! {"transactions": 0})
            .sort(doc! {"ticketId": 1})
            .limit(limit)
            .await?
            .try_collect()
            .await?)
    }

    /// The last ticket id the current purge pass got past (0: a pass starts from the first).
    pub async fn purge_checkpoint(&self) -> Result<i64, StoreError> {
        let checkpoint = self
            .checkpoints
            .clone_with_type::<PurgeCheckpoint>()
            .find_one(doc! {"_id": PURGE_CHECKPOINT})
            .await?;
        Ok(checkpoint.map_or(0, |c| c.after_ticket_id))
    }

    pub async fn save_purge_checkpoint(&self, after_ticket_id: i64) -> Result<(), StoreError> {
        let checkpoint = PurgeCheckpoint {
            name: PURGE_CHECKPOINT.into(),
            after_ticket_id,
        };
        self.checkpoints
            .clone_with_type::<PurgeCheckpoint>()
            .replace_one(doc! {"_id": PURGE_CHECKPOINT}, checkpoint)
            .upsert(true)
            .await?;
        Ok(())
    }

    /// Deletes the client if it has no ticket left and nothing holds it; whether it did. A
    /// ticket archived for it meanwhile keeps it (the filter is one document's, atomic).
    pub async fn delete_client_if_ticketless(
        &self,
        identifier: &str,
        now: DateTime,
    ) -> Result<bool, StoreError> {
        if self
            .tickets
            .count_documents(doc! {"clientIdentifier": identifier})
            .await?
            > 0
        {
            return Ok(false);
        }
        let deleted = self
            .clients
            .delete_one(doc! {
                "identifier": identifier,
                "tickets": {"$size": 0},
                "$nor": [held_at(now)],
            })
            .await?;
        Ok(deleted.deleted_count > 0)
    }

    /// Removes access-log entries past their `expiresAt` (what a TTL index does where the
    /// server has one); how many.
    pub async fn prune_access_log(&self, now: DateTime) -> Result<u64, StoreError> {
        let pruned = self
            .access_log
            .delete_many(doc! {"expiresAt": {"$lt": now}})
            .await?;
        Ok(pruned.deleted_count)
    }
}
