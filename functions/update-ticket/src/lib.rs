//! `PATCH /tickets/{ticketId}` with any writable field → 200 with the updated ticket. Rewritten
//! transactions keep the archived files of the attachments they still have; the files of those
//! they drop are erased (`shared::archived_files`); not while a legal hold holds the ticket
//! (409 `legal_hold`): tags and the other fields stay writable.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::Concerning;
use shared::api::holds::refuse_if_held;
use shared::api::{TicketView, UpdateTicketBody, parse_ticket_id};
use shared::archived_files::carry_over;
use shared::error::AppError;
use shared::files::FileStore;
use shared::pagination::PageRequest;
use shared::request::{parse_json, path_param};
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler<FileStore> =
    |state, request| Box::pin(update_ticket(state, request));

async fn update_ticket(state: &ApiState<FileStore>, request: &Request) -> RestResult {
    let ticket_id = parse_ticket_id(&path_param(request, "ticketId")?)?;
    let mut patch = parse_json::<UpdateTicketBody>(request)?.validate()?;
    // Rewriting the transactions can remove some and erase their files: not while held.
    if patch.transactions.is_some()
        && let Some(ticket) = state.store.get_ticket(ticket_id).await?
    {
        let now = shared::db::bson::DateTime::now();
        refuse_if_held(state.store.ticket_held_by(&ticket, now).await?)?;
    }
    let dropped = match &mut patch.transactions {
        Some(rewritten) => carry_over(rewritten, &state.store.attachments_of(ticket_id).await?),
        None => Vec::new(),
    };
    let ticket = state
        .store
        .update_ticket(ticket_id, patch)
        .await?
        .ok_or_else(|| AppError::not_found("ticket"))?;
    // Only once the ticket no longer names them: a failure before leaves every file in place.
    for key in &dropped {
        state.files.delete(key).await?;
    }
    tracing::info!(ticket_id, files_erased = dropped.len(), "ticket updated");
    let first_page = state
        .store
        .transactions_page(ticket.ticket_id, &PageRequest::first())
        .await?;
    let concerning = Concerning::ticket(ticket_id).and_client(ticket.client_identifier.clone());
    Ok(concerning.attach(json(StatusCode::OK, &TicketView::full(ticket, first_page))))
}
