//! The entry points of the Lambda binaries: `run_rest` for REST routes, `run` for webhooks,
//! `run_event` for the SQS worker.

use std::convert::Infallible;
use std::future::Future;

use std::time::{Duration, SystemTime};

use lambda_http::{Body, Request, Response, service_fn};
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::error::AppError;
use crate::rest::{RestHandler, serve};
use crate::state::ApiState;

/// Runs a REST route: the bearer token is checked before `handler` sees a request.
pub async fn run_rest(handler: RestHandler) -> Result<(), lambda_http::Error> {
    run(ApiState::from_config, move |state, request| {
        serve(state, request, handler)
    })
    .await
}

/// Sets up tracing (JSON when the Lambda log format says so), builds the state once per cold
/// start, then serves every request with `handler`.
pub async fn run<S, Init, InitFut, Handler, Fut>(
    init: Init,
    handler: Handler,
) -> Result<(), lambda_http::Error>
where
    S: Send + Sync + 'static,
    Init: FnOnce(Config) -> InitFut,
    InitFut: Future<Output = Result<S, AppError>>,
    Handler: Fn(&'static S, Request) -> Fut + Send + Sync,
    Fut: Future<Output = Response<Body>> + Send,
{
    init_logging();
    let state = cold_start(init).await?;
    lambda_http::run(service_fn(move |request| {
        let response = handler(state, request);
        async move { Ok::<_, Infallible>(response.await) }
    }))
    .await
}

/// What an event function keeps for itself after its handler's deadline: answering Lambda
/// and giving back a ticket lock.
const EVENT_RESERVE: Duration = Duration::from_secs(3);

/// Runs an event function (the SQS worker): `handler` gets the event and the instant by which
/// it must be done, taken from the invocation's own deadline.
pub async fn run_event<S, E, R, Init, InitFut, Handler, Fut>(
    init: Init,
    handler: Handler,
) -> Result<(), lambda_runtime::Error>
where
    S: Send + Sync + 'static,
    E: DeserializeOwned,
    R: Serialize,
    Init: FnOnce(Config) -> InitFut,
    InitFut: Future<Output = Result<S, AppError>>,
    Handler: Fn(&'static S, E, crate::glassix::Deadline) -> Fut,
    Fut: Future<Output = R>,
{
    init_logging();
    let state = cold_start(init).await?;
    lambda_runtime::run(lambda_runtime::service_fn(move |event: LambdaEvent<E>| {
        let left = event
            .context
            .deadline()
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .saturating_sub(EVENT_RESERVE);
        let response = handler(state, event.payload, tokio::time::Instant::now() + left);
        async move { Ok::<_, Infallible>(response.await) }
    }))
    .await
}

/// Logs to stdout, JSON when Lambda's log format says so, at the level Lambda's advanced
/// logging controls set (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO) for this
/// service's own logs (`shared`, which never logs secrets or personal data at any level).
/// Every other crate is capped at INFO whatever is configured: at TRACE the Lambda runtime logs
/// each raw event (the `Authorization` header, webhook signatures, bodies with names and phone
/// numbers) and the HTTP and AWS clients log requests and answers (a secret's value).
pub fn init_logging() {
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    let configured = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let others = configured.min(LevelFilter::INFO);
    // A bare level applies to every target; `shared=` overrides it for our own logs.
    let filter = EnvFilter::builder().parse_lossy(format!("{others},shared={configured}"));
    let builder = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // A second initialisation (local-api in tests) is harmless: the first subscriber stays.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Loads the configuration and builds the state, kept for the life of the process.
async fn cold_start<S, Init, InitFut>(init: Init) -> Result<&'static S, AppError>
where
    S: 'static,
    Init: FnOnce(Config) -> InitFut,
    InitFut: Future<Output = Result<S, AppError>>,
{
    let config = Config::load().await.inspect_err(|error| {
        tracing::error!(error = %error, "configuration is incomplete");
    })?;
    let state = init(config).await.inspect_err(|error| {
        tracing::error!(
            detail = error.detail().unwrap_or_default(),
            "cold start failed"
        );
    })?;
    Ok(Box::leak(Box::new(state)))
}
