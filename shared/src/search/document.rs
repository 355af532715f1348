//! The search document of a ticket: what a search filters and sorts on, the ticket's terms,
//! and the text its snippets are cut from. One per ticket (`_id` = its id), rebuilt whole
//! whenever the ticket changes and deleted before it.

use std::collections::BTreeSet;

use mongodb::bson::DateTime;
use serde::{Deserialize, Serialize};

use super::terms::tokens;
use crate::db::{TicketDoc, TransactionDoc};
use crate::html_text::html_to_text;

/// The version of the matching rules the terms were made with: a document of an older one is
/// rebuilt by the backfill (`migrate`). Bump it with any change to what a term is, and
/// `INDEXES_VERSION` with it so that the next deploy runs the migration.
pub const RULES_VERSION: i32 = 1;
/// A snippet is cut from the first this many characters of a transaction's text (its terms
/// come from all of it).
pub const MAX_TEXT_CHARS: usize = 10_000;
/// The text kept for snippets stops growing at this many bytes per ticket, far below
/// MongoDB's 16 MB document limit whatever the terms add.
pub const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchDoc {
    #[serde(rename = "_id")]
    pub ticket_id: i64,
    pub client_identifier: String,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub closed_at: Option<DateTime>,
    /// The order of results: the closing, or the opening of a ticket not closed.
    pub at: DateTime,
    pub protocol_type: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Every term of the ticket, each once, in order.
    pub terms: Vec<String>,
    #[serde(default)]
    pub texts: Vec<SearchText>,
    pub rules: i32,
}

/// A transaction's text as snippets quote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchText {
    pub id: i64,
    pub text: String,
}

/// What a transaction says: its text, or its HTML read as text when it has no text.
pub fn transaction_text(transaction: &TransactionDoc) -> String {
    if transaction.text.trim().is_empty() && !transaction.html.trim().is_empty() {
        html_to_text(&transaction.html)
    } else {
        transaction.text.clone()
    }
}

/// The search document of `ticket` with these `transactions` (all it has, in time order).
pub fn build(ticket: &TicketDoc, transactions: &[TransactionDoc]) -> SearchDoc {
    let mut terms = BTreeSet::new();
    terms.insert(ticket.ticket_id.to_string());
    let about_client = [
        Some(ticket.client_identifier.as_str()),
        ticket.client_name.as_deref(),
    ];
    for text in about_client.into_iter().flatten() {
        terms.extend(tokens(text).into_iter().map(|t| t.term));
    }
    let mut texts = Vec::new();
    let mut kept_bytes = 0;
    for transaction in transactions {
        let text = transaction_text(transaction);
        if text.trim().is_empty() {
            continue;
        }
        terms.extend(tokens(&text).into_iter().map(|t| t.term));
        let quoted: String = text.chars().take(MAX_TEXT_CHARS).collect();
        if kept_bytes + quoted.len() <= MAX_TEXT_BYTES {
            kept_bytes += quoted.len();
            texts.push(SearchText {
                id: transaction.id,
                text: quoted,
            });
        }
    }
    SearchDoc {
        ticket_id: ticket.ticket_id,
        client_identifier: ticket.client_identifier.clone(),
        client_name: ticket.client_name.clone(),
        closed_at: ticket.closed_at,
        at: ticket.closed_at.unwrap_or(ticket.ticket_opening_date),
        protocol_type: ticket.protocol_type.clone(),
        tags: ticket.tags.clone(),
        terms: terms.into_iter().collect(),
        texts,
        rules: RULES_VERSION,
    }
}
