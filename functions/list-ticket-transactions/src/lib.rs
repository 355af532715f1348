//! `GET /tickets/{ticketId}/transactions?limit=&cursor=` → 200 `{items, next}`: a ticket's
//! transactions in time order, a page at a time. Pages also end by size, so that a response
//! stays far below Lambda's 6 MB whatever the e-mails in it weigh.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::Concerning;
use shared::api::{PageView, parse_ticket_id, transactions};
use shared::error::AppError;
use shared::pagination::{PageRequest, TransactionKey};
use shared::request::{path_param, query_param};
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler =
    |state, request| Box::pin(list_ticket_transactions(state, request));

async fn list_ticket_transactions(state: &ApiState, request: &Request) -> RestResult {
    let ticket_id = parse_ticket_id(&path_param(request, "ticketId")?)?;
    let page = PageRequest::<TransactionKey>::parse(
        query_param(request, "limit"),
        query_param(request, "cursor"),
    )?;
    let ticket = state
        .store
        .get_ticket(ticket_id)
        .await?
        .ok_or_else(|| AppError::not_found("ticket"))?;
    let found = state.store.transactions_page(ticket_id, &page).await?;
    let concerning = Concerning::listing(found.items.len()).and_client(ticket.client_identifier);
    Ok(concerning.attach(json(
        StatusCode::OK,
        &PageView {
            items: transactions(&found.items, ticket_id),
            next: found.next,
        },
    )))
}
