//! A Glassix stand-in on `wiremock` that speaks the documented API shapes.

use secrecy::SecretString;
use wiremock::matchers::{method, path};
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
