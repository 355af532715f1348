//! `GET /clients?limit=&cursor=` → 200 `{items, next}` in identifier order.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::{ClientView, PageView, Pagination};
use shared::db::cursor::CursorKind;
use shared::error::AppError;
use shared::http::{json, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(list_clients(state, &request).await)
}

async fn list_clients(state: &ApiState, request: &Request) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let page = Pagination::from_request(request, CursorKind::Clients)?;
    let clients = state
        .store
        .list_clients(page.limit, page.after.as_deref())
        .await?;
    Ok(json(
        StatusCode::OK,
        &PageView::from_page(clients, ClientView::from),
    ))
}
