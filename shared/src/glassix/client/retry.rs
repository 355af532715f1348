//! One attempt at a Glassix call, and the retry loop around it: 2xx is final; 429, 5xx,
//! timeouts and connection failures are tried again while the deadline allows, never sooner
//! than an exponential backoff with jitter. A call that is not safe to repeat (a note, tags)
//! is tried again only when Glassix surely did not act on it (see [`Replay`]).

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use reqwest::RequestBuilder;
use reqwest::header::RETRY_AFTER;
use tokio::time::Instant;

use super::{Deadline, GlassixError};

/// Backoff between attempts: `base * 2^attempt`, capped, with full jitter over its upper half.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(1600),
        }
    }
}

impl RetryPolicy {
    fn delay(&self, attempt: u32) -> Duration {
        let exponential = self.base.saturating_mul(1 << attempt.min(16)).min(self.cap);
        let half = exponential / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Whether a call may be sent again after an attempt whose fate is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replay {
    /// Reads, and writes that come out the same however often they run (a scramble).
    Always,
    /// `POST addnote`: each one that reaches Glassix adds a note. Sent again only after a
    /// refused connection or a 429, when Glassix surely did not act; after a 5xx, a timeout or
    /// a connection lost once the request was out, the call ends as [`GlassixError::Uncertain`].
    OnlyIfNotReceived,
}

/// What is being sent, for the retry loop: its path (for logs), whether it may be sent again,
/// and the largest answer read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Call<'a> {
    pub path: &'a str,
    pub replay: Replay,
    pub answer_limit: usize,
}

/// What one attempt came to.
enum Attempt {
    /// A final answer: the body of a 2xx, or an error that retrying cannot change.
    Done(Result<Bytes, GlassixError>),
    /// Worth another attempt: how long the server asked us to wait, if it did, what this
    /// attempt got (for the error when the deadline ends the retries), and whether Glassix
    /// may have acted on it.
    Retry {
        wait: Option<Duration>,
        last: String,
        maybe_received: bool,
    },
}

impl RetryPolicy {
    /// Sends until a final answer or the deadline.
    pub(super) async fn send(
        &self,
        call: Call<'_>,
        deadline: Deadline,
        request: impl Fn() -> RequestBuilder,
    ) -> Result<Bytes, GlassixError> {
        let path = call.path;
        let mut attempt = 0;
        loop {
            let (wait, last) = match attempt_once(call, deadline, request()).await {
                Attempt::Done(outcome) => return outcome,
                Attempt::Retry {
                    last,
                    maybe_received: true,
                    ..
                } if call.replay == Replay::OnlyIfNotReceived => {
                    tracing::warn!(path = template(path), last = %last, "Glassix may have acted on a call that is not repeated");
                    return Err(GlassixError::Uncertain { last });
                }
                Attempt::Retry { wait, last, .. } => (wait, last),
            };
            // Never sooner than the backoff, even when the server says `Retry-After: 0`.
            let backoff = self.delay(attempt);
            let wait = wait.map_or(backoff, |asked| asked.max(backoff));
            if Instant::now() + wait >= deadline {
                tracing::warn!(path = template(path), attempts = attempt + 1, last = %last, "Glassix call gave up at the deadline");
                return Err(GlassixError::DeadlineExceeded { last });
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

async fn attempt_once(call: Call<'_>, deadline: Deadline, request: RequestBuilder) -> Attempt {
    let Call {
        path,
        replay,
        answer_limit,
    } = call;
    // Cut off at the deadline: the request may have been out already.
    let timed_out = || {
        let last = "timeout".to_owned();
        Attempt::Done(Err(match replay {
            Replay::Always => GlassixError::DeadlineExceeded { last },
            Replay::OnlyIfNotReceived => GlassixError::Uncertain { last },
        }))
    };
    let started = Instant::now();
    let response = match tokio::time::timeout_at(deadline, request.send()).await {
        Err(_) => return timed_out(),
        Ok(Err(error)) => {
            let kind = if error.is_timeout() {
                "timeout"
            } else if error.is_connect() {
                "connect"
            } else {
                "transport"
            };
            tracing::warn!(
                path = template(path),
                error.kind = kind,
                "Glassix request failed"
            );
            return Attempt::Retry {
                wait: None,
                last: kind.into(),
                // Only a connection that was never made surely carried nothing.
                maybe_received: !error.is_connect(),
            };
        }
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    let retry_after = retry_after(response.headers().get(RETRY_AFTER));
    let body = match tokio::time::timeout_at(deadline, read_at_most(response, answer_limit)).await {
        Ok(Ok(Some(body))) => body,
        Ok(Ok(None)) => {
            tracing::warn!(
                path = template(path),
                limit = answer_limit,
                "Glassix answer too large; not read"
            );
            return Attempt::Done(Err(GlassixError::TooLarge {
                limit: answer_limit,
            }));
        }
        // Glassix did it; only its answer was lost. Not worth doing again.
        Ok(Err(_)) if status.is_success() && replay == Replay::OnlyIfNotReceived => Bytes::new(),
        Ok(Err(_)) if status.is_success() => {
            return Attempt::Retry {
                wait: None,
                last: "body".into(),
                maybe_received: true,
            };
        }
        Ok(Err(_)) => Bytes::new(),
        Err(_) => return timed_out(),
    };
    tracing::debug!(
        path = template(path),
        status = status.as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "Glassix answered"
    );
    classify(status, retry_after, body)
}

/// The body, or `None` as soon as it is known to exceed `limit` bytes (by its Content-Length
/// or while it streams in): a huge or endless answer never fills the function's memory.
async fn read_at_most(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<Bytes>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Ok(None);
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}

fn classify(status: StatusCode, retry_after: Option<Duration>, body: Bytes) -> Attempt {
    Attempt::Done(match status {
        s if s.is_success() => Ok(body),
        StatusCode::TOO_MANY_REQUESTS => {
            // Throttled before it did anything: safe to send again.
            return Attempt::Retry {
                wait: retry_after,
                last: "429".into(),
                maybe_received: false,
            };
        }
        s if s.is_server_error() => {
            return Attempt::Retry {
                wait: None,
                last: s.as_u16().to_string(),
                maybe_received: true,
            };
        }
        StatusCode::UNAUTHORIZED => Err(GlassixError::Unauthorized),
        StatusCode::NOT_FOUND => Err(GlassixError::NotFound),
        s => Err(GlassixError::Status {
            status: s.as_u16(),
            message: error_message(&body),
        }),
    })
}

/// `Retry-After` in seconds (the HTTP-date form is left to the backoff).
fn retry_after(value: Option<&HeaderValue>) -> Option<Duration> {
    let seconds: f64 = value?.to_str().ok()?.trim().parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// Glassix errors look like ASP.NET's `{"Message": "..."}`, sometimes `{"message": "..."}`.
fn error_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("Message")
        .or_else(|| value.get("message"))
        .and_then(|m| m.as_str())
        .map(str::to_owned)
}

/// The path with its ticket id replaced, for logs that group by endpoint.
pub(super) fn template(path: &str) -> &str {
    path.rsplit_once('/')
        .filter(|(_, last)| last.chars().all(|c| c.is_ascii_digit()))
        .map_or(path, |(prefix, _)| prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).expect("header value")
    }

    #[test]
    fn retry_after_reads_seconds_and_ignores_what_it_cannot_use() {
        assert_eq!(
            retry_after(Some(&header("2"))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(Some(&header(" 0.5 "))),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            retry_after(Some(&header("99999"))),
            Some(Duration::from_secs(3600))
        );
        for ignored in ["-1", "soon", "Wed, 21 Oct 2015 07:28:00 GMT", "NaN", "inf"] {
            assert_eq!(retry_after(Some(&header(ignored))), None, "{ignored}");
        }
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn error_messages_are_read_in_either_case() {
        assert_eq!(
            error_message(br#"{"Message": "bad id"}"#),
            Some("bad id".into())
        );
        assert_eq!(
            error_message(br#"{"message": "bad id"}"#),
            Some("bad id".into())
        );
        assert_eq!(error_message(br#"{"error": "x"}"#), None);
        assert_eq!(error_message(b"<html>"), None);
    }

    #[test]
    fn paths_are_logged_without_their_ticket_id() {
        assert_eq!(template("tickets/get/48213977"), "tickets/get");
        assert_eq!(template("token/get"), "token/get");
    }

    #[test]
    fn the_backoff_grows_to_its_cap_and_keeps_half_of_it() {
        let policy = RetryPolicy::default();
        for attempt in 0..20 {
            let full = policy
                .base
                .saturating_mul(1 << attempt.min(16))
                .min(policy.cap);
            let delay = policy.delay(attempt);
            assert!(delay >= full / 2 && delay <= full, "{attempt}: {delay:?}");
        }
    }

    #[test]
    fn statuses_are_final_or_worth_another_attempt() {
        let retried = |status: u16| {
            matches!(
                classify(
                    StatusCode::from_u16(status).expect("status"),
                    None,
                    Bytes::new()
                ),
                Attempt::Retry { .. }
            )
        };
        for status in [429, 500, 502, 503, 504] {
            assert!(retried(status), "{status}");
        }
        for status in [200, 204, 400, 401, 403, 404, 409] {
            assert!(!retried(status), "{status}");
        }
        assert!(matches!(
            classify(StatusCode::NOT_FOUND, None, Bytes::new()),
            Attempt::Done(Err(GlassixError::NotFound))
        ));
    }
}
