//! What the REST API returns.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::holds::HoldView;
use super::requests::TransactionBody;
use crate::dates::to_chrono;
use crate::db::{ClientDoc, TicketDoc, TransactionDoc};
use crate::pagination::Page;
use crate::search::{Highlight, Query, SearchDoc, snippet};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    pub identifier: String,
    pub name: Option<String>,
    pub tickets: Vec<i64>,
    pub legal_hold: Option<HoldView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ClientDoc> for ClientView {
    fn from(client: ClientDoc) -> Self {
        Self {
            identifier: client.identifier,
            name: client.name,
            tickets: client.tickets,
            legal_hold: HoldView::active(&client.legal_hold),
            created_at: to_chrono(client.created_at),
            updated_at: to_chrono(client.updated_at),
        }
    }
}

/// A ticket. A single ticket carries the first page of its transactions and the cursor of
/// the next (`GET /tickets/{id}/transactions?cursor=`); lists leave both out.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketView {
    pub ticket_id: i64,
    pub client_identifier: String,
    pub client_name: Option<String>,
    pub ticket_opening_date: DateTime<Utc>,
    pub protocol_type: String,
    pub transaction_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<Vec<TransactionBody>>,
    /// `Some(None)` (JSON `null`) when the first page holds every transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions_next: Option<Option<String>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub archived_at: Option<DateTime<Utc>>,
    pub scrambled_at: Option<DateTime<Utc>>,
    /// The ticket's own hold (a client's hold is on the client's view).
    pub legal_hold: Option<HoldView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TicketView {
    pub fn full(ticket: TicketDoc, first_page: Page<TransactionDoc>) -> Self {
        let ticket_id = ticket.ticket_id;
        Self {
            transactions: Some(transactions(&first_page.items, ticket_id)),
            transactions_next: Some(first_page.next),
            ..Self::summary(ticket)
        }
    }

    pub fn summary(ticket: TicketDoc) -> Self {
        Self {
            ticket_id: ticket.ticket_id,
            client_identifier: ticket.client_identifier,
            client_name: ticket.client_name,
            ticket_opening_date: to_chrono(ticket.ticket_opening_date),
            protocol_type: ticket.protocol_type,
            transaction_count: ticket.transaction_count,
            transactions: None,
            transactions_next: None,
            closed_at: ticket.closed_at.map(to_chrono),
            tags: ticket.tags,
            archived_at: ticket.archived_at.map(to_chrono),
            scrambled_at: ticket.scrambled_at.map(to_chrono),
            legal_hold: HoldView::active(&ticket.legal_hold),
            created_at: to_chrono(ticket.created_at),
            updated_at: to_chrono(ticket.updated_at),
        }
    }
}

/// Stored transactions of `ticket_id` as the API shows them.
pub fn transactions(items: &[TransactionDoc], ticket_id: i64) -> Vec<TransactionBody> {
    items
        .iter()
        .map(|t| TransactionBody::from_stored(t, ticket_id))
        .collect()
}

#[derive(Debug, Serialize)]
pub struct PageView<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> PageView<T> {
    pub fn from_page<D>(page: Page<D>, view: impl Fn(D) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(view).collect(),
            next: page.next,
        }
    }
}

/// The most matching transactions a search result quotes.
const MAX_MATCHES: usize = 3;

/// A ticket found by `GET /tickets`, with up to three of its transactions that match.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResultView {
    pub ticket_id: i64,
    pub client_identifier: String,
    pub client_name: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub protocol_type: String,
    pub tags: Vec<String>,
    pub matches: Vec<MatchView>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchView {
    pub transaction_id: i64,
    pub snippet: String,
    /// Where the matches are in `snippet`, in characters (Unicode code points).
    pub highlights: Vec<Highlight>,
}

impl SearchResultView {
    pub fn of(found: SearchDoc, query: &Query) -> Self {
        let matches = if query.is_empty() {
            Vec::new()
        } else {
            found
                .texts
                .iter()
                .filter_map(|t| {
                    snippet(&t.text, query).map(|s| MatchView {
                        transaction_id: t.id,
                        snippet: s.text,
                        highlights: s.highlights,
                    })
                })
                .take(MAX_MATCHES)
                .collect()
        };
        Self {
            ticket_id: found.ticket_id,
            client_identifier: found.client_identifier,
            client_name: found.client_name,
            closed_at: found.closed_at.map(to_chrono),
            protocol_type: found.protocol_type,
            tags: found.tags,
            matches,
        }
    }
}
