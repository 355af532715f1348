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
    lambda_http::tracing::init_default_subscriber();
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
    lambda_http::tracing::init_default_subscriber();
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
