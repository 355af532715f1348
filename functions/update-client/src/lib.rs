//! `PATCH /clients/{identifier}` `{name?}` → 200 with the updated client (`null` clears the name).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::{ClientView, UpdateClientBody};
use shared::error::AppError;
use shared::http::{json, parse_json, path_param, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(update_client(state, &request).await)
}

async fn update_client(state: &ApiState, request: &Request) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let identifier = path_param(request, "identifier")?;
    let change = parse_json::<UpdateClientBody>(request)?.validate()?;
    let not_found = || AppError::NotFound("client not found".into());
    let client = match change {
        Some(name) => state.store.set_client_name(&identifier, name).await?,
        None => state.store.get_client(&identifier).await?,
    }
    .ok_or_else(not_found)?;
    Ok(json(StatusCode::OK, &ClientView::from(client)))
}
