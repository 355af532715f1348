//! Ticket operations, including the idempotent archive of a closed Glassix ticket.

use std::future::{Future, IntoFuture};

use futures_util::TryStreamExt;
use mongodb::bson::{self, Bson, DateTime, Document, doc};
use mongodb::options::ReturnDocument;

use super::{Entity, Store, StoreError, TicketDoc, TransactionDoc, is_duplicate_key};
use crate::pagination::{Page, PageRequest, TicketKey};

/// How many times an archive's writes are repeated when a concurrent deletion undid them.
const MAX_WRITE_ROUNDS: usize = 3;

/// What a ticket says, whoever writes it (a REST caller or the archive); the store adds the
/// bookkeeping (`createdAt`, `updatedAt`, `archivedAt`).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketContent {
    pub ticket_id: i64,
    pub client_identifier: String,
    pub client_name: Option<String>,
    pub ticket_opening_date: DateTime,
    pub protocol_type: String,
    pub closed_at: Option<DateTime>,
    pub tags: Vec<String>,
    pub transactions: Vec<TransactionDoc>,
}

/// What an archive write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveWrite {
    /// The ticket is stored; `added` transactions were new.
    Written { added: usize },
    /// The stored ticket is marked scrambled: it was left as it is.
    AlreadyScrambled,
}

/// Fields a REST caller may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketPatch {
    pub client_name: Option<Option<String>>,
    pub ticket_opening_date: Option<DateTime>,
    pub protocol_type: Option<String>,
    pub transactions: Option<Vec<TransactionDoc>>,
    pub closed_at: Option<Option<DateTime>>,
    pub tags: Option<Vec<String>>,
}

/// What the archive knows of a client, for the note on a new ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientHistory {
    pub archived_tickets: u64,
    /// Opening date and channel of the most recent archived ticket.
    pub latest: Option<(DateTime, String)>,
}

impl Store {
    /// Inserts a ticket for an existing client and lists it on that client.
    pub async fn create_ticket(&self, content: TicketContent) -> Result<TicketDoc, StoreError> {
        let Some(client) = self.get_client(&content.client_identifier).await? else {
            return Err(StoreError::ClientNotFound);
        };
        let now = DateTime::now();
        let ticket = TicketDoc {
            ticket_id: content.ticket_id,
            client_identifier: content.client_identifier,
            client_name: content.client_name,
            ticket_opening_date: content.ticket_opening_date,
            protocol_type: content.protocol_type,
            transaction_count: content.transactions.len() as u64,
            closed_at: content.closed_at,
            tags: content.tags,
            archived_at: None,
            scrambled_at: None,
            legal_hold: None,
            created_at: now,
            updated_at: now,
        };
        match self.tickets.insert_one(&ticket).await {
            Ok(_) => {}
            Err(error) if is_duplicate_key(&error) => {
                self.relist_on_its_client(ticket.ticket_id, &ticket.client_identifier)
                    .await?;
                return Err(StoreError::AlreadyExists(Entity::Ticket));
            }
            Err(error) => return Err(error.into()),
        }
        self.replace_transactions(ticket.ticket_id, &content.transactions)
            .await?;
        self.clients
            .update_one(
                doc! {"identifier": &ticket.client_identifier},
                doc! {
                    "$addToSet": {"tickets": ticket.ticket_id},
                    "$set": {"updatedAt": DateTime::now()},
                },
            )
            .await?;
        self.write_search_doc(
            &ticket,
            &crate::search::build(&ticket, client.name.as_deref(), &content.transactions),
        )
        .await?;
        Ok(ticket)
    }

    /// A create cut off after its insert (a transient error, a timeout) left the ticket off its
    /// client's list, and its retry meets the ticket as a duplicate: the 409 puts it back on
    /// the list first (idempotent), if it belongs to this client.
    async fn relist_on_its_client(&self, ticket_id: i64, client: &str) -> Result<(), StoreError> {
        let stored = self
            .tickets
            .count_documents(doc! {"ticketId": ticket_id, "clientIdentifier": client})
            .await?;
        if stored == 1 {
            self.clients
                .update_one(
                    doc! {"identifier": client, "deleting": {"$ne": true}},
                    doc! {"$addToSet": {"tickets": ticket_id}},
                )
                .await?;
        }
        Ok(())
    }

    /// The ticket, without its transactions (see `transactions_page`). A ticket written
    /// before transactions had documents of their own is moved to them first.
    pub async fn get_ticket(&self, ticket_id: i64) -> Result<Option<TicketDoc>, StoreError> {
        let raw = self
            .tickets
            .clone_with_type::<Document>()
            .find_one(doc! {"ticketId": ticket_id})
            .await?;
        let Some(mut raw) = raw else {
            return Ok(None);
        };
        if let Some(embedded) = raw.remove("transactions") {
            self.move_embedded_transactions(ticket_id, &embedded)
                .await?;
            raw.insert(
                "transactionCount",
                self.count_transactions(ticket_id).await? as i64,
            );
        }
        Ok(Some(
            bson::from_document(raw).map_err(|e| StoreError::Database(e.into()))?,
        ))
    }

    /// A client's tickets in id order, without their transactions (a page of full tickets
    /// could exceed the 6 MB Lambda response limit). `None` when the client does not exist.
    pub async fn list_client_tickets(
        &self,
        identifier: &str,
        page: &PageRequest<TicketKey>,
    ) -> Result<Option<Page<TicketDoc>>, StoreError> {
        if self.get_client(identifier).await?.is_none() {
            return Ok(None);
        }
        let mut filter = doc! {"clientIdentifier": identifier};
        if let Some(TicketKey(after)) = page.after {
            filter.insert("ticketId", doc! {"$gt": after});
        }
        let items: Vec<TicketDoc> = self
            .tickets
            .find(filter)
            .projection(doc! {"transactions": 0})
            .sort(doc! {"ticketId": 1})
            .limit(page.fetch_limit())
            .await?
            .try_collect()
            .await?;
        Ok(Some(Page::from_fetched(items, page, |t| {
            TicketKey(t.ticket_id)
        })))
    }

    /// Applies a patch; `None` when no such ticket exists.
    pub async fn update_ticket(
        &self,
        ticket_id: i64,
        patch: TicketPatch,
    ) -> Result<Option<TicketDoc>, StoreError> {
        if patch == TicketPatch::default() {
            return self.get_ticket(ticket_id).await;
        }
        let mut set = doc! {"updatedAt": DateTime::now()};
        let mut put = |key: &str, value: Bson| {
            set.insert(key, value);
        };
        if let Some(name) = patch.client_name {
            put("clientName", name.map(Bson::String).unwrap_or(Bson::Null));
        }
        if let Some(date) = patch.ticket_opening_date {
            put("ticketOpeningDate", Bson::DateTime(date));
        }
        if let Some(protocol) = patch.protocol_type {
            put("protocolType", Bson::String(protocol));
        }
        if let Some(transactions) = &patch.transactions {
            if self.get_ticket(ticket_id).await?.is_none() {
                return Ok(None);
            }
            self.replace_transactions(ticket_id, transactions).await?;
            put("transactionCount", Bson::Int64(transactions.len() as i64));
        }
        if let Some(closed_at) = patch.closed_at {
            put(
                "closedAt",
                closed_at.map(Bson::DateTime).unwrap_or(Bson::Null),
            );
        }
        if let Some(tags) = patch.tags {
            put("tags", bson::to_bson(&tags).map_err(to_store_error)?);
        }
        let updated = self
            .tickets
            .find_one_and_update(doc! {"ticketId": ticket_id}, doc! {"$set": set})
            .return_document(ReturnDocument::After)
            .await?;
        if let Some(ticket) = &updated {
            self.index_stored(ticket).await?;
        }
        Ok(updated)
    }

    /// Deletes a ticket and removes it from its client. The client is updated first, so a
    /// retry after a crash half-way still finds the ticket and completes the delete.
    pub async fn delete_ticket(&self, ticket_id: i64) -> Result<bool, StoreError> {
        let Some(ticket) = self.get_ticket(ticket_id).await? else {
            return Ok(false);
        };
        // Out of search first: a delete cut short never leaves a ticket found that is gone.
        self.unindex_tickets(&[ticket_id]).await?;
        self.clients
            .update_one(
                doc! {"identifier": &ticket.client_identifier},
                doc! {"$pull": {"tickets": ticket_id}, "$set": {"updatedAt": DateTime::now()}},
            )
            .await?;
        self.delete_transactions(ticket_id).await?;
        let deleted = self
            .tickets
            .delete_one(doc! {"ticketId": ticket_id})
            .await?;
        Ok(deleted.deleted_count > 0)
    }

    /// Archives a ticket: adds its new transactions (a stored one is never removed or
    /// replaced), upserts the ticket, then upserts its client with the ticket id added once.
    /// A ticket already marked scrambled is never rewritten. Safe to repeat; each write is
    /// acknowledged by a majority before the next starts, and the whole is complete only when
    /// this returns `Ok`. Two archives of one ticket must not run at once (`lock_ticket`).
    pub async fn archive_ticket(&self, ticket: &TicketContent) -> Result<ArchiveWrite, StoreError> {
        // A deletion of the client running at the same time can remove what one round wrote
        // (the ticket, its transactions) and leave the client it recreates pointing at
        // nothing. Every write is idempotent, so the round is repeated until the archive
        // reads back whole: the client lists the ticket, the ticket and every transaction are
        // stored.
        let mut added = 0;
        for _ in 0..MAX_WRITE_ROUNDS {
            match self.write_archive(ticket).await? {
                ArchiveWrite::Written { added: now } => added += now,
                scrambled @ ArchiveWrite::AlreadyScrambled => return Ok(scrambled),
            }
            if self.reads_back_whole(ticket).await? {
                // Found by search only once whole; a failure here retries the archive.
                self.index_ticket(ticket.ticket_id).await?;
                return Ok(ArchiveWrite::Written { added });
            }
            tracing::info!(
                ticket_id = ticket.ticket_id,
                "archive changed by a concurrent deletion; writing it again"
            );
        }
        Err(StoreError::Interrupted)
    }

    /// Whether the client lists the ticket, and the ticket and all of `ticket`'s transactions
    /// are stored under it.
    async fn reads_back_whole(&self, ticket: &TicketContent) -> Result<bool, StoreError> {
        let listed = self
            .clients
            .count_documents(
                doc! {"identifier": &ticket.client_identifier, "tickets": ticket.ticket_id},
            )
            .await?
            == 1;
        let stored = self
            .tickets
            .count_documents(
                doc! {"ticketId": ticket.ticket_id, "clientIdentifier": &ticket.client_identifier},
            )
            .await?
            == 1;
        let mut ids: Vec<i64> = ticket.transactions.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let transactions = self
            .transactions
            .count_documents(doc! {"ticketId": ticket.ticket_id, "id": {"$in": &ids}})
            .await?;
        Ok(listed && stored && transactions == ids.len() as u64)
    }

    /// One round of the archive's writes: transactions, ticket, client, in that order.
    async fn write_archive(&self, ticket: &TicketContent) -> Result<ArchiveWrite, StoreError> {
        let stored = self.get_ticket(ticket.ticket_id).await?;
        if stored.as_ref().is_some_and(|t| t.scrambled_at.is_some()) {
            return Ok(ArchiveWrite::AlreadyScrambled);
        }
        // Transactions first: a ticket is never stored without those it was archived with.
        let added = self
            .add_new_transactions(ticket.ticket_id, &ticket.transactions)
            .await?;
        let count = self.count_transactions(ticket.ticket_id).await?;
        // The filter refuses a ticket marked scrambled since the read: the upsert then collides
        // with it on the unique ticketId and nothing is written.
        let written = upsert_retrying_duplicates(Entity::Ticket, || {
            self.tickets
                .update_one(
                    doc! {"ticketId": ticket.ticket_id, "scrambledAt": Bson::Null},
                    ticket_update(ticket, count),
                )
                .upsert(true)
                .into_future()
        })
        .await;
        match written {
            Ok(()) => {}
            Err(StoreError::AlreadyExists(_)) => return Ok(ArchiveWrite::AlreadyScrambled),
            Err(error) => return Err(error),
        }
        let now = DateTime::now();
        let mut set = doc! {"updatedAt": now};
        let mut set_on_insert = doc! {"createdAt": now};
        match &ticket.client_name {
            Some(name) => set.insert("name", name),
            None => set_on_insert.insert("name", Bson::Null),
        };
        let client_update = doc! {
            "$set": set,
            "$setOnInsert": set_on_insert,
            "$addToSet": {"tickets": ticket.ticket_id},
        };
        // Never into a client being deleted: the filter misses it, the upsert's insert then
        // collides with it on the unique identifier, and the job is tried again once the
        // deletion is over (it then files the ticket under a new client document).
        let written = upsert_retrying_duplicates(Entity::Client, || {
            self.clients
                .update_one(
                    doc! {"identifier": &ticket.client_identifier, "deleting": {"$ne": true}},
                    client_update.clone(),
                )
                .upsert(true)
                .into_future()
        })
        .await;
        match written {
            Ok(()) => {}
            Err(StoreError::AlreadyExists(_)) => return Err(StoreError::Interrupted),
            Err(error) => return Err(error),
        }
        // Filed under another client before (Glassix's answer changed, or a REST caller filed
        // it elsewhere): it leaves that client's list, as it now belongs to this one.
        if let Some(previous) = stored.filter(|t| t.client_identifier != ticket.client_identifier) {
            self.clients
                .update_one(
                    doc! {"identifier": &previous.client_identifier},
                    doc! {"$pull": {"tickets": ticket.ticket_id}, "$set": {"updatedAt": DateTime::now()}},
                )
                .await?;
        }
        Ok(ArchiveWrite::Written { added })
    }

    /// Records that Glassix confirmed the scramble of an archived ticket (the first time).
    pub async fn mark_scrambled(&self, ticket_id: i64) -> Result<(), StoreError> {
        self.tickets
            .update_one(
                doc! {"ticketId": ticket_id, "scrambledAt": Bson::Null},
                doc! {"$set": {"scrambledAt": DateTime::now()}},
            )
            .await?;
        Ok(())
    }

    /// How many tickets of this client are archived, and the most recent one.
    pub async fn client_history(&self, identifier: &str) -> Result<ClientHistory, StoreError> {
        let filter = doc! {"clientIdentifier": identifier};
        // Both at once: the new-ticket webhook waits for them before it can call Glassix.
        let documents = self.tickets.clone_with_type::<Document>();
        let (archived_tickets, latest) = tokio::try_join!(
            self.tickets.count_documents(filter.clone()).into_future(),
            documents
                .find_one(filter)
                .projection(doc! {"ticketOpeningDate": 1, "protocolType": 1})
                .sort(doc! {"ticketOpeningDate": -1})
                .into_future(),
        )?;
        let latest = latest.and_then(|d| {
            let opened = d.get_datetime("ticketOpeningDate").ok().copied()?;
            let protocol = d.get_str("protocolType").unwrap_or("Undefined").to_owned();
            Some((opened, protocol))
        });
        Ok(ClientHistory {
            archived_tickets,
            latest,
        })
    }
}

/// Two concurrent upserts of the same new key can both try to insert; the loser gets a
/// duplicate key error and succeeds as an update when tried again.
async fn upsert_retrying_duplicates<F, Fut>(entity: Entity, mut upsert: F) -> Result<(), StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = mongodb::error::Result<mongodb::results::UpdateResult>>,
{
    const ATTEMPTS: usize = 3;
    let mut attempt = 1;
    loop {
        match upsert().await {
            Ok(_) => return Ok(()),
            Err(error) if is_duplicate_key(&error) && attempt < ATTEMPTS => attempt += 1,
            Err(error) if is_duplicate_key(&error) => {
                return Err(StoreError::AlreadyExists(entity));
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// The `$set` of an archive write; `archivedAt` says when it was last written.
fn ticket_update(ticket: &TicketContent, transaction_count: u64) -> Document {
    let now = DateTime::now();
    doc! {
        "$set": {
            "clientIdentifier": &ticket.client_identifier,
            "clientName": ticket.client_name.as_deref(),
            "ticketOpeningDate": ticket.ticket_opening_date,
            "protocolType": &ticket.protocol_type,
            "closedAt": ticket.closed_at,
            "tags": &ticket.tags,
            "transactionCount": transaction_count as i64,
            "archivedAt": now,
            "updatedAt": now,
        },
        "$setOnInsert": {"createdAt": now},
    }
}

pub(super) fn to_store_error(error: bson::ser::Error) -> StoreError {
    StoreError::Database(error.into())
}
