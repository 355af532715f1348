//! The documents stored in MongoDB. Field names are camelCase; every date is a BSON datetime.

use mongodb::bson::DateTime;
use serde::{Deserialize, Serialize};

pub const CLIENTS: &str = "clients";
pub const TICKETS: &str = "tickets";
pub const TRANSACTIONS: &str = "transactions";
pub const WEBHOOK_ACTIONS: &str = "webhook_actions";
pub const TICKET_LOCKS: &str = "ticket_locks";
pub const CHECKPOINTS: &str = "checkpoints";
pub const ACCESS_LOG: &str = "access_log";

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
    /// Holds every ticket of the client, present and future, while active.
    #[serde(default)]
    pub legal_hold: Option<LegalHold>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// One ticket, archived from Glassix or created through the REST API. Its transactions are
/// documents of their own ([`TransactionRecord`]): a long e-mail thread outgrows MongoDB's
/// 16 MB document limit. Tickets written before that kept them in a `transactions` array,
/// moved out the first time the ticket is read (`Store::get_ticket`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketDoc {
    pub ticket_id: i64,
    pub client_identifier: String,
    #[serde(default)]
    pub client_name: Option<String>,
    pub ticket_opening_date: DateTime,
    pub protocol_type: String,
    /// How many transaction documents the ticket has.
    #[serde(default)]
    pub transaction_count: u64,
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
    #[serde(default)]
    pub legal_hold: Option<LegalHold>,
    pub created_at: DateTime,
    pub updated_at: DateTime,
}

/// A legal hold: while active, nothing deletes what it holds (no route, no purge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegalHold {
    pub reason: String,
    pub since: DateTime,
    /// When it stops holding; `None`: until lifted.
    #[serde(default)]
    pub until: Option<DateTime>,
    /// The name of the token that placed it.
    pub by: String,
}

impl LegalHold {
    /// Whether it holds at `now`: a hold past its `until` no longer does.
    pub fn is_active(&self, now: DateTime) -> bool {
        self.until.is_none_or(|until| until > now)
    }
}

/// The hold of `document` if it holds at `now`.
pub fn active_hold(hold: &Option<LegalHold>, now: DateTime) -> Option<&LegalHold> {
    hold.as_ref().filter(|hold| hold.is_active(now))
}

/// A transaction as stored: one document per transaction, unique by ticket and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionRecord {
    pub ticket_id: i64,
    #[serde(flatten)]
    pub transaction: TransactionDoc,
}

/// The fields of a transaction, written once for its two shapes: the stored document
/// (lenient, so a field a newer version adds never breaks a read) and the API's body (strict:
/// an unknown field is refused). They differ in the type of the date and of the attachments,
/// and serde sets strictness per struct, not per use of a generic one.
macro_rules! transaction {
    (
        $(#[$container:meta])*
        $name:ident { date_time: $date:ty, attachments: $attachment:ty $(, #[$attachments:meta])? }
    ) => {
        $(#[$container])*
        pub struct $name {
            pub id: i64,
            #[serde(default)]
            pub guid: Option<String>,
            pub date_time: $date,
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
            $(#[$attachments])?
            pub attachments: Vec<$attachment>,
        }
    };
}
pub(crate) use transaction;

transaction! {
    /// One message, note or event of a ticket.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    TransactionDoc { date_time: DateTime, attachments: Attachment }
}

/// The fields of an attachment's metadata, written once for the stored document and the API's
/// body (as [`transaction!`]); each adds what it says of the file.
macro_rules! attachment {
    (
        $(#[$container:meta])*
        $name:ident { $(#[$file_attribute:meta])* $file:ident: $file_type:ty }
    ) => {
        $(#[$container])*
        pub struct $name {
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
            $(#[$file_attribute])*
            pub $file: $file_type,
        }
    };
}
pub(crate) use attachment;

attachment! {
    /// Attachment metadata. Glassix download links are pre-signed and expire, so none is kept.
    /// Unknown fields are ignored: documents written by a newer version must stay readable.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    Attachment {
        /// The file, once it is in object storage.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stored: Option<StoredAttachment>
    }
}

impl Attachment {
    /// How the attachment is named in storage keys and API paths: its Glassix id, or its
    /// position (`n3`) for an attachment that came without one.
    pub fn segment(&self, index: usize) -> String {
        self.id
            .map_or_else(|| format!("n{index}"), |id| id.to_string())
    }
}

/// Where and what an attachment's file is in object storage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredAttachment {
    pub key: String,
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
    pub stored_at: DateTime,
}
