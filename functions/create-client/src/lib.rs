//! `POST /clients` `{identifier, name?}` → 201 with the client; 409 if the identifier is taken.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use shared::access::Concerning;
use shared::api::{ClientView, CreateClientBody};
use shared::request::parse_json;
use shared::response::json;
use shared::rest::{RestHandler, RestResult};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(create_client(state, request));

async fn create_client(state: &ApiState, request: &Request) -> RestResult {
    let new_client = parse_json::<CreateClientBody>(request)?.validate()?;
    let client = state.store.create_client(new_client).await?;
    tracing::info!("client created");
    let concerning = Concerning::client(client.identifier.clone());
    Ok(concerning.attach(json(StatusCode::CREATED, &ClientView::from(client))))
}
