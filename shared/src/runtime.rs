//! The entry points of the Lambda binaries, three in all: [`run_rest`] for REST routes,
//! [`run_http`] for the other HTTP functions (webhooks, the viewer) and [`run_event`] for the
//! SQS worker, the schedule and the deploy-time migration. Each sets up logging, builds its
//! state once per cold start ([`from_config`]) and serves every invocation with it.
//!
//! Every Lambda `main` runs these on tokio's current-thread runtime: Lambda hands a process one
//! event at a time, so worker threads would only add their stacks, allocator arenas and start
//! time to each cold start. Concurrency within an event (`tokio::join!`, the driver's
//! background tasks) is unaffected. `local-api` serves many requests at once and keeps the
//! multi-threaded runtime.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures_util::TryFutureExt;
use futures_util::future::{Either, MapOk, Ready, ready};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, IntoResponse, Request, Response, Service, service_fn};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{Config, ConfigError, keys};
use crate::error::AppError;
use crate::response::error_response;
use crate::rest::{RestHandler, serve};
use crate::state::{ApiState, FromConfig, RouteFiles};

/// Runs a REST route: the bearer token is checked before `handler` sees a request. The
/// route's type says whether it has the archived files (`ApiState<FileStore>`).
pub async fn run_rest<F: RouteFiles>(handler: RestHandler<F>) -> Result<(), lambda_http::Error> {
    run_http(rest_state::<F>(), move |state, request| {
        serve(state, request, handler)
    })
    .await
}

/// A REST function's state; a function whose template declares no `ROUTE_SCOPE` does not
/// start, rather than serve a route nobody said who may call.
async fn rest_state<F: RouteFiles>() -> Result<ApiState<F>, AppError> {
    let state = from_config::<ApiState<F>>().await?;
    if state.route.is_none() {
        tracing::error!(
            "configuration is incomplete: {} is missing",
            keys::ROUTE_SCOPE
        );
        return Err(ConfigError::Missing(keys::ROUTE_SCOPE).into());
    }
    Ok(state)
}

/// Sets up tracing (JSON when the Lambda log format says so), builds the state once per cold
/// start with `init` (usually [`from_config`]), then serves every request with `handler`.
pub async fn run_http<S, Handler, Fut>(
    init: impl Future<Output = Result<S, AppError>>,
    handler: Handler,
) -> Result<(), lambda_http::Error>
where
    S: Send + Sync + 'static,
    Handler: Fn(&'static S, Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    init_logging();
    let state = cold_start(init).await?;
    // What `lambda_http::run` does, with undecodable bodies answered before lambda_http reads
    // them (see `DecodableBodies`). `Adapter` and `LambdaRequest` are public but undocumented
    // in lambda_http (its `run` is built on them): a release that changes them fails to
    // compile here, it cannot change this silently.
    lambda_runtime::run(http_service(state, handler)).await
}

/// The service an HTTP function runs: API Gateway events in, `handler`'s responses out as
/// they are (see [`AsIs`]), undecodable bodies refused before lambda_http reads them.
pub fn http_service<S, Handler, Fut>(
    state: &'static S,
    handler: Handler,
) -> impl Service<LambdaEvent<LambdaRequest>, Response = impl Serialize, Error = Infallible>
where
    S: Send + Sync + 'static,
    Handler: Fn(&'static S, Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    DecodableBodies(lambda_http::Adapter::from(service_fn(move |request| {
        let response = handler(state, request);
        async move { Ok::<_, Infallible>(AsIs(response.await)) }
    })))
}

/// A response handed to API Gateway with the body it has. lambda_http's own conversion of a
/// `Response<Body>` decodes every body with a text `Content-Type` by its declared charset:
/// an archived text file in another encoding (or not valid UTF-8) would reach its reader
/// altered, and the decoder links encoding_rs's tables (150 KB) into every bootstrap. Our
/// bodies are already what their type says: JSON and pages as text, files as bytes.
struct AsIs(Response<Body>);

impl IntoResponse for AsIs {
    fn into_response(self) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> {
        Box::pin(ready(self.0))
    }
}

/// Why an API Gateway event cannot become a request: its body is marked `isBase64Encoded`
/// but is not base64. `None` for every other event.
///
/// lambda_http decodes such a body with `expect`: the invocation would panic and API Gateway
/// would answer a bare 500 instead of the error shape.
pub fn undecodable_body(event: &LambdaRequest) -> Option<AppError> {
    use base64::Engine;
    let body = match event {
        LambdaRequest::ApiGatewayV2(request) if request.is_base64_encoded => {
            request.body.as_deref()
        }
        _ => None,
    }?;
    // The engine lambda_http decodes with, so that what passes here cannot panic there.
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .err()
        .map(|_| AppError::BadRequest("the body is marked base64-encoded but is not base64".into()))
}

/// Answers an event whose body is not what it claims to be (`undecodable_body`) with the 400
/// of the error shape; hands every other event to lambda_http.
struct DecodableBodies<S>(S);

/// The inner service's answer, or the refusal of an undecodable body; both are serialized as
/// the API Gateway response they hold.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer<R> {
    Served(R),
    Refused(Box<ApiGatewayV2httpResponse>),
}

type Answered<R> = fn(R) -> Answer<R>;

impl<S> Service<LambdaEvent<LambdaRequest>> for DecodableBodies<S>
where
    S: Service<LambdaEvent<LambdaRequest>>,
{
    type Response = Answer<S::Response>;
    type Error = S::Error;
    type Future = Either<
        MapOk<S::Future, Answered<S::Response>>,
        Ready<Result<Answer<S::Response>, S::Error>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, event: LambdaEvent<LambdaRequest>) -> Self::Future {
        match undecodable_body(&event.payload) {
            Some(refusal) => Either::Right(ready(Ok(Answer::Refused(api_gateway_response(
                error_response(&refusal),
            ))))),
            None => Either::Left(self.0.call(event).map_ok(Answer::Served as Answered<_>)),
        }
    }
}

/// An HTTP API (payload format 2.0, the only event lambda_http is built for here) response;
/// the body is the error shape's JSON, i.e. text.
fn api_gateway_response(response: Response<Body>) -> Box<ApiGatewayV2httpResponse> {
    let (parts, body) = response.into_parts();
    let mut answer = Box::<ApiGatewayV2httpResponse>::default();
    answer.status_code = i64::from(parts.status.as_u16());
    answer.headers = parts.headers;
    answer.body = Some(Body::Text(
        String::from_utf8_lossy(body.as_ref()).into_owned(),
    ));
    answer
}

/// What an event function keeps for itself after its handler's deadline: answering Lambda
/// and giving back a ticket lock.
const EVENT_RESERVE: Duration = Duration::from_secs(3);

/// What an event handler's answer becomes: the response Lambda records, or an error that
/// fails the invocation so that Lambda retries it. An error's text is what Lambda records: it
/// must name no secret or personal data.
pub trait EventAnswer {
    type Response: Serialize;
    fn into_result(self) -> Result<Self::Response, String>;
}

impl<R: Serialize> EventAnswer for Result<R, String> {
    type Response = R;
    fn into_result(self) -> Result<R, String> {
        self
    }
}

impl EventAnswer for aws_lambda_events::sqs::SqsBatchResponse {
    type Response = Self;
    fn into_result(self) -> Result<Self, String> {
        Ok(self)
    }
}

impl EventAnswer for crate::reconcile::Report {
    type Response = Self;
    fn into_result(self) -> Result<Self, String> {
        Ok(self)
    }
}

impl EventAnswer for crate::retention::PurgeReport {
    type Response = Self;
    fn into_result(self) -> Result<Self, String> {
        Ok(self)
    }
}

/// Runs an event function (the SQS worker, the schedule, the migration): `handler` gets the
/// event and the instant by which it must be done, taken from the invocation's own deadline.
pub async fn run_event<S, E, Handler, Fut>(handler: Handler) -> Result<(), lambda_runtime::Error>
where
    S: FromConfig,
    E: DeserializeOwned,
    Handler: Fn(&'static S, E, crate::glassix::Deadline) -> Fut,
    Fut: Future<Output: EventAnswer>,
{
    init_logging();
    let state = cold_start(from_config::<S>()).await?;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<E>| {
        let left = time_left(&event.context, EVENT_RESERVE);
        let response = handler(state, event.payload, tokio::time::Instant::now() + left);
        async move {
            response
                .await
                .into_result()
                .map_err(lambda_runtime::Error::from)
        }
    }))
    .await
}

/// The time an invocation has left before its deadline, less what its function keeps for
/// itself (`reserve`).
pub(crate) fn time_left(context: &lambda_runtime::Context, reserve: Duration) -> Duration {
    context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or_default()
        .saturating_sub(reserve)
}

/// Logs to stdout, JSON when Lambda's log format says so, at the level Lambda's advanced
/// logging controls set (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO) for this
/// service's own logs (`shared`, which never logs secrets or personal data at any level).
/// Every other crate is capped at INFO whatever is configured: at TRACE the Lambda runtime logs
/// each raw event (the `Authorization` header, webhook signatures, bodies with names and phone
/// numbers) and the HTTP and AWS clients log requests and answers (a secret's value).
pub fn init_logging() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let configured = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    // Every target at INFO at most; `shared` (ours) at the configured level. A fixed table of
    // targets, not EnvFilter, whose directive syntax needs the regex engine in every bootstrap.
    let filter = Targets::new()
        .with_default(configured.min(LevelFilter::INFO))
        .with_target("shared", configured);
    let format = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    // A second initialisation (local-api in tests) is harmless: the first subscriber stays.
    let _ = if json {
        registry.with(format.json()).try_init()
    } else {
        registry.with(format).try_init()
    };
}

/// Loads the configuration and builds the state `S` from it.
pub async fn from_config<S: FromConfig>() -> Result<S, AppError> {
    let config = Config::load().await.inspect_err(|error| {
        tracing::error!(error = %error, "configuration is incomplete");
    })?;
    S::from_config(config).await
}

/// Builds the state, kept for the life of the process.
async fn cold_start<S: 'static>(
    init: impl Future<Output = Result<S, AppError>>,
) -> Result<&'static S, AppError> {
    let state = init.await.inspect_err(|error| {
        tracing::error!(
            code = error.code(),
            detail = error.detail().unwrap_or_default(),
            "cold start failed"
        );
    })?;
    Ok(Box::leak(Box::new(state)))
}
