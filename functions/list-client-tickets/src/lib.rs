//! `GET /clients/{identifier}/tickets?limit=&cursor=` → 200 `{items, next}` in ticket id order.
//! Items leave out transactions (a page of full tickets could exceed Lambda's 6 MB response).

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::Concerning;
use shared::api::{PageView, TicketView};
use shared::error::AppError;
use shared::pagination::{PageRequest, TicketKey};
use shared::request::{path_param, query_param};
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(list_client_tickets(state, request));

async fn list_client_tickets(state: &ApiState, request: &Request) -> RestResult {
    let identifier = path_param(request, "identifier")?;
    let page = PageRequest::<TicketKey>::parse(
        query_param(request, "limit"),
        query_param(request, "cursor"),
    )?;
    let tickets = state
        .store
        .list_client_tickets(&identifier, &page)
        .await?
        .ok_or_else(|| AppError::not_found("client"))?;
    Ok(Concerning::listing(tickets.items.len()).attach(json(
        StatusCode::OK,
        &PageView::from_page(tickets, TicketView::summary),
    )))
}
