//! `purge`: the retention purge at scale (issue 24, item 6). Seeds FerretDB with N expired
//! tickets (closed 400 days ago), their transactions and clients, and moto's S3 with one file
//! per ticket, then runs the release `purge-expired-tickets` bootstrap once, as a child process
//! under the Lambda Runtime API emulation (`shared::testing::lambda::RuntimeApi`), with one
//! scheduled event, `RETENTION_DAYS=365` and the template's 900 s timeout. It measures the
//! invocation's wall time (event handed out → answer posted) and the process's peak RSS
//! (`VmHWM`), checks the answer and that the database and the bucket hold nothing of those
//! tickets afterwards, and prints the figures and one markdown table row. It builds nothing:
//! `scripts/bench-purge.sh` builds, starts the servers and runs it.
//!
//! Environment (set by `scripts/bench-purge.sh`):
//! - `BENCH_FERRETDB_URI` (`mongodb://127.0.0.1:<port>/`), `BENCH_MOTO_ENDPOINT`
//!   (`http://127.0.0.1:<port>`): the servers.
//! - `PURGE_TICKETS` (10000), `PURGE_TRANSACTIONS_PER_TICKET` (10), `PURGE_TICKETS_PER_CLIENT`
//!   (5): the sizes; one file per ticket, attached to its first transaction.
//! - `PURGE_BOOTSTRAP` (`target/lambda-x86_64/purge-expired-tickets/bootstrap`), `PURGE_LOG`
//!   (`target/bench/logs/purge-expired-tickets.log`).
//! - `PURGE_MAX_INVOCATIONS` (3): a run that stops at its time budget (900 s) is invoked again
//!   on the same instance, as the next scheduled run would resume it, up to this many runs.
//! - `PURGE_FERRETDB_PID`, `PURGE_MOTO_PID` (optional): the servers' processes, whose CPU time
//!   during the invocation is reported next to the bootstrap's (where the time goes).

#[path = "../bench_util.rs"]
mod bench_util;
#[path = "../host.rs"]
mod host;

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use chrono::Utc;
use hyper::body::Bytes;
use mongodb::bson::{Bson, DateTime, Document, doc};
use serde_json::Value;
use shared::testing::lambda::RuntimeApi;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::bench_util::{
    cpu_seconds, error_text, excerpt, insert, mongo_client, peak_kb, s3_client, seconds, thousands,
};
use crate::host::{Env, load_average, machine};

const DATABASE: &str = "ctm_bench_purge";
const BUCKET: &str = "ctm-bench-purge-files";
const REGION: &str = "us-east-1";
const FUNCTION_NAME: &str = "ctm-bench-PurgeExpiredTicketsFunction";
/// The template's `Timeout` of the function.
const TIMEOUT: Duration = Duration::from_secs(900);
const RETENTION_DAYS: i64 = 365;
/// Every seeded ticket was closed this long ago: past the retention.
const CLOSED_DAYS_AGO: i64 = 400;
/// Ticket ids start above this; transaction and attachment ids are derived from them.
const TICKET_BASE: i64 = 50_000_000;
/// PutObject calls in flight while seeding.
const PUTS_IN_FLIGHT: usize = 8;
/// A bootstrap that has not polled by then is broken (Lambda gives an init 10 s).
const INIT_LIMIT: Duration = Duration::from_secs(15);
/// How often the tickets left are counted while the purge runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("purge bench: {error}");
            ExitCode::FAILURE
        }
    }
}

struct Config {
    ferretdb_uri: String,
    moto_endpoint: String,
    tickets: usize,
    transactions_per_ticket: usize,
    tickets_per_client: usize,
    bootstrap: PathBuf,
    log: PathBuf,
    task_root: PathBuf,
    ferretdb_pid: Option<u32>,
    moto_pid: Option<u32>,
    /// Invocations at most: a run cut by its time budget is invoked again, as the next
    /// scheduled run would resume it.
    max_invocations: usize,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        let env = Env::new("scripts/bench-purge.sh")?;
        let var = |name: &str| env.var(name);
        let required = |name: &str| env.required(name);
        let number = |name: &str, default: usize| env.number(name, default);
        let path = |name: &str, default: &str| env.path(name, default);
        let root = env.root.clone();
        let pid = |name: &str| var(name).and_then(|v| v.trim().parse().ok());
        Ok(Self {
            ferretdb_uri: required("BENCH_FERRETDB_URI")?,
            moto_endpoint: required("BENCH_MOTO_ENDPOINT")?
                .trim_end_matches('/')
                .to_owned(),
            tickets: number("PURGE_TICKETS", 10_000)?.max(1),
            transactions_per_ticket: number("PURGE_TRANSACTIONS_PER_TICKET", 10)?.clamp(1, 999),
            tickets_per_client: number("PURGE_TICKETS_PER_CLIENT", 5)?.max(1),
            bootstrap: path(
                "PURGE_BOOTSTRAP",
                "target/lambda-x86_64/purge-expired-tickets/bootstrap",
            ),
            log: path("PURGE_LOG", "target/bench/logs/purge-expired-tickets.log"),
            task_root: root.join("target/bench/task"),
            ferretdb_pid: pid("PURGE_FERRETDB_PID"),
            moto_pid: pid("PURGE_MOTO_PID"),
            max_invocations: number("PURGE_MAX_INVOCATIONS", 3)?.max(1),
        })
    }

    fn clients(&self) -> usize {
        self.tickets.div_ceil(self.tickets_per_client)
    }
}

/// The seeded world, by index: ticket `t` (0-based) belongs to client `t / tickets_per_client`;
/// its transactions are `0..transactions_per_ticket`; its one file is on transaction 0.
fn ticket_id(t: usize) -> i64 {
    TICKET_BASE + 1 + t as i64
}

fn transaction_id(t: usize, j: usize) -> i64 {
    ticket_id(t) * 1000 + j as i64
}

fn attachment_id(t: usize) -> i64 {
    700_000_000 + t as i64
}

fn client_identifier(c: usize) -> String {
    format!("97250{:07}", c)
}

/// 1–4 KiB, varying by ticket.
fn file_size(t: usize) -> usize {
    1024 + (t * 7919) % 3073
}

fn file_body(t: usize) -> Vec<u8> {
    let line = format!("bench purge file of ticket {} ", ticket_id(t));
    line.bytes().cycle().take(file_size(t)).collect()
}

fn file_key(t: usize) -> String {
    shared::files::attachment_key(
        ticket_id(t),
        transaction_id(t, 0),
        &attachment_id(t).to_string(),
    )
}

async fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    if !config.bootstrap.is_file() {
        return Err(format!(
            "{} is missing: build it first (scripts/bench-purge.sh does)",
            config.bootstrap.display()
        ));
    }
    for dir in [config.log.parent(), Some(config.task_root.as_path())]
        .into_iter()
        .flatten()
    {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let _ = std::fs::remove_file(&config.log);
    let total_transactions = config.tickets * config.transactions_per_ticket;
    eprintln!(
        "purge bench: {} tickets, {} transactions, {} files, {} clients",
        config.tickets,
        total_transactions,
        config.tickets,
        config.clients()
    );

    let database = mongo_client(&config.ferretdb_uri, "ctm-bench-purge")
        .await?
        .database(DATABASE);
    let s3 = s3_client(&config.moto_endpoint);

    // Seed.
    let seed_started = Instant::now();
    database
        .drop()
        .await
        .map_err(|e| format!("drop {DATABASE}: {e}"))?;
    shared::db::Store::new(database.clone())
        .ensure_indexes()
        .await
        .map_err(|e| format!("indexes: {e}"))?;
    let (files_seeded, db_seeded) =
        tokio::join!(seed_files(&s3, &config), seed_documents(&database, &config));
    let files_time = files_seeded?;
    let db_time = db_seeded?;
    let seed = seed_started.elapsed();
    eprintln!(
        "purge bench: seeded in {:.1} s (documents {:.1} s, files {:.1} s, concurrently)",
        seed.as_secs_f64(),
        db_time.as_secs_f64(),
        files_time.as_secs_f64()
    );
    check_seeded(&database, &s3, &config).await?;

    // Purge: one cold start, one scheduled event.
    let api = RuntimeApi::start(
        format!("arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION_NAME}"),
        TIMEOUT,
        true,
    )
    .await
    .map_err(|e| format!("Runtime API emulation: {e}"))?;
    let spawned = Instant::now();
    let mut child = spawn(&config, &api)?;
    let result = invoke(&config, &database, &api, &mut child, spawned).await;
    let _ = child.kill();
    let _ = child.wait();
    let measured = result?;

    // The answers and what is left.
    let mut reports = Vec::new();
    for (wall, answer) in &measured.answers {
        let report: Value = serde_json::from_slice(answer)
            .map_err(|e| format!("the answer is not JSON ({e}): {:?}", excerpt(answer)))?;
        reports.push((*wall, report));
    }
    let total = |key: &str| {
        reports
            .iter()
            .map(|(_, report)| report.get(key).and_then(Value::as_u64).unwrap_or(0))
            .sum::<u64>()
    };
    let last_stopped = reports
        .last()
        .and_then(|(_, report)| report.get("stopped").cloned())
        .unwrap_or(Value::Null);
    let mut problems = Vec::new();
    let count = total;
    if count("deleted") != config.tickets as u64 {
        problems.push(format!(
            "deleted {} tickets, not {}",
            count("deleted"),
            config.tickets
        ));
    }
    if count("files") != config.tickets as u64 {
        problems.push(format!(
            "deleted {} files, not {}",
            count("files"),
            config.tickets
        ));
    }
    if count("clientsDeleted") != config.clients() as u64 {
        problems.push(format!(
            "deleted {} clients, not {}",
            count("clientsDeleted"),
            config.clients()
        ));
    }
    if last_stopped.as_str() != Some("caught up") {
        problems.push(format!(
            "the last of {} invocations stopped: {last_stopped}",
            reports.len()
        ));
    }
    problems.extend(check_empty(&database, &s3, &config).await?);

    let wall: f64 = reports.iter().map(|(wall, _)| wall.as_secs_f64()).sum();
    let per_second = |n: usize| n as f64 / wall;
    let peak_mb = measured.peak_kb as f64 / 1024.0;
    let date = Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let mut out = String::new();
    out += &format!("date                 {date}\n");
    out += &format!("machine              {}\n", machine());
    out += &format!(
        "sizes                {} tickets, {} transactions, {} files ({} bytes), {} clients\n",
        config.tickets,
        total_transactions,
        config.tickets,
        (0..config.tickets).map(file_size).sum::<usize>(),
        config.clients()
    );
    out += &format!(
        "seed                 {:.1} s (documents {:.1} s, files {:.1} s, concurrently)\n",
        seed.as_secs_f64(),
        db_time.as_secs_f64(),
        files_time.as_secs_f64()
    );
    out += &format!(
        "init                 {:.1} ms (peak RSS {:.1} MB)\n",
        measured.init.as_secs_f64() * 1e3,
        measured.init_peak_kb as f64 / 1024.0
    );
    for (n, (each, report)) in reports.iter().enumerate() {
        let deleted = report.get("deleted").and_then(Value::as_u64).unwrap_or(0);
        out += &format!(
            "invocation {}         {:.1} s, {deleted} tickets ({:.1}/s), stopped: {}\n",
            n + 1,
            each.as_secs_f64(),
            deleted as f64 / each.as_secs_f64(),
            report["stopped"]
        );
    }
    for (at, left) in &measured.progress {
        out += &format!(
            "  at {:>6.0} s        {left} tickets left\n",
            at.as_secs_f64()
        );
    }
    out += &format!(
        "purge wall time      {wall:.1} s{}\n",
        if reports.len() > 1 {
            format!(" (the sum of {} invocations)", reports.len())
        } else {
            String::new()
        }
    );
    out += &format!("tickets/s            {:.1}\n", per_second(config.tickets));
    out += &format!(
        "transactions/s       {:.1}\n",
        per_second(total_transactions)
    );
    out += &format!("files/s              {:.1}\n", per_second(config.tickets));
    out += &format!(
        "ms per ticket        {:.2}\n",
        wall * 1e3 / config.tickets as f64
    );
    out += &format!(
        "peak RSS             {peak_mb:.1} MB (VmHWM {} kB)\n",
        measured.peak_kb
    );
    out += &format!(
        "CPU during the purge bootstrap {}, FerretDB {}, moto_server {} (of {wall:.1} s wall)\n",
        seconds(measured.cpu.bootstrap),
        seconds(measured.cpu.ferretdb),
        seconds(measured.cpu.moto)
    );
    out += &format!("load average         {}\n", load_average());
    for (_, report) in &reports {
        out += &format!("report               {report}\n");
    }
    out += &format!(
        "check                {}\n",
        if problems.is_empty() {
            "PASS: every ticket deleted, caught up; no ticket, transaction, client or file left"
                .to_owned()
        } else {
            format!("FAIL: {}", problems.join("; "))
        }
    );
    out += "\n| purge (FerretDB 1.24 SQLite, moto S3) | tickets | transactions | files | wall s | tickets/s | transactions/s | files/s | peak RSS MB |\n";
    out += "|---|---|---|---|---|---|---|---|---|\n";
    out += &format!(
        "| purge-expired-tickets, {} | {} | {} | {} | {wall:.1} | {:.1} | {:.0} | {:.1} | {peak_mb:.1} |\n",
        match reports.len() {
            1 => "one invocation".to_owned(),
            n => format!("{n} invocations (900 s each at most)"),
        },
        thousands(config.tickets),
        thousands(total_transactions),
        thousands(config.tickets),
        per_second(config.tickets),
        per_second(total_transactions),
        per_second(config.tickets),
    );
    println!("{out}");
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("check failed: {}", problems.join("; ")))
    }
}

struct Measured {
    init: Duration,
    init_peak_kb: u64,
    /// Each invocation's wall time and answer.
    answers: Vec<(Duration, Bytes)>,
    /// Tickets left in the database, sampled while the purge runs.
    progress: Vec<(Duration, u64)>,
    peak_kb: u64,
    cpu: Cpu,
}

/// CPU seconds (user + system) spent during the invocation, when the process is known.
#[derive(Default)]
struct Cpu {
    bootstrap: Option<f64>,
    ferretdb: Option<f64>,
    moto: Option<f64>,
}

fn spawn(config: &Config, api: &RuntimeApi) -> Result<Child, String> {
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&config.log)
        .map_err(|e| format!("{}: {e}", config.log.display()))?;
    let stderr = log.try_clone().map_err(|e| e.to_string())?;
    Command::new(&config.bootstrap)
        .env_clear()
        .envs(environment(config))
        .env("AWS_LAMBDA_RUNTIME_API", api.host_port())
        .current_dir(&config.task_root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(stderr))
        .spawn()
        .map_err(|e| format!("{}: {e}", config.bootstrap.display()))
}

/// Waits for the first poll, hands out one scheduled event and waits for its answer; again
/// while a run stops at its time budget (up to `max_invocations`). Counts the tickets left
/// every `PROGRESS_EVERY` meanwhile.
async fn invoke(
    config: &Config,
    database: &mongodb::Database,
    api: &RuntimeApi,
    child: &mut Child,
    started: Instant,
) -> Result<Measured, String> {
    let pid = child.id();
    loop {
        if api.first_poll().is_some() {
            break;
        }
        if let Some(error) = api.init_error() {
            return Err(format!("init error: {error}"));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "the bootstrap exited ({status}) before polling; see {}",
                config.log.display()
            ));
        }
        if started.elapsed() > INIT_LIMIT {
            return Err(format!("no poll within {} s", INIT_LIMIT.as_secs()));
        }
        let _ = tokio::time::timeout(Duration::from_millis(5), api.first_poll_changed()).await;
    }
    let init = api
        .first_poll()
        .map_or(Duration::ZERO, |at| at.duration_since(started));
    let init_peak_kb = peak_kb(pid)?;
    let event = std::fs::read("events/purge-expired-tickets.json")
        .map_err(|e| format!("events/purge-expired-tickets.json: {e}"))?;
    let cpu_before =
        [Some(pid), config.ferretdb_pid, config.moto_pid].map(|p| p.and_then(cpu_seconds));
    let purge_started = Instant::now();
    let mut answers = Vec::new();
    let mut progress = Vec::new();
    for n in 1..=config.max_invocations {
        eprintln!(
            "purge bench: invocation {n} (deadline {} s)",
            TIMEOUT.as_secs()
        );
        let answered = {
            let invocation = api.invoke(Bytes::from(event.clone()));
            tokio::pin!(invocation);
            let mut ticker = tokio::time::interval(PROGRESS_EVERY);
            ticker.tick().await;
            loop {
                tokio::select! {
                    answered = &mut invocation => break answered,
                    _ = ticker.tick() => {
                        if let Some(left) = tickets_left(database, config).await {
                            let at = purge_started.elapsed();
                            eprintln!("purge bench:   at {:.0} s: {left} tickets left", at.as_secs_f64());
                            progress.push((at, left));
                        }
                    }
                }
            }
        };
        let (wall, answer) = answered.map_err(|error| match child.try_wait() {
            Ok(Some(status)) => format!("{error}: the bootstrap exited ({status})"),
            _ => error,
        })?;
        let stopped = serde_json::from_slice::<Value>(&answer)
            .ok()
            .and_then(|report| {
                report
                    .get("stopped")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        eprintln!(
            "purge bench: invocation {n}: {:.1} s, stopped: {}",
            wall.as_secs_f64(),
            stopped.as_deref().unwrap_or("?")
        );
        answers.push((wall, answer));
        // A run cut by its time budget resumes from its checkpoint at the next one.
        if stopped.as_deref() != Some("time budget") {
            break;
        }
    }
    let cpu_after =
        [Some(pid), config.ferretdb_pid, config.moto_pid].map(|p| p.and_then(cpu_seconds));
    let peak_kb = peak_kb(pid)?;
    let spent = |i: usize| Some(cpu_after[i]? - cpu_before[i]?);
    Ok(Measured {
        init,
        init_peak_kb,
        answers,
        progress,
        peak_kb,
        cpu: Cpu {
            bootstrap: spent(0),
            ferretdb: spent(1),
            moto: spent(2),
        },
    })
}

/// The seeded tickets still in the database (`None` if the count fails).
async fn tickets_left(database: &mongodb::Database, config: &Config) -> Option<u64> {
    database
        .collection::<Document>(shared::db::documents::TICKETS)
        .count_documents(ticket_filter(config))
        .await
        .ok()
}

/// What Lambda sets in every execution environment, the template's globals and the function's
/// own variables (its settings read from the environment, not from a secret: the same
/// configuration keys), with dummy credentials and moto as the AWS endpoint.
fn environment(config: &Config) -> BTreeMap<String, String> {
    let task_root = config.task_root.display().to_string();
    [
        ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{FUNCTION_NAME}"),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef".into(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_DEFAULT_REGION", REGION.into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_SESSION_TOKEN", "testing".into()),
        ("AWS_ENDPOINT_URL", config.moto_endpoint.clone()),
        ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR".into()),
        ("LAMBDA_TASK_ROOT", task_root),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
        ("_HANDLER", "bootstrap".into()),
        ("TZ", ":UTC".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
        ("METRICS_NAMESPACE", "ctm-bench".into()),
        ("ACCESS_LOG_DAYS", "400".into()),
        ("MONGODB_URI", config.ferretdb_uri.clone()),
        ("MONGODB_DATABASE", DATABASE.into()),
        ("FILES_BUCKET", BUCKET.into()),
        ("RETENTION_DAYS", RETENTION_DAYS.to_string()),
        ("PURGE_DRY_RUN", "false".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Clients, tickets and transactions in `insert_many` batches, shaped as the store writes them.
async fn seed_documents(database: &mongodb::Database, config: &Config) -> Result<Duration, String> {
    let started = Instant::now();
    let now = Utc::now();
    let closed = now - chrono::Duration::days(CLOSED_DAYS_AGO);
    let opened = closed - chrono::Duration::hours(2);
    let at = |date: chrono::DateTime<Utc>| DateTime::from_millis(date.timestamp_millis());
    let archived = at(closed + chrono::Duration::minutes(1));

    let clients = (0..config.clients()).map(|c| {
        let tickets: Vec<i64> = (c * config.tickets_per_client
            ..((c + 1) * config.tickets_per_client).min(config.tickets))
            .map(ticket_id)
            .collect();
        doc! {
            "identifier": client_identifier(c),
            "name": format!("Bench Client {c}"),
            "tickets": tickets,
            "legalHold": Bson::Null,
            "createdAt": at(opened),
            "updatedAt": archived,
        }
    });
    insert(database, shared::db::documents::CLIENTS, clients).await?;

    let tickets = (0..config.tickets).map(|t| {
        let c = t / config.tickets_per_client;
        doc! {
            "ticketId": ticket_id(t),
            "clientIdentifier": client_identifier(c),
            "clientName": format!("Bench Client {c}"),
            "ticketOpeningDate": at(opened),
            "protocolType": "WhatsApp",
            "transactionCount": config.transactions_per_ticket as i64,
            "closedAt": at(closed),
            "tags": ["archived-by-ctm", "Billing"],
            "archivedAt": archived,
            "scrambledAt": archived,
            "legalHold": Bson::Null,
            "createdAt": archived,
            "updatedAt": archived,
        }
    });
    insert(database, shared::db::documents::TICKETS, tickets).await?;

    let stored_at = archived;
    let transactions = (0..config.tickets).flat_map(|t| {
        (0..config.transactions_per_ticket).map(move |j| {
            let client = j % 2 == 0;
            let text = format!(
                "Message {j} of ticket {}: the order A-{} was charged twice; please refund one of the charges.",
                ticket_id(t),
                1000 + t
            );
            let attachments: Vec<Document> = if j == 0 {
                vec![doc! {
                    "id": attachment_id(t),
                    "type": "Document",
                    "originalFileName": format!("receipt-{}.txt", ticket_id(t)),
                    "fileIdentifier": format!("bench-{}", attachment_id(t)),
                    "isEmbedded": false,
                    "stored": {
                        "key": file_key(t),
                        "size": file_size(t) as i64,
                        "sha256": format!("{:064x}", attachment_id(t)),
                        "contentType": "text/plain",
                        "storedAt": stored_at,
                    },
                }]
            } else {
                Vec::new()
            };
            doc! {
                "ticketId": ticket_id(t),
                "id": transaction_id(t, j),
                "guid": format!("00000000-0000-4000-8000-{:012}", transaction_id(t, j)),
                "dateTime": at(opened + chrono::Duration::minutes(j as i64)),
                "type": "Message",
                "html": format!("<p>{text}</p>"),
                "text": text,
                "fromProtocolType": "WhatsApp",
                "senderName": if client { "Bench Client" } else { "Agent" },
                "senderType": if client { "Client" } else { "User" },
                "attachments": attachments,
            }
        })
    });
    insert(database, shared::db::documents::TRANSACTIONS, transactions).await?;
    Ok(started.elapsed())
}

/// The bucket and one file per ticket, `PUTS_IN_FLIGHT` PutObject calls at a time.
async fn seed_files(s3: &aws_sdk_s3::Client, config: &Config) -> Result<Duration, String> {
    let started = Instant::now();
    match s3.create_bucket().bucket(BUCKET).send().await {
        Ok(_) => {}
        Err(error) => {
            let exists = error.as_service_error().is_some_and(|e| {
                e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
            });
            if !exists {
                return Err(format!("CreateBucket: {}", error_text(&error)));
            }
        }
    }
    let s3 = Arc::new(s3.clone());
    let mut in_flight = JoinSet::new();
    for t in 0..config.tickets {
        if in_flight.len() >= PUTS_IN_FLIGHT
            && let Some(done) = in_flight.join_next().await
        {
            done.map_err(|e| e.to_string())??;
        }
        let s3 = s3.clone();
        in_flight.spawn(async move {
            s3.put_object()
                .bucket(BUCKET)
                .key(file_key(t))
                .content_type("text/plain")
                .body(ByteStream::from(file_body(t)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("PutObject {}: {}", file_key(t), error_text(&e)))
        });
    }
    while let Some(done) = in_flight.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(started.elapsed())
}

fn ticket_filter(config: &Config) -> Document {
    doc! {"ticketId": {"$gt": TICKET_BASE, "$lte": ticket_id(config.tickets - 1)}}
}

fn client_filter(config: &Config) -> Document {
    let identifiers: Vec<String> = (0..config.clients()).map(client_identifier).collect();
    doc! {"identifier": {"$in": identifiers}}
}

/// What the database and the bucket hold of the seeded world: tickets, transactions, clients,
/// files.
async fn counts(
    database: &mongodb::Database,
    s3: &aws_sdk_s3::Client,
    config: &Config,
) -> Result<[u64; 4], String> {
    let count = |collection: &str, filter: Document| {
        let collection = database.collection::<Document>(collection);
        async move {
            collection
                .count_documents(filter)
                .await
                .map_err(|e| format!("count {}: {e}", collection.name()))
        }
    };
    let tickets = count(shared::db::documents::TICKETS, ticket_filter(config)).await?;
    let transactions = count(shared::db::documents::TRANSACTIONS, ticket_filter(config)).await?;
    let clients = count(shared::db::documents::CLIENTS, client_filter(config)).await?;
    let mut files = 0u64;
    let mut pages = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("tickets/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListObjectsV2: {}", error_text(&e)))?;
        files += page.contents().len() as u64;
    }
    Ok([tickets, transactions, clients, files])
}

async fn check_seeded(
    database: &mongodb::Database,
    s3: &aws_sdk_s3::Client,
    config: &Config,
) -> Result<(), String> {
    let expected = [
        config.tickets as u64,
        (config.tickets * config.transactions_per_ticket) as u64,
        config.clients() as u64,
        config.tickets as u64,
    ];
    let found = counts(database, s3, config).await?;
    if found != expected {
        return Err(format!(
            "seeded tickets, transactions, clients, files: {found:?}, expected {expected:?}"
        ));
    }
    Ok(())
}

async fn check_empty(
    database: &mongodb::Database,
    s3: &aws_sdk_s3::Client,
    config: &Config,
) -> Result<Vec<String>, String> {
    let found = counts(database, s3, config).await?;
    Ok(["tickets", "transactions", "clients", "files"]
        .iter()
        .zip(found)
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what} left"))
        .collect())
}
