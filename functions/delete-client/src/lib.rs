//! `DELETE /clients/{identifier}` → 204; the client's tickets are deleted too.

use lambda_http::{Body, Request, Response};
use shared::error::AppError;
use shared::http::{no_content, path_param, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(delete_client(state, &request).await)
}

async fn delete_client(state: &ApiState, request: &Request) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let identifier = path_param(request, "identifier")?;
    if !state.store.delete_client(&identifier).await? {
        return Err(AppError::NotFound("client not found".into()));
    }
    tracing::info!("client deleted with its tickets");
    Ok(no_content())
}
