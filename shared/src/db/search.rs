//! The search documents (`ticket_search`, one per ticket): written after the ticket they
//! describe, deleted before it, so a search never finds what is gone; `GET /tickets` reads
//! them; `migrate` builds them for tickets archived before search existed.

use std::collections::{HashMap, HashSet};

use futures_util::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{self, DateTime, Document, doc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, TicketDoc, TransactionRecord, index};
use crate::pagination::{Page, PageRequest, SearchKey};
use crate::search::document::RULES_VERSION;
use crate::search::{Query, SearchDoc, build};

pub const TICKET_SEARCH: &str = "ticket_search";
const BACKFILL_CHECKPOINT: &str = "search-terms";
/// Tickets read per step of the backfill (one query for their transactions).
const BACKFILL_PAGE: i64 = 100;

/// The fields the search's indexes cover ([`Store::ensure_search_indexes`]); a search's filter
/// uses no other (a test checks it), so on MongoDB no search is a collection scan.
pub const INDEXED_FIELDS: [&str; 7] = [
    "terms",
    "at",
    "_id",
    "clientIdentifier",
    "tags",
    "protocolType",
    "closedAt",
];

/// What a search asks for; every field given narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    pub query: Query,
    pub client_identifier: Option<String>,
    pub tag: Option<String>,
    pub channel: Option<String>,
    pub closed_from: Option<DateTime>,
    pub closed_to: Option<DateTime>,
}

/// How far the backfill got in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backfill {
    /// Search documents written by this run.
    pub written: u64,
    /// Every ticket has a document of the current rules.
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BackfillCheckpoint {
    #[serde(rename = "_id")]
    name: String,
    rules: i32,
    after_ticket_id: i64,
    done: bool,
}

/// The query of a search: every term (`$all`), each prefix as a range over the terms, the
/// filters, and the page's place in the order (`at`, then `_id`, both descending).
pub fn search_filter(filter: &SearchFilter, after: Option<&SearchKey>) -> Document {
    let mut clauses = Vec::new();
    if !filter.query.exact.is_empty() {
        clauses.push(doc! {"terms": {"$all": &filter.query.exact}});
    }
    for prefix in &filter.query.prefixes {
        // Strings compare by their UTF-8 bytes: every term starting with `prefix` sorts
        // before `prefix` followed by the highest code point.
        let end = format!("{prefix}{}", char::MAX);
        clauses.push(doc! {"terms": {"$elemMatch": {"$gte": prefix, "$lt": end}}});
    }
    if let Some(client) = &filter.client_identifier {
        clauses.push(doc! {"clientIdentifier": client});
    }
    if let Some(tag) = &filter.tag {
        clauses.push(doc! {"tags": tag});
    }
    if let Some(channel) = &filter.channel {
        clauses.push(doc! {"protocolType": channel});
    }
    let mut closed = Document::new();
    if let Some(from) = filter.closed_from {
        closed.insert("$gte", from);
    }
    if let Some(to) = filter.closed_to {
        closed.insert("$lte", to);
    }
    if !closed.is_empty() {
        clauses.push(doc! {"closedAt": closed});
    }
    if let Some(after) = after {
        let at = DateTime::from_millis(after.at_millis);
        clauses.push(doc! {"$or": [
            {"at": {"$lt": at}},
            {"at": at, "_id": {"$lt": after.ticket_id}},
        ]});
    }
    if clauses.is_empty() {
        doc! {}
    } else {
        doc! {"$and": clauses}
    }
}

impl Store {
    fn search_docs(&self) -> Collection<SearchDoc> {
        self.database.collection(TICKET_SEARCH)
    }

    pub(super) async fn ensure_search_indexes(&self) -> Result<(), StoreError> {
        for keys in [
            doc! {"terms": 1, "at": -1, "_id": -1},
            doc! {"at": -1, "_id": -1},
            doc! {"clientIdentifier": 1, "at": -1, "_id": -1},
            doc! {"tags": 1, "at": -1, "_id": -1},
            doc! {"protocolType": 1, "at": -1, "_id": -1},
            doc! {"closedAt": -1},
        ] {
            self.search_docs().create_index(index(keys, false)).await?;
        }
        Ok(())
    }

    /// One page of the tickets `filter` finds, newest first.
    pub async fn search_tickets(
        &self,
        filter: &SearchFilter,
        page: &PageRequest<SearchKey>,
    ) -> Result<Page<SearchDoc>, StoreError> {
        if filter.query.unsearchable {
            return Ok(Page {
                items: Vec::new(),
                next: None,
            });
        }
        let found: Vec<SearchDoc> = self
            .search_docs()
            .find(search_filter(filter, page.after.as_ref()))
            .sort(doc! {"at": -1, "_id": -1})
            .limit(page.fetch_limit())
            .await?
            .try_collect()
            .await?;
        Ok(Page::from_fetched(found, page, |d| SearchKey {
            at_millis: d.at.timestamp_millis(),
            ticket_id: d.ticket_id,
        }))
    }

    /// Rebuilds the ticket's search document from what is stored (none when it is gone).
    pub async fn index_ticket(&self, ticket_id: i64) -> Result<(), StoreError> {
        match self.get_ticket(ticket_id).await? {
            Some(ticket) => self.index_stored(&ticket).await,
            None => self.unindex_tickets(&[ticket_id]).await,
        }
    }

    /// Rebuilds the search document of `ticket`, as just read or written, from its stored
    /// transactions and its client's name.
    pub(super) async fn index_stored(&self, ticket: &TicketDoc) -> Result<(), StoreError> {
        let transactions = self.all_transactions(ticket.ticket_id).await?;
        let client = self.get_client(&ticket.client_identifier).await?;
        let client_name = client.and_then(|c| c.name);
        let search = build(ticket, client_name.as_deref(), &transactions);
        self.write_search_doc(ticket, &search).await
    }

    /// Stores `search` unless a document built from a later state of `ticket` is there
    /// already (an archive and a patch of one ticket can each rebuild it at once).
    pub(super) async fn write_search_doc(
        &self,
        ticket: &TicketDoc,
        search: &SearchDoc,
    ) -> Result<(), StoreError> {
        let mut replacement = bson::to_document(search).map_err(super::to_store_error)?;
        replacement.insert("ticketUpdatedAt", ticket.updated_at);
        let written = self
            .search_docs()
            .clone_with_type::<Document>()
            .replace_one(
                doc! {"_id": search.ticket_id, "ticketUpdatedAt": {"$not": {"$gt": ticket.updated_at}}},
                replacement,
            )
            .upsert(true)
            .await;
        match written {
            Ok(_) => Ok(()),
            // The filter missed a newer document, and the upsert met it on `_id`.
            Err(error) if super::is_duplicate_key(&error) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn unindex_tickets(&self, ticket_ids: &[i64]) -> Result<(), StoreError> {
        if !ticket_ids.is_empty() {
            self.search_docs()
                .delete_many(doc! {"_id": {"$in": ticket_ids}})
                .await?;
        }
        Ok(())
    }

    /// The deploy-time migration: the indexes, then the search documents of tickets that
    /// lack them, until `until` (a later run resumes).
    pub async fn migrate(
        &self,
        until: Option<tokio::time::Instant>,
    ) -> Result<Backfill, StoreError> {
        self.ensure_indexes().await?;
        self.backfill_search(until).await
    }

    /// Builds the search documents that are missing or of older rules, a page of tickets at
    /// a time in ticket id order, until every ticket has one or `until` comes; a later run
    /// resumes after the last page done. Safe to repeat and to run beside the archive (each
    /// document is rebuilt from the ticket as stored).
    pub async fn backfill_search(
        &self,
        until: Option<tokio::time::Instant>,
    ) -> Result<Backfill, StoreError> {
        let checkpoints = self.checkpoints.clone_with_type::<BackfillCheckpoint>();
        let mut checkpoint = checkpoints
            .find_one(doc! {"_id": BACKFILL_CHECKPOINT})
            .await?
            .filter(|c| c.rules == RULES_VERSION)
            .unwrap_or(BackfillCheckpoint {
                name: BACKFILL_CHECKPOINT.into(),
                rules: RULES_VERSION,
                after_ticket_id: i64::MIN,
                done: false,
            });
        let mut written = 0;
        while !checkpoint.done {
            if until.is_some_and(|until| tokio::time::Instant::now() >= until) {
                return Ok(Backfill {
                    written,
                    done: false,
                });
            }
            let page: Vec<Document> = self
                .tickets
                .clone_with_type::<Document>()
                .find(doc! {"ticketId": {"$gt": checkpoint.after_ticket_id}})
                .sort(doc! {"ticketId": 1})
                .limit(BACKFILL_PAGE)
                .await?
                .try_collect()
                .await?;
            match page.last().and_then(|t| t.get_i64("ticketId").ok()) {
                Some(last) => {
                    written += self.backfill_page(page).await?;
                    checkpoint.after_ticket_id = last;
                }
                None => checkpoint.done = true,
            }
            checkpoints
                .replace_one(doc! {"_id": BACKFILL_CHECKPOINT}, &checkpoint)
                .upsert(true)
                .await?;
        }
        Ok(Backfill {
            written,
            done: true,
        })
    }

    /// Writes the search documents of a page of tickets that lack one of the current rules.
    async fn backfill_page(&self, page: Vec<Document>) -> Result<u64, StoreError> {
        let ids: Vec<i64> = page
            .iter()
            .filter_map(|t| t.get_i64("ticketId").ok())
            .collect();
        let current: HashSet<i64> = super::distinct_i64(
            &self.search_docs(),
            "_id",
            doc! {"_id": {"$in": &ids}, "rules": RULES_VERSION},
        )
        .await?
        .into_iter()
        .collect();
        let stale = page
            .into_iter()
            .filter(|t| t.get_i64("ticketId").is_ok_and(|id| !current.contains(&id)))
            .collect();
        self.rebuild_search_docs(stale).await
    }

    /// Rebuilds the search documents of a client's tickets after its name changed, a page of
    /// tickets at a time (a rename is rare; a client's tickets are few).
    pub(super) async fn reindex_client(&self, identifier: &str) -> Result<(), StoreError> {
        let mut after = i64::MIN;
        loop {
            let page: Vec<Document> = self
                .tickets
                .clone_with_type::<Document>()
                .find(doc! {"clientIdentifier": identifier, "ticketId": {"$gt": after}})
                .sort(doc! {"ticketId": 1})
                .limit(BACKFILL_PAGE)
                .await?
                .try_collect()
                .await?;
            let Some(last) = page.last().and_then(|t| t.get_i64("ticketId").ok()) else {
                return Ok(());
            };
            self.rebuild_search_docs(page).await?;
            after = last;
        }
    }

    /// Writes the search documents of these tickets (as stored) from their transactions, read
    /// in one query, and their clients' names, read in another.
    async fn rebuild_search_docs(&self, tickets: Vec<Document>) -> Result<u64, StoreError> {
        let mut written = 0;
        let mut todo = Vec::new();
        for raw in tickets {
            let Ok(id) = raw.get_i64("ticketId") else {
                continue;
            };
            if raw.contains_key("transactions") {
                // Written before transactions had documents of their own: moved first.
                self.index_ticket(id).await?;
                written += 1;
            } else {
                todo.push(
                    bson::from_document::<TicketDoc>(raw)
                        .map_err(|e| StoreError::Database(e.into()))?,
                );
            }
        }
        if todo.is_empty() {
            return Ok(written);
        }
        let todo_ids: Vec<i64> = todo.iter().map(|t| t.ticket_id).collect();
        let mut transactions: HashMap<i64, Vec<_>> = HashMap::new();
        let mut records = self
            .transactions
            .find(doc! {"ticketId": {"$in": &todo_ids}})
            .sort(doc! {"ticketId": 1, "dateTime": 1, "id": 1})
            .await?;
        while let Some(TransactionRecord {
            ticket_id,
            transaction,
        }) = records.try_next().await?
        {
            transactions.entry(ticket_id).or_default().push(transaction);
        }
        let names = self.client_names(&todo).await?;
        for ticket in &todo {
            let own = transactions.remove(&ticket.ticket_id).unwrap_or_default();
            let client_name = names.get(&ticket.client_identifier).map(String::as_str);
            self.write_search_doc(ticket, &build(ticket, client_name, &own))
                .await?;
            written += 1;
        }
        Ok(written)
    }

    /// The names the clients of `tickets` have now, by identifier (a client without one is
    /// left out).
    async fn client_names(
        &self,
        tickets: &[TicketDoc],
    ) -> Result<HashMap<String, String>, StoreError> {
        let identifiers: HashSet<&str> = tickets
            .iter()
            .map(|t| t.client_identifier.as_str())
            .collect();
        let identifiers: Vec<&str> = identifiers.into_iter().collect();
        let mut names = HashMap::new();
        let mut clients = self
            .clients
            .find(doc! {"identifier": {"$in": identifiers}})
            .await?;
        while let Some(client) = clients.try_next().await? {
            if let Some(name) = client.name {
                names.insert(client.identifier, name);
            }
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field name of `filter`, operators left out, nested ones included.
    fn fields(filter: &Document, into: &mut Vec<String>) {
        for (key, value) in filter {
            if !key.starts_with('$') {
                into.push(key.clone());
            }
            match value {
                bson::Bson::Document(inner) => fields(inner, into),
                bson::Bson::Array(items) => {
                    for item in items {
                        if let bson::Bson::Document(inner) = item {
                            fields(inner, into);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    #[test]
    fn a_search_filters_on_indexed_fields_only() {
        let filter = SearchFilter {
            query: Query::parse("refund 4471 dana@example.com 054-1112233 refu*").expect("valid"),
            client_identifier: Some("972541112233".into()),
            tag: Some("Billing".into()),
            channel: Some("WhatsApp".into()),
            closed_from: Some(DateTime::from_millis(0)),
            closed_to: Some(DateTime::now()),
        };
        let sent = search_filter(
            &filter,
            Some(&SearchKey {
                at_millis: 1,
                ticket_id: 2,
            }),
        );
        let mut used = Vec::new();
        fields(&sent, &mut used);
        assert!(used.len() >= 8, "{used:?}");
        for field in used {
            assert!(
                INDEXED_FIELDS.contains(&field.as_str()),
                "{field} is not indexed"
            );
        }
        assert_eq!(search_filter(&SearchFilter::default(), None), doc! {});
    }

    #[tokio::test]
    async fn a_document_built_from_an_older_state_never_replaces_a_newer_one() {
        let store = crate::testing::store().await;
        crate::testing::requests::seed_client(&store, "972541112233", None).await;
        let ticket = crate::db::TicketContent {
            ticket_id: 4242,
            client_identifier: "972541112233".into(),
            client_name: None,
            ticket_opening_date: DateTime::now(),
            protocol_type: "WhatsApp".into(),
            closed_at: None,
            tags: vec!["before".into()],
            transactions: Vec::new(),
        };
        let created = store.create_ticket(ticket).await.expect("created");
        let mut newer = created.clone();
        newer.tags = vec!["after".into()];
        newer.updated_at = DateTime::from_millis(created.updated_at.timestamp_millis() + 1_000);
        store
            .write_search_doc(&newer, &build(&newer, None, &[]))
            .await
            .expect("written");

        // The write that read the ticket before that change comes last.
        store
            .write_search_doc(&created, &build(&created, None, &[]))
            .await
            .expect("a stale write is no error");
        let found = |tag: &str| SearchFilter {
            tag: Some(tag.into()),
            ..SearchFilter::default()
        };
        let page = PageRequest {
            limit: 10,
            after: None,
        };
        let after = store.search_tickets(&found("after"), &page).await;
        let before = store.search_tickets(&found("before"), &page).await;
        assert_eq!(after.expect("searched").items.len(), 1);
        assert!(before.expect("searched").items.is_empty());
    }

    #[test]
    fn a_prefix_is_a_range_over_one_term() {
        let filter = SearchFilter {
            query: Query::parse("refu*").expect("valid"),
            ..SearchFilter::default()
        };
        let end = format!("refu{}", char::MAX);
        assert_eq!(
            search_filter(&filter, None),
            doc! {"$and": [{"terms": {"$elemMatch": {"$gte": "refu", "$lt": end}}}]}
        );
    }
}
