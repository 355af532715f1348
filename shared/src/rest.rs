//! The contract of every REST route. A route is a [`RestHandler`]: it reads the request and
//! returns a response or an `AppError`. [`serve`] is the only way to run one, and it checks the
//! bearer token before the handler sees the request, so no route can be shipped without it.
//! The Lambda runtime, `local-api` and the tests all go through `serve`.

use std::future::Future;
use std::pin::Pin;

use lambda_http::{Body, Request, Response};

use crate::error::AppError;
use crate::response::error_response;
use crate::state::ApiState;

pub type RestResult = Result<Response<Body>, AppError>;
pub type RestFuture<'a> = Pin<Box<dyn Future<Output = RestResult> + Send + 'a>>;

/// A route: `|state, request| Box::pin(route(state, request))` around a plain
/// `async fn route(&ApiState, &Request) -> RestResult`.
pub type RestHandler = for<'a> fn(&'a ApiState, &'a Request) -> RestFuture<'a>;

/// Authorizes, runs the handler, and maps its error to the JSON error shape.
pub async fn serve(state: &ApiState, request: Request, handler: RestHandler) -> Response<Body> {
    let result = match state.authorize(&request).await {
        Ok(()) => handler(state, &request).await,
        Err(refused) => Err(refused),
    };
    result.unwrap_or_else(|error| error_response(&error))
}
