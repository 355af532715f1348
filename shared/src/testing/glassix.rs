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
