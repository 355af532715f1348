//! Request and response helpers shared by every function: JSON responses, the error mapping,
//! body limits, path and query parameters, bearer authentication.

use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::error::AppError;

/// REST bodies above this size are refused with 413.
pub const MAX_API_BODY: usize = 1024 * 1024;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => with_json_type(status, Body::Binary(bytes)),
        Err(error) => {
            tracing::error!(error = %error, "response could not be serialized");
            with_json_type(
                StatusCode::INTERNAL_SERVER_ERROR,
                Body::Text(r#"{"error":{"code":"internal","message":"internal error"}}"#.into()),
            )
        }
    }
}

fn with_json_type(status: StatusCode, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// The response for an error, logged by outcome: server errors with their (PII-free) detail.
pub fn error_response(error: &AppError) -> Response<Body> {
    let status = error.status();
    match error.detail() {
        Some(detail) => tracing::error!(
            status = status.as_u16(),
            code = error.code(),
            detail,
            "request failed"
        ),
        None => tracing::info!(
            status = status.as_u16(),
            code = error.code(),
            "request refused"
        ),
    }
    json(status, &error.body())
}

/// Turns a handler's result into the response, errors included.
pub fn respond(result: Result<Response<Body>, AppError>) -> Response<Body> {
    result.unwrap_or_else(|error| error_response(&error))
}

/// The raw body, refused with 413 above `limit` bytes.
pub fn body_bytes(request: &Request, limit: usize) -> Result<&[u8], AppError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > limit {
        return Err(AppError::PayloadTooLarge { limit });
    }
    Ok(bytes)
}

/// Parses a JSON body into `T` (which should deny unknown fields).
pub fn parse_json<T: DeserializeOwned>(request: &Request) -> Result<T, AppError> {
    let bytes = body_bytes(request, MAX_API_BODY)?;
    if bytes.is_empty() {
        return Err(AppError::BadRequest("a JSON body is required".into()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))?;
    // Serde would also build a struct from an array of its field values.
    if !value.is_object() {
        return Err(AppError::BadRequest(
            "the JSON body must be an object".into(),
        ));
    }
    T::deserialize(value).map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))
}

/// A path parameter, percent-decoded. API Gateway HTTP APIs already decode them; decoding
/// again is harmless because identifiers may not contain `%`.
pub fn path_param(request: &Request, name: &str) -> Result<String, AppError> {
    let raw = request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .ok_or_else(|| AppError::BadRequest(format!("path parameter {name} is missing")))?;
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| AppError::BadRequest(format!("path parameter {name} is not valid UTF-8")))
}

pub fn query_param<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .query_string_parameters_ref()
        .and_then(|params| params.first(name))
}

pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Requires `Authorization: Bearer <token>` matching one of `tokens`. Every token is compared
/// in constant time, and all of them are always compared.
pub fn require_bearer(request: &Request, tokens: &[SecretString]) -> Result<(), AppError> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or(AppError::Unauthorized)?;
    let matched = tokens.iter().fold(subtle::Choice::from(0), |acc, token| {
        acc | token.expose_secret().as_bytes().ct_eq(presented.as_bytes())
    });
    if bool::from(matched) {
        Ok(())
    } else {
        Err(AppError::Unauthorized)
    }
}
