//! The contract of every REST route. A route is a [`RestHandler`]: it reads the request and
//! returns a response or an `AppError`. [`serve`] is the only way to run one, and it checks the
//! bearer token before the handler sees the request, so no route can be shipped without it.
//! The Lambda runtime, `local-api` and the tests all go through `serve`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use lambda_http::{Body, Request, Response};

use crate::error::AppError;
use crate::response::error_response;
use crate::state::{ApiState, NoFiles};

pub type RestResult = Result<Response<Body>, AppError>;
pub type RestFuture<'a> = Pin<Box<dyn Future<Output = RestResult> + Send + 'a>>;

/// A route: `|state, request| Box::pin(route(state, request))` around a plain
/// `async fn route(&ApiState, &Request) -> RestResult`; a route that serves or erases archived
/// files is a `RestHandler<FileStore>` over `ApiState<FileStore>`.
pub type RestHandler<F = NoFiles> = for<'a> fn(&'a ApiState<F>, &'a Request) -> RestFuture<'a>;

/// What a route keeps of its invocation's time for answering API Gateway.
const ANSWER_RESERVE: Duration = Duration::from_millis(500);
/// A route's time when the request carries no Lambda deadline (`local-api`, tests): the
/// template's function timeout, less the reserve.
const ROUTE_TIME: Duration = Duration::from_millis(9500);

/// Authorizes, runs the handler, and maps its error to the JSON error shape. Everything the
/// route does (database, file store, a reread of the tokens) runs within the invocation's
/// deadline: a dependency that never answers is a clean 503, not a Lambda timeout. Every
/// route's writes are idempotent, so one cut off at its deadline is finished by its retry.
pub async fn serve<F>(
    state: &ApiState<F>,
    request: Request,
    handler: RestHandler<F>,
) -> Response<Body> {
    let work = async {
        state.authorize(&request).await?;
        handler(state, &request).await
    };
    let result = match tokio::time::timeout_at(deadline(&request), work).await {
        Ok(result) => result,
        Err(_) => Err(AppError::deadline("a dependency of this route")),
    };
    result.unwrap_or_else(|error| error_response(&error))
}

/// The invocation's own deadline less [`ANSWER_RESERVE`], else [`ROUTE_TIME`] from now.
fn deadline(request: &Request) -> Instant {
    use lambda_http::RequestExt;
    let left = request
        .lambda_context_ref()
        .map(|context| crate::runtime::time_left(context, ANSWER_RESERVE))
        .unwrap_or(ROUTE_TIME);
    Instant::now() + left
}
