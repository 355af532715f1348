//! `GET /tickets/{ticketId}` → 200 with the ticket and all its transactions.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::{TicketView, parse_ticket_id};
use shared::error::AppError;
use shared::http::{json, path_param, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(get_ticket(state, &request).await)
}

async fn get_ticket(state: &ApiState, request: &Request) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let ticket_id = parse_ticket_id(&path_param(request, "ticketId")?)?;
    let ticket = state
        .store
        .get_ticket(ticket_id)
        .await?
        .ok_or_else(|| AppError::NotFound("ticket not found".into()))?;
    Ok(json(StatusCode::OK, &TicketView::full(ticket)))
}
