//! The contract of every REST route. A route is a [`RestHandler`]: it reads the request and
//! returns a response or an `AppError`. [`serve`] is the only way to run one, and it checks the
//! bearer token and the route's scope before the handler sees the request, and appends the
//! access-log entry after it, so no route can be shipped without them.
//! The Lambda runtime, `local-api` and the tests all go through `serve`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use lambda_http::{Body, Request, Response};

use crate::access::{AccessEntry, ApiToken, Concerning};
use crate::error::AppError;
use crate::metrics::Metric;
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
/// What a route keeps of its time for its access-log entry.
const ACCESS_LOG_RESERVE: Duration = Duration::from_millis(1000);
/// A route's time when the request carries no Lambda deadline (`local-api`, tests): the
/// template's function timeout, less the reserve.
const ROUTE_TIME: Duration = Duration::from_millis(9500);
/// The metric counting access-log entries the database did not take.
pub const ACCESS_LOG_FAILURES: &str = "AccessLogWriteFailures";
/// The `Service` dimension of the REST routes' metrics (summed over all of them).
pub const REST_SERVICE: &str = "rest-api";

/// Authenticates, checks the route's scope, runs the handler, maps its error to the JSON
/// error shape, and appends the access-log entry. Everything the route does (database, file
/// store, a reread of the tokens) runs within the invocation's deadline: a dependency that
/// never answers is a clean 503, not a Lambda timeout. Every route's writes are idempotent,
/// so one cut off at its deadline is finished by its retry.
///
/// The entry is written before the answer leaves, so no read is answered unrecorded; a
/// database that does not take it costs the entry (logged and counted), not the answer.
pub async fn serve<F>(
    state: &ApiState<F>,
    mut request: Request,
    handler: RestHandler<F>,
) -> Response<Body> {
    let Some(route) = state.route else {
        return error_response(&AppError::Internal(
            "the route declares no ROUTE_SCOPE".into(),
        ));
    };
    let answer_by = deadline(&request);
    let work_until = answer_by - ACCESS_LOG_RESERVE;
    let token = match tokio::time::timeout_at(work_until, state.authenticate(&request)).await {
        Ok(Ok(token)) => token,
        Ok(Err(error)) => return error_response(&error),
        Err(_) => return error_response(&AppError::deadline("the API tokens")),
    };
    // The handler may ask who called (`caller`).
    request.extensions_mut().insert(token.clone());
    let response = if route.allows(token.scopes()) {
        match tokio::time::timeout_at(work_until, handler(state, &request)).await {
            Ok(result) => result.unwrap_or_else(|error| error_response(&error)),
            Err(_) => error_response(&AppError::deadline("a dependency of this route")),
        }
    } else {
        error_response(&AppError::Forbidden(format!(
            "this token lacks the {} scope this route requires",
            route.name()
        )))
    };
    if route.is_logged() {
        record_access(state, &token, &request, &response, answer_by).await;
    }
    response
}

/// The token `serve` authenticated for this request.
pub fn caller(request: &Request) -> Result<&ApiToken, AppError> {
    request
        .extensions()
        .get::<ApiToken>()
        .ok_or_else(|| AppError::Internal("a route ran without serve".into()))
}

async fn record_access<F>(
    state: &ApiState<F>,
    token: &ApiToken,
    request: &Request,
    response: &Response<Body>,
    until: Instant,
) {
    let entry = AccessEntry::new(
        token.name(),
        request,
        response.status().as_u16(),
        Concerning::of(request, response),
        state.access_log_retention,
    );
    let failure = match tokio::time::timeout_at(until, state.store.append_access(&entry)).await {
        Ok(Ok(())) => return,
        Ok(Err(error)) => error.to_string(),
        Err(_) => "the database did not answer in time".to_owned(),
    };
    tracing::error!(
        status = entry.record.status,
        detail = failure,
        "access log entry not written; the request was answered"
    );
    crate::metrics::emit_for_service(REST_SERVICE, &[Metric::count(ACCESS_LOG_FAILURES, 1)]);
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
