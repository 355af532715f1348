//! `bench`: the benchmark of issue 14. Runs every deployed bootstrap (and a hello-world
//! `lambda_http` function, the floor) as a child process under a local emulation of the Lambda
//! Runtime API, against FerretDB and moto_server behind counting proxies and a Glassix stub,
//! and prints one table: zip size, init, first invocation, warm p50/p99, overhead over the
//! database driver, peak RSS and its growth, GetSecretValue and index commands per cold start,
//! each next to its target. It builds nothing: `scripts/bench.sh` builds, starts the servers
//! and runs it.
//!
//! Environment (set by `scripts/bench.sh`):
//! - `BENCH_FERRETDB_URI` (`mongodb://127.0.0.1:<port>/`), `BENCH_MOTO_ENDPOINT`
//!   (`http://127.0.0.1:<port>`): the servers.
//! - `BENCH_RUNS` (3), `BENCH_COLD_STARTS` (5), `BENCH_INVOCATIONS` (1000),
//!   `BENCH_WEBHOOK_INVOCATIONS` (100: new-ticket invocations timed with the Glassix delay),
//!   `BENCH_GLASSIX_DELAY_MS` (100).
//! - `BENCH_ONLY`: comma-separated binaries to measure (default: every function).
//! - `BENCH_ARM64_DIR` (`target/lambda`), `BENCH_X86_DIR` (`target/lambda-x86_64`): the
//!   bootstraps; `BENCH_REPORT` (`target/bench/report.md`).
//! - `BENCH_STRICT=1`: exit 1 when a target is not met.
//! - `BENCH_WITHOUT_TRACE_ID=1` (a diagnosis, not a measurement of what deploys): the Runtime
//!   API emulation sends no `Lambda-Runtime-Trace-Id`, which Lambda sends with every event.
//!   lambda_runtime copies it into `_X_AMZN_TRACE_ID` with `setenv`, and glibc keeps every
//!   distinct value it was given, so each invocation leaves its trace id behind; without it,
//!   the RSS growth column shows what the functions themselves grow.

mod aws;
mod aws_proxy;
mod host;
mod instance;
mod measure;
mod mongo_proxy;
mod report;
mod scenario;
mod stats;
mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;

use mongodb::options::{ClientOptions, WriteConcern};
use shared::testing::glassix::{Delay, GlassixStub};
use tokio::time::Instant;

use crate::aws::{Aws, REGION};
use crate::aws_proxy::AwsCalls;
use crate::host::{Env, load_average, machine};
use crate::instance::Launch;
use crate::measure::{Bench, Settings};
use crate::mongo_proxy::CommandLog;
use crate::report::{Context, FunctionResult, HelloResult};
use crate::scenario::{Backends, Kind, Scenario, kind_of};

const ACCOUNT: &str = "123456789012";
const DATABASE: &str = "ctm_bench";
/// ≥ 32 characters, as `API_TOKENS` requires.
const API_TOKEN: &str = "bench-token-0123456789abcdef0123456789abcdef";
const GLASSIX_API_SECRET: &str = "bench-glassix-api-secret";

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(all_met) if all_met || std::env::var("BENCH_STRICT").as_deref() != Ok("1") => {
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("bench: {error}");
            ExitCode::FAILURE
        }
    }
}

struct Config {
    root: PathBuf,
    arm64_dir: PathBuf,
    x86_dir: PathBuf,
    out_dir: PathBuf,
    report: PathBuf,
    ferretdb_uri: String,
    moto_endpoint: String,
    runs: usize,
    settings: Settings,
    only: Option<BTreeSet<String>>,
    /// Whether each event carries a trace id, as on Lambda (`BENCH_WITHOUT_TRACE_ID`).
    trace_ids: bool,
}

impl Config {
    fn from_env() -> Result<Self, String> {
        let env = Env::new("scripts/bench.sh")?;
        let var = |name: &str| env.var(name);
        let required = |name: &str| env.required(name);
        let number = |name: &str, default: usize| env.number(name, default);
        let path = |name: &str, default: &str| env.path(name, default);
        let root = env.root.clone();
        let out_dir = root.join("target/bench");
        Ok(Self {
            arm64_dir: path("BENCH_ARM64_DIR", "target/lambda"),
            x86_dir: path("BENCH_X86_DIR", "target/lambda-x86_64"),
            report: path("BENCH_REPORT", "target/bench/report.md"),
            ferretdb_uri: required("BENCH_FERRETDB_URI")?,
            moto_endpoint: required("BENCH_MOTO_ENDPOINT")?
                .trim_end_matches('/')
                .to_owned(),
            runs: number("BENCH_RUNS", 3)?.max(1),
            settings: Settings {
                cold_starts: number("BENCH_COLD_STARTS", 5)?.max(1),
                invocations: number("BENCH_INVOCATIONS", 1000)?.max(1),
                webhook_invocations: number("BENCH_WEBHOOK_INVOCATIONS", 100)?.max(1),
                glassix_delay: Duration::from_millis(number("BENCH_GLASSIX_DELAY_MS", 100)? as u64),
            },
            trace_ids: var("BENCH_WITHOUT_TRACE_ID").as_deref() != Some("1"),
            only: var("BENCH_ONLY").map(|list| {
                list.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            out_dir,
            root,
        })
    }
}

async fn run() -> Result<bool, String> {
    let started = Instant::now();
    let config = Config::from_env()?;
    let load_start = load_average();
    let logs = config.out_dir.join("logs");
    let task_root = config.out_dir.join("task");
    let zips = config.out_dir.join("zip");
    let _ = std::fs::remove_dir_all(&logs);
    for dir in [&logs, &task_root, &zips] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }

    // The servers and what stands between them and the functions.
    let ferretdb = mongo_address(&config.ferretdb_uri)?;
    let commands = Arc::new(CommandLog::default());
    let mongo_proxy = mongo_proxy::start(ferretdb, commands.clone())
        .await
        .map_err(|e| format!("MongoDB proxy: {e}"))?;
    let aws = Arc::new(AwsCalls::default());
    let aws_proxy = aws_proxy::start(config.moto_endpoint.clone(), aws.clone())
        .await
        .map_err(|e| format!("AWS proxy: {e}"))?;
    let aws_endpoint = format!("http://{aws_proxy}");
    let glassix_delay = Delay::new(config.settings.glassix_delay);
    let glassix = GlassixStub::answering_everything(&glassix_delay).await;

    // What the template references: the configuration secret, the archive queue, the bucket.
    let mongo_uri = format!("mongodb://{mongo_proxy}/");
    let moto = Aws::new(&config.moto_endpoint);
    let bucket = "ctm-bench-files".to_owned();
    let secret = serde_json::json!({
        "MONGODB_URI": mongo_uri,
        "MONGODB_DATABASE": DATABASE,
        "API_TOKENS": API_TOKEN,
        "GLASSIX_WORKSPACE": "bench",
        "GLASSIX_BASE_URL": glassix.base_url(),
        "GLASSIX_API_KEY": "00000000-0000-0000-0000-000000000000",
        "GLASSIX_API_SECRET": GLASSIX_API_SECRET,
        "GLASSIX_USER_NAME": "api-user@example.com",
        "NEW_TICKET_TAGS": "archived-by-ctm",
    });
    let secret_arn = moto
        .create_secret(
            &format!("ctm-bench-{}", std::process::id()),
            &secret.to_string(),
        )
        .await?;
    let queue_url = moto
        .create_fifo_queue(&format!("ctm-bench-{}-archive.fifo", std::process::id()))
        .await?;
    moto.create_bucket(&bucket).await?;

    let provided: BTreeMap<String, String> = [
        // One secret holding every role's keys stands in for both.
        ("GlassixSecretArn", secret_arn.clone()),
        ("ApiSecretArn", secret_arn),
        ("ArchiveQueue", queue_url),
        ("ArchiveFilesBucket", bucket.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let template = std::fs::read_to_string(config.root.join("template.yaml"))
        .map_err(|e| format!("template.yaml: {e}"))?;
    let mut specs =
        shared::template::function_specs(&template, &provided).map_err(|e| e.to_string())?;
    if let Some(only) = &config.only {
        specs.retain(|spec| only.contains(&spec.binary));
    }

    let launch_of =
        |binary: &str, name: &str, memory: i64, timeout: i64, env: &BTreeMap<String, String>| {
            let function_name = format!("ctm-bench-{name}");
            let mut all = lambda_environment(&function_name, memory, &aws_endpoint, &task_root);
            all.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
            Launch {
                binary: binary.to_owned(),
                program: config.x86_dir.join(binary).join("bootstrap"),
                env: all,
                cwd: task_root.clone(),
                log: logs.join(format!("{binary}.log")),
                timeout: Duration::from_secs(timeout.max(1) as u64),
                arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"),
                trace_ids: config.trace_ids,
            }
        };
    let hello_env: BTreeMap<String, String> = [
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_LAMBDA_LOG_LEVEL", "INFO"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let hello = launch_of("hello-lambda", "HelloFunction", 256, 10, &hello_env);
    let launches: Vec<(Launch, Kind, bool)> = specs
        .iter()
        .map(|spec| {
            (
                launch_of(
                    &spec.binary,
                    &spec.logical_id,
                    spec.memory_mb,
                    spec.timeout_s,
                    &spec.env,
                ),
                kind_of(&spec.binary),
                spec.env.contains_key("FILES_BUCKET"),
            )
        })
        .collect();
    for launch in std::iter::once(&hello).chain(launches.iter().map(|(l, _, _)| l)) {
        if !launch.program.is_file() {
            return Err(format!(
                "{} is missing: build it first (scripts/bench.sh does)",
                launch.program.display()
            ));
        }
    }

    // Sizes, once.
    let zip_of = |binary: &str| {
        zipped_size(
            &config.arm64_dir.join(binary).join("bootstrap"),
            &zips.join(format!("{binary}.zip")),
        )
    };
    let mut results: Vec<FunctionResult> = specs
        .iter()
        .map(|spec| FunctionResult {
            binary: spec.binary.clone(),
            kind: kind_of(&spec.binary),
            zip_bytes: zip_of(&spec.binary),
            runs: Vec::new(),
        })
        .collect();
    let mut hello_result = HelloResult {
        zip_bytes: zip_of("hello-lambda"),
        runs: Vec::new(),
    };

    // The databases: setup and seeding straight to FerretDB; the baselines through the proxy,
    // as the functions go.
    let setup_db = mongo_client(&config.ferretdb_uri).await?.database(DATABASE);
    let proxied_db = mongo_client(&mongo_uri).await?.database(DATABASE);
    let scenario = Scenario::new(
        &config.root,
        API_TOKEN.into(),
        GLASSIX_API_SECRET.into(),
        Backends {
            database: proxied_db,
            direct: setup_db,
            s3: s3_client(&aws_endpoint),
            moto,
            bucket,
            queue_url: provided["ArchiveQueue"].clone(),
        },
    )?;
    probe_index_count(&scenario, &commands).await?;
    let bench = Bench {
        settings: &config.settings,
        scenario: &scenario,
        aws: &aws,
        commands: &commands,
        glassix: &glassix,
        glassix_delay: &glassix_delay,
        hello: &hello,
    };

    for run in 0..config.runs {
        eprintln!("run {}/{}", run + 1, config.runs);
        let hello_run = measure::hello(&bench).await;
        eprintln!(
            "  hello-lambda: {}",
            summary_line(
                &hello_run.first_ms,
                hello_run.warm.as_ref(),
                hello_run.error.as_deref()
            )
        );
        hello_result.runs.push(hello_run);
        for ((launch, kind, files_bucket), result) in launches.iter().zip(results.iter_mut()) {
            // Each function meets the same database: what earlier ones wrote would slow it.
            scenario.reset(&config.ferretdb_uri).await?;
            let measured = measure::function(&bench, launch, *kind, *files_bucket, run).await;
            eprintln!(
                "  {}: init {} ms; {}",
                launch.binary,
                stats::median(&measured.inits_ms).map_or("—".into(), |v| format!("{v:.1}")),
                summary_line(
                    &measured.first_ms,
                    measured.warm.as_ref(),
                    measured.error.as_deref()
                )
            );
            result.runs.push(measured);
        }
    }

    let context = Context {
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine: machine(),
        nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
        runs: config.runs,
        cold_starts: config.settings.cold_starts,
        invocations: config.settings.invocations,
        webhook_invocations: config.settings.webhook_invocations,
        glassix_delay_ms: config.settings.glassix_delay.as_millis() as u64,
        load: (load_start, load_average()),
        trace_ids: config.trace_ids,
        elapsed_s: started.elapsed().as_secs(),
    };
    let table = report::render(&context, &hello_result, &results);
    if let Some(dir) = config.report.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&config.report, &table)
        .map_err(|e| format!("{}: {e}", config.report.display()))?;
    println!("{table}");
    eprintln!("bench: table written to {}", config.report.display());
    Ok(!table.contains("**FAIL**"))
}

/// What Lambda sets in every execution environment (besides `AWS_LAMBDA_RUNTIME_API`), with
/// dummy credentials and the AWS endpoint of the counting proxy.
fn lambda_environment(
    function_name: &str,
    memory_mb: i64,
    aws_endpoint: &str,
    task_root: &Path,
) -> BTreeMap<String, String> {
    let task_root = task_root.display().to_string();
    [
        ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function_name}"),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef".into(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_DEFAULT_REGION", REGION.into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_SESSION_TOKEN", "testing".into()),
        ("AWS_ENDPOINT_URL", aws_endpoint.to_owned()),
        ("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR".into()),
        ("LAMBDA_TASK_ROOT", task_root),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
        ("_HANDLER", "bootstrap".into()),
        ("TZ", ":UTC".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// A zero is only worth something if the count works: one `createIndexes` through the proxy
/// must be counted as one.
async fn probe_index_count(scenario: &Scenario, commands: &CommandLog) -> Result<(), String> {
    let mark = commands.mark();
    scenario
        .backends
        .database
        .collection::<mongodb::bson::Document>("bench_probe")
        .create_index(
            mongodb::IndexModel::builder()
                .keys(mongodb::bson::doc! {"probe": 1})
                .build(),
        )
        .await
        .map_err(|e| format!("probe index: {e}"))?;
    match commands.index_commands_since(mark) {
        1 => Ok(()),
        n => Err(format!(
            "the MongoDB proxy counted {n} index commands for one createIndexes"
        )),
    }
}

/// The SDK's S3 client configured as the functions configure theirs, through `endpoint`.
fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
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

/// A client with the store's write concern (majority), so that baselines send what it sends.
async fn mongo_client(uri: &str) -> Result<mongodb::Client, String> {
    let mut options = ClientOptions::parse(uri)
        .await
        .map_err(|e| format!("{uri}: {e}"))?;
    options.write_concern = Some(WriteConcern::majority());
    options.app_name = Some("ctm-bench".into());
    mongodb::Client::with_options(options).map_err(|e| e.to_string())
}

fn mongo_address(uri: &str) -> Result<SocketAddr, String> {
    uri.strip_prefix("mongodb://")
        .and_then(|rest| rest.split(['/', '?']).next())
        .and_then(|host| host.parse().ok())
        .ok_or_else(|| format!("BENCH_FERRETDB_URI must be mongodb://<ip>:<port>/, not {uri}"))
}

/// The zipped size of a bootstrap as SAM packages it: a zip holding one file, `bootstrap`,
/// deflated (`zip`'s default level, as Python's `zipfile` SAM uses).
fn zipped_size(bootstrap: &Path, zip: &Path) -> Result<u64, String> {
    let dir = bootstrap
        .parent()
        .filter(|_| bootstrap.is_file())
        .ok_or_else(|| format!("{} is missing", bootstrap.display()))?;
    let _ = std::fs::remove_file(zip);
    let status = Command::new("zip")
        .args(["-q", "-X", "-6"])
        .arg(zip)
        .arg("bootstrap")
        .current_dir(dir)
        .status()
        .map_err(|e| format!("zip: {e}"))?;
    if !status.success() {
        return Err(format!("zip {} failed ({status})", bootstrap.display()));
    }
    std::fs::metadata(zip)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", zip.display()))
}

fn summary_line(first: &[f64], warm: Option<&measure::WarmRun>, error: Option<&str>) -> String {
    let mut line = format!(
        "first {} ms",
        stats::median(first).map_or("—".into(), |v| format!("{v:.1}"))
    );
    if let Some(warm) = warm {
        line += &format!(
            ", warm p50 {} ms / p99 {} ms, peak {} kB",
            stats::percentile(&warm.samples_ms, 50.0).map_or("—".into(), |v| format!("{v:.2}")),
            stats::percentile(&warm.samples_ms, 99.0).map_or("—".into(), |v| format!("{v:.2}")),
            warm.peak_kb
        );
        if let Some(base) = stats::percentile(&warm.baseline_ms, 50.0) {
            line += &format!(", driver p50 {base:.2} ms");
        }
    }
    if let Some(error) = error {
        line += &format!("; ERROR: {error}");
    }
    line
}
