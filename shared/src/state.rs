//! What a function builds once per cold start and reuses while warm.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::archive::Archiver;
use crate::config::Config;
use crate::credentials::{Credentials, LiveCredentials};
use crate::db::Store;
use crate::error::AppError;
use crate::files::FileStore;
use crate::glassix::GlassixClient;
use crate::queue::ArchiveQueue;
use crate::reconcile::{HandOff, QueueOrInline, Reconciler, Reconciles};

/// State of the REST functions.
pub struct ApiState {
    pub store: Store,
    /// The bearer tokens, among them; reread while warm.
    pub credentials: Arc<LiveCredentials>,
    /// Archived attachment files: served by the attachment route, erased with their tickets.
    /// Only the functions that do either have it (`runtime::run_rest_with_files`): the others
    /// link no S3 client.
    pub files: Option<FileStore>,
}

impl ApiState {
    /// Requires a bearer token from `API_TOKENS` (401 otherwise). A token the current list
    /// refuses may have just been added: the list is reread (at most once a minute) and
    /// asked once more.
    pub async fn authorize(&self, request: &lambda_http::Request) -> Result<(), AppError> {
        let check = |credentials: &Credentials| {
            let tokens = credentials
                .api_tokens()
                .map_err(|e| AppError::Internal(e.to_string()))?;
            crate::auth::require_bearer(request, tokens)
        };
        match check(&*self.credentials.current().await) {
            Err(AppError::Unauthorized) if self.credentials.reload_after_refusal().await => {
                check(&*self.credentials.current().await)
            }
            outcome => outcome,
        }
    }

    /// Erases every archived file of a ticket (before the ticket itself, so that a retry
    /// after a failure half-way still finds the ticket and finishes the erasure).
    pub async fn erase_ticket_files(&self, ticket_id: i64) -> Result<(), AppError> {
        let erased = self
            .files()?
            .delete_prefix(&crate::files::ticket_prefix(ticket_id))
            .await
            .map_err(|e| AppError::Unavailable(format!("file store: {e}")))?;
        tracing::info!(ticket_id, files = erased, "archived files erased");
        Ok(())
    }

    /// The file store, for the functions built with one.
    pub fn files(&self) -> Result<&FileStore, AppError> {
        self.files
            .as_ref()
            .ok_or_else(|| AppError::Internal("this function has no file store".into()))
    }

    /// The state of a route that serves or erases archived files.
    pub async fn from_config(config: Config) -> Result<Self, AppError> {
        let mut state = Self::without_files(config.clone()).await?;
        state.files = Some(FileStore::from_config(&config).await);
        Ok(state)
    }

    /// The state of a route that never touches archived files.
    pub async fn without_files(config: Config) -> Result<Self, AppError> {
        config.api_tokens()?;
        Ok(Self {
            store: connect(&config).await?,
            credentials: Arc::new(LiveCredentials::from_config(&config).await),
            files: None,
        })
    }
}

/// State of the webhook functions.
pub struct WebhookState {
    pub store: Store,
    pub glassix: GlassixClient,
    /// The Glassix credentials, among them the API secret that keys the webhook signatures;
    /// reread while warm (shared with `glassix`).
    pub credentials: Arc<LiveCredentials>,
    /// Time allowed for one delivery; Glassix gives its retries 5 s.
    pub budget: Duration,
    pub new_ticket_tags: Vec<String>,
    /// Where closed tickets go to be archived; `None` runs the archive job inline.
    pub archive_queue: Option<ArchiveQueue>,
    /// Where the inline archive job keeps attachment files.
    pub files: FileStore,
}

impl WebhookState {
    /// The archive job over this state (the inline mode).
    pub fn archiver(&self) -> Archiver<'_> {
        Archiver::new(&self.store, &self.glassix, &self.files)
    }

    pub async fn from_config(config: Config) -> Result<Self, AppError> {
        // What the inline archive job needs is the worker's state.
        let credentials = Arc::new(LiveCredentials::from_config(&config).await);
        Ok(Self {
            store: connect(&config).await?,
            glassix: glassix_client(&config, credentials.clone())?,
            files: FileStore::from_config(&config).await,
            credentials,
            budget: config.webhook_budget,
            new_ticket_tags: config.new_ticket_tags.clone(),
            archive_queue: ArchiveQueue::from_config(&config).await,
        })
    }

    /// The state of the new-ticket webhook, which never archives: no queue, and no file store
    /// beyond a handle to a local folder it never opens, so it links no SQS or S3 client.
    pub async fn for_new_tickets(config: Config) -> Result<Self, AppError> {
        let credentials = Arc::new(LiveCredentials::from_config(&config).await);
        Ok(Self {
            store: connect(&config).await?,
            glassix: glassix_client(&config, credentials.clone())?,
            files: FileStore::local(crate::files::DEFAULT_DIR),
            credentials,
            budget: config.webhook_budget,
            new_ticket_tags: config.new_ticket_tags.clone(),
            archive_queue: None,
        })
    }
}

/// State of the deployed state-change webhook, which only queues: it checks each delivery's
/// signature and sends one job per closed ticket to SQS. No database, Glassix or file store:
/// its bootstrap links no MongoDB driver, HTTP client for Glassix or S3 client. The inline
/// archive job (no queue) is `local-api`'s, on [`WebhookState`].
pub struct QueueingState {
    /// The Glassix credentials, among them the API secret that keys the webhook signatures;
    /// reread while warm.
    pub credentials: Arc<LiveCredentials>,
    /// Time allowed for one delivery; Glassix gives its retries 5 s.
    pub budget: Duration,
    pub archive_queue: ArchiveQueue,
}

impl QueueingState {
    /// Requires `ARCHIVE_QUEUE_URL`: without a queue the deployed function has nowhere to put
    /// a closed ticket, and a cold start that fails says so in the log.
    pub async fn from_config(config: Config) -> Result<Self, AppError> {
        let archive_queue = ArchiveQueue::required(&config).await?;
        Ok(Self {
            credentials: Arc::new(LiveCredentials::from_config(&config).await),
            budget: config.webhook_budget,
            archive_queue,
        })
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

    pub async fn from_config(config: Config) -> Result<Self, AppError> {
        let credentials = Arc::new(LiveCredentials::from_config(&config).await);
        Ok(Self {
            store: connect(&config).await?,
            glassix: glassix_client(&config, credentials)?,
            files: FileStore::from_config(&config).await,
        })
    }
}

/// A Glassix client that fetches its tokens with the current `credentials`.
fn glassix_client(
    config: &Config,
    credentials: Arc<LiveCredentials>,
) -> Result<GlassixClient, AppError> {
    Ok(GlassixClient::new(config.glassix()?.clone())
        .map_err(|e| AppError::Internal(format!("HTTP client: {e}")))?
        .with_live_credentials(credentials))
}

/// The configured database (no connection is made until the first operation).
pub async fn connect(config: &Config) -> Result<Store, AppError> {
    Ok(Store::connect(config.mongodb_uri.expose_secret(), &config.mongodb_database).await?)
}

/// State of the scheduled reconciliation: the archive job's, the queue, and its settings.
pub struct ReconcileState {
    pub worker: WorkerState,
    pub queue: Option<ArchiveQueue>,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub dry_run: bool,
}

impl ReconcileState {
    pub async fn from_config(config: Config) -> Result<Self, AppError> {
        let queue = ArchiveQueue::from_config(&config).await;
        Ok(Self {
            since: config.reconcile_since,
            dry_run: config.reconcile_dry_run,
            queue,
            worker: WorkerState::from_config(config).await?,
        })
    }
}

impl Reconciles for ReconcileState {
    fn reconciler(&self) -> Reconciler<'_, impl HandOff> {
        Reconciler {
            store: &self.worker.store,
            glassix: &self.worker.glassix,
            hand_off: match &self.queue {
                Some(queue) => QueueOrInline::Queue(queue),
                None => QueueOrInline::Inline(self.worker.archiver()),
            },
            since: self.since,
            dry_run: self.dry_run,
        }
    }
}

/// State of the deployed reconciliation, which only queues: the database (checkpoint, what is
/// archived), Glassix (the list of closed tickets) and the archive queue. No file store and no
/// archive job: its bootstrap links no S3 client. The inline job is `local-api`'s, on
/// [`ReconcileState`].
pub struct QueueingReconcileState {
    pub store: Store,
    pub glassix: GlassixClient,
    pub queue: ArchiveQueue,
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub dry_run: bool,
}

impl QueueingReconcileState {
    /// Requires `ARCHIVE_QUEUE_URL`, as [`QueueingState`] does.
    pub async fn from_config(config: Config) -> Result<Self, AppError> {
        let queue = ArchiveQueue::required(&config).await?;
        let credentials = Arc::new(LiveCredentials::from_config(&config).await);
        Ok(Self {
            store: connect(&config).await?,
            glassix: glassix_client(&config, credentials)?,
            queue,
            since: config.reconcile_since,
            dry_run: config.reconcile_dry_run,
        })
    }
}

impl Reconciles for QueueingReconcileState {
    fn reconciler(&self) -> Reconciler<'_, impl HandOff> {
        Reconciler {
            store: &self.store,
            glassix: &self.glassix,
            hand_off: &self.queue,
            since: self.since,
            dry_run: self.dry_run,
        }
    }
}
