//! `local-api`: serves every route of `template.yaml` on `127.0.0.1:$PORT` by calling the same
//! handler functions the Lambdas run, and runs the closing pipeline as deployed: closed tickets
//! go to the archive queue (`queue`), and a poller hands them to the worker's own handler.
//! For development only; never deployed.

pub mod handlers;
pub mod routes;
pub mod server;

use std::path::PathBuf;
use std::time::Duration;

use shared::config::Config;
use shared::error::AppError;
use shared::export::worker::ExportState;
use shared::files::FileStore;
use shared::queue::poller;
use shared::state::{
    ApiState, ClosingState, ExportRequests, FromConfig, NewTicketState, PurgeState, ReconcileState,
    RouteFiles, WorkerState,
};

pub use server::LocalApi;
pub use shared::queue::AnyQueue;

use handlers::{States, Webhooks};

/// `LOCAL_API_TEMPLATE`, else the repository's `template.yaml`.
pub fn template_path() -> PathBuf {
    std::env::var_os("LOCAL_API_TEMPLATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../template.yaml"))
}

/// Builds the local API from the same configuration the Lambdas read, and the pollers of its
/// queues: the export queue's always, the archive queue's when the webhooks are on (without
/// Glassix settings nothing is archived).
pub async fn from_config(
    config: Config,
    template: &str,
) -> Result<(LocalApi, Pollers), Box<dyn std::error::Error>> {
    let routes = routes::from_template(template)?;
    let api = ApiState::<FileStore>::from_config(config.clone())
        .await
        .map_err(describe)?;
    let (webhooks, poller) = match config.glassix() {
        Ok(_) => {
            // One queue, on the REST routes' database client: the webhook sends to it, the
            // poller receives from it.
            let queue = AnyQueue::from_config(&config, &api.store).await;
            let poller = Poller {
                queue: queue.clone(),
                worker: WorkerState::from_config(config.clone())
                    .await
                    .map_err(describe)?,
            };
            let webhooks = Webhooks {
                new_ticket: NewTicketState::from_config(config.clone())
                    .await
                    .map_err(describe)?,
                closing: ClosingState::with_queue(&config, queue).await,
            };
            (Some(webhooks), Some(poller))
        }
        Err(missing) => {
            tracing::warn!(reason = %missing, "webhook routes disabled");
            (None, None)
        }
    };
    let exports = ExportRequests::from_config(&config, &api.store)
        .await
        .map_err(describe)?;
    let pollers = Pollers {
        archive: poller,
        exports: (
            exports.queue.clone(),
            ExportState {
                store: api.store.clone(),
                files: api.files.clone(),
                lifetime: config.export_lifetime,
            },
        ),
    };
    let states = States {
        api,
        webhooks,
        exports,
    };
    Ok((LocalApi::new(routes, states)?, pollers))
}

/// The archive queue and the worker that works it off.
pub struct Poller {
    pub queue: AnyQueue,
    pub worker: WorkerState,
}

/// The queues `local-api` works off as Lambda's event sources would.
pub struct Pollers {
    pub archive: Option<Poller>,
    pub exports: (AnyQueue, ExportState),
}

impl Pollers {
    /// Polls every queue until the process ends.
    pub async fn run(self) {
        let (queue, worker) = self.exports;
        let exports = poller::run(queue, worker);
        match self.archive {
            Some(archive) => {
                tokio::join!(poller::run(archive.queue, archive.worker), exports);
            }
            None => exports.await,
        }
    }
}

async fn queue(config: &Config) -> Result<AnyQueue, Box<dyn std::error::Error>> {
    let store = shared::state::connect(config).await.map_err(describe)?;
    Ok(AnyQueue::from_config(config, &store).await)
}

fn describe(error: AppError) -> String {
    format!("{error}: {}", error.detail().unwrap_or_default())
}

/// One reconciliation pass, as the schedule runs it, then the archive jobs it queued are
/// worked off; prints the run's report and what the worker did as JSON.
pub async fn reconcile_once(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let state = ReconcileState::with_queue(&config, queue(&config).await?)
        .await
        .map_err(describe)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    eprintln!("local-api: listing closed tickets from the checkpoint on (at most 5 minutes)");
    let report = state
        .reconciler()
        .run_and_report(chrono::Utc::now(), deadline)
        .await;
    eprintln!(
        "local-api: {} tickets queued ({}); archiving them",
        report.handed_to_archive, report.stopped
    );
    let worker = WorkerState::from_config(config).await.map_err(describe)?;
    let worked = poller::work_off(&state.queue, &worker, poller::JOB_TIME).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "reconciliation": report,
            "archiveJobs": {"run": worked.handled, "failed": worked.failed},
        }))?
    );
    Ok(())
}

/// One retention purge pass, as the schedule runs it (at most 15 minutes, the function's
/// timeout); prints its report as JSON.
pub async fn purge_once(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let state = PurgeState::from_config(config).await.map_err(describe)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(900);
    let report = state
        .purger()
        .run_and_report(chrono::Utc::now(), deadline)
        .await;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.stopped == "failed" {
        return Err("the purge run failed; it resumes from its checkpoint next time".into());
    }
    Ok(())
}

/// The archive jobs that failed their last attempt, as JSON (ticket ids and counts only).
pub async fn dead_letters(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    match queue(&config).await? {
        AnyQueue::Database(queue) => {
            let dead: Vec<_> = queue
                .dead()
                .await?
                .into_iter()
                .map(|job| {
                    serde_json::json!({
                        "ticketId": job.group,
                        "receiveCount": job.receive_count,
                        "sentAt": job.sent_at.try_to_rfc3339_string().unwrap_or_default(),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&dead)?);
            Ok(())
        }
        AnyQueue::Sqs(_) => {
            Err("with ARCHIVE_QUEUE_URL the dead-letter queue is SQS's: read it there".into())
        }
    }
}

/// Sends the archive jobs that gave up back to the archive queue: from the SQS queue
/// `dead_letter_queue` into `ARCHIVE_QUEUE_URL`, or, without them, the local dead-letter list.
pub async fn redrive(
    config: Config,
    dead_letter_queue: Option<String>,
) -> Result<(), Box<dyn std::error::Error>> {
    let moved = match (queue(&config).await?, dead_letter_queue) {
        (AnyQueue::Sqs(queue), Some(url)) => {
            let dead_letters = shared::queue::SqsQueue::from_env(url).await;
            shared::queue::redrive::redrive(&dead_letters, &queue).await?
        }
        (AnyQueue::Database(queue), None) => queue.redrive_dead_letters().await?,
        (AnyQueue::Sqs(_), None) => {
            return Err(
                "with ARCHIVE_QUEUE_URL, name the SQS dead-letter queue: --dead-letter-queue <URL>"
                    .into(),
            );
        }
        (AnyQueue::Database(_), Some(_)) => {
            return Err(
                "--dead-letter-queue needs ARCHIVE_QUEUE_URL, the queue to send the jobs back to"
                    .into(),
            );
        }
    };
    println!("{moved} archive jobs sent back to the archive queue");
    Ok(())
}
