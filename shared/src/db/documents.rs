//! The documents stored in MongoDB. Field names are camelCase; every date is a BSON datetime.

use mongodb::bson::DateTime;
use serde::{Deserialize, Serialize};

pub const CLIENTS: &str = "clients";
pub const TICKETS: &str = "tickets";
pub const WEBHOOK_ACTIONS: &str = "webhook_actions";
pub const TICKET_LOCKS: &str = "ticket_locks";

/// A customer, keyed by their channel address (phone digits or email).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientDoc {
    pub identifier: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Ids of this client's tickets, each once.
    #[serde(default)]
    pub tickets: Vec<i64>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// One ticket, archived from Glassix or created through the REST API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketDoc {
    pub ticket_id: i64,
    pub client_identifier: String,
    #[serde(default)]
    pub client_name: Option<String>,
    pub ticket_opening_date: DateTime,
    pub protocol_type: String,
    #[serde(default)]
    pub transactions: Vec<TransactionDoc>,
    #[serde(default)]
    pub closed_at: Option<DateTime>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Set when the ticket was archived from Glassix.
    #[serde(default)]
    pub archived_at: Option<DateTime>,
    /// Set once Glassix confirmed the scramble of its copy.
    #[serde(default)]
    pub scrambled_at: Option<DateTime>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// One message, note or event of a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionDoc {
    pub id: i64,
    #[serde(default)]
    pub guid: Option<String>,
    pub date_time: DateTime,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub html: String,
    #[serde(default)]
    pub from_protocol_type: Option<String>,
    #[serde(default)]
    pub sender_name: Option<String>,
    #[serde(default)]
    pub sender_type: Option<String>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// Attachment metadata. Glassix download links are pre-signed and expire, so none is kept.
/// Unknown fields are ignored: documents written by a newer version must stay readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub original_file_name: Option<String>,
    #[serde(default)]
    pub file_identifier: Option<String>,
    #[serde(default)]
    pub is_embedded: bool,
}
