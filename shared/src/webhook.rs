//! What both webhook functions share: receiving a delivery (size, signature, envelope), doing
//! Glassix and database work within the delivery's deadline, and the JSON summary.

use std::future::Future;
use std::time::Duration;

use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tokio::time::Instant;

use crate::credentials::{Credentials, LiveCredentials};
use crate::error::AppError;
use crate::glassix::inbound::{Change, Delivery, SIGNATURE_HEADER, verify_signature};
use crate::glassix::{Deadline, EventName};
use crate::job::Outcome;
use crate::request::{body_bytes, header};
use crate::response::{error_response, json};

/// Webhook bodies above this are refused (Glassix events are a few KB; Lambda's own limit is 6 MB).
const MAX_WEBHOOK_BODY: usize = 2 * 1024 * 1024;

/// Checks size, then signature on the raw bytes, then parses: 413, 401, 400. A signature the
/// current API secret refuses may come from a secret just rotated: the credentials are reread
/// (at most once a minute) and the signature checked once more.
pub async fn receive(
    request: &Request,
    credentials: &LiveCredentials,
) -> Result<Delivery, AppError> {
    let body = body_bytes(request, MAX_WEBHOOK_BODY)?;
    let signature = header(request, SIGNATURE_HEADER);
    let verify = |credentials: &Credentials| {
        let secret = &credentials
            .glassix()
            .map_err(|e| AppError::Internal(e.to_string()))?
            .api_secret;
        verify_signature(secret, body, signature)
    };
    match verify(&*credentials.current().await) {
        Err(AppError::Unauthorized)
            if signature.is_some() && credentials.reload_after_refusal().await =>
        {
            verify(&*credentials.current().await)?;
        }
        outcome => outcome?,
    }
    Delivery::parse(body)
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

/// Receives a delivery (signed with the API secret of `credentials`) and runs `process` on
/// every change of the `event` this function handles (with the change's fingerprint), in
/// order, all within one deadline (`budget` from now); changes of other events are
/// acknowledged as ignored.
pub async fn process_delivery<F, Fut>(
    credentials: &LiveCredentials,
    budget: Duration,
    request: &Request,
    event: EventName,
    process: F,
) -> Response<Body>
where
    F: Fn(Change, Vec<u8>, Deadline) -> Fut,
    Fut: Future<Output = Result<Outcome, AppError>>,
{
    let deadline = Instant::now() + budget;
    let delivery = match receive(request, credentials).await {
        Ok(delivery) => delivery,
        Err(error) => return error_response(&error),
    };
    // Glassix numbers its attempts; above 1 this delivery is a retry.
    let attempt = header(request, "x-glassix-request-count").and_then(|n| n.parse::<u32>().ok());
    let mut summary = Summary::default();
    let mut first_failure = None;
    for (envelope, change) in delivery.changes() {
        let started = Instant::now();
        let ticket_id = change.ticket_id();
        let result = if change.event == event {
            process(change.clone(), change.fingerprint(envelope), deadline).await
        } else {
            Ok(Outcome::Ignored("not an event this webhook handles"))
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::warn!(
                    event_key = %envelope.key, attempt, event = change.event.as_str(), ticket_id,
                    outcome = "failed", code = error.code(), detail = error.detail().unwrap_or_default(),
                    elapsed_ms, "webhook change failed"
                );
                first_failure.get_or_insert(error);
                continue;
            }
        };
        let (label, reason) = match outcome {
            Outcome::Processed(reason) => {
                summary.processed += 1;
                ("processed", reason)
            }
            Outcome::Ignored(reason) => {
                summary.ignored += 1;
                ("ignored", reason)
            }
            Outcome::Duplicate(reason) => {
                summary.duplicates += 1;
                ("duplicate", reason)
            }
        };
        tracing::info!(
            event_key = %envelope.key, attempt, event = change.event.as_str(), ticket_id,
            outcome = label, reason, elapsed_ms, "webhook change handled"
        );
        summary.results.push(ChangeResult {
            event: change.event.as_str().to_owned(),
            ticket_id,
            outcome: label,
            reason,
        });
    }
    // One change that failed never stops the others; the delivery as a whole is answered
    // with its failure so that Glassix delivers it again (finished changes are then found
    // done: duplicates).
    match first_failure {
        Some(error) => error_response(&error),
        None => json(http::StatusCode::OK, &summary),
    }
}
