//! `GET /clients/{identifier}` → 200 with the client and its ticket ids.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::ClientView;
use shared::error::AppError;
use shared::http::{json, path_param, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(get_client(state, &request).await)
}

async fn get_client(state: &ApiState, request: &Request) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let identifier = path_param(request, "identifier")?;
    let client = state
        .store
        .get_client(&identifier)
        .await?
        .ok_or_else(|| AppError::NotFound("client not found".into()))?;
    Ok(json(StatusCode::OK, &ClientView::from(client)))
}
