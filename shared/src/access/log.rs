//! The access log: one entry per REST request that reads or changes archived data, and per
//! refusal for a missing scope. Entries are a database record, never a log line: they name
//! clients and carry addresses. Nothing updates or deletes them but their expiry
//! (`expiresAt`, a TTL index; see the README for servers without TTL).

use chrono::{DateTime, Utc};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use mongodb::bson::oid::ObjectId;
use serde::{Deserialize, Serialize};

use crate::dates::{to_bson, to_chrono};
use crate::pagination::AccessKey;

/// The longest user agent kept: enough to tell clients apart, not a place to store a payload.
const MAX_USER_AGENT_CHARS: usize = 256;

/// What a request concerned, as far as its route knows: the client and the ticket (from the
/// path, or from what the handler read), and how many items a listing returned. A handler
/// adds what the path does not say with [`Concerning::attach`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Concerning {
    pub client_identifier: Option<String>,
    pub ticket_id: Option<i64>,
    pub items: Option<u64>,
}

impl Concerning {
    pub fn client(identifier: impl Into<String>) -> Self {
        Self {
            client_identifier: Some(identifier.into()),
            ..Self::default()
        }
    }

    pub fn ticket(ticket_id: i64) -> Self {
        Self {
            ticket_id: Some(ticket_id),
            ..Self::default()
        }
    }

    pub fn listing(items: usize) -> Self {
        Self {
            items: Some(items as u64),
            ..Self::default()
        }
    }

    pub fn and_client(mut self, identifier: impl Into<String>) -> Self {
        self.client_identifier = Some(identifier.into());
        self
    }

    /// Records this on `response` for the access log (what is already there stays unless
    /// this says otherwise).
    pub fn attach(self, mut response: Response<Body>) -> Response<Body> {
        let merged = match response.extensions_mut().remove::<Concerning>() {
            Some(earlier) => earlier.overridden_by(self),
            None => self,
        };
        response.extensions_mut().insert(merged);
        response
    }

    /// The answer refusing `error`, still recorded as concerning this: a refused download of
    /// a client's data is as much the access log's business as a served one.
    pub fn refuse(self, error: &crate::error::AppError) -> Response<Body> {
        self.attach(crate::response::error_response(error))
    }

    fn overridden_by(self, later: Concerning) -> Concerning {
        Concerning {
            client_identifier: later.client_identifier.or(self.client_identifier),
            ticket_id: later.ticket_id.or(self.ticket_id),
            items: later.items.or(self.items),
        }
    }

    /// What the path says (`identifier`, `ticketId`), overridden by what the handler attached.
    pub fn of(request: &Request, response: &Response<Body>) -> Self {
        let params = request.path_parameters_ref();
        let from_path = Concerning {
            client_identifier: params
                .and_then(|p| p.first("identifier"))
                .map(str::to_owned),
            ticket_id: params
                .and_then(|p| p.first("ticketId"))
                .and_then(|id| id.parse().ok()),
            items: None,
        };
        match response.extensions().get::<Concerning>() {
            Some(attached) => from_path.overridden_by(attached.clone()),
            None => from_path,
        }
    }
}

/// One entry, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntry {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub at: mongodb::bson::DateTime,
    /// When the TTL index removes it.
    pub expires_at: mongodb::bson::DateTime,
    #[serde(flatten)]
    pub record: AccessRecord,
}

/// Who did what, as stored and as `GET /access-log` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRecord {
    /// The token's name.
    pub token: String,
    /// API Gateway's route key, e.g. `GET /tickets/{ticketId}`.
    pub route: String,
    pub method: String,
    pub status: i32,
    pub client_identifier: Option<String>,
    pub ticket_id: Option<i64>,
    /// How many items a listing returned.
    pub items: Option<i64>,
    pub request_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl AccessEntry {
    /// The entry of `request`, answered `status` for the token `token`, kept `retention`.
    pub fn new(
        token: &str,
        request: &Request,
        status: u16,
        concerning: Concerning,
        retention: chrono::Duration,
    ) -> Self {
        let context = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => Some(context),
            _ => None,
        };
        let route = context
            .and_then(|c| c.route_key.clone())
            .unwrap_or_else(|| format!("{} (route unknown)", request.method()));
        let mut record = AccessRecord::of(token, &route, request.method().as_str(), concerning);
        record.status = i32::from(status);
        record.request_id = context.and_then(|c| c.request_id.clone());
        record.source_ip = context.and_then(|c| c.http.source_ip.clone());
        record.user_agent = context
            .and_then(|c| c.http.user_agent.as_deref())
            .or_else(|| crate::request::header(request, "user-agent"))
            .map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect());
        Self::now(record, retention)
    }

    /// The entry of something a scheduled job did (no request, no caller's address).
    pub fn by_job(
        token: &str,
        route: &str,
        method: &str,
        concerning: Concerning,
        retention: chrono::Duration,
    ) -> Self {
        Self::now(
            AccessRecord::of(token, route, method, concerning),
            retention,
        )
    }

    fn now(record: AccessRecord, retention: chrono::Duration) -> Self {
        let at = Utc::now();
        Self {
            id: ObjectId::new(),
            at: to_bson(at),
            expires_at: to_bson(at + retention),
            record,
        }
    }

    pub fn key(&self) -> AccessKey {
        AccessKey {
            at_millis: self.at.timestamp_millis(),
            id: self.id,
        }
    }
}

impl AccessRecord {
    /// What `token` did on `route`, answered 200 unless set otherwise, with nothing of a
    /// caller's request.
    fn of(token: &str, route: &str, method: &str, concerning: Concerning) -> Self {
        Self {
            token: token.to_owned(),
            route: route.to_owned(),
            method: method.to_owned(),
            status: 200,
            client_identifier: concerning.client_identifier,
            ticket_id: concerning.ticket_id,
            items: concerning.items.map(|n| n as i64),
            request_id: None,
            source_ip: None,
            user_agent: None,
        }
    }
}

/// The access-log entries a reader asks for (`GET /access-log`); every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessFilter {
    pub client_identifier: Option<String>,
    pub ticket_id: Option<i64>,
    pub token: Option<String>,
    /// Inclusive.
    pub from: Option<DateTime<Utc>>,
    /// Inclusive.
    pub to: Option<DateTime<Utc>>,
}

/// An entry as `GET /access-log` answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessEntryView {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub record: AccessRecord,
}

impl From<AccessEntry> for AccessEntryView {
    fn from(entry: AccessEntry) -> Self {
        Self {
            at: to_chrono(entry.at),
            record: entry.record,
        }
    }
}
