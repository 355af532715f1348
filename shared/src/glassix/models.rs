//! Glassix JSON, parsed leniently: unknown fields are ignored, enums are open (an unknown
//! value is kept, not an error), missing or `null` arrays are empty, and a field we do not use
//! can never make a ticket fail to parse.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use super::time::lenient;

/// An enum of the values Glassix documents, plus `Other` for anything it sends besides.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $($variant,)+
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> Self {
                match raw {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok(match serde_json::Value::deserialize(deserializer)? {
                    serde_json::Value::String(raw) => Self::from(raw.as_str()),
                    other => Self::Other(other.to_string()),
                })
            }
        }
    };
}

open_enum!(
    /// A ticket's state.
    TicketState { Open = "Open", Closed = "Closed", Pending = "Pending", Snoozed = "Snoozed" }
);

open_enum!(
    /// A channel. Wire strings, which differ from the C# SDK's member names.
    ProtocolType {
        Sms = "SMS",
        WhatsApp = "WhatsApp",
        Mail = "Mail",
        Web = "Web",
        FbMessenger = "FBmessenger",
        WebViaSms = "WebViaSMS",
        TelegramBot = "TelegramBot",
        FacebookFeed = "FacebookFeed",
        InstagramFeed = "InstagramFeed",
        PhoneCall = "PhoneCall",
        Viber = "Viber",
        AppleBusinessChat = "AppleBusinessChat",
        GoogleBusinessMessages = "GoogleBusinessMessages",
        GoogleBusinessReviews = "GoogleBusinessReviews",
        Undefined = "Undefined",
    }
);

open_enum!(
    /// Who a participant is: the customer (`Client`) or a Glassix agent (`User`).
    ParticipantType { Client = "Client", User = "User", System = "System", Bot = "Bot" }
);

open_enum!(
    /// What a transaction records.
    TransactionType {
        Message = "Message",
        Note = "Note",
        TicketOpened = "TicketOpened",
        TicketClosed = "TicketClosed",
    }
);

open_enum!(
    /// A webhook event name.
    EventName { NewTicket = "NEW_TICKET", TicketStateChange = "TICKET_STATE_CHANGE" }
);

/// `null` or a missing field becomes the default (an empty list).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A count that is not a non-negative integer is treated as not sent: it is only a check.
fn lenient_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(serde_json::Value::deserialize(deserializer)?.as_u64())
}

/// What `GET /tickets/get/{id}` returns, reduced to what the service uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    pub id: i64,
    #[serde(default)]
    pub state: Option<TicketState>,
    #[serde(default, deserialize_with = "lenient")]
    pub open: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "lenient")]
    pub close: Option<DateTime<Utc>>,
    #[serde(default)]
    pub primary_protocol_type: Option<ProtocolType>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub is_scrambled: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub participants: Vec<Participant>,
    /// `None` when Glassix sent `null` or nothing: an answer that cannot be archived, unlike
    /// an empty list.
    #[serde(default)]
    pub transactions: Option<Vec<Transaction>>,
    /// How many transactions Glassix counts; may count a subset of `transactions`, never more.
    #[serde(default, deserialize_with = "lenient_count")]
    pub transactions_count: Option<u64>,
}

impl Ticket {
    /// The transactions received, or none.
    pub fn transactions(&self) -> &[Transaction] {
        self.transactions.as_deref().unwrap_or_default()
    }

    /// The customer: the first participant of type `Client` with an identifier.
    pub fn client(&self) -> Option<&Participant> {
        self.participants.iter().find(|p| {
            p.kind == Some(ParticipantType::Client)
                && p.identifier.as_deref().is_some_and(|id| !id.is_empty())
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    #[serde(default, rename = "type")]
    pub kind: Option<ParticipantType>,
    #[serde(default)]
    pub identifier: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub protocol_type: Option<ProtocolType>,
}

impl Participant {
    /// The best name to show: `name`, else `displayName`.
    pub fn best_name(&self) -> Option<&str> {
        [self.name.as_deref(), self.display_name.as_deref()]
            .into_iter()
            .flatten()
            .find(|n| !n.trim().is_empty())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub id: i64,
    #[serde(default)]
    pub guid_transaction_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub date_time: Option<DateTime<Utc>>,
    #[serde(default)]
    pub from_protocol_type: Option<ProtocolType>,
    #[serde(default, rename = "type")]
    pub kind: Option<TransactionType>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub html: String,
    #[serde(default)]
    pub from_participant: Option<Participant>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    #[serde(default)]
    pub id: Option<i64>,
    /// A pre-signed download link that expires after a few hours: used at once, never stored.
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub file_identifier: Option<String>,
    #[serde(default)]
    pub original_file_name: Option<String>,
    #[serde(default)]
    pub is_embedded: bool,
}

/// A page of `GET /tickets/list`: tickets without transactions, and the next page's URL.
#[derive(Debug, Clone, Deserialize)]
pub struct TicketList {
    #[serde(default, deserialize_with = "null_as_default")]
    pub tickets: Vec<ListedTicket>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

impl TicketList {
    /// The next page's URL; none on the last page (`paging` empty or without `next`).
    pub fn next(&self) -> Option<&str> {
        self.paging
            .as_ref()
            .and_then(|p| p.next.as_deref())
            .filter(|next| !next.is_empty())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub next: Option<String>,
}

/// What reconciliation reads of a listed ticket. Lenient: one odd ticket must not make the
/// page fail, so everything but the id is optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedTicket {
    pub id: i64,
    #[serde(default)]
    pub state: Option<TicketState>,
    #[serde(default)]
    pub is_scrambled: bool,
}

/// The token endpoint's answer.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<f64>,
}
