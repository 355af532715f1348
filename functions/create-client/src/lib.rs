//! `POST /clients` `{identifier, name?}` → 201 with the client; 409 if the identifier is taken.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::{ClientView, CreateClientBody};
use shared::db::StoreError;
use shared::error::AppError;
use shared::http::{json, parse_json, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(create_client(state, &request).await)
}

async fn create_client(state: &ApiState, request: &Request) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let new_client = parse_json::<CreateClientBody>(request)?.validate()?;
    let client = state
        .store
        .create_client(new_client)
        .await
        .map_err(|error| match error {
            StoreError::AlreadyExists => {
                AppError::Conflict("a client with this identifier already exists".into())
            }
            error => error.into(),
        })?;
    tracing::info!("client created");
    Ok(json(StatusCode::CREATED, &ClientView::from(client)))
}
