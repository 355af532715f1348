//! An HTTP proxy between the functions (`AWS_ENDPOINT_URL`) and moto_server that counts the
//! requests of each AWS operation: `X-Amz-Target` names it for Secrets Manager and SQS (JSON
//! protocols); S3 requests, which have none, count under their method.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use hyper::{HeaderMap, Request, StatusCode};

use crate::aws::{HttpClient, call, http_client};
use shared::testing::loopback::{Answer, answer, serve};

pub const GET_SECRET_VALUE: &str = "secretsmanager.GetSecretValue";

#[derive(Default)]
pub struct AwsCalls(Mutex<BTreeMap<String, u64>>);

impl AwsCalls {
    pub fn count(&self, operation: &str) -> u64 {
        self.lock().get(operation).copied().unwrap_or(0)
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.lock().clone()
    }

    fn add(&self, operation: String) {
        *self.lock().entry(operation).or_default() += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The operations counted in `after` and not in `before`.
pub fn difference(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(operation, n)| (operation.clone(), n - before.get(operation).unwrap_or(&0)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Proxies to `upstream` (`http://127.0.0.1:<moto port>`) from a free loopback port.
pub async fn start(upstream: String, calls: Arc<AwsCalls>) -> std::io::Result<SocketAddr> {
    let client = http_client();
    let upstream: Arc<str> = upstream.into();
    let (address, _) =
        serve(move |request| forward(request, client.clone(), upstream.clone(), calls.clone()))
            .await?;
    Ok(address)
}

async fn forward(
    request: Request<Incoming>,
    client: HttpClient,
    upstream: Arc<str>,
    calls: Arc<AwsCalls>,
) -> Answer {
    let operation = match request.headers().get("x-amz-target") {
        Some(target) => String::from_utf8_lossy(target.as_bytes()).into_owned(),
        None => format!("S3 {}", request.method()),
    };
    calls.add(operation);
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return answer(StatusCode::BAD_GATEWAY, "request body unreadable");
    };
    let uri = format!(
        "{upstream}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut forwarded = Request::builder().method(parts.method).uri(uri);
    if let Some(headers) = forwarded.headers_mut() {
        *headers = parts.headers;
        strip_hop_headers(headers);
        // The client sets moto's; the signature, which covers the proxy's, is not checked.
        headers.remove(HOST);
    }
    let Ok(forwarded) = forwarded.body(Full::new(body)) else {
        return answer(StatusCode::BAD_GATEWAY, "request not forwardable");
    };
    match call(&client, forwarded).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            strip_hop_headers(&mut parts.headers);
            let mut answered = answer(parts.status, body);
            answered.headers_mut().extend(parts.headers);
            answered
        }
        Err(_) => answer(StatusCode::BAD_GATEWAY, "moto_server unreachable"),
    }
}

/// Headers that describe one connection or one framing, rebuilt on the other side.
fn strip_hop_headers(headers: &mut HeaderMap) {
    for name in [CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING] {
        headers.remove(name);
    }
}
