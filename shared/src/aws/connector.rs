//! The AWS SDK's HTTP client: reqwest, the HTTP client the Glassix client already uses, in
//! place of the SDK's own hyper + rustls client. A function that talks to Glassix and AWS
//! links one HTTP/1.1 client instead of two, and none links HTTP/2 (AWS's regional endpoints
//! and Glassix both speak HTTP/1.1): 180 KB of `h2` and a second TLS connector less in
//! every bootstrap.

use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

/// What the SDK allows for a connection by default (`BehaviorVersion::latest()`).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// An [`HttpClient`] for every SDK client of the process, sending over one `reqwest::Client`
/// (one connection pool).
pub fn reqwest_http_client() -> Result<SharedHttpClient, reqwest::Error> {
    let http = crate::tls::https_client()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()?;
    Ok(SharedHttpClient::new(ReqwestClient(
        SharedHttpConnector::new(ReqwestConnector(http)),
    )))
}

#[derive(Debug)]
struct ReqwestClient(SharedHttpConnector);

impl HttpClient for ReqwestClient {
    /// The one connector, whatever the settings: the connect timeout is the SDK's default,
    /// and operations run under the callers' own deadlines (`tokio::time::timeout_at`).
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.clone()
    }
}

#[derive(Debug)]
struct ReqwestConnector(reqwest::Client);

impl HttpConnector for ReqwestConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.0.clone();
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(e.into()))?;
            let (parts, body) = request.into_parts();
            // Headers as signed; the body streams (a file upload is not read into memory).
            let response = http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(reqwest::Body::wrap(body))
                .send()
                .await
                .map_err(connector_error)?;
            let (parts, body) = http::Response::from(response).into_parts();
            HttpResponse::try_from(http::Response::from_parts(
                parts,
                SdkBody::from_body_1_x(body),
            ))
            .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// Classified as the SDK's retry strategy expects: timeouts and failed connections are
/// retried, anything else is not.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_connect() || error.is_request() {
        ConnectorError::io(error.into())
    } else {
        ConnectorError::other(error.into(), None)
    }
}
