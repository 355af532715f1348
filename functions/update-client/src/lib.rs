//! `PATCH /clients/{identifier}` `{name?}` → 200 with the updated client (`null` clears the name);
//! its tickets are searched by the new name from then on.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::api::{ClientView, UpdateClientBody};
use shared::error::AppError;
use shared::request::{parse_json, path_param};
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(update_client(state, request));

async fn update_client(state: &ApiState, request: &Request) -> RestResult {
    let identifier = path_param(request, "identifier")?;
    let change = parse_json::<UpdateClientBody>(request)?.validate()?;
    let client = match change {
        Some(name) => state.store.set_client_name(&identifier, name).await?,
        None => state.store.get_client(&identifier).await?,
    }
    .ok_or_else(|| AppError::not_found("client"))?;
    Ok(json(StatusCode::OK, &ClientView::from(client)))
}
