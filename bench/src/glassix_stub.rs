//! A stand-in for the Glassix API (`{base}/api/v1.2/…`) that answers every call after a delay
//! D, so that the new-ticket webhook's latency can be compared with D: the issue's target is
//! D + 20 ms once the token is cached. It answers the token, tags, note, ticket, list and
//! scramble endpoints with the shapes of the fixtures in `shared/fixtures/glassix/`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, StatusCode};

use shared::testing::loopback::{Answer, json, serve};

pub const BASE_PATH: &str = "/api/v1.2";

pub struct GlassixStub {
    pub base_url: String,
    state: Arc<State>,
}

struct State {
    delay_ms: AtomicU64,
    token: Bytes,
    ticket: Bytes,
    calls: Mutex<BTreeMap<String, u64>>,
}

impl GlassixStub {
    pub async fn start(token: Bytes, ticket: Bytes, delay: Duration) -> std::io::Result<Self> {
        let state = Arc::new(State {
            delay_ms: AtomicU64::new(delay.as_millis() as u64),
            token,
            ticket,
            calls: Mutex::new(BTreeMap::new()),
        });
        let handler_state = state.clone();
        let (address, _) = serve(move |request| handle(request, handler_state.clone())).await?;
        Ok(Self {
            base_url: format!("http://{address}{BASE_PATH}"),
            state,
        })
    }

    pub fn set_delay(&self, delay: Duration) {
        self.state
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    /// Calls received so far, by endpoint (`POST tickets/addnote/{id}`, …).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        lock(&self.state.calls).clone()
    }
}

async fn handle(request: Request<Incoming>, state: Arc<State>) -> Answer {
    let method = request.method().clone();
    let path = request
        .uri()
        .path()
        .strip_prefix(BASE_PATH)
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    // Endpoints are counted without their ticket id.
    let endpoint = match path.rsplit_once('/') {
        Some((base, id)) if id.chars().all(|c| c.is_ascii_digit()) => format!("{base}/{{id}}"),
        _ => path.clone(),
    };
    *lock(&state.calls)
        .entry(format!("{method} {endpoint}"))
        .or_default() += 1;
    let delay = state.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    match (method, endpoint.as_str()) {
        (Method::POST, "token/get") => json(StatusCode::OK, state.token.clone()),
        // The tags the ticket has afterwards: here, exactly those sent.
        (Method::POST, "tickets/addtags/{id}") => json(StatusCode::OK, body),
        (Method::POST, "tickets/addnote/{id}") => json(StatusCode::OK, "{}"),
        (Method::GET, "tickets/get/{id}") => json(StatusCode::OK, state.ticket.clone()),
        (Method::GET, "tickets/list") => {
            json(StatusCode::OK, r#"{"tickets":[],"paging":{"next":null}}"#)
        }
        (Method::DELETE, "tickets/scramble/{id}") => json(StatusCode::OK, "{}"),
        _ => json(StatusCode::NOT_FOUND, r#"{"message":"no such endpoint"}"#),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
