//! One error type for the whole service and its mapping to an HTTP status and the JSON body
//! `{"error": {"code": "...", "message": "..."}}`.
//!
//! Client errors carry a message written for the caller. Server errors carry a detail that is
//! logged (it must never contain names, identifiers, message text or secrets) and a fixed public
//! message, so internal details never reach a caller.

use http::StatusCode;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed request: unreadable JSON, wrong types, unknown fields, bad query or path values.
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong credentials (bearer token or webhook signature).
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// A valid token without the scope the route requires.
    #[error("{0}")]
    Forbidden(String),
    /// The named resource does not exist; built by [`AppError::not_found`].
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A legal hold holds what the request would delete or rewrite.
    #[error("{0}")]
    LegalHold(String),
    /// What was asked for is not made yet (an export still being built) or never will be (a
    /// failed one).
    #[error("{0}")]
    NotReady(String),
    /// What was asked for existed and is gone for good (an expired export).
    #[error("{0}")]
    Gone(String),
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// Well-formed request whose values break a rule (length, range, forbidden characters).
    #[error("{0}")]
    Validation(String),
    /// A dependency (database, Glassix) failed or is busy; the caller should retry later.
    #[error("service temporarily unavailable, retry later")]
    Unavailable(String),
    /// A bug or an unexpected state.
    #[error("internal error")]
    Internal(String),
}

impl AppError {
    /// 404 for a missing resource: `not_found("client")` says "client not found".
    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::LegalHold(_) | Self::NotReady(_) => StatusCode::CONFLICT,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code; part of the API contract.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::LegalHold(_) => "legal_hold",
            Self::NotReady(_) => "not_ready",
            Self::Gone(_) => "gone",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::Validation(_) => "validation_failed",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Server-side detail for logs; `None` for client errors.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Unavailable(detail) | Self::Internal(detail) => Some(detail),
            _ => None,
        }
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody::new(self.code(), self.to_string())
    }
}

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub error: ErrorPayload,
}

#[derive(Debug, Serialize)]
pub struct ErrorPayload {
    pub code: &'static str,
    pub message: String,
}

impl ErrorBody {
    /// The error shape for a refusal that is not an `AppError` (the local API's 405).
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            error: ErrorPayload {
                code,
                message: message.into(),
            },
        }
    }
}

/// A dependency's failure: worth retrying later (503) when `transient`, else a fault that would
/// repeat (500), so that nobody is told to retry what cannot succeed.
fn dependency_failed(transient: bool, detail: String) -> AppError {
    if transient {
        AppError::Unavailable(detail)
    } else {
        AppError::Internal(detail)
    }
}

impl From<crate::config::ConfigError> for AppError {
    fn from(error: crate::config::ConfigError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<crate::files::FileError> for AppError {
    fn from(error: crate::files::FileError) -> Self {
        dependency_failed(error.is_transient(), format!("file store: {error}"))
    }
}

impl From<crate::queue::QueueError> for AppError {
    fn from(error: crate::queue::QueueError) -> Self {
        dependency_failed(error.is_transient(), format!("archive queue: {error}"))
    }
}

impl From<crate::glassix::GlassixError> for AppError {
    fn from(error: crate::glassix::GlassixError) -> Self {
        dependency_failed(error.is_transient(), format!("Glassix: {error}"))
    }
}

impl AppError {
    /// Glassix failed at `action`: as `From<GlassixError>`, with the action named.
    pub fn glassix(action: &str, error: &crate::glassix::GlassixError) -> Self {
        dependency_failed(
            error.is_transient(),
            format!("Glassix {action} failed: {error}"),
        )
    }

    /// `what` did not answer before the work's deadline: retry later.
    pub fn deadline(what: &str) -> Self {
        Self::Unavailable(format!("{what} did not answer before the deadline"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_hide_their_detail_from_the_caller() {
        let error = AppError::Internal("E11000 on clients.identifier".into());
        let body = serde_json::to_value(error.body()).expect("serializable");
        assert_eq!(
            body,
            serde_json::json!({"error": {"code": "internal", "message": "internal error"}})
        );
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn client_errors_carry_their_message() {
        let error = AppError::Validation("name is longer than 200 characters".into());
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            error.body().error.message,
            "name is longer than 200 characters"
        );
        assert_eq!(error.detail(), None);
    }

    #[test]
    fn a_dependency_failure_is_retryable_only_when_it_is_transient() {
        use crate::files::FileError;
        use crate::glassix::GlassixError;
        use crate::queue::QueueError;
        let cases: [(AppError, StatusCode); 8] = [
            (
                FileError::ChecksumMismatch.into(),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                FileError::InvalidKey("empty").into(),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                FileError::S3 {
                    operation: "PutObject",
                    reason: "timeout".into(),
                    transient: true,
                }
                .into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                QueueError::Sqs {
                    operation: "SendMessage",
                    reason: "service error AWS.SimpleQueueService.NonExistentQueue".into(),
                    transient: false,
                }
                .into(),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                QueueError::Sqs {
                    operation: "SendMessage",
                    reason: "dispatch failure".into(),
                    transient: true,
                }
                .into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                GlassixError::Decode("not JSON".into()).into(),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
            (
                GlassixError::DeadlineExceeded { last: "503".into() }.into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (
                AppError::glassix("scramble", &GlassixError::TooLarge { limit: 10 }),
                StatusCode::INTERNAL_SERVER_ERROR,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{:?}", error.detail());
        }
    }

    #[test]
    fn not_found_names_what_is_missing() {
        let error = AppError::not_found("client");
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            serde_json::to_value(error.body()).expect("serializable"),
            serde_json::json!({"error": {"code": "not_found", "message": "client not found"}})
        );
    }
}
