//! A ticket's transactions, one document each: no ticket is too large to archive, and a page of
//! them fits a Lambda response whatever the ticket's size.

use std::collections::HashSet;

use futures_util::TryStreamExt;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::options::InsertManyOptions;

use super::{
    Attachment, StoreError, StoredAttachment, TransactionDoc, TransactionRecord, is_duplicate_key,
};
use super::{Store, to_store_error};
use crate::pagination::{Page, PageRequest, TransactionKey};

/// A page of transactions stops growing at this many bytes (as stored), so that it fits in
/// Lambda's 6 MB response with room for the JSON around it. A page always holds at least one
/// transaction.
const PAGE_BYTES: usize = 4 * 1024 * 1024;

impl Store {
    /// A ticket's transactions in time order, then by id, one page at a time.
    pub async fn transactions_page(
        &self,
        ticket_id: i64,
        page: &PageRequest<TransactionKey>,
    ) -> Result<Page<TransactionDoc>, StoreError> {
        let mut filter = doc! {"ticketId": ticket_id};
        if let Some(after) = page.after {
            let at = bson::DateTime::from_millis(after.at_millis);
            filter.insert(
                "$or",
                vec![
                    doc! {"dateTime": {"$gt": at}},
                    doc! {"dateTime": at, "id": {"$gt": after.id}},
                ],
            );
        }
        let records: Vec<TransactionRecord> = self
            .transactions
            .find(filter)
            .sort(doc! {"dateTime": 1, "id": 1})
            .limit(page.fetch_limit())
            .await?
            .try_collect()
            .await?;
        let mut items: Vec<TransactionDoc> = records.into_iter().map(|r| r.transaction).collect();
        let fitting = fitting_in_budget(&items);
        // Cut by size: the page ends earlier, and the look-ahead item says there is more.
        let request = PageRequest {
            limit: fitting.min(page.limit as usize) as u32,
            after: page.after,
        };
        items.truncate(fitting + 1);
        Ok(Page::from_fetched(items, &request, |t| TransactionKey {
            at_millis: t.date_time.timestamp_millis(),
            id: t.id,
        }))
    }

    /// Every transaction of a ticket, in time order (the archive job and tests; the API pages).
    pub async fn all_transactions(
        &self,
        ticket_id: i64,
    ) -> Result<Vec<TransactionDoc>, StoreError> {
        let records: Vec<TransactionRecord> = self
            .transactions
            .find(doc! {"ticketId": ticket_id})
            .sort(doc! {"dateTime": 1, "id": 1})
            .await?
            .try_collect()
            .await?;
        Ok(records.into_iter().map(|r| r.transaction).collect())
    }

    /// Adds the transactions whose id the ticket does not have yet; a stored one is never
    /// replaced. Returns how many were added.
    pub(super) async fn add_new_transactions(
        &self,
        ticket_id: i64,
        received: &[TransactionDoc],
    ) -> Result<usize, StoreError> {
        let known: HashSet<i64> =
            super::distinct_i64(&self.transactions, "id", doc! {"ticketId": ticket_id})
                .await?
                .into_iter()
                .collect();
        let new: Vec<TransactionRecord> = received
            .iter()
            .filter(|t| !known.contains(&t.id))
            .map(|t| TransactionRecord {
                ticket_id,
                transaction: t.clone(),
            })
            .collect();
        if new.is_empty() {
            return Ok(0);
        }
        let added = new.len();
        // Unordered: one already there (a concurrent writer) does not stop the others.
        match self
            .transactions
            .insert_many(&new)
            .with_options(InsertManyOptions::builder().ordered(false).build())
            .await
        {
            Ok(_) => Ok(added),
            Err(error) if is_duplicate_key(&error) => Ok(added),
            Err(error) => Err(error.into()),
        }
    }

    /// Replaces all of a ticket's transactions (a REST create or patch).
    pub(super) async fn replace_transactions(
        &self,
        ticket_id: i64,
        transactions: &[TransactionDoc],
    ) -> Result<(), StoreError> {
        self.delete_transactions(ticket_id).await?;
        self.add_new_transactions(ticket_id, transactions).await?;
        Ok(())
    }

    pub(super) async fn delete_transactions(&self, ticket_id: i64) -> Result<(), StoreError> {
        self.transactions
            .delete_many(doc! {"ticketId": ticket_id})
            .await?;
        Ok(())
    }

    pub async fn get_transaction(
        &self,
        ticket_id: i64,
        transaction_id: i64,
    ) -> Result<Option<TransactionDoc>, StoreError> {
        Ok(self
            .transactions
            .find_one(doc! {"ticketId": ticket_id, "id": transaction_id})
            .await?
            .map(|record| record.transaction))
    }

    /// Each transaction's attachments (without the rest of the transaction, which can be
    /// large), in time order.
    pub async fn attachments_of(
        &self,
        ticket_id: i64,
    ) -> Result<Vec<(i64, Vec<Attachment>)>, StoreError> {
        let documents: Vec<Document> = self
            .transactions
            .clone_with_type::<Document>()
            .find(doc! {"ticketId": ticket_id})
            .projection(doc! {"id": 1, "attachments": 1, "_id": 0})
            .sort(doc! {"dateTime": 1, "id": 1})
            .await?
            .try_collect()
            .await?;
        documents
            .into_iter()
            .map(|document| {
                let id = document.get_i64("id").unwrap_or_default();
                let attachments = match document.get("attachments") {
                    Some(value) => bson::from_bson(value.clone())
                        .map_err(|e| StoreError::Database(e.into()))?,
                    None => Vec::new(),
                };
                Ok((id, attachments))
            })
            .collect()
    }

    /// Records where the file of the `index`-th attachment of a transaction is stored.
    pub async fn record_stored_attachment(
        &self,
        ticket_id: i64,
        transaction_id: i64,
        index: usize,
        stored: &StoredAttachment,
    ) -> Result<(), StoreError> {
        let field = format!("attachments.{index}.stored");
        let stored = bson::to_bson(stored).map_err(to_store_error)?;
        self.transactions
            .update_one(
                doc! {"ticketId": ticket_id, "id": transaction_id},
                doc! {"$set": {field: stored}},
            )
            .await?;
        Ok(())
    }

    /// Moves the transactions of a ticket written before they had documents of their own out
    /// of its `transactions` array. Safe to repeat; a crash half-way is finished next time.
    pub(super) async fn move_embedded_transactions(
        &self,
        ticket_id: i64,
        embedded: &Bson,
    ) -> Result<(), StoreError> {
        let transactions: Vec<TransactionDoc> =
            bson::from_bson(embedded.clone()).map_err(|e| StoreError::Database(e.into()))?;
        self.add_new_transactions(ticket_id, &transactions).await?;
        let count = self.count_transactions(ticket_id).await?;
        self.tickets
            .update_one(
                doc! {"ticketId": ticket_id},
                doc! {"$unset": {"transactions": ""}, "$set": {"transactionCount": count as i64}},
            )
            .await?;
        tracing::info!(
            ticket_id,
            transactions = count,
            "ticket moved to transaction documents"
        );
        Ok(())
    }

    pub(super) async fn count_transactions(&self, ticket_id: i64) -> Result<u64, StoreError> {
        Ok(self
            .transactions
            .count_documents(doc! {"ticketId": ticket_id})
            .await?)
    }
}

/// How many of `items` (in order) fit in one page's byte budget; at least one.
fn fitting_in_budget(items: &[TransactionDoc]) -> usize {
    let mut bytes = 0;
    let mut fitting = 0;
    for item in items {
        bytes += bson::to_vec(item).map_or(0, |b| b.len());
        if fitting > 0 && bytes > PAGE_BYTES {
            break;
        }
        fitting += 1;
    }
    fitting
}
