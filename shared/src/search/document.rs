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
/// The text kept for snippets stops growing at this many bytes per ticket (as stored).
pub const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;
/// The terms stop growing at this many bytes per ticket (as stored): an e-mail thread can carry
/// a table of hundreds of thousands of distinct numbers, and a search document over MongoDB's
/// 16 MB would fail the archive it follows (so the ticket would never be scrambled). The terms
/// kept are the ticket's own, its client's and the earliest transactions'.
pub const MAX_TERMS_BYTES: usize = 8 * 1024 * 1024;
/// What BSON adds to each array element beyond its string: type, index key, length, NUL.
const TERM_OVERHEAD_BYTES: usize = 16;
/// What BSON adds to each kept text: the element, its `id` and `text` fields.
const TEXT_OVERHEAD_BYTES: usize = 48;
const _: () = assert!(MAX_TERMS_BYTES + MAX_TEXT_BYTES < 14 * 1024 * 1024);

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
/// `client_name` is the name its client has now (the client's record, which `PATCH
/// /clients/{identifier}` changes), found beside the name the ticket was archived with.
pub fn build(
    ticket: &TicketDoc,
    client_name: Option<&str>,
    transactions: &[TransactionDoc],
) -> SearchDoc {
    build_within(ticket, client_name, transactions, MAX_TERMS_BYTES)
}

fn build_within(
    ticket: &TicketDoc,
    client_name: Option<&str>,
    transactions: &[TransactionDoc],
    terms_budget: usize,
) -> SearchDoc {
    let mut terms = Terms::within(terms_budget);
    terms.add(ticket.ticket_id.to_string());
    let about_client = [
        Some(ticket.client_identifier.as_str()),
        ticket.client_name.as_deref(),
        client_name,
    ];
    for text in about_client.into_iter().flatten() {
        tokens(text).into_iter().for_each(|t| terms.add(t.term));
    }
    let mut texts = Vec::new();
    let mut kept_bytes = 0;
    for transaction in transactions {
        let text = transaction_text(transaction);
        if text.trim().is_empty() {
            continue;
        }
        tokens(&text).into_iter().for_each(|t| terms.add(t.term));
        let quoted: String = text.chars().take(MAX_TEXT_CHARS).collect();
        let cost = quoted.len() + TEXT_OVERHEAD_BYTES;
        if kept_bytes + cost <= MAX_TEXT_BYTES {
            kept_bytes += cost;
            texts.push(SearchText {
                id: transaction.id,
                text: quoted,
            });
        }
    }
    if terms.left_out > 0 {
        tracing::warn!(
            ticket_id = ticket.ticket_id,
            left_out = terms.left_out,
            "search terms over the per-ticket limit are not indexed"
        );
    }
    SearchDoc {
        ticket_id: ticket.ticket_id,
        client_identifier: ticket.client_identifier.clone(),
        client_name: ticket.client_name.clone(),
        closed_at: ticket.closed_at,
        at: ticket.closed_at.unwrap_or(ticket.ticket_opening_date),
        protocol_type: ticket.protocol_type.clone(),
        tags: ticket.tags.clone(),
        terms: terms.kept.into_iter().collect(),
        texts,
        rules: RULES_VERSION,
    }
}

/// A ticket's distinct terms, in the order first met until their stored size reaches the budget.
struct Terms {
    kept: BTreeSet<String>,
    bytes: usize,
    budget: usize,
    left_out: usize,
}

impl Terms {
    fn within(budget: usize) -> Self {
        Self {
            kept: BTreeSet::new(),
            bytes: 0,
            budget,
            left_out: 0,
        }
    }

    fn add(&mut self, term: String) {
        if self.kept.contains(&term) {
            return;
        }
        let cost = term.len() + TERM_OVERHEAD_BYTES;
        if self.bytes + cost > self.budget {
            self.left_out += 1;
            return;
        }
        self.bytes += cost;
        self.kept.insert(term);
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{self, Bson, DateTime, doc};

    use super::*;

    fn ticket() -> TicketDoc {
        let now = DateTime::from_millis(1_700_000_000_000);
        TicketDoc {
            ticket_id: 48_213_977,
            client_identifier: "972541112233".into(),
            client_name: Some("Dana Levi".into()),
            ticket_opening_date: now,
            protocol_type: "WhatsApp".into(),
            transaction_count: 0,
            closed_at: Some(now),
            tags: Vec::new(),
            archived_at: None,
            scrambled_at: None,
            legal_hold: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn message(id: i64, text: String) -> TransactionDoc {
        TransactionDoc {
            id,
            guid: None,
            date_time: DateTime::from_millis(1_700_000_000_000 + id),
            kind: "Message".into(),
            text,
            html: String::new(),
            from_protocol_type: None,
            sender_name: None,
            sender_type: None,
            attachments: Vec::new(),
        }
    }

    /// `count` distinct words: `w0`, `w1`, …
    fn distinct_words(count: usize) -> String {
        (0..count).map(|i| format!("w{i} ")).collect()
    }

    #[test]
    fn the_terms_stop_at_their_budget_keeping_the_ticket_the_client_and_the_earliest_words() {
        let transactions = [
            message(1, "refund order".into()),
            message(2, distinct_words(1_000)),
            message(3, "lastword".into()),
        ];
        let budget = 100 * (3 + TERM_OVERHEAD_BYTES);
        let doc = build_within(&ticket(), Some("Dana Peretz"), &transactions, budget);
        // What the budget counts is no less than what BSON stores.
        let stored = |value: Bson| bson::to_vec(&doc! {"v": value}).expect("BSON").len();
        let terms_bytes = stored(Bson::from(doc.terms.clone()));
        assert!(terms_bytes <= budget, "{terms_bytes} bytes of terms");
        let texts_counted: usize = doc
            .texts
            .iter()
            .map(|t| t.text.len() + TEXT_OVERHEAD_BYTES)
            .sum();
        let texts_bytes = stored(bson::to_bson(&doc.texts).expect("BSON"));
        assert!(texts_bytes <= texts_counted, "{texts_bytes} bytes of texts");
        for kept in [
            "48213977",
            "972541112233",
            "dana",
            "levi",
            "refund",
            "order",
            "w0",
        ] {
            assert!(doc.terms.iter().any(|t| t == kept), "{kept} is kept");
        }
        assert!(!doc.terms.iter().any(|t| t == "lastword" || t == "w999"));
        assert_eq!(doc.texts.len(), 3, "the texts have a budget of their own");
    }
}
