//! `POST /webhooks/glassix/ticket-state-change`: each change to `Closed` becomes one archive
//! job on the archive queue (`shared::closing`); `archive-worker` archives everything Glassix
//! holds, then scrambles it there.

use lambda_http::{Body, Request, Response};
use shared::queue::JobQueue;
use shared::state::ClosingState;

pub async fn handle<Q: JobQueue>(state: &ClosingState<Q>, request: Request) -> Response<Body> {
    shared::webhook::serve(state, &request).await
}
