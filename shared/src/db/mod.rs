//! MongoDB store on the official driver. Works against MongoDB and FerretDB alike: no
//! multi-document transactions; every multi-document write is idempotent instead.

mod access_log;
pub mod checkpoints;
mod clients;
pub mod documents;
mod exports;
mod holds;
pub mod ledger;
mod locks;
mod retention;
mod search;
mod tickets;
mod transactions;

use std::time::Duration;

use mongodb::bson::doc;
use mongodb::options::{ClientOptions, IndexOptions, WriteConcern};
use mongodb::{Client, Collection, Database, IndexModel};
use tokio::sync::OnceCell;

pub use clients::NewClient;
pub use documents::{
    Attachment, ClientDoc, LegalHold, StoredAttachment, TicketDoc, TransactionDoc,
    TransactionRecord, active_hold,
};
pub use exports::{EXPORTS, ExportDoc, ExportFile, ExportStatus};
pub use holds::HeldBy;
pub use locks::TicketLock;
pub use mongodb::bson;
pub use search::{Backfill, INDEXED_FIELDS, SearchFilter, TICKET_SEARCH, search_filter};
pub use tickets::{ArchiveWrite, ClientHistory, TicketContent, TicketPatch};

use crate::error::AppError;
use tickets::to_store_error;

/// Short enough that a webhook still answers within its 5 s budget when the database is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// The version of the index set of [`Store::ensure_indexes`]; `template.yaml` passes the same
/// number to the `DatabaseIndexes` custom resource (a test keeps them equal), so a deploy that
/// changes it runs the migration again.
pub const INDEXES_VERSION: u32 = 5;

/// What a unique index protects: the client identifier or the ticket id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Client,
    Ticket,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique index already holds this client identifier or ticket id.
    #[error("{0:?} already exists")]
    AlreadyExists(Entity),
    /// The client a ticket is created for does not exist.
    #[error("client not found")]
    ClientNotFound,
    /// A deletion of the client ran while the archive was written; try again later.
    #[error("the archive met a concurrent deletion of its client")]
    Interrupted,
    #[error("database error: {}", describe(.0))]
    Database(#[from] mongodb::error::Error),
}

impl StoreError {
    /// True when the operation may succeed if tried again later (network, selection, timeouts).
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            Self::AlreadyExists(_) | Self::ClientNotFound => false,
            Self::Interrupted => true,
            Self::Database(error) => {
                use mongodb::error::ErrorKind;
                matches!(
                    *error.kind,
                    ErrorKind::ServerSelection { .. }
                        | ErrorKind::Io(_)
                        | ErrorKind::ConnectionPoolCleared { .. }
                        | ErrorKind::DnsResolve { .. }
                ) || error.contains_label(mongodb::error::RETRYABLE_ERROR)
                    || error.contains_label(mongodb::error::RETRYABLE_WRITE_ERROR)
            }
        }
    }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::AlreadyExists(Entity::Client) => {
                AppError::Conflict("a client with this identifier already exists".into())
            }
            StoreError::AlreadyExists(Entity::Ticket) => {
                AppError::Conflict("a ticket with this ticketId already exists".into())
            }
            StoreError::ClientNotFound => AppError::not_found("client"),
            error if error.is_transient() => AppError::Unavailable(error.to_string()),
            error => AppError::Internal(error.to_string()),
        }
    }
}

/// Describes a driver error without its message, which can quote stored values (a duplicate
/// key error quotes the identifier, i.e. a phone number or an email).
fn describe(error: &mongodb::error::Error) -> String {
    use mongodb::error::ErrorKind;
    match &*error.kind {
        ErrorKind::Command(c) => format!("command error {} ({})", c.code, c.code_name),
        ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) => {
            format!("write error {}", w.code)
        }
        ErrorKind::Write(mongodb::error::WriteFailure::WriteConcernError(w)) => {
            format!("write concern error {}", w.code)
        }
        ErrorKind::ServerSelection { .. } => "no server reachable (server selection)".into(),
        ErrorKind::Io(e) => format!("i/o error ({:?})", e.kind()),
        ErrorKind::Authentication { .. } => "authentication failed".into(),
        ErrorKind::InvalidArgument { .. } => "invalid argument".into(),
        ErrorKind::BsonDeserialization(_) => "stored document does not match the model".into(),
        ErrorKind::BsonSerialization(_) => "document could not be serialized".into(),
        other => variant_name(other),
    }
}

fn variant_name(kind: &mongodb::error::ErrorKind) -> String {
    let debug = format!("{kind:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("unknown")
        .to_owned()
}

pub(crate) fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    const DUPLICATE_KEY: i32 = 11000;
    match &*error.kind {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()
            .is_some_and(|errors| errors.iter().any(|w| w.code == DUPLICATE_KEY)),
        _ => false,
    }
}

/// Database handle and typed collections, built once per cold start and shared while warm.
#[derive(Debug, Clone)]
pub struct Store {
    database: Database,
    clients: Collection<ClientDoc>,
    tickets: Collection<TicketDoc>,
    transactions: Collection<TransactionRecord>,
    actions: Collection<ledger::ActionDoc>,
    locks: Collection<locks::LockDoc>,
    checkpoints: Collection<checkpoints::Checkpoint>,
    access_log: Collection<crate::access::AccessEntry>,
    indexes: std::sync::Arc<OnceCell<()>>,
}

impl Store {
    /// Builds the pooled client; no connection is made until the first operation.
    pub async fn connect(uri: &str, database: &str) -> Result<Self, StoreError> {
        let mut options = ClientOptions::parse(uri).await?;
        options
            .app_name
            .get_or_insert_with(|| "client-ticket-manager".into());
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.write_concern = Some(WriteConcern::majority());
        let client = Client::with_options(options)?;
        Ok(Self::new(client.database(database)))
    }

    pub fn new(database: Database) -> Self {
        Self {
            clients: database.collection(documents::CLIENTS),
            tickets: database.collection(documents::TICKETS),
            transactions: database.collection(documents::TRANSACTIONS),
            actions: database.collection(documents::WEBHOOK_ACTIONS),
            locks: database.collection(documents::TICKET_LOCKS),
            checkpoints: database.collection(documents::CHECKPOINTS),
            access_log: database.collection(documents::ACCESS_LOG),
            database,
            indexes: Default::default(),
        }
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Creates the indexes (idempotent). Run by the deploy-time `migrate` function, by
    /// `local-api` at start and by the tests, never on a function's cold start; bump
    /// [`INDEXES_VERSION`] with any change here so the next deploy runs it again.
    pub async fn ensure_indexes(&self) -> Result<(), StoreError> {
        self.indexes
            .get_or_try_init(|| async {
                // One index per command: FerretDB 1.24 panics on a createIndexes of several
                // indexes that all exist already, i.e. on every cold start after the first.
                self.clients
                    .create_index(index(doc! {"identifier": 1}, true))
                    .await?;
                self.tickets
                    .create_index(index(doc! {"ticketId": 1}, true))
                    .await?;
                self.tickets
                    .create_index(index(doc! {"clientIdentifier": 1, "ticketId": 1}, false))
                    .await?;
                self.transactions
                    .create_index(index(doc! {"ticketId": 1, "id": 1}, true))
                    .await?;
                self.transactions
                    .create_index(index(doc! {"ticketId": 1, "dateTime": 1, "id": 1}, false))
                    .await?;
                self.expire(&self.actions, "claimedAt", ledger::RETENTION)
                    .await?;
                self.ensure_access_log_indexes().await?;
                self.ensure_export_indexes().await?;
                self.ensure_search_indexes().await?;
                Ok::<_, StoreError>(())
            })
            .await
            .map(|_| ())
    }
}

impl Store {
    /// A TTL index that removes the documents of `collection` `after` their `field`'s date
    /// (webhook ledger entries, access-log entries). FerretDB 1.24 refuses the option
    /// (NotImplemented): there the documents stay until pruned (see the README).
    async fn expire<T: Send + Sync>(
        &self,
        collection: &Collection<T>,
        field: &str,
        after: Duration,
    ) -> Result<(), StoreError> {
        const NOT_IMPLEMENTED: i32 = 238;
        let ttl = IndexModel::builder()
            .keys(doc! {field: 1})
            .options(IndexOptions::builder().expire_after(after).build())
            .build();
        match collection.create_index(ttl).await {
            Ok(_) => Ok(()),
            Err(error) if matches!(&*error.kind, mongodb::error::ErrorKind::Command(c) if c.code == NOT_IMPLEMENTED) =>
            {
                tracing::info!(
                    collection = collection.name(),
                    "this server cannot expire documents; they are kept until pruned"
                );
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// The distinct integer values of `field` among the documents `filter` matches.
async fn distinct_i64<T: Send + Sync>(
    collection: &Collection<T>,
    field: &str,
    filter: mongodb::bson::Document,
) -> Result<Vec<i64>, StoreError> {
    Ok(collection
        .distinct(field, filter)
        .await?
        .iter()
        .filter_map(|value| value.as_i64())
        .collect())
}

fn index(keys: mongodb::bson::Document, unique: bool) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().unique(unique).build())
        .build()
}
