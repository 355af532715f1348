//! `PATCH /tickets/{ticketId}` with any writable field → 200 with the updated ticket.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::api::{TicketView, UpdateTicketBody, parse_ticket_id};
use shared::error::AppError;
use shared::pagination::PageRequest;
use shared::request::{parse_json, path_param};
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(update_ticket(state, request));

async fn update_ticket(state: &ApiState, request: &Request) -> RestResult {
    let ticket_id = parse_ticket_id(&path_param(request, "ticketId")?)?;
    let patch = parse_json::<UpdateTicketBody>(request)?.validate()?;
    let ticket = state
        .store
        .update_ticket(ticket_id, patch)
        .await?
        .ok_or_else(|| AppError::not_found("ticket"))?;
    tracing::info!(ticket_id, "ticket updated");
    let first_page = state
        .store
        .transactions_page(ticket.ticket_id, &PageRequest::first())
        .await?;
    Ok(json(StatusCode::OK, &TicketView::full(ticket, first_page)))
}
