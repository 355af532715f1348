//! The AWS SDK's HTTP client: reqwest, the HTTP client the Glassix client already uses, in
//! place of the SDK's own hyper + rustls client. A function that talks to Glassix and AWS
//! links one HTTP/1.1 client instead of two, and none links HTTP/2 (AWS's regional endpoints
//! and Glassix both speak HTTP/1.1): 180 KB of `h2` and a second TLS connector less in
//! every bootstrap.

use std::collections::HashMap;
use std::sync::Mutex;
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

/// The connect and read timeouts an SDK client asks for; an unset connect timeout is the
/// SDK's default, so both spellings of the default share one client.
type Timeouts = (Duration, Option<Duration>);

fn timeouts(settings: &HttpConnectorSettings) -> Timeouts {
    (
        settings.connect_timeout().unwrap_or(CONNECT_TIMEOUT),
        settings.read_timeout(),
    )
}

/// An [`HttpClient`] for every SDK client of the process: one `reqwest::Client` (one connection
/// pool) per distinct timeout settings. Every client asks for the SDK's defaults, so a process
/// builds the one made here and no other.
pub fn reqwest_http_client() -> Result<SharedHttpClient, reqwest::Error> {
    let defaults = (CONNECT_TIMEOUT, None);
    let default = connector(defaults)?;
    Ok(SharedHttpClient::new(ReqwestClient {
        by_timeouts: Mutex::new(HashMap::from([(defaults, default.clone())])),
        default,
    }))
}

/// A connector with the SDK's timeouts: connecting, and reading (none when unset: an upload's
/// answer comes only once the whole body is sent). Operations also run under their callers'
/// deadlines (`crate::job::within`).
fn connector((connect, read): Timeouts) -> Result<SharedHttpConnector, reqwest::Error> {
    let mut builder = crate::tls::https_client().connect_timeout(connect);
    if let Some(read) = read {
        builder = builder.read_timeout(read);
    }
    Ok(SharedHttpConnector::new(ReqwestConnector(builder.build()?)))
}

#[derive(Debug)]
struct ReqwestClient {
    default: SharedHttpConnector,
    by_timeouts: Mutex<HashMap<Timeouts, SharedHttpConnector>>,
}

impl HttpClient for ReqwestClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let timeouts = timeouts(settings);
        let mut by_timeouts = self.by_timeouts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(connector) = by_timeouts.get(&timeouts) {
            return connector.clone();
        }
        match connector(timeouts) {
            Ok(made) => by_timeouts.entry(timeouts).or_insert(made).clone(),
            // Building a client fails only where the first one (`default`) already would have.
            Err(_) => self.default.clone(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_defaults_whether_spelled_out_or_unset_are_one_client() {
        let unset = HttpConnectorSettings::builder().build();
        let spelled_out = HttpConnectorSettings::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .build();
        assert_eq!(timeouts(&unset), timeouts(&spelled_out));
        assert_eq!(timeouts(&unset), (CONNECT_TIMEOUT, None));
    }
}
