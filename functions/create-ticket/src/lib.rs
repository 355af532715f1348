//! `POST /clients/{identifier}/tickets` → 201 with the ticket; 404 for an unknown client, 409
//! for a taken ticket id.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::{CreateTicketBody, TicketView};
use shared::db::StoreError;
use shared::error::AppError;
use shared::http::{json, parse_json, path_param, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(create_ticket(state, &request).await)
}

async fn create_ticket(state: &ApiState, request: &Request) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let identifier = path_param(request, "identifier")?;
    let ticket = parse_json::<CreateTicketBody>(request)?.validate(identifier)?;
    let ticket_id = ticket.ticket_id;
    let ticket = state
        .store
        .create_ticket(ticket)
        .await
        .map_err(|error| match error {
            StoreError::AlreadyExists => {
                AppError::Conflict("a ticket with this ticketId already exists".into())
            }
            error => error.into(),
        })?;
    tracing::info!(ticket_id, "ticket created");
    Ok(json(StatusCode::CREATED, &TicketView::full(ticket)))
}
