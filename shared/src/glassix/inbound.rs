//! Inbound webhooks: the signature check on the raw body, and the envelope
//! `{key, dateTime, changes[]}` (one envelope or an array of them).

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha1::Sha1;

use super::models::{EventName, Ticket, TicketState};
use crate::error::AppError;

pub const SIGNATURE_HEADER: &str = "x-hub-signature";

/// Checks `X-Hub-Signature: sha1=<hex HMAC-SHA1(api secret, raw body)>` in constant time;
/// either hex case is accepted. Anything missing or wrong is `Unauthorized`.
pub fn verify_signature(
    secret: &SecretString,
    body: &[u8],
    header: Option<&str>,
) -> Result<(), AppError> {
    let hex_digest = header
        .map(str::trim)
        .and_then(|value| value.strip_prefix("sha1="))
        .ok_or(AppError::Unauthorized)?;
    let expected = hex::decode(hex_digest).map_err(|_| AppError::Unauthorized)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| AppError::Unauthorized)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| AppError::Unauthorized)
}

/// The header value Glassix would send for `body` (for tests, tools and event files).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

/// One envelope of a delivery. Parsed leniently: a field this service does not use, or uses
/// in a shape it did not expect, never refuses the delivery (Glassix would retry it for three
/// days); only an envelope without a `changes` list is malformed.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "RawEnvelope")]
pub struct Envelope {
    /// Empty when absent or not a string.
    pub key: String,
    /// Kept raw: it only tells deliveries apart (see `Change::fingerprint`).
    pub date_time: serde_json::Value,
    pub changes: Vec<Change>,
}

#[derive(Deserialize)]
struct RawEnvelope {
    #[serde(default)]
    key: serde_json::Value,
    #[serde(default, rename = "dateTime")]
    date_time: serde_json::Value,
    changes: Vec<serde_json::Value>,
}

impl From<RawEnvelope> for Envelope {
    fn from(raw: RawEnvelope) -> Self {
        Self {
            key: raw.key.as_str().unwrap_or_default().to_owned(),
            date_time: raw.date_time,
            changes: raw.changes.iter().map(Change::read).collect(),
        }
    }
}

/// One change, read field by field: whatever a field holds, the change is read; a change
/// that is no object, or has no `_event`, is an event of no webhook (acknowledged, logged).
#[derive(Debug, Clone)]
pub struct Change {
    pub event: EventName,
    pub ticket_id: Option<i64>,
    pub ticket_state: Option<TicketState>,
    /// The snapshot, kept raw: it is not authoritative, and a shape we do not expect in it
    /// must not make the whole delivery fail.
    pub ticket: Option<serde_json::Value>,
}

impl Change {
    fn read(value: &serde_json::Value) -> Self {
        let text = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
        Self {
            event: EventName::from(text("_event").unwrap_or_default()),
            ticket_id: value.get("ticketId").and_then(lenient_id),
            ticket_state: text("ticketState").map(TicketState::from),
            ticket: value.get("ticket").filter(|t| t.is_object()).cloned(),
        }
    }
}

/// An id sent as a number or as a string of digits.
fn lenient_id(value: &serde_json::Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

impl Change {
    /// What identifies this change of this delivery: Glassix retries the same bytes, so the
    /// same change of a retry has the same fingerprint, and a later change (the ticket closed
    /// again) another. The envelope's `key` alone is not unique (the docs show a zero GUID).
    pub fn fingerprint(&self, envelope: &Envelope) -> Vec<u8> {
        serde_json::to_vec(&(
            &envelope.key,
            &envelope.date_time,
            self.event.as_str(),
            self.ticket_id(),
            self.ticket_state.as_ref().map(|s| s.as_str()),
            &self.ticket,
        ))
        .unwrap_or_default()
    }

    /// The ticket id: the top-level `ticketId`, else the snapshot's `id`.
    pub fn ticket_id(&self) -> Option<i64> {
        self.ticket_id.or_else(|| {
            self.ticket
                .as_ref()
                .and_then(|t| t.get("id"))
                .and_then(lenient_id)
        })
    }

    /// The snapshot, when it parses.
    pub fn snapshot(&self) -> Option<Ticket> {
        self.ticket
            .as_ref()
            .and_then(|t| Ticket::deserialize(t).ok())
    }
}

/// A delivery: one envelope or an array of envelopes.
#[derive(Debug, Clone)]
pub struct Delivery(pub Vec<Envelope>);

impl Delivery {
    pub fn parse(body: &[u8]) -> Result<Self, AppError> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            Many(Vec<Envelope>),
            One(Envelope),
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(AppError::BadRequest("the webhook body is empty".into()));
        }
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| AppError::BadRequest("the webhook body is not valid JSON".into()))?;
        match OneOrMany::deserialize(&value) {
            Ok(OneOrMany::One(envelope)) => Ok(Self(vec![envelope])),
            Ok(OneOrMany::Many(envelopes)) if !envelopes.is_empty() => Ok(Self(envelopes)),
            _ => Err(AppError::BadRequest(
                "expected a webhook envelope {key, dateTime, changes[]} or an array of them".into(),
            )),
        }
    }

    /// Every change of every envelope, with its envelope.
    pub fn changes(&self) -> impl Iterator<Item = (&Envelope, &Change)> {
        self.0.iter().flat_map(|envelope| {
            envelope
                .changes
                .iter()
                .map(move |change| (envelope, change))
        })
    }
}
