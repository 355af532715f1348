//! What the at-scale benchmarks (`purge`, `export`, `search`) share besides their environment
//! reading (`host.rs`): the clients they seed with, their bulk inserts, a process's peak memory
//! and CPU time from `/proc`, and the report's number formatting.

use std::process::Command;
use std::sync::OnceLock;

use mongodb::bson::Document;
use mongodb::options::{ClientOptions, WriteConcern};

const REGION: &str = "us-east-1";
/// Documents per `insert_many`.
const BATCH: usize = 1000;

/// A client with the store's write concern (majority), named `app_name` in FerretDB's logs.
pub async fn mongo_client(uri: &str, app_name: &str) -> Result<mongodb::Client, String> {
    let mut options = ClientOptions::parse(uri)
        .await
        .map_err(|e| format!("{uri}: {e}"))?;
    options.write_concern = Some(WriteConcern::majority());
    options.app_name = Some(app_name.into());
    mongodb::Client::with_options(options).map_err(|e| e.to_string())
}

/// `documents` into `collection`, `BATCH` to each `insert_many`.
pub async fn insert(
    database: &mongodb::Database,
    collection: &str,
    documents: impl Iterator<Item = Document>,
) -> Result<(), String> {
    let collection = database.collection::<Document>(collection);
    let mut documents = documents.peekable();
    while documents.peek().is_some() {
        let batch: Vec<Document> = documents.by_ref().take(BATCH).collect();
        collection
            .insert_many(batch)
            .await
            .map_err(|e| format!("insert into {}: {e}", collection.name()))?;
    }
    Ok(())
}

/// The SDK's S3 client configured as the functions configure theirs, straight to moto.
pub fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    let credentials = aws_sdk_s3::config::Credentials::new("bench", "bench", None, None, "bench");
    let sdk = shared::aws::config(
        Some(aws_sdk_s3::config::Region::new(REGION)),
        aws_sdk_s3::config::SharedCredentialsProvider::new(credentials),
        Some(endpoint.to_owned()),
    );
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub fn error_text<E: std::error::Error>(error: &E) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text += &format!(": {cause}");
        source = cause.source();
    }
    text
}

/// `VmHWM` of `/proc/<pid>/status`, in kB.
pub fn peak_kb(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("{path} has no VmHWM"))
}

/// User + system CPU seconds of a process and its waited-for children (`/proc/<pid>/stat`).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime, stime, cutime, cstime are fields 14–17 of stat(5); here 0-based after `)`: 11–14.
    let ticks: u64 = fields
        .get(11..15)?
        .iter()
        .map(|f| f.parse::<u64>().unwrap_or(0))
        .sum();
    Some(ticks as f64 / clock_ticks() as f64)
}

/// `getconf CLK_TCK`, 100 on Linux unless it says otherwise; asked once.
fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

pub fn seconds(value: Option<f64>) -> String {
    value.map_or("—".into(), |s| format!("{s:.1} s"))
}

pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

pub fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned()
}
