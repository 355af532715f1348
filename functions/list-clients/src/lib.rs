//! `GET /clients?limit=&cursor=` → 200 `{items, next}` in identifier order.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::api::{ClientView, PageView};
use shared::pagination::{ClientKey, PageRequest};
use shared::request::query_param;
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(list_clients(state, request));

async fn list_clients(state: &ApiState, request: &Request) -> RestResult {
    let page = PageRequest::<ClientKey>::parse(
        query_param(request, "limit"),
        query_param(request, "cursor"),
    )?;
    let clients = state.store.list_clients(&page).await?;
    Ok(json(
        StatusCode::OK,
        &PageView::from_page(clients, ClientView::from),
    ))
}
