//! Test support shared by every crate's tests (feature `testing`, never in a Lambda):
//! real database, Secrets Manager and SQS servers, fixtures, and captured log output.

pub mod faults;
pub mod files;
pub mod glassix;
pub mod hostile;
pub mod lambda;
pub mod loopback;
pub mod pipeline;
pub mod queue;
pub mod requests;
pub mod secrets;
pub mod servers;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::db::Store;

/// A store on a database of its own, so tests run in parallel without seeing each other.
/// Its indexes are created first, as the deploy-time migration does.
pub async fn store() -> Store {
    let store = Store::connect(servers::mongodb_uri(), &unique_database_name())
        .await
        .expect("the test database accepts the connection string");
    store.ensure_indexes().await.expect("indexes");
    store
}

/// The AWS configuration of a client of moto_server at `endpoint` (or anything else there).
pub fn moto_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    crate::aws::config(
        Some(aws_config::Region::new("us-east-1")),
        aws_credential_types::provider::SharedCredentialsProvider::new(
            aws_credential_types::Credentials::new("testing", "testing", None, None, "tests"),
        ),
        Some(endpoint.to_owned()),
    )
}

/// An HTTP client for tests, on the service's TLS provider (reqwest is built without its own).
pub fn http_client() -> reqwest::Client {
    crate::tls::use_ring();
    reqwest::Client::new()
}

/// A store whose server never answers (a closed port, short timeouts): "the database is down".
pub async fn unreachable_store() -> Store {
    Store::connect(
        "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300&connectTimeoutMS=300",
        "nowhere",
    )
    .await
    .expect("the client is built lazily")
}

/// Every transaction of a ticket as stored, in time order.
pub async fn transactions_of(store: &Store, ticket_id: i64) -> Vec<crate::db::TransactionDoc> {
    store
        .all_transactions(ticket_id)
        .await
        .expect("transactions")
}

/// Every ticket document as stored, for comparing before and after.
pub async fn stored_tickets(store: &Store) -> Vec<mongodb::bson::Document> {
    use futures_util::TryStreamExt;
    store
        .database()
        .collection::<mongodb::bson::Document>(crate::db::documents::TICKETS)
        .find(mongodb::bson::doc! {})
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("collect")
}

/// Every client, ticket, transaction and search document as stored, by collection and in `_id`
/// order: equal before and after a request that must change nothing.
pub async fn stored_documents(store: &Store) -> Vec<(&'static str, Vec<mongodb::bson::Document>)> {
    use crate::db::TICKET_SEARCH;
    use crate::db::documents::{CLIENTS, TICKETS, TRANSACTIONS};
    use futures_util::TryStreamExt;
    let mut all = Vec::new();
    for collection in [CLIENTS, TICKETS, TRANSACTIONS, TICKET_SEARCH] {
        let documents = store
            .database()
            .collection::<mongodb::bson::Document>(collection)
            .find(mongodb::bson::doc! {})
            .sort(mongodb::bson::doc! {"_id": 1})
            .await
            .expect("find")
            .try_collect()
            .await
            .expect("collect");
        all.push((collection, documents));
    }
    all
}

/// The ids of the tickets that have a search document, in order.
pub async fn searchable_ticket_ids(store: &Store) -> Vec<i64> {
    let mut ids: Vec<i64> = store
        .database()
        .collection::<mongodb::bson::Document>(crate::db::TICKET_SEARCH)
        .distinct("_id", mongodb::bson::doc! {})
        .await
        .expect("distinct")
        .iter()
        .filter_map(mongodb::bson::Bson::as_i64)
        .collect();
    ids.sort_unstable();
    ids
}

/// Every access-log entry, newest first.
pub async fn access_log(store: &Store) -> Vec<crate::access::AccessEntry> {
    let page = crate::pagination::PageRequest {
        limit: 1000,
        after: None,
    };
    store
        .access_log_page(&crate::access::AccessFilter::default(), &page)
        .await
        .expect("the access log answers")
        .items
}

/// What `template.yaml` says the route of `binary` requires of a token (`ROUTE_SCOPE`), as
/// the deployed function is configured.
pub fn route_scope(binary: &str) -> String {
    let template = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"));
    crate::template::routes(template)
        .expect("template.yaml parses")
        .into_iter()
        .find(|route| route.binary == binary)
        .and_then(|route| route.scope)
        .unwrap_or_else(|| panic!("{binary} declares no ROUTE_SCOPE"))
}

/// A local file store in a folder of its own, removed when the test binary exits.
pub fn local_files() -> crate::files::FileStore {
    crate::files::FileStore::local(
        servers::scratch_folder().join(format!("files-{}", unique_database_name())),
    )
}

pub fn unique_database_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The bytes of a file under `shared/fixtures/`, e.g. `glassix/ticket.json`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Everything logged through `tracing` on this thread while the guard lives.
///
/// One global subscriber (every level, JSON) is installed for the test binary and writes into
/// the buffer of the thread that logs, if that thread is capturing. A thread-local subscriber
/// would race: tracing caches each call site's interest globally, so a test on another thread
/// that hits a call site first could make it silent here.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<CapturedLogs>> = const { std::cell::RefCell::new(None) };
}

/// Stops capturing on this thread when dropped.
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

impl CapturedLogs {
    /// Captures this thread's logs (use it with a current-thread runtime, the default of
    /// `#[tokio::test]`).
    pub fn start() -> (Self, CaptureGuard) {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(|| ThreadWriter)
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
        });
        let logs = Self::default();
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(logs.clone()));
        (logs, CaptureGuard(()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

/// Writes to the capturing thread's buffer; drops what other threads log.
struct ThreadWriter;

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(logs) = capture.borrow().as_ref() {
                logs.0.lock().expect("log buffer").extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
