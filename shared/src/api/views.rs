//! What the REST API returns.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::requests::TransactionBody;
use crate::dates::to_chrono;
use crate::db::{ClientDoc, TicketDoc};
use crate::pagination::Page;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    pub identifier: String,
    pub name: Option<String>,
    pub tickets: Vec<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ClientDoc> for ClientView {
    fn from(client: ClientDoc) -> Self {
        Self {
            identifier: client.identifier,
            name: client.name,
            tickets: client.tickets,
            created_at: to_chrono(client.created_at),
            updated_at: to_chrono(client.updated_at),
        }
    }
}

/// A ticket. `transactions` is present on a single ticket and left out of lists.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketView {
    pub ticket_id: i64,
    pub client_identifier: String,
    pub client_name: Option<String>,
    pub ticket_opening_date: DateTime<Utc>,
    pub protocol_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<Vec<TransactionBody>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub archived_at: Option<DateTime<Utc>>,
    pub scrambled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TicketView {
    pub fn full(ticket: TicketDoc) -> Self {
        let transactions = ticket
            .transactions
            .iter()
            .map(TransactionBody::from)
            .collect();
        Self {
            transactions: Some(transactions),
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
            transactions: None,
            closed_at: ticket.closed_at.map(to_chrono),
            tags: ticket.tags,
            archived_at: ticket.archived_at.map(to_chrono),
            scrambled_at: ticket.scrambled_at.map(to_chrono),
            created_at: to_chrono(ticket.created_at),
            updated_at: to_chrono(ticket.updated_at),
        }
    }
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
