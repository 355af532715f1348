//! `DELETE /tickets/{ticketId}` → 204; the ticket is removed from its client, and its
//! archived files are erased. Files go first: a retry after a failure half-way still finds
//! the ticket and finishes the erasure. A ticket a legal hold holds (its own, or its
//! client's) is 409 `legal_hold`, and nothing is erased.

use lambda_http::Request;
use shared::access::Concerning;
use shared::api::holds::refuse_if_held;
use shared::api::parse_ticket_id;
use shared::error::AppError;
use shared::files::FileStore;
use shared::request::path_param;
use shared::response::no_content;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler<FileStore> =
    |state, request| Box::pin(delete_ticket(state, request));

async fn delete_ticket(state: &ApiState<FileStore>, request: &Request) -> RestResult {
    let ticket_id = parse_ticket_id(&path_param(request, "ticketId")?)?;
    let ticket = state
        .store
        .get_ticket(ticket_id)
        .await?
        .ok_or_else(|| AppError::not_found("ticket"))?;
    let now = shared::db::bson::DateTime::now();
    refuse_if_held(state.store.ticket_held_by(&ticket, now).await?)?;
    state.erase_ticket_files(ticket_id).await?;
    if !state.store.delete_ticket(ticket_id).await? {
        return Err(AppError::not_found("ticket"));
    }
    tracing::info!(ticket_id, "ticket deleted");
    Ok(Concerning::client(ticket.client_identifier).attach(no_content()))
}
