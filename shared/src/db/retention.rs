//! What the retention purge reads and writes: expired tickets in ticket-id order, the run's
//! checkpoint, clients left without tickets, and expired access-log entries. It works a page
//! of tickets at a time, one query per collection and page: FerretDB's SQLite backend scans
//! a collection for most filters, so one scan per ticket would make the purge quadratic.

use std::collections::HashSet;

use futures_util::TryStreamExt;
use mongodb::bson::{Bson, DateTime, Document, doc};
use serde::{Deserialize, Serialize};

use super::holds::held_at;
use super::{Store, StoreError, TicketDoc, TransactionRecord};
use crate::access::AccessEntry;

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

    /// Which of `identifiers` a hold holds at `now` (one query for a page of tickets).
    pub async fn held_clients(
        &self,
        identifiers: &[&str],
        now: DateTime,
    ) -> Result<HashSet<String>, StoreError> {
        let mut filter = held_at(now);
        filter.insert("identifier", doc! {"$in": identifiers});
        let held: Vec<Document> = self
            .clients
            .clone_with_type::<Document>()
            .find(filter)
            .projection(doc! {"identifier": 1, "_id": 0})
            .await?
            .try_collect()
            .await?;
        Ok(held
            .iter()
            .filter_map(|client| client.get_str("identifier").ok().map(str::to_owned))
            .collect())
    }

    /// The bytes of the archived files of `ticket_ids`, as their transactions record them.
    pub async fn stored_bytes(&self, ticket_ids: &[i64]) -> Result<u64, StoreError> {
        let records: Vec<TransactionRecord> = self
            .transactions
            .find(doc! {"ticketId": {"$in": ticket_ids}})
            .await?
            .try_collect()
            .await?;
        Ok(records
            .iter()
            .flat_map(|record| &record.transaction.attachments)
            .filter_map(|attachment| attachment.stored.as_ref().map(|stored| stored.size))
            .sum())
    }

    /// Deletes `tickets` with their transactions, out of search and off their clients' lists
    /// first: a run cut half-way leaves tickets that are still found, and finished, by the
    /// next run. One write per collection for the lot (a collection scan each on FerretDB).
    pub async fn delete_tickets(&self, tickets: &[&TicketDoc]) -> Result<(), StoreError> {
        let ids: Vec<i64> = tickets.iter().map(|t| t.ticket_id).collect();
        let clients: Vec<&str> = tickets
            .iter()
            .map(|t| t.client_identifier.as_str())
            .collect();
        self.unindex_tickets(&ids).await?;
        self.clients
            .update_many(
                doc! {"identifier": {"$in": &clients}},
                doc! {"$pullAll": {"tickets": &ids}, "$set": {"updatedAt": DateTime::now()}},
            )
            .await?;
        self.transactions
            .delete_many(doc! {"ticketId": {"$in": &ids}})
            .await?;
        self.tickets
            .delete_many(doc! {"ticketId": {"$in": &ids}})
            .await?;
        Ok(())
    }

    /// Deletes those of `identifiers` that have no ticket left and that nothing holds; how
    /// many. A ticket archived for one meanwhile keeps it (the filter is each document's own,
    /// atomic).
    pub async fn delete_clients_without_tickets(
        &self,
        identifiers: &[&str],
        now: DateTime,
    ) -> Result<u64, StoreError> {
        let still_filed: HashSet<String> = self
            .tickets
            .distinct(
                "clientIdentifier",
                doc! {"clientIdentifier": {"$in": identifiers}},
            )
            .await?
            .into_iter()
            .filter_map(|value| value.as_str().map(str::to_owned))
            .collect();
        let ticketless: Vec<&str> = identifiers
            .iter()
            .copied()
            .filter(|identifier| !still_filed.contains(*identifier))
            .collect();
        if ticketless.is_empty() {
            return Ok(0);
        }
        let deleted = self
            .clients
            .delete_many(doc! {
                "identifier": {"$in": ticketless},
                "tickets": {"$size": 0},
                "$nor": [held_at(now)],
            })
            .await?;
        Ok(deleted.deleted_count)
    }

    /// Appends the entries of a page of deletions at once.
    pub async fn append_accesses(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
        if !entries.is_empty() {
            self.access_log.insert_many(entries).await?;
        }
        Ok(())
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
