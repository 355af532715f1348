//! The archive viewer: `GET /` answers the page, `GET /viewer/{asset}` its script, stylesheet
//! and icon. Every file is embedded at build time (`build.rs`) under a name holding its
//! content hash, so assets are cached for a year and a new build is picked up at once (the
//! page itself is never cached).
//!
//! No bearer token is asked for here: the page holds nothing but code, and it sends the token
//! a person pastes with every API call it makes. What the page shows comes from those calls.
//!
//! Every answer carries a strict Content-Security-Policy: scripts, styles and frames from this
//! origin only, nothing inline, no framing by other sites. Archived e-mail HTML is shown in a
//! sandboxed `srcdoc` frame without scripts or origin; that frame inherits this policy too.

use lambda_http::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::error::AppError;
use shared::request::path_param;
use shared::response::error_response;

/// One embedded file, under its fingerprinted name.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The page, with the fingerprinted names of its assets.
pub const PAGE: &str = include_str!(concat!(env!("OUT_DIR"), "/index.html"));

/// A fingerprinted name never changes content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The page names the current assets: revalidate it every time.
const NO_CACHE: &str = "no-cache";

/// The served assets (for tests and size checks).
pub fn assets() -> &'static [Asset] {
    ASSETS
}

/// What every viewer answer carries. Built once per cold start.
pub struct Viewer {
    policy: HeaderValue,
}

impl Viewer {
    /// `file_origins`: where the attachment route may redirect a download (the bucket's
    /// pre-signed links), which the page then fetches.
    pub fn new(file_origins: &[String]) -> Self {
        let mut connect = String::from("'self'");
        for origin in file_origins {
            connect.push(' ');
            connect.push_str(origin);
        }
        // `blob:` images are attachment files fetched with the bearer header (an <img src>
        // cannot send it). No 'unsafe-inline' anywhere: the page builds its DOM from text.
        let policy = format!(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
             connect-src {connect}; frame-src 'self'; object-src 'none'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'"
        );
        Self {
            policy: HeaderValue::from_str(&policy)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        }
    }

    /// From the environment the attachment route also sees: with `FILES_BUCKET`, its
    /// pre-signed links go to the bucket's S3 host (or to `AWS_ENDPOINT_URL_S3` /
    /// `AWS_ENDPOINT_URL` where those override it, i.e. moto).
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self::new(&file_origins(
            var("FILES_BUCKET").as_deref(),
            var("AWS_REGION").as_deref(),
            var("AWS_ENDPOINT_URL_S3")
                .or_else(|| var("AWS_ENDPOINT_URL"))
                .as_deref(),
        ))
    }

    /// The page for `GET /`, an asset for `GET /viewer/{asset}`, 404 for an unknown asset.
    pub fn handle(&self, request: &Request) -> Response<Body> {
        let mut response = match path_param(request, "asset") {
            Err(_) => file(StatusCode::OK, "text/html; charset=utf-8", NO_CACHE, PAGE),
            Ok(name) => match ASSETS.iter().find(|asset| asset.name == name) {
                Some(asset) => file(StatusCode::OK, asset.content_type, IMMUTABLE, asset.body),
                None => {
                    let mut missing = error_response(&AppError::not_found("asset"));
                    missing
                        .headers_mut()
                        .insert(CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
                    missing
                }
            },
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_SECURITY_POLICY, self.policy.clone());
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        // For browsers that predate `frame-ancestors`.
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        response
    }
}

/// A plain function over a `Viewer` (what `local-api` maps the binary to).
pub fn handle(viewer: &Viewer, request: &Request) -> Response<Body> {
    viewer.handle(request)
}

/// The origins a pre-signed download link of the bucket can point at. The SDK signs
/// virtual-hosted links on the regional host; the global host is allowed as well, which
/// us-east-1 links may use.
pub fn file_origins(
    bucket: Option<&str>,
    region: Option<&str>,
    endpoint: Option<&str>,
) -> Vec<String> {
    let Some(bucket) = bucket else {
        return Vec::new();
    };
    if let Some(endpoint) = endpoint {
        return vec![endpoint.trim_end_matches('/').to_owned()];
    }
    let mut origins = Vec::new();
    if let Some(region) = region {
        origins.push(format!("https://{bucket}.s3.{region}.amazonaws.com"));
    }
    origins.push(format!("https://{bucket}.s3.amazonaws.com"));
    origins
}

fn file(
    status: StatusCode,
    content_type: &'static str,
    cache: &'static str,
    body: &'static str,
) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_owned()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
