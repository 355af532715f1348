//! The Lambda Runtime API (2018-06-01), emulated on loopback, one per bootstrap it serves: the
//! bootstrap polls `GET /runtime/invocation/next`, gets an event with the `lambda-runtime-*`
//! headers, and posts its answer to `…/{id}/response` or `…/{id}/error`; a failed
//! initialisation may post `/runtime/init/error`.
//!
//! Tests queue their events up front and read how each was answered ([`RuntimeApi::serving`],
//! [`RuntimeApi::answers`]); the bench hands one event at a time and times it
//! ([`RuntimeApi::invoke`]). The first poll marks the end of the cold start's init. An
//! invocation's latency runs from the moment its event is handed to the waiting poll to the
//! moment the whole answer has arrived.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::loopback::{Answer as Reply, answer, json, serve};

const PREFIX: &str = "/2018-06-01/runtime/";

/// The longest timeout Lambda allows: the deadline of the events tests queue.
const LAMBDA_MAX_TIMEOUT: Duration = Duration::from_secs(900);

/// How the bootstrap answered one invocation.
#[derive(Debug, Clone)]
pub struct Answer {
    /// `req-1`, `req-2`, … in the order the events were handed out.
    pub request_id: String,
    /// `response`, or `error` when the function failed (a panic, an error returned).
    pub outcome: String,
    /// The posted body as JSON (`null` when it is not JSON).
    pub body: serde_json::Value,
}

/// What the function posted for an invocation, and when the post was complete.
struct Posted {
    request_id: String,
    outcome: &'static str,
    body: Bytes,
    at: Instant,
}

impl From<Posted> for Answer {
    fn from(posted: Posted) -> Self {
        Self {
            request_id: posted.request_id,
            outcome: posted.outcome.to_owned(),
            body: serde_json::from_slice(&posted.body).unwrap_or_default(),
        }
    }
}

struct Pending {
    id: String,
    payload: Bytes,
    done: oneshot::Sender<Posted>,
}

struct Shared {
    function_arn: String,
    /// The function's timeout: sets each event's deadline.
    timeout: Duration,
    /// Whether events carry `Lambda-Runtime-Trace-Id`, as Lambda's do.
    trace_ids: bool,
    first_poll: watch::Sender<Option<Instant>>,
    init_error: watch::Sender<Option<String>>,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Pending>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Posted>>>,
    /// Set when the emulation is dropped, to release a poll still waiting.
    closed: watch::Sender<bool>,
}

/// The answers to the events queued by [`RuntimeApi::serving`]: those still awaited, in queue
/// order, and those already read.
#[derive(Default)]
struct Queued {
    awaited: Vec<oneshot::Receiver<Posted>>,
    answered: Vec<Answer>,
}

pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    events: mpsc::UnboundedSender<Pending>,
    server: JoinHandle<()>,
    next_id: AtomicU64,
    queued: tokio::sync::Mutex<Queued>,
}

impl RuntimeApi {
    /// An emulation for a function of this ARN and timeout, with no event yet.
    pub async fn start(
        function_arn: String,
        timeout: Duration,
        trace_ids: bool,
    ) -> std::io::Result<Self> {
        let (events, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_arn,
            timeout,
            trace_ids,
            first_poll: watch::Sender::new(None),
            init_error: watch::Sender::new(None),
            queue: tokio::sync::Mutex::new(queue),
            in_flight: Mutex::new(HashMap::new()),
            closed: watch::Sender::new(false),
        });
        let handler_state = shared.clone();
        let (address, server) = serve(move |request| route(request, handler_state.clone())).await?;
        Ok(Self {
            address,
            shared,
            events,
            server,
            next_id: AtomicU64::new(1),
            queued: tokio::sync::Mutex::default(),
        })
    }

    /// Serves `events` in order as `req-1`, `req-2`, …; afterwards a poll waits for as long as
    /// the emulation lives. Read the answers with [`RuntimeApi::answers`].
    pub async fn serving(events: &[String], function_arn: &str) -> Self {
        let api = Self::start(function_arn.to_owned(), LAMBDA_MAX_TIMEOUT, true)
            .await
            .expect("a loopback port for the Runtime API");
        let mut queued = api.queued.lock().await;
        for event in events {
            let answered = api
                .hand_out(Bytes::from(event.clone()))
                .expect("the emulation runs");
            queued.awaited.push(answered);
        }
        drop(queued);
        api
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn host_port(&self) -> String {
        self.address.to_string()
    }

    /// The bootstrap at `binary` with the environment Lambda gives every function; add the
    /// function's own variables before spawning it.
    pub fn bootstrap(&self, binary: &str, function_name: &str) -> Command {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", self.host_port())
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "group");
        command
    }

    /// The answers to the first `count` events [`RuntimeApi::serving`] queued, in order; panics
    /// if they take longer than `timeout`.
    pub async fn answers(&self, count: usize, timeout: Duration) -> Vec<Answer> {
        let answered = async {
            let mut queued = self.queued.lock().await;
            let Queued { awaited, answered } = &mut *queued;
            let queued = awaited.len();
            while answered.len() < count {
                let next = awaited
                    .get_mut(answered.len())
                    .unwrap_or_else(|| panic!("only {queued} events were queued"));
                let posted = next.await.expect("the emulation keeps every event");
                answered.push(posted.into());
            }
            answered[..count].to_vec()
        };
        tokio::time::timeout(timeout, answered)
            .await
            .unwrap_or_else(|_| panic!("{count} invocations were not answered within {timeout:?}"))
    }

    /// When the function first polled for an event, once it has.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.borrow()
    }

    /// Waits until the first poll (or forever): for a `select!` with the other ways a cold
    /// start can end.
    pub async fn first_poll_changed(&self) {
        let mut first_poll = self.shared.first_poll.subscribe();
        let _ = first_poll.wait_for(Option::is_some).await;
    }

    /// What the function reported through `/runtime/init/error`, if it did.
    pub fn init_error(&self) -> Option<String> {
        self.shared.init_error.borrow().clone()
    }

    /// Hands `payload` to the function and waits for its answer: the latency and the body of
    /// the response, or why there is none.
    pub async fn invoke(&self, payload: Bytes) -> Result<(Duration, Bytes), String> {
        let started = Instant::now();
        let answered = self.hand_out(payload)?;
        let limit = self.shared.timeout + Duration::from_secs(5);
        match tokio::time::timeout(limit, answered).await {
            Ok(Ok(Posted {
                outcome: "response",
                body,
                at,
                ..
            })) => Ok((at.duration_since(started), body)),
            Ok(Ok(Posted { body, .. })) => Err(format!(
                "the function posted an invocation error: {}",
                excerpt(&body)
            )),
            Ok(Err(_)) => Err("the invocation was dropped unanswered".into()),
            Err(_) => Err(format!("no answer within {} s", limit.as_secs())),
        }
    }

    /// Queues `payload` as the next event; the receiver gets what the function posts for it.
    fn hand_out(&self, payload: Bytes) -> Result<oneshot::Receiver<Posted>, String> {
        let (done, answered) = oneshot::channel();
        let id = format!("req-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        self.events
            .send(Pending { id, payload, done })
            .map_err(|_| "the Runtime API emulation has stopped".to_owned())?;
        Ok(answered)
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.closed.send_replace(true);
        self.server.abort();
    }
}

async fn route(request: Request<Incoming>, shared: Arc<Shared>) -> Reply {
    let path = request.uri().path().to_owned();
    let Some(resource) = path.strip_prefix(PREFIX) else {
        return answer(StatusCode::NOT_FOUND, "not a Runtime API path");
    };
    match (request.method(), resource) {
        (&Method::GET, "invocation/next") => next(&shared).await,
        (&Method::POST, "init/error") => {
            let body = read(request).await;
            shared
                .init_error
                .send_replace(Some(excerpt(&body).to_owned()));
            accepted()
        }
        (&Method::POST, resource) => {
            let posted = resource.strip_prefix("invocation/").and_then(|rest| {
                [("/response", "response"), ("/error", "error")]
                    .into_iter()
                    .find_map(|(suffix, outcome)| Some((rest.strip_suffix(suffix)?, outcome)))
            });
            let Some((id, outcome)) = posted else {
                return answer(StatusCode::NOT_FOUND, "unknown resource");
            };
            let request_id = id.to_owned();
            let body = read(request).await;
            let at = Instant::now();
            complete(
                &shared,
                Posted {
                    request_id,
                    outcome,
                    body,
                    at,
                },
            )
        }
        _ => answer(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

async fn next(shared: &Shared) -> Reply {
    let now = Instant::now();
    shared.first_poll.send_if_modified(|first| {
        let is_first = first.is_none();
        if is_first {
            *first = Some(now);
        }
        is_first
    });
    let mut closed = shared.closed.subscribe();
    let pending = {
        let mut queue = shared.queue.lock().await;
        tokio::select! {
            pending = queue.recv() => pending,
            _ = closed.wait_for(|closed| *closed) => None,
        }
    };
    let Some(Pending { id, payload, done }) = pending else {
        return answer(StatusCode::GONE, "the emulation has stopped");
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + shared.timeout;
    let trace = format!(
        "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
        deadline.as_secs(),
        deadline.as_nanos(),
        deadline.subsec_nanos()
    );
    // Lambda sends a trace id with every event; left out only when asked to.
    let trace = shared
        .trace_ids
        .then_some(("lambda-runtime-trace-id", trace));
    let mut response = json(StatusCode::OK, payload);
    let headers = response.headers_mut();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.clone()),
        (
            "lambda-runtime-deadline-ms",
            deadline.as_millis().to_string(),
        ),
        (
            "lambda-runtime-invoked-function-arn",
            shared.function_arn.clone(),
        ),
    ]
    .into_iter()
    .chain(trace)
    {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    lock(&shared.in_flight).insert(id, done);
    response
}

fn complete(shared: &Shared, posted: Posted) -> Reply {
    match lock(&shared.in_flight).remove(&posted.request_id) {
        Some(done) => {
            let _ = done.send(posted);
            accepted()
        }
        None => answer(StatusCode::BAD_REQUEST, "unknown request id"),
    }
}

fn accepted() -> Reply {
    json(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn read(request: Request<Incoming>) -> Bytes {
    request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The start of a body, for an error message.
pub fn excerpt(body: &[u8]) -> &str {
    let text = std::str::from_utf8(body).unwrap_or("<not UTF-8>");
    match text.char_indices().nth(400) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bootstrap's side of one invocation: polls, checks the headers, posts `outcome`.
    async fn answer_next(base: &str, outcome: &str) -> (String, serde_json::Value) {
        let client = crate::testing::http_client();
        let event = client
            .get(format!("{base}/invocation/next"))
            .send()
            .await
            .expect("an event");
        let header = |name: &str| {
            event
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let id = header("lambda-runtime-aws-request-id");
        let deadline: u128 = header("lambda-runtime-deadline-ms").parse().expect("ms");
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("now");
        assert!(deadline > now.as_millis(), "a deadline ahead");
        assert!(header("lambda-runtime-trace-id").starts_with("Root=1-"));
        assert_eq!(
            header("lambda-runtime-invoked-function-arn"),
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        );
        let payload: serde_json::Value = event.json().await.expect("JSON");
        let posted = client
            .post(format!("{base}/invocation/{id}/{outcome}"))
            .body(payload.to_string())
            .send()
            .await
            .expect("posted");
        assert_eq!(posted.status(), 202);
        (id, payload)
    }

    #[tokio::test]
    async fn queued_events_go_out_in_order_and_each_answer_is_read_back() {
        let events = [r#"{"n":1}"#.to_owned(), r#"{"n":2}"#.to_owned()];
        let api =
            RuntimeApi::serving(&events, "arn:aws:lambda:us-east-1:123456789012:function:f").await;
        let base = format!("http://{}/2018-06-01/runtime", api.host_port());
        assert!(api.first_poll().is_none());
        assert_eq!(answer_next(&base, "response").await.0, "req-1");
        assert_eq!(answer_next(&base, "error").await.0, "req-2");

        let answers = api.answers(2, Duration::from_secs(5)).await;
        let read: Vec<(&str, &str, serde_json::Value)> = answers
            .iter()
            .map(|a| (a.request_id.as_str(), a.outcome.as_str(), a.body.clone()))
            .collect();
        assert_eq!(
            read,
            [
                ("req-1", "response", serde_json::json!({"n": 1})),
                ("req-2", "error", serde_json::json!({"n": 2})),
            ]
        );
        assert!(api.first_poll().is_some());
    }

    #[tokio::test]
    async fn an_invocation_is_timed_to_its_answer_and_an_error_post_fails_it() {
        let api = RuntimeApi::start(
            "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            Duration::from_secs(3),
            true,
        )
        .await
        .expect("a port");
        let base = format!("http://{}/2018-06-01/runtime", api.host_port());
        let bootstrap = tokio::spawn({
            let base = base.clone();
            async move {
                answer_next(&base, "response").await;
                answer_next(&base, "error").await;
            }
        });
        let (latency, body) = api
            .invoke(Bytes::from_static(br#"{"n":1}"#))
            .await
            .expect("answered");
        assert!(latency < Duration::from_secs(3));
        assert_eq!(&body[..], br#"{"n":1}"#);
        let failed = api
            .invoke(Bytes::from_static(br#"{"n":2}"#))
            .await
            .expect_err("an error post");
        assert!(failed.contains("invocation error"), "{failed}");
        bootstrap.await.expect("the bootstrap side");
    }
}
