//! `DELETE /tickets/{ticketId}` → 204; the ticket is removed from its client.

use lambda_http::{Body, Request, Response};
use shared::api::parse_ticket_id;
use shared::error::AppError;
use shared::http::{no_content, path_param, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(delete_ticket(state, &request).await)
}

async fn delete_ticket(state: &ApiState, request: &Request) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let ticket_id = parse_ticket_id(&path_param(request, "ticketId")?)?;
    if !state.store.delete_ticket(ticket_id).await? {
        return Err(AppError::NotFound("ticket not found".into()));
    }
    tracing::info!(ticket_id, "ticket deleted");
    Ok(no_content())
}
