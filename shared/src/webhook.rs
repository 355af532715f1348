//! What both webhook functions share: receiving a delivery (size, signature, envelope) as data,
//! the deadline its work runs within, and the answer (a JSON summary, or the first failure so
//! that Glassix delivers it again). What each webhook does with a change of its event is its
//! [`WebhookWork`]: `new_ticket` (tags and note) and `closing` (queue the archive job).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tokio::time::Instant;

use crate::credentials::{Credentials, LiveCredentials};
use crate::error::AppError;
use crate::glassix::freshness::{self, DATE_HEADER, DATE_SIGNATURE_HEADERS, Dated};
use crate::glassix::inbound::{Change, Delivery, Envelope, SIGNATURE_HEADER, verify_signature};
use crate::glassix::{Deadline, EventName};
use crate::job::Outcome;
use crate::request::{body_bytes, header};
use crate::response::{error_response, json};

/// Webhook bodies above this are refused (Glassix events are a few KB; Lambda's own limit is 6 MB).
const MAX_WEBHOOK_BODY: usize = 2 * 1024 * 1024;

/// Why a change of another event is acknowledged without work.
const OTHER_EVENT: &str = "not an event this webhook handles";

/// A delivery whose signature was checked, with the deadline of all its work.
pub struct Received {
    delivery: Delivery,
    /// Glassix numbers its attempts; above 1 this delivery is a retry.
    attempt: Option<u32>,
    pub deadline: Deadline,
}

/// One change of a delivery, and what identifies it (see `Change::fingerprint`).
pub struct ReceivedChange<'a> {
    envelope: &'a Envelope,
    pub change: &'a Change,
}

impl ReceivedChange<'_> {
    pub fn is(&self, event: EventName) -> bool {
        self.change.event == event
    }

    /// The same for Glassix's retries of this delivery, different for any later change.
    pub fn fingerprint(&self) -> Vec<u8> {
        self.change.fingerprint(self.envelope)
    }
}

/// A webhook's work on each change of its event.
pub trait WebhookWork: Sync {
    /// The event this webhook handles; changes of any other are acknowledged as ignored.
    const EVENT: EventName;

    /// The credentials whose API secret keys the delivery's signature, and the time allowed
    /// for one delivery.
    fn intake(&self) -> (&LiveCredentials, Duration);

    fn on_change(
        &self,
        change: &ReceivedChange<'_>,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Outcome, AppError>> + Send;
}

/// Serves one delivery: received (or refused), then every change in the order Glassix sent
/// them, each handed to `work` when it is of its event, all within the delivery's deadline.
pub async fn serve<W: WebhookWork>(work: &W, request: &Request) -> Response<Body> {
    let (credentials, budget) = work.intake();
    let received = match receive(request, credentials, budget).await {
        Ok(received) => received,
        Err(error) => return error_response(&error),
    };
    let mut answer = received.answer();
    for change in received.changes() {
        let started = Instant::now();
        let result = if change.is(W::EVENT) {
            work.on_change(&change, received.deadline).await
        } else {
            Ok(Outcome::Ignored(OTHER_EVENT))
        };
        answer.record(&change, result, started);
    }
    answer.into_response()
}

/// Checks size, then signature on the raw bytes, then the signed date when there is one
/// (`freshness`), then parses: 413, 401, 400. A signature the current API secret refuses may
/// come from a secret just rotated: the credentials are reread (at most once a minute) and the
/// signature checked once more. The delivery's work must be done within `budget` from now.
pub async fn receive(
    request: &Request,
    credentials: &LiveCredentials,
    budget: Duration,
) -> Result<Received, AppError> {
    let deadline = Instant::now() + budget;
    let body = body_bytes(request, MAX_WEBHOOK_BODY)?;
    let signature = header(request, SIGNATURE_HEADER);
    let verify = |credentials: &Credentials| {
        verify_signature(&credentials.glassix()?.api_secret, body, signature)
    };
    match verify(&*credentials.current().await) {
        Err(AppError::Unauthorized)
            if signature.is_some() && credentials.reload_after_refusal().await =>
        {
            verify(&*credentials.current().await)?;
        }
        outcome => outcome?,
    }
    let dated = match header(request, DATE_HEADER) {
        Some(date) => Dated::Signed {
            date,
            signature: DATE_SIGNATURE_HEADERS
                .iter()
                .find_map(|name| header(request, name)),
        },
        None => {
            note_undated_deliveries();
            Dated::Undated
        }
    };
    let current = credentials.current().await;
    freshness::check(&current.glassix()?.api_secret, dated, chrono::Utc::now())?;
    Ok(Received {
        delivery: Delivery::parse(body)?,
        attempt: header(request, "x-glassix-request-count").and_then(|n| n.parse::<u32>().ok()),
        deadline,
    })
}

/// Logs, once per cold start, that deliveries come without a signed date.
fn note_undated_deliveries() {
    static NOTED: AtomicBool = AtomicBool::new(false);
    if !NOTED.swap(true, Ordering::Relaxed) {
        tracing::info!(
            "webhook deliveries carry no signed date (X-Glassix-Auth-Date): their freshness is not checked"
        );
    }
}

impl Received {
    /// Every change, in the order Glassix sent them.
    pub fn changes(&self) -> impl Iterator<Item = ReceivedChange<'_>> {
        self.delivery
            .changes()
            .map(|(envelope, change)| ReceivedChange { envelope, change })
    }

    /// The answer to fill in, one [`Answer::record`] per change.
    pub fn answer(&self) -> Answer {
        Answer {
            attempt: self.attempt,
            summary: Summary::default(),
            first_failure: None,
        }
    }
}

/// What the delivery is answered: each change's outcome is logged and summed up.
pub struct Answer {
    attempt: Option<u32>,
    summary: Summary,
    first_failure: Option<AppError>,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    processed: usize,
    ignored: usize,
    duplicates: usize,
    results: Vec<ChangeResult>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ChangeResult {
    event: String,
    ticket_id: Option<i64>,
    outcome: &'static str,
    reason: &'static str,
}

impl Answer {
    /// Records what became of `change`; `started` is when its work began.
    pub fn record(
        &mut self,
        change: &ReceivedChange<'_>,
        result: Result<Outcome, AppError>,
        started: Instant,
    ) {
        let (envelope, change) = (change.envelope, change.change);
        let attempt = self.attempt;
        let ticket_id = change.ticket_id();
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::warn!(
                    event_key = %envelope.key, attempt, event = change.event.as_str(), ticket_id,
                    outcome = "failed", code = error.code(), detail = error.detail().unwrap_or_default(),
                    elapsed_ms, "webhook change failed"
                );
                self.first_failure.get_or_insert(error);
                return;
            }
        };
        *match outcome {
            Outcome::Processed(_) => &mut self.summary.processed,
            Outcome::Ignored(_) => &mut self.summary.ignored,
            Outcome::Duplicate(_) => &mut self.summary.duplicates,
        } += 1;
        let (label, reason) = (outcome.label(), outcome.reason());
        tracing::info!(
            event_key = %envelope.key, attempt, event = change.event.as_str(), ticket_id,
            outcome = label, reason, elapsed_ms, "webhook change handled"
        );
        self.summary.results.push(ChangeResult {
            event: change.event.as_str().to_owned(),
            ticket_id,
            outcome: label,
            reason,
        });
    }

    /// One change that failed never stops the others; the delivery as a whole is answered
    /// with its first failure so that Glassix delivers it again (finished changes are then
    /// found done: duplicates).
    pub fn into_response(self) -> Response<Body> {
        match self.first_failure {
            Some(error) => error_response(&error),
            None => json(http::StatusCode::OK, &self.summary),
        }
    }
}
