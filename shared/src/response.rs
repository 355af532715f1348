//! Responses every function sends: JSON bodies, 204, and the error shape.

use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::AppError;

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => with_json_type(status, Body::Text(text)),
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

/// A file or a redirect to one: personal data, so no shared cache keeps it
/// (`Cache-Control: private, no-store`), with `headers`.
pub fn private_file(
    status: StatusCode,
    body: Body,
    headers: &[(http::HeaderName, String)],
) -> Result<Response<Body>, AppError> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let map = response.headers_mut();
    map.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    for (name, value) in headers {
        let value = HeaderValue::from_str(value)
            .map_err(|_| AppError::Internal("a header value is not valid".into()))?;
        map.insert(name.clone(), value);
    }
    Ok(response)
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
