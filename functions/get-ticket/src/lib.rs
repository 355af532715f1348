//! `GET /tickets/{ticketId}` → 200 with the ticket and all its transactions.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::Concerning;
use shared::api::{TicketView, parse_ticket_id};
use shared::error::AppError;
use shared::pagination::PageRequest;
use shared::request::path_param;
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(get_ticket(state, request));

async fn get_ticket(state: &ApiState, request: &Request) -> RestResult {
    let ticket_id = parse_ticket_id(&path_param(request, "ticketId")?)?;
    let ticket = state
        .store
        .get_ticket(ticket_id)
        .await?
        .ok_or_else(|| AppError::not_found("ticket"))?;
    let first_page = state
        .store
        .transactions_page(ticket.ticket_id, &PageRequest::first())
        .await?;
    let concerning = Concerning::ticket(ticket_id).and_client(ticket.client_identifier.clone());
    Ok(concerning.attach(json(StatusCode::OK, &TicketView::full(ticket, first_page))))
}
