//! `GET /me` → 200 `{name, scopes}`: the token that called, for any valid token (the viewer
//! shows it and hides what the token cannot do). Reads nothing archived, so it is not in the
//! access log.

use lambda_http::Request;
use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::access::Scope;
use shared::response::json;
use shared::rest::{RestHandler, RestResult, caller};
use shared::state::ApiState;

pub const HANDLER: RestHandler = |state, request| Box::pin(me(state, request));

#[derive(Serialize)]
struct Me<'a> {
    name: &'a str,
    scopes: Vec<&'static str>,
}

async fn me(_: &ApiState, request: &Request) -> RestResult {
    let token = caller(request)?;
    Ok(json(
        StatusCode::OK,
        &Me {
            name: token.name(),
            scopes: token.scopes().iter().map(Scope::name).collect(),
        },
    ))
}
