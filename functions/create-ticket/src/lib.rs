//! `POST /clients/{identifier}/tickets` → 201 with the ticket; 404 for an unknown client, 409
//! for a taken ticket id.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::Concerning;
use shared::api::{CreateTicketBody, TicketView};
use shared::pagination::PageRequest;
use shared::request::{parse_json, path_param};
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(create_ticket(state, request));

async fn create_ticket(state: &ApiState, request: &Request) -> RestResult {
    let identifier = path_param(request, "identifier")?;
    let content = parse_json::<CreateTicketBody>(request)?.validate(identifier)?;
    let ticket = state.store.create_ticket(content).await?;
    tracing::info!(ticket_id = ticket.ticket_id, "ticket created");
    let first_page = state
        .store
        .transactions_page(ticket.ticket_id, &PageRequest::first())
        .await?;
    let concerning = Concerning::ticket(ticket.ticket_id);
    Ok(concerning.attach(json(
        StatusCode::CREATED,
        &TicketView::full(ticket, first_page),
    )))
}
