//! The entry point every Lambda binary shares.

use std::convert::Infallible;
use std::future::Future;

use lambda_http::{Body, Request, Response, service_fn};

use crate::config::Config;
use crate::error::AppError;

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

/// Loads the configuration and builds the state, kept for the life of the process.
pub async fn cold_start<S, Init, InitFut>(init: Init) -> Result<&'static S, AppError>
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
