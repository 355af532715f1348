//! Client operations.

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
        let filter = match &page.after {
            Some(ClientKey(identifier)) => doc! {"identifier": {"$gt": identifier}},
            None => doc! {},
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
        for ticket_id in self.client_ticket_ids(identifier).await? {
            self.delete_transactions(ticket_id).await?;
        }
        self.tickets.delete_many(by_client.clone()).await?;
        let deleted = self
            .clients
            .delete_one(doc! {"identifier": identifier})
            .await?;
        self.tickets.delete_many(by_client).await?;
        Ok(deleted.deleted_count > 0)
    }

    /// The ids of every ticket filed under a client (its list, and any ticket that names it).
    pub async fn client_ticket_ids(&self, identifier: &str) -> Result<Vec<i64>, StoreError> {
        let mut ids = super::distinct_i64(
            &self.tickets,
            "ticketId",
            doc! {"clientIdentifier": identifier},
        )
        .await?;
        if let Some(client) = self.get_client(identifier).await? {
            ids.extend(client.tickets);
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}
