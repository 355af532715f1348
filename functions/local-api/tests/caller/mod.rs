//! A client of the local API over HTTP, for the test files that call it with many tokens.

/// A caller of the local API over HTTP, as a client with a bearer token sees it.
pub struct Caller {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    http: reqwest::Client,
}

impl Caller {
    /// local-api over `store` and `files`, accepting `tokens` (`API_TOKENS`' JSON), serving on
    /// a free loopback port (test files that include this also include `common`).
    pub async fn serving(
        store: &shared::db::Store,
        tokens: &str,
        files: shared::files::FileStore,
    ) -> Self {
        let api =
            shared::testing::requests::api_state_accepting(store.clone(), tokens).with_files(files);
        let states = local_api::handlers::States::new(api, None);
        Self::new(crate::common::serve_on_loopback(states).await)
    }

    pub fn new(base: String) -> Self {
        Self {
            base,
            http: shared::testing::http_client(),
        }
    }

    /// `method path` with `token` and a JSON `body`: the status and the JSON answer (`Null`
    /// when there is none). Sent with the user agent `access-test/1.0`.
    pub async fn send(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {token}"))
            .header("user-agent", "access-test/1.0");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }
}
