//! A Glassix stand-in on `wiremock` that speaks the documented API shapes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use secrecy::SecretString;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::fixture;
use crate::config::GlassixSettings;
use crate::glassix::GlassixClient;

/// The API secret that signs test webhooks and the events in `events/` (documented there).
pub const TEST_API_SECRET: &str = "test-api-secret";
pub const BASE_PATH: &str = "/api/v1.2";

pub struct GlassixStub {
    pub server: MockServer,
}

impl GlassixStub {
    /// A stub whose token endpoint answers with the token fixture.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("{BASE_PATH}/token/get")))
            .respond_with(json_fixture("glassix/token-response.json"))
            .named("token/get")
            .mount(&server)
            .await;
        Self { server }
    }

    /// A stub with no routes at all.
    pub async fn bare() -> Self {
        Self {
            server: MockServer::start().await,
        }
    }

    /// Answers every `verb` request to `below_base` (a path under the API base) with `response`.
    pub async fn answer(&self, verb: &str, below_base: &str, response: impl Respond + 'static) {
        Mock::given(method(verb))
            .and(path(format!("{BASE_PATH}/{below_base}")))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// Answers the first `times` such requests with `response`, ahead of any `answer`.
    pub async fn answer_first(
        &self,
        times: u64,
        verb: &str,
        below_base: &str,
        response: impl Respond + 'static,
    ) {
        Mock::given(method(verb))
            .and(path(format!("{BASE_PATH}/{below_base}")))
            .respond_with(response)
            .up_to_n_times(times)
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    pub fn base_url(&self) -> String {
        format!("{}{BASE_PATH}", self.server.uri())
    }

    pub fn settings(&self) -> GlassixSettings {
        GlassixSettings {
            base_url: url::Url::parse(&format!("{}/", self.base_url())).expect("stub URL"),
            api_key: SecretString::from("0f9c7c1e-1111-2222-3333-444455556666"),
            api_secret: SecretString::from(TEST_API_SECRET),
            user_name: "api-bot@example.com".into(),
        }
    }

    pub fn client(&self) -> GlassixClient {
        GlassixClient::new(self.settings()).expect("HTTP client")
    }

    /// Requests received whose method and path (below the base path) match.
    pub async fn received(&self, verb: &str, path_below_base: &str) -> Vec<Request> {
        let wanted = format!("{BASE_PATH}/{path_below_base}");
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.method.as_str() == verb && r.url.path() == wanted)
            .collect()
    }

    pub async fn all_received(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// A stub that answers every endpoint the service calls, each call after `delay` (as it is
    /// when the call arrives): the token; tags (the ticket then has exactly the tags sent);
    /// notes; the ticket fixture for any id; an empty list; the scramble.
    pub async fn answering_everything(delay: &Delay) -> Self {
        let stub = Self::bare().await;
        let ticket = fixture("glassix/ticket.json");
        let token = fixture("glassix/token-response.json");
        let json =
            |body: Vec<u8>| ResponseTemplate::new(200).set_body_raw(body, "application/json");
        let routes: [(&str, &str, ResponseTemplate); 5] = [
            ("POST", "token/get", json(token)),
            ("POST", r"tickets/addnote/\d+", json(b"{}".to_vec())),
            ("GET", r"tickets/get/\d+", json(ticket)),
            (
                "GET",
                "tickets/list",
                json(br#"{"tickets":[],"paging":{"next":null}}"#.to_vec()),
            ),
            ("DELETE", r"tickets/scramble/\d+", json(b"{}".to_vec())),
        ];
        for (verb, below_base, response) in routes {
            stub.answer_matching(verb, below_base, Delayed(delay.clone(), response))
                .await;
        }
        let echo = move |request: &Request| json(request.body.clone());
        stub.answer_matching("POST", r"tickets/addtags/\d+", Delayed(delay.clone(), echo))
            .await;
        stub
    }

    /// Answers every `verb` request whose path below the base matches the regex `below_base`.
    async fn answer_matching(
        &self,
        verb: &str,
        below_base: &str,
        response: impl Respond + 'static,
    ) {
        let base = BASE_PATH.replace('.', r"\.");
        Mock::given(method(verb))
            .and(path_regex(format!("^{base}/{below_base}$")))
            .respond_with(response)
            .mount(&self.server)
            .await;
    }

    /// Calls received so far by endpoint, ids left out: `POST tickets/addnote/{id}`, ….
    pub async fn calls(&self) -> BTreeMap<String, u64> {
        let mut calls = BTreeMap::new();
        for request in self.all_received().await {
            let below_base = request
                .url
                .path()
                .strip_prefix(BASE_PATH)
                .unwrap_or_default()
                .trim_start_matches('/');
            let endpoint = match below_base.rsplit_once('/') {
                Some((base, id)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                    format!("{base}/{{id}}")
                }
                _ => below_base.to_owned(),
            };
            *calls
                .entry(format!("{} {endpoint}", request.method))
                .or_default() += 1;
        }
        calls
    }
}

/// How long a stub made by [`GlassixStub::answering_everything`] waits before each answer;
/// changed while it runs, it applies from the next call on.
#[derive(Debug, Clone, Default)]
pub struct Delay(Arc<AtomicU64>);

impl Delay {
    pub fn new(delay: Duration) -> Self {
        let this = Self::default();
        this.set(delay);
        this
    }

    pub fn set(&self, delay: Duration) {
        let micros = u64::try_from(delay.as_micros()).unwrap_or(u64::MAX);
        self.0.store(micros, Ordering::Relaxed);
    }

    pub fn get(&self) -> Duration {
        Duration::from_micros(self.0.load(Ordering::Relaxed))
    }
}

/// `R`'s answer, sent after the delay's current value.
struct Delayed<R>(Delay, R);

impl<R: Respond> Respond for Delayed<R> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.1.respond(request).set_delay(self.0.get())
    }
}

pub fn json_fixture(name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(fixture(name), "application/json")
}

/// A ticket that lives in the stub the way it lives in Glassix: `GET tickets/get/{id}` answers
/// its current state, `DELETE tickets/scramble/{id}` scrambles it (so a later GET says
/// `isScrambled`), and changes can be scheduled to happen right after the n-th GET was
/// answered (a message arriving, the ticket reopened) while a job is between its steps.
#[derive(Clone)]
pub struct LiveTicket(std::sync::Arc<std::sync::Mutex<Live>>);

type TicketChange = Box<dyn FnMut(&mut serde_json::Value) + Send>;

struct Live {
    ticket: serde_json::Value,
    gets: usize,
    changes: Vec<(usize, TicketChange)>,
    scramble_answer: u16,
    delay: std::time::Duration,
}

impl LiveTicket {
    /// Mounts GET and DELETE scramble for `ticket["id"]` on the stub, and serves every
    /// attachment's file from the stub at `/files/{ticket}/{transaction}/{attachment}` (the
    /// attachment's `uri` is rewritten to it, as Glassix hands out its own pre-signed links),
    /// 1 KiB of bytes derived from the path unless [`LiveTicket::serve_file`] says otherwise.
    pub async fn mount(stub: &GlassixStub, mut ticket: serde_json::Value) -> Self {
        let id = ticket["id"].as_i64().expect("the ticket has an id");
        let files = link_files(&mut ticket, &stub.server.uri());
        for path in files {
            let bytes = sample_bytes(&path, 1024);
            Mock::given(method("GET"))
                .and(wiremock::matchers::path(path))
                .respond_with(ResponseTemplate::new(200).set_body_raw(bytes, "image/jpeg"))
                .mount(&stub.server)
                .await;
        }
        let live = Self(std::sync::Arc::new(std::sync::Mutex::new(Live {
            ticket,
            gets: 0,
            changes: Vec::new(),
            scramble_answer: 200,
            delay: std::time::Duration::ZERO,
        })));
        stub.answer("GET", &format!("tickets/get/{id}"), LiveGet(live.clone()))
            .await;
        stub.answer(
            "DELETE",
            &format!("tickets/scramble/{id}"),
            LiveScramble(live.clone()),
        )
        .await;
        live
    }

    /// Serves `bytes` as the file of an attachment (ahead of the default 1 KiB).
    pub async fn serve_file(
        &self,
        stub: &GlassixStub,
        transaction_id: i64,
        attachment_id: i64,
        response: impl Respond + 'static,
    ) {
        let path = file_path(self.id(), transaction_id, attachment_id);
        Mock::given(method("GET"))
            .and(wiremock::matchers::path(path))
            .respond_with(response)
            .with_priority(2)
            .mount(&stub.server)
            .await;
    }

    /// Points an attachment's link somewhere else (a server that misbehaves).
    pub fn link_attachment(&self, transaction_id: i64, attachment_id: i64, uri: &str) {
        let mut live = self.lock();
        for transaction in live.ticket["transactions"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            if transaction["id"] != transaction_id {
                continue;
            }
            for attachment in transaction["attachments"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                if attachment["id"] == attachment_id {
                    attachment["uri"] = uri.into();
                }
            }
        }
    }

    /// How many times an attachment's file was requested.
    pub async fn file_requests(
        &self,
        stub: &GlassixStub,
        transaction_id: i64,
        attachment_id: i64,
    ) -> usize {
        let path = file_path(self.id(), transaction_id, attachment_id);
        stub.all_received()
            .await
            .iter()
            .filter(|r| r.url.path() == path)
            .count()
    }

    fn id(&self) -> i64 {
        self.lock().ticket["id"].as_i64().expect("id")
    }

    /// Applies `change` to the ticket right after the `nth` GET (1-based) was answered.
    pub fn after_get(
        &self,
        nth: usize,
        change: impl FnMut(&mut serde_json::Value) + Send + 'static,
    ) {
        self.lock().changes.push((nth, Box::new(change)));
    }

    /// What DELETE scramble answers after scrambling (a lost or odd answer: 409, 502, …).
    pub fn answer_scramble_with(&self, status: u16) {
        self.lock().scramble_answer = status;
    }

    /// Every GET answers after `delay` (to make two jobs overlap).
    pub fn delay_gets(&self, delay: std::time::Duration) {
        self.lock().delay = delay;
    }

    /// Scrambles the ticket now, as Glassix's DELETE does.
    pub fn scramble_now(&self) {
        let mut live = self.lock();
        live.ticket = scrambled(live.ticket.take());
    }

    pub fn ticket(&self) -> serde_json::Value {
        self.lock().ticket.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Live> {
        self.0.lock().expect("live ticket")
    }
}

struct LiveGet(LiveTicket);

impl Respond for LiveGet {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut live = self.0.lock();
        live.gets += 1;
        let answer = ResponseTemplate::new(200)
            .set_body_json(live.ticket.clone())
            .set_delay(live.delay);
        let nth = live.gets;
        let Live {
            ticket, changes, ..
        } = &mut *live;
        for (when, change) in changes.iter_mut() {
            if *when == nth {
                change(ticket);
            }
        }
        answer
    }
}

struct LiveScramble(LiveTicket);

impl Respond for LiveScramble {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.scramble_now();
        ResponseTemplate::new(self.0.lock().scramble_answer)
    }
}

/// Where the stub serves an attachment's file.
pub fn file_path(ticket_id: i64, transaction_id: i64, attachment_id: i64) -> String {
    format!("/files/{ticket_id}/{transaction_id}/{attachment_id}")
}

/// Points every attachment's `uri` at the stub; returns the paths to serve.
fn link_files(ticket: &mut serde_json::Value, base: &str) -> Vec<String> {
    let ticket_id = ticket["id"].as_i64().unwrap_or_default();
    let mut paths = Vec::new();
    for transaction in ticket["transactions"].as_array_mut().into_iter().flatten() {
        let transaction_id = transaction["id"].as_i64().unwrap_or_default();
        for attachment in transaction["attachments"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            let Some(attachment_id) = attachment["id"].as_i64() else {
                continue;
            };
            let path = file_path(ticket_id, transaction_id, attachment_id);
            attachment["uri"] = format!("{base}{path}?X-Amz-Expires=21600").into();
            paths.push(path);
        }
    }
    paths
}

/// `len` bytes that differ from file to file and are not all alike.
pub fn sample_bytes(seed: &str, len: usize) -> Vec<u8> {
    let mut state = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// How a misbehaving file server ends its answer.
#[derive(Debug, Clone, Copy)]
pub enum CutBody {
    /// `Content-Length: announced`, then only `sent` bytes and the connection closes.
    ShortOfContentLength { announced: usize, sent: usize },
    /// A chunked body cut in the middle of a chunk.
    MidChunk { sent: usize },
}

/// A server that starts a 200 answer and closes the connection before its body is complete.
/// Returns its URL.
pub async fn cut_body_server(cut: CutBody) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0_u8; 4096];
            let _ = socket.read(&mut request).await;
            let (head, sent) = match cut {
                CutBody::ShortOfContentLength { announced, sent } => (
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: {announced}\r\n\r\n"
                    ),
                    sent,
                ),
                CutBody::MidChunk { sent } => (
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n",
                        sent * 2
                    ),
                    sent,
                ),
            };
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&vec![7_u8; sent]).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{address}/cut")
}

/// A server whose 200 answer is a chunked body that never ends (until the reader hangs up).
/// Returns its URL.
pub async fn endless_body_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (address, _) = super::loopback::accept(|mut socket: tokio::net::TcpStream| async move {
        let mut request = [0_u8; 4096];
        let _ = socket.read(&mut request).await;
        let head =
            "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ntransfer-encoding: chunked\r\n\r\n";
        let chunk = format!("10000\r\n{}\r\n", "x".repeat(0x10000));
        if socket.write_all(head.as_bytes()).await.is_ok() {
            while socket.write_all(chunk.as_bytes()).await.is_ok() {}
        }
    })
    .await
    .expect("port");
    format!("http://{address}/endless")
}

/// What Glassix's scramble leaves of a ticket: the flag set, text and names overwritten.
pub fn scrambled(mut ticket: serde_json::Value) -> serde_json::Value {
    ticket["isScrambled"] = true.into();
    if let Some(transactions) = ticket["transactions"].as_array_mut() {
        for transaction in transactions {
            transaction["text"] = "*****".into();
            transaction["html"] = "*****".into();
        }
    }
    if let Some(participants) = ticket["participants"].as_array_mut() {
        for participant in participants {
            participant["name"] = "*****".into();
        }
    }
    ticket
}

/// A transaction as Glassix sends it, for tests that add one to a live ticket.
pub fn message(id: i64, text: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "dateTime": "2024-03-10T09:01:59.120Z",
        "type": "Message",
        "text": text,
        "html": "",
        "fromParticipant": {"type": "Client", "identifier": "972521234567", "name": "Dana Cohen"},
        "attachments": []
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `verb` to `below_base` on the stub: the status, the body, and how long it took.
    async fn call(
        stub: &GlassixStub,
        verb: reqwest::Method,
        below_base: &str,
        body: &'static str,
    ) -> (u16, String, Duration) {
        let started = std::time::Instant::now();
        let answer = crate::testing::http_client()
            .request(verb, format!("{}/{below_base}", stub.base_url()))
            .body(body)
            .send()
            .await
            .expect("answered");
        let status = answer.status().as_u16();
        let text = answer.text().await.expect("a body");
        (status, text, started.elapsed())
    }

    #[tokio::test]
    async fn answering_everything_waits_the_current_delay_and_counts_calls_by_endpoint() {
        use reqwest::Method;
        let delay = Delay::new(Duration::from_millis(150));
        let stub = GlassixStub::answering_everything(&delay).await;

        let (status, token, took) = call(&stub, Method::POST, "token/get", "").await;
        assert_eq!(status, 200);
        assert!(took >= Duration::from_millis(150), "{took:?}");
        assert!(token.contains("\"access_token\""), "{token}");

        delay.set(Duration::ZERO);
        let tags = r#"["archived-by-ctm"]"#;
        let (_, echoed, took) = call(&stub, Method::POST, "tickets/addtags/48213977", tags).await;
        assert!(took < Duration::from_millis(150), "{took:?}");
        assert_eq!(echoed, tags);
        for id in [1, 2] {
            let (_, ticket, _) = call(&stub, Method::GET, &format!("tickets/get/{id}"), "").await;
            let ticket: serde_json::Value = serde_json::from_str(&ticket).expect("JSON");
            assert_eq!(ticket["id"], 48213977);
        }
        let (status, _, _) = call(&stub, Method::GET, "tickets/unknown", "").await;
        assert_eq!(status, 404);

        let expected: BTreeMap<String, u64> = [
            ("POST token/get", 1),
            ("POST tickets/addtags/{id}", 1),
            ("GET tickets/get/{id}", 2),
            ("GET tickets/unknown", 1),
        ]
        .into_iter()
        .map(|(endpoint, n)| (endpoint.to_owned(), n))
        .collect();
        assert_eq!(stub.calls().await, expected);
    }
}
