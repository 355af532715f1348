//! `export`: a client's data export at scale (issue 25, item 8). Seeds FerretDB with one client
//! (200 tickets of 100 transactions each, 20,000 transactions of a few hundred bytes of Hebrew
//! and English) and other clients' tickets next to it, and moto's S3 with the client's archived
//! files (500 files, 500 MB of pseudo-random bytes, each with its SHA-256 as the archive stores
//! it), records a pending export of that client, then runs the release `export-worker`
//! bootstrap once, as a child process under the Lambda Runtime API emulation
//! (`shared::testing::lambda::RuntimeApi`), with the SQS event of that export and the
//! template's 900 s timeout. It measures the invocation's wall time (event handed out → answer
//! posted), the process's peak RSS (`VmHWM`), the CPU the bootstrap, FerretDB and moto_server
//! spent, and where the time goes (the ZIP's growth on the function's `TMPDIR`, sampled every
//! 200 ms: reads before the first byte, the ZIP written, the ZIP hashed and stored), checks the
//! export record and the stored ZIP, and prints the figures and one markdown table row. It
//! builds nothing: `scripts/bench-export.sh` builds, starts the servers and runs it.
//!
//! Environment (set by `scripts/bench-export.sh`):
//! - `BENCH_FERRETDB_URI` (`mongodb://127.0.0.1:<port>/`), `BENCH_MOTO_ENDPOINT`
//!   (`http://127.0.0.1:<port>`): the servers.
//! - `EXPORT_TICKETS` (200), `EXPORT_TRANSACTIONS_PER_TICKET` (100), `EXPORT_FILES` (500),
//!   `EXPORT_MB` (500, MiB: the files' total size, shared out evenly): the exported client.
//! - `EXPORT_OTHER_CLIENTS` (10), `EXPORT_OTHER_TICKETS` (50),
//!   `EXPORT_OTHER_TRANSACTIONS_PER_TICKET` (10): the rest of the archive, left out of the export.
//! - `EXPORT_BOOTSTRAP` (`target/lambda-x86_64/export-worker/bootstrap`), `EXPORT_LOG`
//!   (`target/bench/logs/export-worker.log`), `EXPORT_TMPDIR` (`target/bench/export-tmp`): the
//!   bootstrap's `TMPDIR`, where the ZIP is built (Lambda's `/tmp`).
//! - `EXPORT_FERRETDB_PID`, `EXPORT_MOTO_PID` (optional): the servers' processes, whose CPU time
//!   during the invocation is reported next to the bootstrap's (where the time goes).
//!
//! MB are MiB (1,048,576 bytes) throughout, as the peak RSS; MB/s is the export's size over the
//! invocation's wall time.

#[path = "../bench_util.rs"]
mod bench_util;
#[path = "../host.rs"]
mod host;

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumAlgorithm;
use base64::Engine as _;
use chrono::Utc;
use hyper::body::Bytes;
use mongodb::bson::{Bson, DateTime, Document, doc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shared::db::{ExportDoc, ExportStatus, Store};
use shared::export::ExportView;
use shared::testing::lambda::RuntimeApi;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::bench_util::{
    cpu_seconds, error_text, excerpt, insert, mongo_client, peak_kb, s3_client, seconds, thousands,
};
use crate::host::{Env, load_average, machine};

const DATABASE: &str = "ctm_bench_export";
const BUCKET: &str = "ctm-bench-export-files";
const REGION: &str = "us-east-1";
const FUNCTION_NAME: &str = "ctm-bench-ExportWorkerFunction";
/// The template's `Timeout` and `MemorySize` of the function.
const TIMEOUT: Duration = Duration::from_secs(900);
const MEMORY_MB: u32 = 1024;
/// The template's `ExportDays` default.
const EXPORT_DAYS: i64 = 7;
/// The exported client.
const CLIENT: &str = "972541112233";
const CLIENT_NAME: &str = "דנה כהן-לוי";
/// The client's ticket ids start above this, the other clients' above the next; transaction ids
/// are `ticket id × 1000 + position`, attachment ids `ATTACHMENT_BASE + file`.
const TICKET_BASE: i64 = 60_000_000;
const OTHER_TICKET_BASE: i64 = 61_000_000;
const ATTACHMENT_BASE: i64 = 800_000_000;
const MIB: u64 = 1024 * 1024;
/// PutObject calls in flight while seeding.
const PUTS_IN_FLIGHT: usize = 8;
/// A bootstrap that has not polled by then is broken (Lambda gives an init 10 s).
const INIT_LIMIT: Duration = Duration::from_secs(15);
/// How often the function's `TMPDIR` is measured while the export runs.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// How often that is reported.
const PROGRESS_EVERY: Duration = Duration::from_secs(15);

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("export bench: {error}");
            ExitCode::FAILURE
        }
    }
}

struct Config {
    ferretdb_uri: String,
    moto_endpoint: String,
    tickets: usize,
    transactions_per_ticket: usize,
    files: usize,
    megabytes: usize,
    other_clients: usize,
    other_tickets: usize,
    other_transactions_per_ticket: usize,
    bootstrap: PathBuf,
    log: PathBuf,
    task_root: PathBuf,
    tmp_dir: PathBuf,
    ferretdb_pid: Option<u32>,
    moto_pid: Option<u32>,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        let env = Env::new("scripts/bench-export.sh")?;
        let var = |name: &str| env.var(name);
        let required = |name: &str| env.required(name);
        let number = |name: &str, default: usize| env.number(name, default);
        let path = |name: &str, default: &str| env.path(name, default);
        let root = env.root.clone();
        let pid = |name: &str| var(name).and_then(|v| v.trim().parse().ok());
        let config = Self {
            ferretdb_uri: required("BENCH_FERRETDB_URI")?,
            moto_endpoint: required("BENCH_MOTO_ENDPOINT")?
                .trim_end_matches('/')
                .to_owned(),
            tickets: number("EXPORT_TICKETS", 200)?.max(1),
            transactions_per_ticket: number("EXPORT_TRANSACTIONS_PER_TICKET", 100)?.clamp(1, 999),
            files: number("EXPORT_FILES", 500)?,
            megabytes: number("EXPORT_MB", 500)?,
            other_clients: number("EXPORT_OTHER_CLIENTS", 10)?.max(1),
            other_tickets: number("EXPORT_OTHER_TICKETS", 50)?,
            other_transactions_per_ticket: number("EXPORT_OTHER_TRANSACTIONS_PER_TICKET", 10)?
                .clamp(1, 999),
            bootstrap: path(
                "EXPORT_BOOTSTRAP",
                "target/lambda-x86_64/export-worker/bootstrap",
            ),
            log: path("EXPORT_LOG", "target/bench/logs/export-worker.log"),
            task_root: root.join("target/bench/task"),
            tmp_dir: path("EXPORT_TMPDIR", "target/bench/export-tmp"),
            ferretdb_pid: pid("EXPORT_FERRETDB_PID"),
            moto_pid: pid("EXPORT_MOTO_PID"),
        };
        if config.files as u64 > config.file_bytes() {
            return Err(format!(
                "EXPORT_FILES ({}) files cannot share EXPORT_MB ({}) MB: each needs a byte",
                config.files, config.megabytes
            ));
        }
        Ok(config)
    }

    fn transactions(&self) -> usize {
        self.tickets * self.transactions_per_ticket
    }

    fn other_transactions(&self) -> usize {
        self.other_tickets * self.other_transactions_per_ticket
    }

    /// The files' total size.
    fn file_bytes(&self) -> u64 {
        self.megabytes as u64 * MIB
    }

    /// File `f`'s size: the total shared out evenly, the remainder on the first files.
    fn file_size(&self, f: usize) -> usize {
        let files = self.files.max(1) as u64;
        let base = self.file_bytes() / files;
        let extra = u64::from((f as u64) < self.file_bytes() % files);
        (base + extra) as usize
    }

    /// The ticket and the transaction (by position) file `f` is attached to: the files go
    /// round the tickets, on transactions 1, 4, 7, … of each (more than one on a transaction
    /// when the ticket has too few).
    fn file_place(&self, f: usize) -> (usize, usize) {
        let t = f % self.tickets;
        let nth = f / self.tickets;
        (t, (1 + 3 * nth) % self.transactions_per_ticket)
    }

    fn file_key(&self, f: usize) -> String {
        let (t, j) = self.file_place(f);
        shared::files::attachment_key(
            ticket_id(t),
            transaction_id(ticket_id(t), j),
            &attachment_id(f).to_string(),
        )
    }
}

/// The seeded world, by index: ticket `t` (0-based) of the client; other ticket `o` belongs to
/// other client `o % other_clients`.
fn ticket_id(t: usize) -> i64 {
    TICKET_BASE + 1 + t as i64
}

fn other_ticket_id(o: usize) -> i64 {
    OTHER_TICKET_BASE + 1 + o as i64
}

fn transaction_id(ticket_id: i64, j: usize) -> i64 {
    ticket_id * 1000 + j as i64
}

fn attachment_id(f: usize) -> i64 {
    ATTACHMENT_BASE + f as i64
}

fn other_client(c: usize) -> String {
    format!("97254200{c:04}")
}

/// A file's name as received (Hebrew and English, with spaces: the export cleans them) and its
/// type.
fn file_name(f: usize) -> (String, &'static str, &'static str) {
    match f % 4 {
        0 => (format!("חשבונית מס {f}.pdf"), "application/pdf", "Document"),
        1 => (format!("צילום מסך {f}.png"), "image/png", "Image"),
        2 => (format!("scan_{f}.jpg"), "image/jpeg", "Image"),
        _ => (
            format!("contract (signed) {f}.pdf"),
            "application/pdf",
            "Document",
        ),
    }
}

/// `size` pseudo-random bytes (SplitMix64 seeded by the file's index): incompressible, and the
/// same every time they are made.
fn file_body(f: usize, size: usize) -> Vec<u8> {
    let mut state = (f as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut body = Vec::with_capacity(size + 8);
    while body.len() < size {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        body.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    body.truncate(size);
    body
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, byte| {
        use std::fmt::Write as _;
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// A message of realistic length (300–600 bytes): three sentences of a billing conversation,
/// Hebrew and English mixed, varying by ticket and position.
fn message(ticket: i64, j: usize) -> String {
    let order = ticket % 100_000;
    let sentences = [
        format!(
            "שלום, ההזמנה מספר A-{order} חויבה פעמיים בכרטיס האשראי שלי ואני מבקש החזר על אחד החיובים."
        ),
        format!(
            "Hi, I was charged twice for order A-{order}; please refund one of the charges as soon as possible."
        ),
        "בדקנו את הפנייה ואנחנו רואים את שני החיובים במערכת; ההחזר יבוצע תוך 5-7 ימי עסקים."
            .to_owned(),
        format!(
            "The refund of ₪{}.90 was issued today and should appear on your statement within a week.",
            100 + ticket % 900
        ),
        "מצורפת חשבונית מס קבלה עבור החודש האחרון, אשמח לאישור שהכתובת למשלוח נכונה.".to_owned(),
        "Could you also update the delivery address to רחוב הרצל 12, תל אביב? Thanks!".to_owned(),
        "תודה רבה על הסבלנות, אם יש שאלות נוספות אנחנו זמינים כאן בווטסאפ.".to_owned(),
        format!(
            "Escalated to billing: duplicate charge on order A-{order}, card ending {:04}, awaiting confirmation.",
            ticket % 10_000
        ),
    ];
    let pick = |k: usize| &sentences[(ticket as usize * 7 + j * 3 + k * 5) % sentences.len()];
    format!("{} {} {}", pick(0), pick(1), pick(2))
}

async fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    if !config.bootstrap.is_file() {
        return Err(format!(
            "{} is missing: build it first (scripts/bench-export.sh does)",
            config.bootstrap.display()
        ));
    }
    for dir in [
        config.log.parent(),
        Some(config.task_root.as_path()),
        Some(config.tmp_dir.as_path()),
    ]
    .into_iter()
    .flatten()
    {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    if dir_bytes(&config.tmp_dir) > 0 {
        return Err(format!(
            "{} is not empty: the ZIP's growth is measured there",
            config.tmp_dir.display()
        ));
    }
    let _ = std::fs::remove_file(&config.log);
    eprintln!(
        "export bench: client {CLIENT}: {} tickets, {} transactions, {} files ({} MB); others: {} tickets of {} clients",
        config.tickets,
        config.transactions(),
        config.files,
        config.megabytes,
        config.other_tickets,
        config.other_clients
    );

    let database = mongo_client(&config.ferretdb_uri, "ctm-bench-export")
        .await?
        .database(DATABASE);
    let store = Store::new(database.clone());
    let s3 = s3_client(&config.moto_endpoint);

    // Seed: the files' digests first (the documents record them), then the documents and the
    // files concurrently.
    let seed_started = Instant::now();
    database
        .drop()
        .await
        .map_err(|e| format!("drop {DATABASE}: {e}"))?;
    store
        .ensure_indexes()
        .await
        .map_err(|e| format!("indexes: {e}"))?;
    let digests = {
        let sizes: Vec<usize> = (0..config.files).map(|f| config.file_size(f)).collect();
        tokio::task::spawn_blocking(move || {
            sizes
                .iter()
                .enumerate()
                .map(|(f, size)| Sha256::digest(file_body(f, *size)).into())
                .collect::<Vec<[u8; 32]>>()
        })
        .await
        .map_err(|e| e.to_string())?
    };
    let hashed = seed_started.elapsed();
    let (files_seeded, db_seeded) = tokio::join!(
        seed_files(&s3, &config, &digests),
        seed_documents(&database, &config, &digests)
    );
    let files_time = files_seeded?;
    let db_time = db_seeded?;
    let seed = seed_started.elapsed();
    eprintln!(
        "export bench: seeded in {:.1} s (hashing {:.1} s, then documents {:.1} s, files {:.1} s, concurrently)",
        seed.as_secs_f64(),
        hashed.as_secs_f64(),
        db_time.as_secs_f64(),
        files_time.as_secs_f64()
    );
    check_seeded(&database, &s3, &config).await?;

    // The export, as request-client-export records it, and its job's SQS event.
    let export_id = shared::export::new_export_id();
    let now = Utc::now();
    store
        .create_export(&ExportDoc {
            export_id: export_id.clone(),
            client_identifier: CLIENT.to_owned(),
            status: ExportStatus::Pending,
            created_at: shared::dates::to_bson(now),
            ready_at: None,
            expires_at: shared::dates::to_bson(now + chrono::Duration::days(EXPORT_DAYS)),
            size_bytes: None,
            sha256: None,
            tickets: None,
            files: None,
            requested_by: "bench".into(),
            failure: None,
        })
        .await
        .map_err(|e| format!("create the export: {e}"))?;
    let event = event(&export_id)?;

    // The export: one cold start, one SQS event.
    let api = RuntimeApi::start(
        format!("arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION_NAME}"),
        TIMEOUT,
        true,
    )
    .await
    .map_err(|e| format!("Runtime API emulation: {e}"))?;
    let spawned = Instant::now();
    let mut child = spawn(&config, &api)?;
    let result = invoke(&config, &api, &mut child, spawned, event).await;
    let _ = child.kill();
    let _ = child.wait();
    let measured = result?;

    // The answer, the record and the stored ZIP.
    let mut problems = Vec::new();
    let answer: Value = serde_json::from_slice(&measured.answer).map_err(|e| {
        format!(
            "the answer is not JSON ({e}): {:?}",
            excerpt(&measured.answer)
        )
    })?;
    let failures = answer
        .get("batchItemFailures")
        .and_then(Value::as_array)
        .map_or(usize::MAX, Vec::len);
    if failures != 0 {
        problems.push(format!("the batch answered {answer}"));
    }
    let record = store
        .get_export(&export_id)
        .await
        .map_err(|e| format!("read the export: {e}"))?
        .ok_or("the export record is gone")?;
    if record.status != ExportStatus::Ready {
        problems.push(format!(
            "the export is {:?} ({})",
            record.status,
            record.failure.as_deref().unwrap_or("no failure given")
        ));
    }
    if record.tickets != Some(config.tickets as u64) {
        problems.push(format!(
            "the export holds {:?} tickets, not {}",
            record.tickets, config.tickets
        ));
    }
    if record.files != Some(config.files as u64) {
        problems.push(format!(
            "the export holds {:?} files, not {}",
            record.files, config.files
        ));
    }
    let key = shared::export::paths::export_key(&export_id);
    let object = s3
        .head_object()
        .bucket(BUCKET)
        .key(&key)
        .send()
        .await
        .map_err(|e| error_text(&e));
    let stored_size = match &object {
        Ok(head) => head.content_length().and_then(|n| u64::try_from(n).ok()),
        Err(error) => {
            problems.push(format!("HeadObject {key}: {error}"));
            None
        }
    };
    if let Ok(head) = &object {
        if stored_size != record.size_bytes {
            problems.push(format!(
                "the stored ZIP has {stored_size:?} bytes, the record says {:?}",
                record.size_bytes
            ));
        }
        let stored_sha256 = head.metadata().and_then(|m| m.get("sha256"));
        if stored_sha256 != record.sha256.as_ref() {
            problems.push(format!(
                "the stored ZIP's SHA-256 is {stored_sha256:?}, the record says {:?}",
                record.sha256
            ));
        }
    }
    let export_bytes = record.size_bytes.unwrap_or(0);
    if record.status == ExportStatus::Ready && export_bytes < config.file_bytes() {
        problems.push(format!(
            "the ZIP ({export_bytes} bytes) is smaller than its files ({} bytes)",
            config.file_bytes()
        ));
    }
    let left = dir_bytes(&config.tmp_dir);
    if left > 0 {
        problems.push(format!(
            "{left} bytes left in the function's TMPDIR ({})",
            config.tmp_dir.display()
        ));
    }

    // The report.
    let wall = measured.wall.as_secs_f64();
    let export_mb = export_bytes as f64 / MIB as f64;
    let peak_mb = measured.peak_kb as f64 / 1024.0;
    let date = Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let mut out = String::new();
    out += &format!("date                 {date}\n");
    out += &format!("machine              {}\n", machine());
    out += &format!(
        "exported client      {CLIENT}: {} tickets, {} transactions, {} files ({} bytes, {} MB)\n",
        config.tickets,
        config.transactions(),
        config.files,
        config.file_bytes(),
        config.megabytes
    );
    out += &format!(
        "rest of the archive  {} tickets, {} transactions of {} other clients\n",
        config.other_tickets,
        config.other_transactions(),
        config.other_clients
    );
    out += &format!(
        "seed                 {:.1} s (hashing the files {:.1} s, then documents {:.1} s, files {:.1} s, concurrently)\n",
        seed.as_secs_f64(),
        hashed.as_secs_f64(),
        db_time.as_secs_f64(),
        files_time.as_secs_f64()
    );
    out += &format!(
        "init                 {:.1} ms (peak RSS {:.1} MB)\n",
        measured.init.as_secs_f64() * 1e3,
        measured.init_peak_kb as f64 / 1024.0
    );
    out += &format!("export wall time     {wall:.1} s (one invocation)\n");
    out += &format!("export size          {export_bytes} bytes ({export_mb:.1} MB)\n");
    out += &format!("MB/s                 {:.1}\n", export_mb / wall);
    out += &format!(
        "peak RSS             {peak_mb:.1} MB (VmHWM {} kB; the function has {MEMORY_MB} MB)\n",
        measured.peak_kb
    );
    out += &format!(
        "peak TMPDIR          {:.1} MB (the ZIP and the manifest being built)\n",
        measured.peak_tmp as f64 / MIB as f64
    );
    out += &format!(
        "CPU during the export bootstrap {}, FerretDB {}, moto_server {} (of {wall:.1} s wall)\n",
        seconds(measured.cpu.bootstrap),
        seconds(measured.cpu.ferretdb),
        seconds(measured.cpu.moto)
    );
    if measured.phases.is_empty() {
        out += "phases               — (the ZIP's growth was not seen)\n";
    }
    for phase in &measured.phases {
        let span = (phase.to - phase.from).as_secs_f64();
        out += &format!(
            "  {:<40} {:>6.1} s → {:>6.1} s ({span:>5.1} s): CPU bootstrap {}, FerretDB {}, moto {}\n",
            phase.name,
            phase.from.as_secs_f64(),
            phase.to.as_secs_f64(),
            seconds(phase.cpu.bootstrap),
            seconds(phase.cpu.ferretdb),
            seconds(phase.cpu.moto)
        );
    }
    if let Some(moto) = config.moto_pid.and_then(|pid| peak_kb(pid).ok()) {
        out += &format!(
            "moto_server peak RSS {:.1} MB (the whole run: the seeded files and the ZIP are in its memory)\n",
            moto as f64 / 1024.0
        );
    }
    out += &format!("load average         {}\n", load_average());
    out += &format!("answer               {answer}\n");
    out += &format!(
        "record               {}\n",
        serde_json::to_string(&ExportView::from(record.clone())).unwrap_or_default()
    );
    out += &format!(
        "check                {}\n",
        if problems.is_empty() {
            format!(
                "PASS: ready, {} tickets and {} files, the stored ZIP has the recorded size ({export_bytes} bytes) and SHA-256; TMPDIR emptied",
                config.tickets, config.files
            )
        } else {
            format!("FAIL: {}", problems.join("; "))
        }
    );
    out += "\n| export-worker (FerretDB 1.24 SQLite, moto S3) | tickets | transactions | files | MB | wall s | MB/s | peak RSS MB |\n";
    out += "|---|---|---|---|---|---|---|---|\n";
    out += &format!(
        "| export-worker, one invocation ({} of another {} clients' tickets in the archive) | {} | {} | {} | {} | {wall:.1} | {:.1} | {peak_mb:.1} |\n",
        config.other_tickets,
        config.other_clients,
        thousands(config.tickets),
        thousands(config.transactions()),
        thousands(config.files),
        thousands(config.megabytes),
        export_mb / wall,
    );
    println!("{out}");
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("check failed: {}", problems.join("; ")))
    }
}

/// `events/export-worker.json` with its body naming `export_id`.
fn event(export_id: &str) -> Result<Bytes, String> {
    let path = "events/export-worker.json";
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut event: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let record = event
        .get_mut("Records")
        .and_then(|records| records.get_mut(0))
        .and_then(Value::as_object_mut)
        .ok_or(format!("{path} has no record"))?;
    record.insert(
        "body".into(),
        Value::String(json!({"exportId": export_id}).to_string()),
    );
    if let Some(attributes) = record.get_mut("attributes").and_then(Value::as_object_mut) {
        for name in ["MessageGroupId", "MessageDeduplicationId"] {
            attributes.insert(name.into(), Value::String(format!("export-{export_id}")));
        }
    }
    serde_json::to_vec(&event)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
}

struct Measured {
    init: Duration,
    init_peak_kb: u64,
    wall: Duration,
    answer: Bytes,
    peak_kb: u64,
    peak_tmp: u64,
    cpu: Cpu,
    phases: Vec<Phase>,
}

/// CPU seconds (user + system) spent during the invocation, when the process is known.
#[derive(Default, Clone, Copy)]
struct Cpu {
    bootstrap: Option<f64>,
    ferretdb: Option<f64>,
    moto: Option<f64>,
}

/// The three processes' CPU seconds so far.
#[derive(Clone, Copy)]
struct CpuNow([Option<f64>; 3]);

impl CpuNow {
    fn read(pids: [Option<u32>; 3]) -> Self {
        Self(pids.map(|p| p.and_then(cpu_seconds)))
    }

    fn since(&self, before: &Self) -> Cpu {
        let spent = |i: usize| Some(self.0[i]? - before.0[i]?);
        Cpu {
            bootstrap: spent(0),
            ferretdb: spent(1),
            moto: spent(2),
        }
    }
}

/// The function's `TMPDIR` when its size changed.
struct Sample {
    at: Duration,
    bytes: u64,
    cpu: CpuNow,
}

/// A stretch of the invocation, told apart by the `TMPDIR`'s size.
struct Phase {
    name: &'static str,
    from: Duration,
    to: Duration,
    cpu: Cpu,
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

/// Waits for the first poll, hands out the export's event and waits for its answer, measuring
/// the function's `TMPDIR` every `SAMPLE_EVERY` meanwhile.
async fn invoke(
    config: &Config,
    api: &RuntimeApi,
    child: &mut Child,
    started: Instant,
    event: Bytes,
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
    let pids = [Some(pid), config.ferretdb_pid, config.moto_pid];
    eprintln!(
        "export bench: invocation (deadline {} s)",
        TIMEOUT.as_secs()
    );
    let cpu_before = CpuNow::read(pids);
    let export_started = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let answered = {
        let invocation = api.invoke(event);
        tokio::pin!(invocation);
        let mut sampler = tokio::time::interval(SAMPLE_EVERY);
        sampler.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut reported = Instant::now();
        loop {
            tokio::select! {
                answered = &mut invocation => break answered,
                _ = sampler.tick() => {
                    let bytes = dir_bytes(&config.tmp_dir);
                    if samples.last().is_none_or(|last| last.bytes != bytes) {
                        samples.push(Sample { at: export_started.elapsed(), bytes, cpu: CpuNow::read(pids) });
                    }
                    if reported.elapsed() >= PROGRESS_EVERY {
                        reported = Instant::now();
                        eprintln!(
                            "export bench:   at {:.0} s: {:.1} MB on TMPDIR",
                            export_started.elapsed().as_secs_f64(),
                            bytes as f64 / MIB as f64
                        );
                    }
                }
            }
        }
    };
    let (wall, answer) = answered.map_err(|error| match child.try_wait() {
        Ok(Some(status)) => format!("{error}: the bootstrap exited ({status})"),
        _ => error,
    })?;
    let cpu_after = CpuNow::read(pids);
    // The temporary folder may go within the last `SAMPLE_EVERY`: one more sample, at the answer.
    let bytes = dir_bytes(&config.tmp_dir);
    if samples.last().is_none_or(|last| last.bytes != bytes) {
        samples.push(Sample {
            at: wall,
            bytes,
            cpu: cpu_after,
        });
    }
    let peak_kb = peak_kb(pid)?;
    eprintln!("export bench: answered in {:.1} s", wall.as_secs_f64());
    let peak_tmp = samples.iter().map(|s| s.bytes).max().unwrap_or(0);
    Ok(Measured {
        init,
        init_peak_kb,
        wall,
        answer,
        peak_kb,
        peak_tmp,
        cpu: cpu_after.since(&cpu_before),
        phases: phases(&samples, peak_tmp, wall, &cpu_before, &cpu_after),
    })
}

/// The invocation in four stretches, each known to `SAMPLE_EVERY`: the reads before the first
/// byte on `TMPDIR`; the ZIP written (every file streamed in from S3, each ticket's transcript,
/// the manifest) until the `TMPDIR` stops growing; the ZIP hashed and stored with its one
/// PutObject, until the temporary folder is removed; the record marked ready and the answer.
fn phases(
    samples: &[Sample],
    peak: u64,
    wall: Duration,
    before: &CpuNow,
    after: &CpuNow,
) -> Vec<Phase> {
    let first = samples.iter().position(|s| s.bytes > 0);
    let full = samples.iter().position(|s| peak > 0 && s.bytes == peak);
    let removed = full.and_then(|i| {
        samples[i..]
            .iter()
            .position(|s| s.bytes == 0)
            .map(|n| i + n)
    });
    let (Some(first), Some(full), Some(removed)) = (first, full, removed) else {
        return Vec::new();
    };
    let [first, full, removed] = [&samples[first], &samples[full], &samples[removed]];
    let mut phases = vec![
        Phase {
            name: "reads before the first byte on TMPDIR",
            from: Duration::ZERO,
            to: first.at,
            cpu: first.cpu.since(before),
        },
        Phase {
            name: "ZIP written (files, transcripts, manifest)",
            from: first.at,
            to: full.at,
            cpu: full.cpu.since(&first.cpu),
        },
    ];
    if removed.at < wall {
        phases.push(Phase {
            name: "ZIP hashed and stored (one PutObject)",
            from: full.at,
            to: removed.at,
            cpu: removed.cpu.since(&full.cpu),
        });
        phases.push(Phase {
            name: "record marked ready, answer",
            from: removed.at,
            to: wall,
            cpu: after.since(&removed.cpu),
        });
    } else {
        // The folder went after the last sample: the last two stretches are one.
        phases.push(Phase {
            name: "ZIP hashed and stored, marked ready",
            from: full.at,
            to: wall,
            cpu: after.since(&full.cpu),
        });
    }
    phases
}

/// The size of every file under `dir` (files that go while it is walked are skipped).
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_bytes(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// What Lambda sets in every execution environment, the template's globals and the function's
/// own variables (its settings read from the environment, not from a secret: the same
/// configuration keys), with dummy credentials, moto as the AWS endpoint and `TMPDIR` for
/// Lambda's `/tmp`.
fn environment(config: &Config) -> BTreeMap<String, String> {
    let task_root = config.task_root.display().to_string();
    [
        ("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_MB.to_string()),
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
        ("TMPDIR", config.tmp_dir.display().to_string()),
        ("METRICS_NAMESPACE", "ctm-bench".into()),
        ("ACCESS_LOG_DAYS", "400".into()),
        ("MONGODB_URI", config.ferretdb_uri.clone()),
        ("MONGODB_DATABASE", DATABASE.into()),
        ("FILES_BUCKET", BUCKET.into()),
        ("EXPORT_DAYS", EXPORT_DAYS.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The clients, tickets and transactions in `insert_many` batches, shaped as the store writes
/// them; the client's files recorded on their transactions with their digests.
async fn seed_documents(
    database: &mongodb::Database,
    config: &Config,
    digests: &[[u8; 32]],
) -> Result<Duration, String> {
    let started = Instant::now();
    let now = Utc::now();
    let at = |date: chrono::DateTime<Utc>| DateTime::from_millis(date.timestamp_millis());
    // Ticket t of a client opened 300 days ago plus t hours, closed after its messages (one a
    // minute), archived a minute later.
    let opened = |t: usize| now - chrono::Duration::days(300) + chrono::Duration::hours(t as i64);
    let closed =
        |t: usize, messages: usize| opened(t) + chrono::Duration::minutes(messages as i64 + 60);
    let archived =
        |t: usize, messages: usize| at(closed(t, messages) + chrono::Duration::minutes(1));

    let mut clients = vec![doc! {
        "identifier": CLIENT,
        "name": CLIENT_NAME,
        "tickets": (0..config.tickets).map(ticket_id).collect::<Vec<_>>(),
        "legalHold": Bson::Null,
        "createdAt": at(opened(0)),
        "updatedAt": archived(config.tickets, config.transactions_per_ticket),
    }];
    clients.extend((0..config.other_clients).map(|c| {
        doc! {
            "identifier": other_client(c),
            "name": format!("לקוח אחר {c}"),
            "tickets": (c..config.other_tickets).step_by(config.other_clients).map(other_ticket_id).collect::<Vec<_>>(),
            "legalHold": Bson::Null,
            "createdAt": at(opened(0)),
            "updatedAt": archived(config.other_tickets, config.other_transactions_per_ticket),
        }
    }));
    insert(
        database,
        shared::db::documents::CLIENTS,
        clients.into_iter(),
    )
    .await?;

    let ticket = |id: i64, client: String, name: &str, t: usize, messages: usize| {
        doc! {
            "ticketId": id,
            "clientIdentifier": client,
            "clientName": name,
            "ticketOpeningDate": at(opened(t)),
            "protocolType": "WhatsApp",
            "transactionCount": messages as i64,
            "closedAt": at(closed(t, messages)),
            "tags": ["archived-by-ctm", "Billing"],
            "archivedAt": archived(t, messages),
            "scrambledAt": archived(t, messages),
            "legalHold": Bson::Null,
            "createdAt": archived(t, messages),
            "updatedAt": archived(t, messages),
        }
    };
    let tickets = (0..config.tickets)
        .map(|t| {
            ticket(
                ticket_id(t),
                CLIENT.to_owned(),
                CLIENT_NAME,
                t,
                config.transactions_per_ticket,
            )
        })
        .chain((0..config.other_tickets).map(|o| {
            ticket(
                other_ticket_id(o),
                other_client(o % config.other_clients),
                "לקוח אחר",
                o,
                config.other_transactions_per_ticket,
            )
        }));
    insert(database, shared::db::documents::TICKETS, tickets).await?;

    let mut attached: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
    for f in 0..config.files {
        attached.entry(config.file_place(f)).or_default().push(f);
    }
    let attachment = |t: usize, f: usize| {
        let (name, content_type, kind) = file_name(f);
        doc! {
            "id": attachment_id(f),
            "type": kind,
            "originalFileName": name,
            "fileIdentifier": format!("bench-{}", attachment_id(f)),
            "isEmbedded": false,
            "stored": {
                "key": config.file_key(f),
                "size": config.file_size(f) as i64,
                "sha256": hex(&digests[f]),
                "contentType": content_type,
                "storedAt": archived(t, config.transactions_per_ticket),
            },
        }
    };
    let transaction = |id: i64, t: usize, j: usize, attachments: Vec<Document>| {
        let client = j.is_multiple_of(2);
        let text = message(id, j);
        doc! {
            "ticketId": id,
            "id": transaction_id(id, j),
            "guid": format!("00000000-0000-4000-8000-{:012}", transaction_id(id, j)),
            "dateTime": at(opened(t) + chrono::Duration::minutes(j as i64)),
            "type": "Message",
            "html": format!("<p>{}</p>", text.replace(". ", ".<br>")),
            "text": text,
            "fromProtocolType": "WhatsApp",
            "senderName": if client { CLIENT_NAME } else { "נציג שירות / Support agent" },
            "senderType": if client { "Client" } else { "User" },
            "attachments": attachments,
        }
    };
    let transactions = (0..config.tickets)
        .flat_map(|t| (0..config.transactions_per_ticket).map(move |j| (t, j)))
        .map(|(t, j)| {
            let files = attached.get(&(t, j)).map_or(&[][..], Vec::as_slice);
            let attachments = files.iter().map(|&f| attachment(t, f)).collect();
            transaction(ticket_id(t), t, j, attachments)
        })
        .chain(
            (0..config.other_tickets)
                .flat_map(|o| (0..config.other_transactions_per_ticket).map(move |j| (o, j)))
                .map(|(o, j)| transaction(other_ticket_id(o), o, j, Vec::new())),
        );
    insert(database, shared::db::documents::TRANSACTIONS, transactions).await?;
    Ok(started.elapsed())
}

/// The bucket and the client's files, `PUTS_IN_FLIGHT` PutObject calls at a time, each as the
/// archive stores it: its SHA-256 as `x-amz-checksum-sha256` and in the `sha256` metadata.
async fn seed_files(
    s3: &aws_sdk_s3::Client,
    config: &Config,
    digests: &[[u8; 32]],
) -> Result<Duration, String> {
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
    for (f, digest) in digests.iter().enumerate() {
        if in_flight.len() >= PUTS_IN_FLIGHT
            && let Some(done) = in_flight.join_next().await
        {
            done.map_err(|e| e.to_string())??;
        }
        let s3 = s3.clone();
        let key = config.file_key(f);
        let size = config.file_size(f);
        let content_type = file_name(f).1;
        let (hex, base64) = (
            hex(digest),
            base64::engine::general_purpose::STANDARD.encode(digest),
        );
        in_flight.spawn(async move {
            s3.put_object()
                .bucket(BUCKET)
                .key(&key)
                .content_type(content_type)
                .content_length(size as i64)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(base64)
                .metadata("sha256", hex)
                .body(ByteStream::from(file_body(f, size)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| format!("PutObject {key}: {}", error_text(&e)))
        });
    }
    while let Some(done) = in_flight.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(started.elapsed())
}

/// The seeded world as the database and the bucket hold it: the client's tickets and
/// transactions, the other tickets, the files and their bytes.
async fn check_seeded(
    database: &mongodb::Database,
    s3: &aws_sdk_s3::Client,
    config: &Config,
) -> Result<(), String> {
    let count = |collection: &str, filter: Document| {
        let collection = database.collection::<Document>(collection);
        async move {
            collection
                .count_documents(filter)
                .await
                .map_err(|e| format!("count {}: {e}", collection.name()))
        }
    };
    let client_tickets =
        doc! {"ticketId": {"$gt": TICKET_BASE, "$lte": ticket_id(config.tickets - 1)}};
    let other_tickets = doc! {"ticketId": {"$gt": OTHER_TICKET_BASE}};
    let found = [
        count(shared::db::documents::TICKETS, client_tickets.clone()).await?,
        count(shared::db::documents::TRANSACTIONS, client_tickets).await?,
        count(shared::db::documents::TICKETS, other_tickets.clone()).await?,
        count(shared::db::documents::TRANSACTIONS, other_tickets).await?,
    ];
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut pages = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("tickets/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("ListObjectsV2: {}", error_text(&e)))?;
        files += page.contents().len() as u64;
        bytes += page
            .contents()
            .iter()
            .filter_map(|object| object.size())
            .map(|size| size.max(0) as u64)
            .sum::<u64>();
    }
    let found = [found[0], found[1], found[2], found[3], files, bytes];
    let expected = [
        config.tickets as u64,
        config.transactions() as u64,
        config.other_tickets as u64,
        config.other_transactions() as u64,
        config.files as u64,
        if config.files > 0 {
            config.file_bytes()
        } else {
            0
        },
    ];
    if found != expected {
        return Err(format!(
            "seeded tickets, transactions, other tickets, other transactions, files, file bytes: {found:?}, expected {expected:?}"
        ));
    }
    Ok(())
}
