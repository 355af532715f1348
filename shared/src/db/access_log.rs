//! The access log's collection: insert-only from the code, one index per question a reader
//! asks of it (by client, by ticket, by token, by time), and a TTL index on `expiresAt`.

use std::time::Duration;

use futures_util::TryStreamExt;
use mongodb::bson::{Document, doc};

use super::{Store, StoreError, index};
use crate::access::{AccessEntry, AccessFilter};
use crate::dates::to_bson;
use crate::pagination::{AccessKey, Page, PageRequest};

impl Store {
    /// Appends one entry (never updated afterwards).
    pub async fn append_access(&self, entry: &AccessEntry) -> Result<(), StoreError> {
        self.access_log.insert_one(entry).await?;
        Ok(())
    }

    /// The entries `filter` selects, newest first.
    pub async fn access_log_page(
        &self,
        filter: &AccessFilter,
        page: &PageRequest<AccessKey>,
    ) -> Result<Page<AccessEntry>, StoreError> {
        let mut selector = selector(filter);
        if let Some(after) = page.after {
            let at = mongodb::bson::DateTime::from_millis(after.at_millis);
            selector.insert(
                "$or",
                vec![
                    doc! {"at": {"$lt": at}},
                    doc! {"at": at, "_id": {"$lt": after.id}},
                ],
            );
        }
        let entries: Vec<AccessEntry> = self
            .access_log
            .find(selector)
            .sort(doc! {"at": -1, "_id": -1})
            .limit(page.fetch_limit())
            .await?
            .try_collect()
            .await?;
        Ok(Page::from_fetched(entries, page, AccessEntry::key))
    }

    pub(super) async fn ensure_access_log_indexes(&self) -> Result<(), StoreError> {
        for keys in [
            doc! {"at": -1, "_id": -1},
            doc! {"clientIdentifier": 1, "at": -1, "_id": -1},
            doc! {"ticketId": 1, "at": -1, "_id": -1},
            doc! {"token": 1, "at": -1, "_id": -1},
        ] {
            self.access_log.create_index(index(keys, false)).await?;
        }
        // Each entry carries its own expiry, so a changed ACCESS_LOG_DAYS needs no index change.
        self.expire(&self.access_log, "expiresAt", Duration::ZERO)
            .await
    }
}

/// The query of `filter`: equality on the indexed fields, a range on `at`. Values are bound
/// as values, so nothing a reader types becomes an operator.
fn selector(filter: &AccessFilter) -> Document {
    let mut selector = Document::new();
    if let Some(identifier) = &filter.client_identifier {
        selector.insert("clientIdentifier", identifier.as_str());
    }
    if let Some(ticket_id) = filter.ticket_id {
        selector.insert("ticketId", ticket_id);
    }
    if let Some(token) = &filter.token {
        selector.insert("token", token.as_str());
    }
    let mut range = Document::new();
    if let Some(from) = filter.from {
        range.insert("$gte", to_bson(from));
    }
    if let Some(to) = filter.to {
        range.insert("$lte", to_bson(to));
    }
    if !range.is_empty() {
        selector.insert("at", range);
    }
    selector
}
