//! `GET /clients/{identifier}` → 200 with the client and its ticket ids.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::api::ClientView;
use shared::error::AppError;
use shared::request::path_param;
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(get_client(state, request));

async fn get_client(state: &ApiState, request: &Request) -> RestResult {
    let identifier = path_param(request, "identifier")?;
    let client = state
        .store
        .get_client(&identifier)
        .await?
        .ok_or_else(|| AppError::not_found("client"))?;
    Ok(json(StatusCode::OK, &ClientView::from(client)))
}
