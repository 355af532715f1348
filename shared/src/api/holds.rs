//! Legal holds through the API: `PUT` and `DELETE` on `/tickets/{ticketId}/legal-hold` and
//! `/clients/{identifier}/legal-hold` (scope `erase`). Both answer the resulting hold.

use chrono::{DateTime, Utc};
use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::validate::{parse_ticket_id, text_rule};
use crate::access::Concerning;
use crate::dates::{to_bson, to_chrono};
use crate::db::{HeldBy, LegalHold, active_hold};
use crate::error::AppError;
use crate::request::{parse_json, path_param};
use crate::response::json;
use crate::rest::{RestResult, caller};
use crate::state::ApiState;

const MAX_REASON_CHARS: usize = 500;

/// What a hold is placed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldTarget {
    Ticket,
    Client,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlaceHoldBody {
    pub reason: String,
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// A hold as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldView {
    pub reason: String,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub by: String,
}

impl HoldView {
    /// The hold if it holds now; a hold past its `until` shows as none.
    pub fn active(hold: &Option<LegalHold>) -> Option<Self> {
        active_hold(hold, mongodb::bson::DateTime::now()).map(|hold| Self {
            reason: hold.reason.clone(),
            since: to_chrono(hold.since),
            until: hold.until.map(to_chrono),
            by: hold.by.clone(),
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HoldAnswer {
    legal_hold: Option<HoldView>,
}

/// `PUT …/legal-hold`: places the hold, or replaces the one in place (keeping its `since`).
pub async fn place<F>(state: &ApiState<F>, request: &Request, target: HoldTarget) -> RestResult {
    let key = Key::of(request, target)?;
    let body = parse_json::<PlaceHoldBody>(request)?;
    text_rule("reason", &body.reason, MAX_REASON_CHARS)?;
    let now = Utc::now();
    if body.until.is_some_and(|until| until <= now) {
        return Err(AppError::Validation("until must be in the future".into()));
    }
    let current = key.current_hold(state).await?;
    let hold = LegalHold {
        reason: body.reason,
        since: active_hold(&current, to_bson(now)).map_or(to_bson(now), |held| held.since),
        until: body.until.map(to_bson),
        by: caller(request)?.name().to_owned(),
    };
    key.set(state, Some(&hold)).await
}

/// `DELETE …/legal-hold`: lifts the hold (none in place is no error).
pub async fn lift<F>(state: &ApiState<F>, request: &Request, target: HoldTarget) -> RestResult {
    let key = Key::of(request, target)?;
    key.current_hold(state).await?;
    key.set(state, None).await
}

/// 409 `legal_hold` when a hold holds; what a deletion checks first.
pub fn refuse_if_held(held: Option<HeldBy>) -> Result<(), AppError> {
    match held {
        Some(HeldBy::Ticket) => Err(AppError::LegalHold(
            "a legal hold holds this ticket; lift it first".into(),
        )),
        Some(HeldBy::Client) => Err(AppError::LegalHold(
            "a legal hold on the client holds this; lift it first".into(),
        )),
        None => Ok(()),
    }
}

/// The ticket or client a request names.
enum Key {
    Ticket(i64),
    Client(String),
}

impl Key {
    fn of(request: &Request, target: HoldTarget) -> Result<Self, AppError> {
        Ok(match target {
            HoldTarget::Ticket => Key::Ticket(parse_ticket_id(&path_param(request, "ticketId")?)?),
            HoldTarget::Client => Key::Client(path_param(request, "identifier")?),
        })
    }

    /// The hold stored now (404 when there is no such ticket or client).
    async fn current_hold<F>(&self, state: &ApiState<F>) -> Result<Option<LegalHold>, AppError> {
        match self {
            Key::Ticket(id) => Ok(state
                .store
                .get_ticket(*id)
                .await?
                .ok_or_else(|| AppError::not_found("ticket"))?
                .legal_hold),
            Key::Client(identifier) => Ok(state
                .store
                .get_client(identifier)
                .await?
                .ok_or_else(|| AppError::not_found("client"))?
                .legal_hold),
        }
    }

    async fn set<F>(&self, state: &ApiState<F>, hold: Option<&LegalHold>) -> RestResult {
        let (stored, concerning) = match self {
            Key::Ticket(id) => {
                let ticket = state
                    .store
                    .set_ticket_hold(*id, hold)
                    .await?
                    .ok_or_else(|| AppError::not_found("ticket"))?;
                let concerning = Concerning::ticket(*id).and_client(ticket.client_identifier);
                (ticket.legal_hold, concerning)
            }
            Key::Client(identifier) => {
                let client = state
                    .store
                    .set_client_hold(identifier, hold)
                    .await?
                    .ok_or_else(|| AppError::not_found("client"))?;
                (client.legal_hold, Concerning::client(identifier.clone()))
            }
        };
        tracing::info!(placed = hold.is_some(), "legal hold set");
        let answer = HoldAnswer {
            legal_hold: HoldView::active(&stored),
        };
        Ok(concerning.attach(json(StatusCode::OK, &answer)))
    }
}
