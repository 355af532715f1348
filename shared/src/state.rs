//! What a function builds once per cold start and reuses while warm: one state type per kind of
//! function, holding exactly what that kind needs, so a function cannot be wired without it.
//!
//! | kind | state |
//! | --- | --- |
//! | REST route | [`ApiState`] (`ApiState<FileStore>` for routes that serve or erase files) |
//! | new-ticket webhook | [`NewTicketState`] |
//! | state-change webhook | [`ClosingState`] (queues every closed ticket) |
//! | archive worker | [`WorkerState`] |
//! | reconciliation | [`ReconcileState`] (queues every ticket it finds) |
//! | retention purge | [`PurgeState`] |
//!
//! The queueing states are generic over the queue ([`JobQueue`]): deployed it is SQS, so those
//! bootstraps link no local queue; `local-api` picks SQS or the database-backed queue.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::access::{ApiToken, RouteScope};
use crate::archive::Archiver;
use crate::config::Config;
use crate::credentials::{Credentials, LiveCredentials};
use crate::db::Store;
use crate::error::AppError;
use crate::files::FileStore;
use crate::glassix::GlassixClient;
use crate::queue::{AnyQueue, JobQueue, SqsQueue};
use crate::reconcile::Reconciler;
use crate::retention::Purger;

/// A state built from the configuration at a cold start.
pub trait FromConfig: Sized + Send + Sync + 'static {
    fn from_config(config: Config) -> impl Future<Output = Result<Self, AppError>>;
}

/// What a REST route has besides the database and the tokens: nothing ([`NoFiles`]), the
/// archived files ([`FileStore`]: served by the attachment route, erased with their tickets),
/// or the export queue ([`ExportRequests`]). Only the routes declared over such a state build
/// (and link) it.
pub trait RouteFiles: Sized + Send + Sync + 'static {
    fn from_config(config: &Config, store: &Store) -> impl Future<Output = Result<Self, AppError>>;
}

/// The files of a route that never touches archived files.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFiles;

impl RouteFiles for NoFiles {
    async fn from_config(_: &Config, _: &Store) -> Result<Self, AppError> {
        Ok(NoFiles)
    }
}

impl RouteFiles for FileStore {
    async fn from_config(config: &Config, _: &Store) -> Result<Self, AppError> {
        Ok(FileStore::from_config(config).await)
    }
}

/// What the export request route needs: the export queue, and how long an export lives.
#[derive(Clone)]
pub struct ExportRequests {
    pub queue: AnyQueue,
    pub lifetime: chrono::Duration,
}

impl ExportRequests {
    /// The export queue in `store`'s database, exports kept `lifetime`.
    pub fn in_database(store: &Store, lifetime: chrono::Duration) -> Self {
        Self {
            queue: AnyQueue::Database(crate::queue::LocalQueue::exports(store.clone())),
            lifetime,
        }
    }
}

impl RouteFiles for ExportRequests {
    /// Deployed (configured from a secret) the export queue must be named: a job left in the
    /// database would wait for a poller that only `local-api` runs.
    async fn from_config(config: &Config, store: &Store) -> Result<Self, AppError> {
        if config.export_queue_url.is_none() && config.secret_arn.is_some() {
            return Err(crate::config::ConfigError::Missing(crate::keys::EXPORT_QUEUE_URL).into());
        }
        Ok(Self {
            queue: AnyQueue::exports(config, store).await,
            lifetime: config.export_lifetime,
        })
    }
}

/// State of the REST functions.
pub struct ApiState<F = NoFiles> {
    pub store: Store,
    /// The bearer tokens, among them; reread while warm.
    pub credentials: Arc<LiveCredentials>,
    pub files: F,
    /// What the route requires of a token (`ROUTE_SCOPE`); without it every request is
    /// refused (fail closed), and a deployed function does not start.
    pub route: Option<RouteScope>,
    /// How long the access log keeps this route's entries.
    pub access_log_retention: chrono::Duration,
}

impl<F> ApiState<F> {
    /// The token of a request, from `API_TOKENS` (401 otherwise). A token the current list
    /// refuses may have just been added: the list is reread (at most once a minute) and
    /// asked once more.
    pub async fn authenticate(&self, request: &lambda_http::Request) -> Result<ApiToken, AppError> {
        let check = |credentials: &Credentials| {
            crate::auth::authenticate(request, credentials.api_tokens()?).cloned()
        };
        match check(&*self.credentials.current().await) {
            Err(AppError::Unauthorized) if self.credentials.reload_after_refusal().await => {
                check(&*self.credentials.current().await)
            }
            outcome => outcome,
        }
    }

    /// The same database and tokens with other files (`local-api` serves every route from
    /// one set of clients).
    pub fn with_files<G>(&self, files: G) -> ApiState<G> {
        ApiState {
            store: self.store.clone(),
            credentials: self.credentials.clone(),
            files,
            route: self.route,
            access_log_retention: self.access_log_retention,
        }
    }
}

impl ApiState<FileStore> {
    /// Erases every archived file of a ticket (before the ticket itself, so that a retry
    /// after a failure half-way still finds the ticket and finishes the erasure).
    pub async fn erase_ticket_files(&self, ticket_id: i64) -> Result<(), AppError> {
        let erased = self
            .files
            .delete_prefix(&crate::files::ticket_prefix(ticket_id))
            .await?;
        tracing::info!(ticket_id, files = erased, "archived files erased");
        Ok(())
    }

    /// Erases a client's data exports, each file before its record (a retry after a failure
    /// half-way finds the record and deletes the gone file again); how many. An export being
    /// built at that moment finds the client gone, unless it read it before: then its ZIP is
    /// stored without a record, which nothing serves, until the bucket's lifecycle rule.
    pub async fn erase_client_exports(&self, identifier: &str) -> Result<usize, AppError> {
        let exports = self.store.client_exports(identifier).await?;
        for export in &exports {
            let key = crate::export::paths::export_key(&export.export_id);
            self.files.delete(&key).await?;
            self.store.delete_export(&export.export_id).await?;
        }
        tracing::info!(exports = exports.len(), "client's data exports erased");
        Ok(exports.len())
    }
}

impl<F: RouteFiles> FromConfig for ApiState<F> {
    async fn from_config(config: Config) -> Result<Self, AppError> {
        config.credentials.api_tokens()?;
        let store = connect(&config).await?;
        Ok(Self {
            files: F::from_config(&config, &store).await?,
            store,
            credentials: Arc::new(config.live_credentials().await),
            route: config.route_scope,
            access_log_retention: config.access_log_retention,
        })
    }
}

/// State of the new-ticket webhook: the database (the client's history, the claim ledger) and
/// Glassix (tags and note).
pub struct NewTicketState {
    pub store: Store,
    pub glassix: GlassixClient,
    /// The Glassix credentials, among them the API secret that keys the webhook signatures;
    /// reread while warm (shared with `glassix`).
    pub credentials: Arc<LiveCredentials>,
    /// Time allowed for one delivery; Glassix gives its retries 5 s.
    pub budget: Duration,
    pub new_ticket_tags: Vec<String>,
}

impl FromConfig for NewTicketState {
    async fn from_config(config: Config) -> Result<Self, AppError> {
        let credentials = Arc::new(config.live_credentials().await);
        Ok(Self {
            store: connect(&config).await?,
            glassix: glassix_client(&config, credentials.clone())?,
            credentials,
            budget: config.webhook_budget,
            new_ticket_tags: config.new_ticket_tags.clone(),
        })
    }
}

/// State of the state-change webhook, which only queues: it checks each delivery's signature
/// and sends one job per closed ticket to the archive queue. Deployed (on SQS) its bootstrap
/// links no MongoDB driver, Glassix client or S3 client.
pub struct ClosingState<Q> {
    /// The Glassix credentials, among them the API secret that keys the webhook signatures;
    /// reread while warm.
    pub credentials: Arc<LiveCredentials>,
    /// Time allowed for one delivery; Glassix gives its retries 5 s.
    pub budget: Duration,
    pub queue: Q,
}

impl<Q> ClosingState<Q> {
    pub async fn with_queue(config: &Config, queue: Q) -> Self {
        Self {
            credentials: Arc::new(config.live_credentials().await),
            budget: config.webhook_budget,
            queue,
        }
    }

    /// The same webhook on another queue (`local-api` wraps the one it picked).
    pub fn map_queue<R>(self, wrap: impl FnOnce(Q) -> R) -> ClosingState<R> {
        ClosingState {
            credentials: self.credentials,
            budget: self.budget,
            queue: wrap(self.queue),
        }
    }
}

impl FromConfig for ClosingState<SqsQueue> {
    /// Requires `ARCHIVE_QUEUE_URL`.
    async fn from_config(config: Config) -> Result<Self, AppError> {
        let queue = SqsQueue::from_config(&config).await?;
        Ok(Self::with_queue(&config, queue).await)
    }
}

/// State of the archive worker: what the archive job needs.
pub struct WorkerState {
    pub store: Store,
    pub glassix: GlassixClient,
    pub files: FileStore,
}

impl WorkerState {
    /// The archive job over this state.
    pub fn archiver(&self) -> Archiver<'_> {
        Archiver::new(&self.store, &self.glassix, &self.files)
    }
}

impl FromConfig for WorkerState {
    async fn from_config(config: Config) -> Result<Self, AppError> {
        let credentials = Arc::new(config.live_credentials().await);
        Ok(Self {
            store: connect(&config).await?,
            glassix: glassix_client(&config, credentials)?
                .with_download_limit(config.max_attachment_bytes),
            files: FileStore::from_config(&config).await,
        })
    }
}

/// State of the scheduled reconciliation: the database (checkpoint, what is archived), Glassix
/// (the list of closed tickets) and the archive queue. No file store and no archive job:
/// deployed, its bootstrap links no S3 client.
pub struct ReconcileState<Q> {
    pub store: Store,
    pub glassix: GlassixClient,
    pub queue: Q,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub dry_run: bool,
}

impl<Q: JobQueue> ReconcileState<Q> {
    pub async fn with_queue(config: &Config, queue: Q) -> Result<Self, AppError> {
        let credentials = Arc::new(config.live_credentials().await);
        Ok(Self {
            store: connect(config).await?,
            glassix: glassix_client(config, credentials)?,
            queue,
            since: config.reconcile_since,
            dry_run: config.reconcile_dry_run,
        })
    }

    pub fn reconciler(&self) -> Reconciler<'_, Q> {
        Reconciler {
            store: &self.store,
            glassix: &self.glassix,
            queue: &self.queue,
            since: self.since,
            dry_run: self.dry_run,
        }
    }
}

impl FromConfig for ReconcileState<SqsQueue> {
    /// Requires `ARCHIVE_QUEUE_URL`.
    async fn from_config(config: Config) -> Result<Self, AppError> {
        let queue = SqsQueue::from_config(&config).await?;
        Self::with_queue(&config, queue).await
    }
}

/// State of the scheduled purge: the database and the archived files; no Glassix, no queue.
pub struct PurgeState {
    pub store: Store,
    pub files: FileStore,
    pub retention: Option<chrono::Duration>,
    pub dry_run: bool,
    pub access_log_retention: chrono::Duration,
}

impl PurgeState {
    pub fn purger(&self) -> Purger<'_> {
        Purger {
            store: &self.store,
            files: &self.files,
            retention: self.retention,
            dry_run: self.dry_run,
            access_log_retention: self.access_log_retention,
        }
    }
}

impl FromConfig for PurgeState {
    async fn from_config(config: Config) -> Result<Self, AppError> {
        Ok(Self {
            store: connect(&config).await?,
            files: FileStore::from_config(&config).await,
            retention: config.retention,
            dry_run: config.purge_dry_run,
            access_log_retention: config.access_log_retention,
        })
    }
}

/// A Glassix client that fetches its tokens with the current `credentials`.
pub fn glassix_client(
    config: &Config,
    credentials: Arc<LiveCredentials>,
) -> Result<GlassixClient, AppError> {
    Ok(GlassixClient::new(config.credentials.glassix()?.clone())
        .map_err(|e| AppError::Internal(format!("HTTP client: {e}")))?
        .with_live_credentials(credentials))
}

/// The configured database (no connection is made until the first operation).
pub async fn connect(config: &Config) -> Result<Store, AppError> {
    Ok(Store::connect(config.mongodb_uri.expose_secret(), &config.mongodb_database).await?)
}
