//! `GET /tickets?q=&clientIdentifier=&tag=&channel=&closedFrom=&closedTo=&limit=&cursor=` →
//! 200 `{items, next}`: the tickets where every term of `q` is said (in a transaction, the
//! client's identifier or name, the ticket id), newest closing first, each with up to three
//! matching transactions quoted. Without `q`, the tickets the filters alone select. The access
//! log records the search with its result count, never its terms: a query can be personal data.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::Concerning;
use shared::api::{MAX_IDENTIFIER_CHARS, MAX_LABEL_CHARS, PageView, SearchResultView};
use shared::dates::to_bson;
use shared::db::SearchFilter;
use shared::error::AppError;
use shared::pagination::{PageRequest, SearchKey};
use shared::request::{bounded_param, query_param, time_param};
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::search::Query;
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(search_tickets(state, request));

async fn search_tickets(state: &ApiState, request: &Request) -> RestResult {
    let page = PageRequest::<SearchKey>::parse(
        query_param(request, "limit"),
        query_param(request, "cursor"),
    )?;
    let filter = parse_filter(request)?;
    let found = state.store.search_tickets(&filter, &page).await?;
    let mut concerning = Concerning::listing(found.items.len());
    if let Some(client) = &filter.client_identifier {
        concerning = concerning.and_client(client.clone());
    }
    let query = &filter.query;
    Ok(concerning.attach(json(
        StatusCode::OK,
        &PageView::from_page(found, |doc| SearchResultView::of(doc, query)),
    )))
}

fn parse_filter(request: &Request) -> Result<SearchFilter, AppError> {
    let query = Query::parse(query_param(request, "q").unwrap_or_default())?;
    let text = |name: &str, max_chars: usize| {
        query_param(request, name)
            .map(|value| bounded_param(name, value, max_chars))
            .transpose()
    };
    let time = |name: &str| {
        query_param(request, name)
            .map(|value| time_param(name, value).map(to_bson))
            .transpose()
    };
    let filter = SearchFilter {
        query,
        client_identifier: text("clientIdentifier", MAX_IDENTIFIER_CHARS)?,
        tag: text("tag", MAX_LABEL_CHARS)?,
        channel: text("channel", MAX_LABEL_CHARS)?,
        closed_from: time("closedFrom")?,
        closed_to: time("closedTo")?,
    };
    if let (Some(from), Some(to)) = (filter.closed_from, filter.closed_to)
        && from > to
    {
        return Err(AppError::Validation(
            "closedFrom must not be later than closedTo".into(),
        ));
    }
    Ok(filter)
}
