//! `GET /clients/{identifier}/tickets?limit=&cursor=` → 200 `{items, next}` in ticket id order.
//! Items leave out transactions (a page of full tickets could exceed Lambda's 6 MB response).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::api::{PageView, Pagination, TicketView};
use shared::db::cursor::CursorKind;
use shared::error::AppError;
use shared::http::{json, path_param, respond};
use shared::state::ApiState;

pub async fn handle(state: &ApiState, request: Request) -> Response<Body> {
    respond(list_client_tickets(state, &request).await)
}

async fn list_client_tickets(
    state: &ApiState,
    request: &Request,
) -> Result<Response<Body>, AppError> {
    state.authorize(request)?;
    let identifier = path_param(request, "identifier")?;
    let page = Pagination::from_request(request, CursorKind::Tickets)?;
    let after = page
        .after
        .map(|key| key.parse::<i64>())
        .transpose()
        .map_err(|_| AppError::BadRequest("cursor is not valid for this list".into()))?;
    let tickets = state
        .store
        .list_client_tickets(&identifier, page.limit, after)
        .await?
        .ok_or_else(|| AppError::NotFound("client not found".into()))?;
    Ok(json(
        StatusCode::OK,
        &PageView::from_page(tickets, TicketView::summary),
    ))
}
