//! Client operations.

use std::collections::HashSet;

use futures_util::TryStreamExt;
use mongodb::bson::{DateTime, doc};
use mongodb::options::ReturnDocument;

use super::{ClientDoc, Entity, Store, StoreError, is_duplicate_key};
use crate::pagination::{ClientKey, Page, PageRequest};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub identifier: String,
    pub name: Option<String>,
}

impl Store {
    /// Inserts a client; `AlreadyExists` when the identifier is taken.
    pub async fn create_client(&self, new: NewClient) -> Result<ClientDoc, StoreError> {
        let now = DateTime::now();
        let client = ClientDoc {
            identifier: new.identifier,
            name: new.name,
            tickets: Vec::new(),
            legal_hold: None,
            created_at: now,
            updated_at: now,
        };
        match self.clients.insert_one(&client).await {
            Ok(_) => Ok(client),
            Err(error) if is_duplicate_key(&error) => {
                Err(StoreError::AlreadyExists(Entity::Client))
            }
            Err(error) => Err(error.into()),
        }
    }

    pub async fn get_client(&self, identifier: &str) -> Result<Option<ClientDoc>, StoreError> {
        Ok(self
            .clients
            .find_one(doc! {"identifier": identifier})
            .await?)
    }

    /// Clients in identifier order.
    pub async fn list_clients(
        &self,
        page: &PageRequest<ClientKey>,
    ) -> Result<Page<ClientDoc>, StoreError> {
        self.list_clients_with_prefix(page, None).await
    }

    /// Clients in identifier order; with `prefix`, only those whose identifier starts with it
    /// (case-sensitive, as identifiers are used as given).
    ///
    /// The prefix is a range on the unique `identifier` index, `[prefix, successor)`, not a
    /// regular expression: nothing in it needs escaping, and every server (MongoDB, FerretDB)
    /// answers it from the index.
    pub async fn list_clients_with_prefix(
        &self,
        page: &PageRequest<ClientKey>,
        prefix: Option<&str>,
    ) -> Result<Page<ClientDoc>, StoreError> {
        let mut range = doc! {};
        if let Some(prefix) = prefix {
            range.insert("$gte", prefix);
            if let Some(end) = prefix_end(prefix) {
                range.insert("$lt", end);
            }
        }
        if let Some(ClientKey(identifier)) = &page.after {
            range.insert("$gt", identifier.as_str());
        }
        let filter = if range.is_empty() {
            doc! {}
        } else {
            doc! {"identifier": range}
        };
        let items: Vec<ClientDoc> = self
            .clients
            .find(filter)
            .sort(doc! {"identifier": 1})
            .limit(page.fetch_limit())
            .await?
            .try_collect()
            .await?;
        Ok(Page::from_fetched(items, page, |c| {
            ClientKey(c.identifier.clone())
        }))
    }

    /// Sets or clears the name; `None` when no such client exists.
    pub async fn set_client_name(
        &self,
        identifier: &str,
        name: Option<String>,
    ) -> Result<Option<ClientDoc>, StoreError> {
        let client = self
            .clients
            .find_one_and_update(
                doc! {"identifier": identifier},
                doc! {"$set": {"name": name, "updatedAt": DateTime::now()}},
            )
            .return_document(ReturnDocument::After)
            .await?;
        if client.is_some() {
            // Found by its new name, not by the one it had; a failure here fails the PATCH,
            // and its retry rebuilds them again.
            self.reindex_client(identifier).await?;
        }
        Ok(client)
    }

    /// Deletes a client and its tickets. Tickets go first and are swept again afterwards, so a
    /// crash half-way or a ticket archived meanwhile leaves nothing behind once retried.
    pub async fn delete_client(&self, identifier: &str) -> Result<bool, StoreError> {
        let by_client = doc! {"clientIdentifier": identifier};
        // Marked first: an archive running meanwhile cannot file a ticket under this client
        // document any more (it is retried after the deletion), so the deletion never leaves
        // a client listing a ticket it removed.
        self.clients
            .update_one(
                doc! {"identifier": identifier},
                doc! {"$set": {"deleting": true}},
            )
            .await?;
        let ticket_ids = self.client_ticket_ids(identifier).await?;
        self.unindex_tickets(&ticket_ids).await?;
        for ticket_id in ticket_ids {
            self.delete_transactions(ticket_id).await?;
        }
        self.tickets.delete_many(by_client).await?;
        // The client last, and nothing after it: a ticket an archive files meanwhile either
        // failed on the mark (and is filed again by its retry, under a new client document)
        // or comes after this and stays whole with its client. No step here may remove a
        // ticket after an archive has checked that it reads back whole.
        let deleted = self
            .clients
            .delete_one(doc! {"identifier": identifier})
            .await?;
        Ok(deleted.deleted_count > 0)
    }

    /// The ids of every ticket filed under a client: any ticket that names it, and those on its
    /// list that name no other client (a listed id without a ticket may have transactions left).
    pub async fn client_ticket_ids(&self, identifier: &str) -> Result<Vec<i64>, StoreError> {
        let mut ids = super::distinct_i64(
            &self.tickets,
            "ticketId",
            doc! {"clientIdentifier": identifier},
        )
        .await?;
        if let Some(client) = self.get_client(identifier).await? {
            // A ticket still listed here that names another client was moved to it by an
            // archive cut off before it left this list: it is that client's, never erased or
            // exported with this one.
            let elsewhere: HashSet<i64> = super::distinct_i64(
                &self.tickets,
                "ticketId",
                doc! {"ticketId": {"$in": &client.tickets}, "clientIdentifier": {"$ne": identifier}},
            )
            .await?
            .into_iter()
            .collect();
            ids.extend(
                client
                    .tickets
                    .into_iter()
                    .filter(|id| !elsewhere.contains(id)),
            );
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

/// The smallest string above every string that starts with `prefix`: its last character
/// replaced by the next one (carrying past U+10FFFF). Strings compare by their UTF-8 bytes,
/// which is code point order, so `s` starts with `prefix` exactly when
/// `prefix <= s < prefix_end(prefix)`. `None` when no string is above them all (a prefix of
/// U+10FFFF only), where the range has no upper end.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn the_prefix_range_ends_at_the_next_character() {
        assert_eq!(prefix_end("dana").as_deref(), Some("danb"));
        assert_eq!(prefix_end("972").as_deref(), Some("973"));
        assert_eq!(prefix_end("a+").as_deref(), Some("a,"));
        assert_eq!(prefix_end("דנ").as_deref(), Some("דס"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end("\u{10FFFF}\u{10FFFF}"), None);
    }

    #[test]
    fn exactly_the_strings_with_the_prefix_fall_in_its_range() {
        let prefix = "dan\u{10FFFF}";
        let end = prefix_end(prefix).expect("an end");
        let in_range = |s: &str| s >= prefix && s < end.as_str();
        for inside in [
            "dan\u{10FFFF}",
            "dan\u{10FFFF}a",
            "dan\u{10FFFF}\u{10FFFF}x",
        ] {
            assert!(in_range(inside), "{inside:?}");
        }
        for outside in ["dan", "danz", "dao", "dan\u{FFFF}", "dam\u{10FFFF}"] {
            assert!(!in_range(outside), "{outside:?}");
        }
    }
}
