//! What one piece of work (a webhook change, an archive job) comes to, and the deadline every
//! step of it runs within.

use std::future::Future;

use crate::db::StoreError;
use crate::error::AppError;
use crate::glassix::{Deadline, GlassixError};

/// What happened to one change or job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The work was done by this delivery.
    Processed(&'static str),
    /// Nothing to do for this change (other event, other state, nothing to archive).
    Ignored(&'static str),
    /// An earlier delivery already did the work.
    Duplicate(&'static str),
}

/// Runs a database operation within the work's deadline.
pub async fn within_deadline<T>(
    deadline: Deadline,
    operation: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, AppError> {
    match tokio::time::timeout_at(deadline, operation).await {
        Ok(result) => result.map_err(AppError::from),
        Err(_) => Err(AppError::Unavailable(
            "database did not answer before the deadline".into(),
        )),
    }
}

/// A Glassix failure: retry later (a 5xx for a webhook, a failed message for the worker).
pub fn glassix_unavailable(action: &str, error: &GlassixError) -> AppError {
    AppError::Unavailable(format!("Glassix {action} failed: {error}"))
}
