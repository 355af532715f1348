//! Reading requests: body limits, JSON bodies, path and query parameters, headers.

use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// REST bodies above this size are refused with 413.
const MAX_API_BODY: usize = 1024 * 1024;

/// A query value of 1 to `max_chars` characters (400 otherwise).
pub fn bounded_param(name: &str, value: &str, max_chars: usize) -> Result<String, AppError> {
    if (1..=max_chars).contains(&value.chars().count()) {
        Ok(value.to_owned())
    } else {
        Err(AppError::BadRequest(format!(
            "{name} must be 1 to {max_chars} characters"
        )))
    }
}

/// A query value that is an RFC 3339 date-time (400 otherwise).
pub fn time_param(name: &str, value: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|time| time.with_timezone(&chrono::Utc))
        .map_err(|_| {
            AppError::BadRequest(format!(
                "{name} must be an RFC 3339 date-time, e.g. 2026-01-31T00:00:00Z"
            ))
        })
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
    json_object(body_bytes(request, MAX_API_BODY)?)
}

/// A JSON object read into `T`: 400 for no body, invalid JSON, another JSON type or a shape
/// `T` refuses.
fn json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
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

/// A path parameter as API Gateway hands it over: already percent-decoded, exactly once.
/// Decoding it again would make an identifier holding `%` unreachable, and
/// `/clients/a%2541%40x.com` would name `aA@x.com` instead of `a%41@x.com`.
pub fn path_param(request: &Request, name: &str) -> Result<String, AppError> {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .map(str::to_owned)
        .ok_or_else(|| AppError::BadRequest(format!("path parameter {name} is missing")))
}

pub fn query_param<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .query_string_parameters_ref()
        .and_then(|params| params.first(name))
}

pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Named {
        name: String,
    }

    fn parse(body: &str) -> Result<Named, String> {
        json_object(body.as_bytes()).map_err(|e| format!("{} {e}", e.code()))
    }

    #[test]
    fn an_object_of_the_right_shape_parses() {
        assert_eq!(
            parse(r#"{"name": "דנה"}"#),
            Ok(Named {
                name: "דנה".into()
            })
        );
    }

    #[test]
    fn every_other_body_is_a_400_saying_why() {
        assert_eq!(parse(""), Err("bad_request a JSON body is required".into()));
        assert_eq!(
            parse(r#"["x"]"#),
            Err("bad_request the JSON body must be an object".into())
        );
        for body in [
            "{",
            r#"{"name": 1}"#,
            r#"{"name": "a", "extra": 1}"#,
            "{}",
            "null",
        ] {
            let refused = parse(body).expect_err(body);
            assert!(refused.starts_with("bad_request "), "{body}: {refused}");
        }
    }
}
