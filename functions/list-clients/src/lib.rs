//! `GET /clients?limit=&cursor=&prefix=` → 200 `{items, next}` in identifier order; with
//! `prefix`, only the clients whose identifier starts with it.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::Concerning;
use shared::api::{ClientView, PageView};
use shared::error::AppError;
use shared::pagination::{ClientKey, PageRequest};
use shared::request::query_param;
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

/// As long as the longest identifier.
const MAX_PREFIX_CHARS: usize = 320;

pub const HANDLER: RestHandler = |state, request| Box::pin(list_clients(state, request));

async fn list_clients(state: &ApiState, request: &Request) -> RestResult {
    let page = PageRequest::<ClientKey>::parse(
        query_param(request, "limit"),
        query_param(request, "cursor"),
    )?;
    let prefix = query_param(request, "prefix")
        .map(parse_prefix)
        .transpose()?;
    let clients = state.store.list_clients_with_prefix(&page, prefix).await?;
    Ok(Concerning::listing(clients.items.len()).attach(json(
        StatusCode::OK,
        &PageView::from_page(clients, ClientView::from),
    )))
}

fn parse_prefix(prefix: &str) -> Result<&str, AppError> {
    let chars = prefix.chars().count();
    if chars == 0 || chars > MAX_PREFIX_CHARS {
        return Err(AppError::BadRequest(format!(
            "prefix must be 1 to {MAX_PREFIX_CHARS} characters"
        )));
    }
    Ok(prefix)
}
