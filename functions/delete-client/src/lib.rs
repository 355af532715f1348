//! `DELETE /clients/{identifier}` → 204; the client's tickets are deleted too, and their
//! archived files and the client's data exports erased first (a retry after a failure
//! half-way finishes the erasure). A client held, or with a ticket held, by a legal hold is
//! 409 `legal_hold`, nothing erased.

use lambda_http::Request;
use shared::api::holds::refuse_if_held;
use shared::error::AppError;
use shared::files::FileStore;
use shared::request::path_param;
use shared::response::no_content;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler<FileStore> =
    |state, request| Box::pin(delete_client(state, request));

async fn delete_client(state: &ApiState<FileStore>, request: &Request) -> RestResult {
    let identifier = path_param(request, "identifier")?;
    let client = state
        .store
        .get_client(&identifier)
        .await?
        .ok_or_else(|| AppError::not_found("client"))?;
    let now = shared::db::bson::DateTime::now();
    refuse_if_held(state.store.client_held_by(&client, now).await?)?;
    state.erase_client_exports(&identifier).await?;
    for ticket_id in state.store.client_ticket_ids(&identifier).await? {
        state.erase_ticket_files(ticket_id).await?;
    }
    if !state.store.delete_client(&identifier).await? {
        return Err(AppError::not_found("client"));
    }
    tracing::info!("client deleted with its tickets");
    Ok(no_content())
}
