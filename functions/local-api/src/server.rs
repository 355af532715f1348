//! A small HTTP/1 server that turns each request into the API Gateway-shaped request the
//! Lambdas receive (path parameters, query parameters, raw body, headers) and calls the
//! handler that `template.yaml` assigns to its route.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use shared::access::RouteScope;
use shared::error::{AppError, ErrorBody};
use shared::response::{error_response, json};
use tokio::net::TcpListener;

use crate::handlers::{States, handler};
use crate::routes::{Match, Route, TemplateError, find};

/// API Gateway HTTP APIs accept payloads up to 10 MB.
const MAX_REQUEST_BODY: usize = 10 * 1024 * 1024;

pub struct LocalApi {
    routes: Vec<Route>,
    states: States,
}

impl LocalApi {
    /// Binds every template route to its handler; a route whose binary has no handler, or a
    /// REST route without a valid `ROUTE_SCOPE`, is an error, so the template and this server
    /// cannot disagree silently.
    pub fn new(routes: Vec<Route>, states: States) -> Result<Self, TemplateError> {
        for route in &routes {
            let Some(handler) = handler(&route.binary) else {
                return Err(TemplateError::Shape(format!(
                    "no handler for binary {}",
                    route.binary
                )));
            };
            if handler.is_rest() && scope_of(route).is_none() {
                return Err(TemplateError::Shape(format!(
                    "{} declares no valid ROUTE_SCOPE",
                    route.binary
                )));
            }
        }
        Ok(Self { routes, states })
    }

    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Serves until the listener fails; each connection on its own task.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        loop {
            let (stream, peer) = listener.accept().await?;
            let app = self.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let app = app.clone();
                    // On a task of its own: a caller that hangs up does not stop the handler
                    // half-way (hyper drops the service's future), as on Lambda, where the
                    // function runs on until it answers or times out.
                    let handled = tokio::spawn(async move { app.respond(request, peer).await });
                    async move {
                        Ok::<_, Infallible>(handled.await.unwrap_or_else(|_| {
                            hyper::Response::builder()
                                .status(500)
                                .body(Full::new(Bytes::from_static(
                                    br#"{"error":{"code":"internal","message":"internal error"}}"#,
                                )))
                                .unwrap_or_default()
                        }))
                    }
                });
                if let Err(error) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(error = %error, "connection closed with an error");
                }
            });
        }
    }

    async fn respond(
        &self,
        request: hyper::Request<Incoming>,
        peer: SocketAddr,
    ) -> hyper::Response<Full<Bytes>> {
        let started = std::time::Instant::now();
        let method = request.method().to_string();
        let matched = find(&self.routes, &method, request.uri().path());
        // The route template, not the path: paths carry identifiers (phone numbers, emails).
        let route = match &matched {
            Match::Found(route, _) => route.path.as_str(),
            _ => "(no route)",
        };
        let response = self.dispatch(request, matched, peer).await;
        tracing::info!(
            method,
            route,
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "local request"
        );
        let (parts, body) = response.into_parts();
        hyper::Response::from_parts(parts, Full::new(Bytes::copy_from_slice(body.as_ref())))
    }

    async fn dispatch(
        &self,
        request: hyper::Request<Incoming>,
        matched: Match<'_>,
        peer: SocketAddr,
    ) -> lambda_http::Response<Body> {
        let (route, path_parameters) = match matched {
            Match::Found(route, params) => (route, params),
            Match::WrongMethod(allowed) => {
                // API Gateway answers a known path with another method itself; only this
                // server needs a 405, so it is not an `AppError` of the functions.
                let mut response = json(
                    http::StatusCode::METHOD_NOT_ALLOWED,
                    &ErrorBody::new("method_not_allowed", "method not allowed for this path"),
                );
                if let Ok(allow) = http::HeaderValue::from_str(&allowed) {
                    response.headers_mut().insert(http::header::ALLOW, allow);
                }
                return response;
            }
            Match::NotFound => return error_response(&AppError::not_found("route")),
        };
        let Some(handler) = handler(&route.binary) else {
            return error_response(&AppError::Internal("route without handler".into()));
        };
        let (parts, body) = request.into_parts();
        let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return error_response(&AppError::PayloadTooLarge {
                    limit: MAX_REQUEST_BODY,
                });
            }
        };
        let query = query_parameters(parts.uri.query());
        let context = request_context(route, &parts, peer);
        let lambda_request = lambda_http::Request::from_parts(parts, Body::from(body.to_vec()))
            .with_path_parameters(path_parameters)
            .with_query_string_parameters(query)
            .with_request_context(context);
        self.states
            .call(handler, scope_of(route), lambda_request)
            .await
    }
}

fn scope_of(route: &Route) -> Option<RouteScope> {
    route.scope.as_deref().and_then(RouteScope::parse)
}

/// What API Gateway tells a function about a request: the route's key, a request id, the
/// caller's address and user agent (the access log records them).
fn request_context(
    route: &Route,
    parts: &http::request::Parts,
    peer: SocketAddr,
) -> RequestContext {
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(route.key());
    context.request_id = Some(shared::db::bson::oid::ObjectId::new().to_hex());
    context.http.method = parts.method.clone();
    context.http.path = Some(parts.uri.path().to_owned());
    context.http.source_ip = Some(peer.ip().to_string());
    context.http.user_agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|agent| agent.to_str().ok())
        .map(str::to_owned);
    RequestContext::ApiGatewayV2(context)
}

fn query_parameters(query: Option<&str>) -> HashMap<String, Vec<String>> {
    let mut parameters: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        parameters
            .entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    parameters
}
