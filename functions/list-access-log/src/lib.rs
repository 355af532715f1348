//! `GET /access-log?clientIdentifier=&ticketId=&token=&from=&to=&limit=&cursor=` → 200
//! `{items, next}`, newest first: who read or changed what. Reading the log is itself in the
//! log (it names clients and addresses), with its count but concerning no client or ticket:
//! a client's entries say who opened the client's data, not who audited it.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::log::AccessEntryView;
use shared::access::{AccessFilter, Concerning};
use shared::api::{MAX_IDENTIFIER_CHARS, PageView, parse_ticket_id};
use shared::error::AppError;
use shared::pagination::{AccessKey, PageRequest};
use shared::request::{bounded_param, query_param, time_param};
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

/// As long as the longest token name.
const MAX_TOKEN_NAME_CHARS: usize = 40;

pub const HANDLER: RestHandler = |state, request| Box::pin(list_access_log(state, request));

async fn list_access_log(state: &ApiState, request: &Request) -> RestResult {
    let page = PageRequest::<AccessKey>::parse(
        query_param(request, "limit"),
        query_param(request, "cursor"),
    )?;
    let filter = parse_filter(request)?;
    let entries = state.store.access_log_page(&filter, &page).await?;
    Ok(Concerning::listing(entries.items.len()).attach(json(
        StatusCode::OK,
        &PageView::from_page(entries, AccessEntryView::from),
    )))
}

fn parse_filter(request: &Request) -> Result<AccessFilter, AppError> {
    // Any identifier: archived ones may hold what the API refuses in new ones (a `%`).
    let client_identifier = query_param(request, "clientIdentifier")
        .map(|identifier| bounded_param("clientIdentifier", identifier, MAX_IDENTIFIER_CHARS))
        .transpose()?;
    let ticket_id = query_param(request, "ticketId")
        .map(parse_ticket_id)
        .transpose()?;
    let token = query_param(request, "token")
        .map(|name| bounded_param("token", name, MAX_TOKEN_NAME_CHARS))
        .transpose()?;
    let from = query_param(request, "from")
        .map(|v| time_param("from", v))
        .transpose()?;
    let to = query_param(request, "to")
        .map(|v| time_param("to", v))
        .transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(AppError::Validation(
            "from must not be later than to".into(),
        ));
    }
    Ok(AccessFilter {
        client_identifier,
        ticket_id,
        token,
        from,
        to,
    })
}
