//! API Gateway-shaped requests for handler tests, and readers for their responses.

use std::collections::HashMap;
use std::time::Duration;

use lambda_http::{Body, Request, RequestExt, Response};

use super::glassix::{GlassixStub, TEST_API_SECRET};
use crate::access::{ApiTokens, RouteScope};
use crate::credentials::{Credentials, LiveCredentials};
use crate::db::Store;
use crate::files::FileStore;
use crate::glassix::inbound::sign;
use crate::queue::LocalQueue;
use crate::state::{ApiState, ClosingState, NewTicketState, WorkerState};

pub const TEST_API_TOKEN: &str = "test-token-0123456789abcdefghijklmn";

/// A webhook POST carrying `signature` as `X-Hub-Signature` (or none).
pub fn webhook(body: impl Into<Vec<u8>>, signature: Option<String>) -> Request {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri("https://api.example.com/webhooks/glassix")
        .header("content-type", "application/json");
    if let Some(signature) = signature {
        builder = builder.header("X-Hub-Signature", signature);
    }
    builder
        .body(Body::Binary(body.into()))
        .expect("valid request")
}

/// A webhook POST signed with the test API secret, as Glassix would sign it.
pub fn signed_webhook(body: &[u8]) -> Request {
    webhook(body.to_vec(), Some(sign(TEST_API_SECRET, body)))
}

/// A signed webhook POST that also carries `date` as `X-Glassix-Auth-Date`, signed under
/// `signature_header` (Glassix's documented name, or the one its SDK reads).
pub fn dated_webhook(body: &[u8], date: &str, signature_header: &str) -> Request {
    let mut request = signed_webhook(body);
    let headers = request.headers_mut();
    let value = |text: &str| http::HeaderValue::from_str(text).expect("a header value");
    headers.insert("x-glassix-auth-date", value(date));
    headers.insert(
        http::HeaderName::from_bytes(signature_header.as_bytes()).expect("a header name"),
        value(&sign(TEST_API_SECRET, date.as_bytes())),
    );
    request
}

/// The Glassix credentials of `stub`: its API secret signs the test webhooks.
fn glassix_credentials(stub: &GlassixStub) -> std::sync::Arc<LiveCredentials> {
    std::sync::Arc::new(LiveCredentials::fixed(Credentials::new(
        Ok(ApiTokens::parse(&api_tokens()).expect("valid API_TOKENS")),
        Ok(stub.settings()),
    )))
}

/// The time a webhook delivery is given: the deployed default.
pub const WEBHOOK_BUDGET: Duration = Duration::from_millis(4500);

pub async fn new_ticket_state(stub: &GlassixStub, store: Store) -> NewTicketState {
    NewTicketState {
        store,
        glassix: stub.client(),
        credentials: glassix_credentials(stub),
        budget: WEBHOOK_BUDGET,
        new_ticket_tags: vec!["archived-by-ctm".into()],
    }
}

/// The state-change webhook on a local queue in `store`'s database.
pub fn closing_state(stub: &GlassixStub, store: Store) -> ClosingState<LocalQueue> {
    ClosingState {
        credentials: glassix_credentials(stub),
        budget: WEBHOOK_BUDGET,
        queue: LocalQueue::new(store),
    }
}

/// The archive worker on `store`, `stub` and a local file store of its own.
pub fn worker_state(stub: &GlassixStub, store: Store) -> WorkerState {
    WorkerState {
        store,
        glassix: stub.client(),
        files: super::local_files(),
    }
}

/// A REST state accepting the test tokens (every scope) on a route any of them may call, so
/// nothing is logged; scopes and the access log are tested through `local-api`, which reads
/// each route's scope from the template (`functions/local-api/tests/access.rs`).
pub fn api_state(store: Store) -> ApiState {
    api_state_accepting(store, &api_tokens())
}

/// A REST state with a local file store of its own, for the routes that serve or erase files.
pub fn api_state_with_files(store: Store) -> ApiState<FileStore> {
    api_state(store).with_files(super::local_files())
}

/// A REST state that accepts exactly `tokens` (as `API_TOKENS` gives them).
pub fn api_state_accepting(store: Store, tokens: &str) -> ApiState {
    let tokens = ApiTokens::parse(tokens).expect("valid API_TOKENS");
    ApiState {
        store,
        credentials: std::sync::Arc::new(LiveCredentials::fixed(Credentials::new(
            Ok(tokens),
            Err(crate::config::ConfigError::Missing(
                crate::config::keys::GLASSIX_API_KEY,
            )),
        ))),
        files: crate::state::NoFiles,
        route: Some(RouteScope::AnyToken),
        access_log_retention: chrono::Duration::days(730),
    }
}

/// The tokens the test states accept: the test token and a second one (rotation), named
/// `token-1` and `token-2`, each with every scope.
pub fn api_tokens() -> String {
    format!("{TEST_API_TOKEN},second-token-for-rotation-0123456789")
}

/// A REST request as API Gateway hands it over: path parameters already extracted.
pub struct ApiRequest {
    builder: http::request::Builder,
    path_parameters: HashMap<String, String>,
    query: HashMap<String, String>,
    body: Body,
}

impl ApiRequest {
    /// An authenticated request (`Authorization: Bearer <test token>`).
    pub fn new(method: &str, path: &str) -> Self {
        Self::anonymous(method, path).header("authorization", &format!("Bearer {TEST_API_TOKEN}"))
    }

    pub fn anonymous(method: &str, path: &str) -> Self {
        Self {
            builder: http::Request::builder()
                .method(method)
                .uri(format!("https://api.example.com{path}")),
            path_parameters: HashMap::new(),
            query: HashMap::new(),
            body: Body::Empty,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }

    pub fn path(mut self, name: &str, value: &str) -> Self {
        self.path_parameters.insert(name.into(), value.into());
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.insert(name.into(), value.into());
        self
    }

    pub fn json(mut self, value: serde_json::Value) -> Self {
        self.body = Body::Text(value.to_string());
        self
    }

    pub fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Binary(body.into());
        self
    }

    pub fn build(self) -> Request {
        self.builder
            .body(self.body)
            .expect("valid request")
            .with_path_parameters(self.path_parameters)
            .with_query_string_parameters(self.query)
    }
}

/// The response body as JSON (`Null` when empty).
pub fn json_body(response: &Response<Body>) -> serde_json::Value {
    let bytes: &[u8] = response.body().as_ref();
    if bytes.is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!(
            "response is not JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        )
    })
}

/// The error code of an error response, after checking the content type and shape.
pub fn error_code(response: &Response<Body>) -> String {
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let body = json_body(response);
    assert!(body["error"]["message"].is_string(), "error shape: {body}");
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Asserts that `handle` refuses `request` without a token, with a wrong token and with a
/// non-bearer scheme: 401 with the JSON error shape.
pub async fn assert_requires_token<F, Fut>(handle: F, method: &str, path: &str)
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Response<Body>>,
{
    let cases = [
        ("no token", ApiRequest::anonymous(method, path)),
        (
            "wrong token",
            ApiRequest::anonymous(method, path).header("authorization", "Bearer not-a-valid-token"),
        ),
        (
            "basic scheme",
            ApiRequest::anonymous(method, path)
                .header("authorization", &format!("Basic {TEST_API_TOKEN}")),
        ),
        (
            "token prefix",
            ApiRequest::anonymous(method, path).header(
                "authorization",
                &format!("Bearer {}", &TEST_API_TOKEN[..10]),
            ),
        ),
    ];
    for (name, request) in cases {
        let response = handle(request.json(serde_json::json!({})).build()).await;
        assert_eq!(response.status(), 401, "{name}");
        assert_eq!(error_code(&response), "unauthorized", "{name}");
    }
}

/// Seeds a client through the store.
pub async fn seed_client(store: &Store, identifier: &str, name: Option<&str>) {
    store
        .create_client(crate::db::NewClient {
            identifier: identifier.into(),
            name: name.map(str::to_owned),
        })
        .await
        .expect("seed client");
}

/// Seeds a ticket of an existing client through the store, from `ticket_body(ticket_id)`.
pub async fn seed_ticket(store: &Store, identifier: &str, ticket_id: i64) {
    let body: crate::api::CreateTicketBody =
        serde_json::from_value(ticket_body(ticket_id)).expect("a valid ticket body");
    let ticket = body.validate(identifier.to_owned()).expect("valid ticket");
    store.create_ticket(ticket).await.expect("seed ticket");
}

/// A valid ticket body as the REST API accepts it.
pub fn ticket_body(ticket_id: i64) -> serde_json::Value {
    serde_json::json!({
        "ticketId": ticket_id,
        "clientName": "דנה כהן",
        "ticketOpeningDate": "2024-03-10T08:15:42.370Z",
        "protocolType": "WhatsApp",
        "transactions": [{
            "id": 905113201,
            "dateTime": "2024-03-10T08:15:42.487Z",
            "type": "Message",
            "text": "שלום 😕",
            "senderName": "Dana Cohen",
            "senderType": "Client",
            "attachments": [{"id": 7781204, "type": "Image", "originalFileName": "קבלה.jpg"}]
        }],
        "tags": ["Refund"]
    })
}
