//! What one piece of work (a webhook change, an archive job) comes to, and the deadline every
//! step of it runs within.

use std::future::Future;

use crate::db::StoreError;
use crate::error::AppError;
use crate::glassix::Deadline;

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

impl Outcome {
    /// `processed`, `ignored` or `duplicate`, as webhook answers and logs say it.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Processed(_) => "processed",
            Self::Ignored(_) => "ignored",
            Self::Duplicate(_) => "duplicate",
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Self::Processed(reason) | Self::Ignored(reason) | Self::Duplicate(reason) => reason,
        }
    }
}

/// Runs a database operation within the work's deadline.
pub async fn within_deadline<T>(
    deadline: Deadline,
    operation: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, AppError> {
    within(deadline, "database", operation).await
}

/// Runs a call to `what` (the database, the file store, the queue) within the work's
/// deadline: a call that does not answer by then fails the work cleanly (503, retried)
/// instead of running into the function's timeout.
pub async fn within<T, E: Into<AppError>>(
    deadline: Deadline,
    what: &str,
    operation: impl Future<Output = Result<T, E>>,
) -> Result<T, AppError> {
    match tokio::time::timeout_at(deadline, operation).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(AppError::deadline(what)),
    }
}
