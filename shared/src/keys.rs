//! The configuration keys: names of environment variables and of the secret's JSON keys,
//! a contract with the SAM template, the README and the local API.

pub const APP_SECRET_ARN: &str = "APP_SECRET_ARN";
pub const MONGODB_URI: &str = "MONGODB_URI";
pub const MONGODB_DATABASE: &str = "MONGODB_DATABASE";
pub const GLASSIX_WORKSPACE: &str = "GLASSIX_WORKSPACE";
pub const GLASSIX_API_KEY: &str = "GLASSIX_API_KEY";
pub const GLASSIX_API_SECRET: &str = "GLASSIX_API_SECRET";
pub const GLASSIX_USER_NAME: &str = "GLASSIX_USER_NAME";
pub const GLASSIX_BASE_URL: &str = "GLASSIX_BASE_URL";
pub const API_TOKENS: &str = "API_TOKENS";
pub const NEW_TICKET_TAGS: &str = "NEW_TICKET_TAGS";
pub const WEBHOOK_BUDGET_MS: &str = "WEBHOOK_BUDGET_MS";
pub const ARCHIVE_QUEUE_URL: &str = "ARCHIVE_QUEUE_URL";
pub const RECONCILE_SINCE: &str = "RECONCILE_SINCE";
pub const RECONCILE_DRY_RUN: &str = "RECONCILE_DRY_RUN";
pub const FILES_BUCKET: &str = "FILES_BUCKET";
pub const FILES_DIR: &str = "FILES_DIR";
pub const MAX_ATTACHMENT_MB: &str = "MAX_ATTACHMENT_MB";
pub const ACCESS_LOG_DAYS: &str = "ACCESS_LOG_DAYS";
/// What a REST function's route requires of a token (`crate::access::RouteScope`); set per
/// function in `template.yaml`.
pub const ROUTE_SCOPE: &str = "ROUTE_SCOPE";
pub const RETENTION_DAYS: &str = "RETENTION_DAYS";
pub const PURGE_DRY_RUN: &str = "PURGE_DRY_RUN";
pub const EXPORT_QUEUE_URL: &str = "EXPORT_QUEUE_URL";
pub const EXPORT_DAYS: &str = "EXPORT_DAYS";
