//! `GET /exports/{exportId}` → 200 with the export: its status, and once ready its size,
//! SHA-256, counts and expiry. 404 for an unknown export.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::Concerning;
use shared::export::{ExportView, requested_export};
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(get_export(state, request));

async fn get_export(state: &ApiState, request: &Request) -> RestResult {
    let export = requested_export(&state.store, request).await?;
    let concerning = Concerning::client(export.client_identifier.clone());
    Ok(concerning.attach(json(StatusCode::OK, &ExportView::from(export))))
}
