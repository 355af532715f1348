//! `PATCH /tickets/{ticketId}` with any writable field → 200 with the updated ticket.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::{TicketView, UpdateTicketBody, parse_ticket_id};
use shared::error::AppError;
use shared::http::{json, parse_json, path_param, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(update_ticket(state, &request).await)
}

async fn update_ticket(state: &ApiState, request: &Request) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let ticket_id = parse_ticket_id(&path_param(request, "ticketId")?)?;
    let patch = parse_json::<UpdateTicketBody>(request)?.validate()?;
    let ticket = state
        .store
        .update_ticket(ticket_id, patch)
        .await?
        .ok_or_else(|| AppError::NotFound("ticket not found".into()))?;
    tracing::info!(ticket_id, "ticket updated");
    Ok(json(StatusCode::OK, &TicketView::full(ticket)))
}
