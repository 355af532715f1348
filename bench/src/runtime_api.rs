//! A local emulation of the Lambda Runtime API (2018-06-01), one per process it runs: the
//! bootstrap polls `GET /runtime/invocation/next`, gets an event with the `lambda-runtime-*`
//! headers, and posts its answer to `…/{id}/response` or `…/{id}/error`; a failed
//! initialisation may post `/runtime/init/error`.
//!
//! The first poll marks the end of the cold start's init. An invocation's latency runs from
//! the moment its event is handed to the waiting poll to the moment the whole answer has
//! arrived.

use std::collections::HashMap;
use std::net::SocketAddr;
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

use crate::serve::{Answer, answer, json, serve};

const PREFIX: &str = "/2018-06-01/runtime/";

/// What the function posted for an invocation, and when the post was complete.
enum Outcome {
    Response(Bytes, Instant),
    Error(Bytes),
}

struct Pending {
    id: String,
    payload: Bytes,
    done: oneshot::Sender<Outcome>,
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
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// Set when the emulation is dropped, to release a poll still waiting.
    closed: watch::Sender<bool>,
}

pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    events: mpsc::UnboundedSender<Pending>,
    server: JoinHandle<()>,
    next_id: AtomicU64,
}

impl RuntimeApi {
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
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn host_port(&self) -> String {
        self.address.to_string()
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
        let (done, answered) = oneshot::channel();
        let id = format!("bench-{:012}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let started = Instant::now();
        self.events
            .send(Pending { id, payload, done })
            .map_err(|_| "the Runtime API emulation has stopped".to_owned())?;
        let limit = self.shared.timeout + Duration::from_secs(5);
        match tokio::time::timeout(limit, answered).await {
            Ok(Ok(Outcome::Response(body, at))) => Ok((at.duration_since(started), body)),
            Ok(Ok(Outcome::Error(body))) => Err(format!(
                "the function posted an invocation error: {}",
                excerpt(&body)
            )),
            Ok(Err(_)) => Err("the invocation was dropped unanswered".into()),
            Err(_) => Err(format!("no answer within {} s", limit.as_secs())),
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.closed.send_replace(true);
        self.server.abort();
    }
}

async fn route(request: Request<Incoming>, shared: Arc<Shared>) -> Answer {
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
            let Some(rest) = resource.strip_prefix("invocation/") else {
                return answer(StatusCode::NOT_FOUND, "unknown resource");
            };
            if let Some(id) = rest.strip_suffix("/response") {
                let id = id.to_owned();
                let body = read(request).await;
                complete(&shared, &id, Outcome::Response(body, Instant::now()))
            } else if let Some(id) = rest.strip_suffix("/error") {
                let id = id.to_owned();
                let body = read(request).await;
                complete(&shared, &id, Outcome::Error(body))
            } else {
                answer(StatusCode::NOT_FOUND, "unknown resource")
            }
        }
        _ => answer(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

async fn next(shared: &Shared) -> Answer {
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
    // Lambda sends a trace id with every event; left out only for `BENCH_WITHOUT_TRACE_ID`.
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

fn complete(shared: &Shared, id: &str, outcome: Outcome) -> Answer {
    match lock(&shared.in_flight).remove(id) {
        Some(done) => {
            let _ = done.send(outcome);
            accepted()
        }
        None => answer(StatusCode::BAD_REQUEST, "unknown request id"),
    }
}

fn accepted() -> Answer {
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
