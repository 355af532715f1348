//! What the REST API accepts. Unknown fields and wrong types are refused while parsing (400);
//! rules on values are checked by `validate` (422).

use chrono::{DateTime, Utc};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::dates::{to_bson, to_chrono};
use crate::db::{Attachment, TransactionDoc};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateClientBody {
    pub identifier: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// `name` absent leaves it, `null` clears it, a string sets it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateClientBody {
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateTicketBody {
    pub ticket_id: i64,
    #[serde(default)]
    pub client_name: Option<String>,
    pub ticket_opening_date: DateTime<Utc>,
    pub protocol_type: String,
    #[serde(default, deserialize_with = "objects")]
    pub transactions: Vec<TransactionBody>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Every field optional; `clientName` and `closedAt` may be `null` to clear them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateTicketBody {
    #[serde(default, deserialize_with = "present")]
    pub client_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub ticket_opening_date: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    pub protocol_type: Option<Option<String>>,
    #[serde(default, deserialize_with = "present_objects")]
    pub transactions: Option<Option<Vec<TransactionBody>>>,
    #[serde(default, deserialize_with = "present")]
    pub closed_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    pub tags: Option<Option<Vec<String>>>,
}

crate::db::documents::transaction! {
    /// A transaction as the API reads and writes it.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    TransactionBody {
        date_time: DateTime<Utc>,
        attachments: AttachmentBody,
        #[serde(deserialize_with = "objects")]
    }
}

crate::db::documents::attachment! {
    /// Attachment metadata as the API reads and writes it. Strict on input; the stored
    /// [`Attachment`] is lenient, so a field the archive adds never breaks a read.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    AttachmentBody {
        /// The archived file (read-only: a body that sends it is refused as an unknown field).
        #[serde(skip_deserializing)]
        file: Option<FileView>
    }
}

/// An archived attachment file and the route that serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileView {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub content_type: String,
    pub stored_at: DateTime<Utc>,
}

impl AttachmentBody {
    fn from_stored(stored: &Attachment, path: String) -> Self {
        Self {
            id: stored.id,
            kind: stored.kind.clone(),
            original_file_name: stored.original_file_name.clone(),
            file_identifier: stored.file_identifier.clone(),
            is_embedded: stored.is_embedded,
            file: stored.stored.as_ref().map(|file| FileView {
                path,
                size: file.size,
                sha256: file.sha256.clone(),
                content_type: file.content_type.clone(),
                stored_at: to_chrono(file.stored_at),
            }),
        }
    }
}

impl From<AttachmentBody> for Attachment {
    fn from(body: AttachmentBody) -> Self {
        Self {
            id: body.id,
            kind: body.kind,
            original_file_name: body.original_file_name,
            file_identifier: body.file_identifier,
            is_embedded: body.is_embedded,
            stored: None,
        }
    }
}

impl TransactionBody {
    /// A stored transaction of `ticket_id`, each archived file with the path that serves it.
    pub fn from_stored(doc: &TransactionDoc, ticket_id: i64) -> Self {
        Self {
            id: doc.id,
            guid: doc.guid.clone(),
            date_time: to_chrono(doc.date_time),
            kind: doc.kind.clone(),
            text: doc.text.clone(),
            html: doc.html.clone(),
            from_protocol_type: doc.from_protocol_type.clone(),
            sender_name: doc.sender_name.clone(),
            sender_type: doc.sender_type.clone(),
            attachments: doc
                .attachments
                .iter()
                .enumerate()
                .map(|(index, attachment)| {
                    let path = format!(
                        "/tickets/{ticket_id}/transactions/{}/attachments/{}",
                        doc.id,
                        attachment.segment(index)
                    );
                    AttachmentBody::from_stored(attachment, path)
                })
                .collect(),
        }
    }
}

impl From<TransactionBody> for TransactionDoc {
    fn from(body: TransactionBody) -> Self {
        Self {
            id: body.id,
            guid: body.guid,
            date_time: to_bson(body.date_time),
            kind: body.kind,
            text: body.text,
            html: body.html,
            from_protocol_type: body.from_protocol_type,
            sender_name: body.sender_name,
            sender_type: body.sender_type,
            attachments: body.attachments.into_iter().map(Attachment::from).collect(),
        }
    }
}

/// A list whose items must be JSON objects. Serde would also build a struct from an array of
/// its field values (`[1, "x"]`), which this API does not accept.
fn objects<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Vec::<Map<String, Value>>::deserialize(deserializer)?
        .into_iter()
        .map(|object| T::deserialize(Value::Object(object)).map_err(D::Error::custom))
        .collect()
}

/// `objects` for a field that may be absent or `null` (see `present`).
fn present_objects<'de, D, T>(deserializer: D) -> Result<Option<Option<Vec<T>>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    #[derive(Deserialize)]
    #[serde(transparent)]
    struct Objects<T: DeserializeOwned>(#[serde(deserialize_with = "objects")] Vec<T>);
    Ok(Some(
        Option::<Objects<T>>::deserialize(deserializer)?.map(|o| o.0),
    ))
}

/// Tells a field sent as `null` (`Some(None)`) from a field not sent (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
