//! Client operations.

use futures_util::TryStreamExt;
use mongodb::bson::{DateTime, doc};
use mongodb::options::ReturnDocument;

use super::cursor::{self, CursorKind};
use super::{ClientDoc, Page, Store, StoreError, is_duplicate_key};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub identifier: String,
    pub name: Option<String>,
}

impl Store {
    /// Inserts a client; `AlreadyExists` when the identifier is taken.
    pub async fn create_client(&self, new: NewClient) -> Result<ClientDoc, StoreError> {
        self.ensure_indexes().await?;
        let now = DateTime::now();
        let client = ClientDoc {
            identifier: new.identifier,
            name: new.name,
            tickets: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        match self.clients.insert_one(&client).await {
            Ok(_) => Ok(client),
            Err(error) if is_duplicate_key(&error) => Err(StoreError::AlreadyExists),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn get_client(&self, identifier: &str) -> Result<Option<ClientDoc>, StoreError> {
        Ok(self
            .clients
            .find_one(doc! {"identifier": identifier})
            .await?)
    }

    /// Clients in identifier order; `after` is the cursor of the previous page.
    pub async fn list_clients(
        &self,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Page<ClientDoc>, StoreError> {
        let filter = match after {
            Some(identifier) => doc! {"identifier": {"$gt": identifier}},
            None => doc! {},
        };
        let mut items: Vec<ClientDoc> = self
            .clients
            .find(filter)
            .sort(doc! {"identifier": 1})
            .limit(i64::from(limit) + 1)
            .await?
            .try_collect()
            .await?;
        let next = next_page(&mut items, limit, |c| {
            cursor::encode(CursorKind::Clients, &c.identifier)
        });
        Ok(Page { items, next })
    }

    /// Sets or clears the name; `None` when no such client exists.
    pub async fn set_client_name(
        &self,
        identifier: &str,
        name: Option<String>,
    ) -> Result<Option<ClientDoc>, StoreError> {
        Ok(self
            .clients
            .find_one_and_update(
                doc! {"identifier": identifier},
                doc! {"$set": {"name": name, "updatedAt": DateTime::now()}},
            )
            .return_document(ReturnDocument::After)
            .await?)
    }

    /// Deletes a client and its tickets. Tickets go first and are swept again afterwards, so a
    /// crash half-way or a ticket archived meanwhile leaves nothing behind once retried.
    pub async fn delete_client(&self, identifier: &str) -> Result<bool, StoreError> {
        let by_client = doc! {"clientIdentifier": identifier};
        self.tickets.delete_many(by_client.clone()).await?;
        let deleted = self
            .clients
            .delete_one(doc! {"identifier": identifier})
            .await?;
        self.tickets.delete_many(by_client).await?;
        Ok(deleted.deleted_count > 0)
    }
}

/// Trims the look-ahead item fetched to learn whether another page exists, and returns the
/// cursor of the next page.
pub(super) fn next_page<T>(
    items: &mut Vec<T>,
    limit: u32,
    cursor_of: impl Fn(&T) -> String,
) -> Option<String> {
    let limit = limit as usize;
    if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor_of)
    } else {
        None
    }
}
