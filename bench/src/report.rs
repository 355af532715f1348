//! The table: one row per function, each figure next to its target and PASS/FAIL. Every figure
//! is the median of the runs' figures; a run's init and first invocation are the medians of
//! its cold starts.

use std::fmt::Write;

use crate::measure::{FunctionRun, HelloRun, WarmRun};
use crate::scenario::{Kind, per_invocation};
use crate::stats::{median, percentile};

// The targets of issue 14.
pub const ZIP_MAX_MB: f64 = 3.0;
pub const ZIP_STRETCH_MB: f64 = 2.5;
pub const INIT_RATIO_MAX: f64 = 1.5;
pub const OVERHEAD_MAX_MS: f64 = 0.5;
pub const RSS_MAX_MB: f64 = 10.0;
/// "No growth" between invocation 100 and the last, beyond the hello-world floor's: the
/// resident set moves in 4 KiB pages and the allocator keeps a little slack, so up to 16 pages
/// count as none. The floor itself grows with every invocation: lambda_runtime puts each
/// event's trace id in `_X_AMZN_TRACE_ID` with `setenv`, and glibc keeps every value it was
/// given (see `BENCH_WITHOUT_TRACE_ID`). A function adds nothing when it grows as the floor
/// does.
pub const RSS_GROWTH_MAX_KIB: i64 = 64;
pub const NEW_TICKET_SLACK_MS: f64 = 20.0;
pub const STATE_CHANGE_P99_MAX_MS: f64 = 15.0;

const MB: f64 = 1_000_000.0;

pub struct Context {
    pub date: String,
    pub machine: String,
    pub nproc: usize,
    pub runs: usize,
    pub cold_starts: usize,
    pub invocations: usize,
    pub webhook_invocations: usize,
    pub glassix_delay_ms: u64,
    pub load: (String, String),
    pub elapsed_s: u64,
    /// false under `BENCH_WITHOUT_TRACE_ID=1`: a diagnosis, said above the table.
    pub trace_ids: bool,
}

pub struct FunctionResult {
    pub binary: String,
    pub kind: Kind,
    pub zip_bytes: Result<u64, String>,
    pub runs: Vec<FunctionRun>,
}

pub struct HelloResult {
    pub zip_bytes: Result<u64, String>,
    pub runs: Vec<HelloRun>,
}

/// Counts a verdict per judged cell.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<String>,
}

impl Tally {
    fn judge(&mut self, what: String, value: String, pass: bool) -> String {
        if pass {
            self.passed += 1;
            format!("{value} PASS")
        } else {
            self.failed.push(format!("{what}: {value}"));
            format!("{value} **FAIL**")
        }
    }

    /// [`Self::judge`] of a measured figure; a figure that could not be measured fails.
    fn judge_figure(
        &mut self,
        what: String,
        figure: Option<f64>,
        value: impl FnOnce(f64) -> String,
        pass: impl FnOnce(f64) -> bool,
    ) -> String {
        match figure {
            Some(figure) => self.judge(what, value(figure), pass(figure)),
            None => self.judge(what, "—".into(), false),
        }
    }
}

pub fn render(context: &Context, hello: &HelloResult, functions: &[FunctionResult]) -> String {
    let mut tally = Tally::default();
    let mut notes = Vec::new();
    let hello_warm_p50: Vec<Option<f64>> = hello
        .runs
        .iter()
        .map(|run| {
            run.warm
                .as_ref()
                .and_then(|w| percentile(&w.samples_ms, 50.0))
        })
        .collect();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "Benchmark of the deployed bootstraps, {} on {} (nproc {}); {} runs × {} cold starts + {} warm invocations per function (new-ticket: {} timed with the Glassix stub delaying each call by D = {} ms); load average {} at the start, {} at the end; {} s.",
        context.date,
        context.machine,
        context.nproc,
        context.runs,
        context.cold_starts,
        context.invocations,
        context.webhook_invocations.min(context.invocations),
        context.glassix_delay_ms,
        context.load.0,
        context.load.1,
        context.elapsed_s,
    );
    if !context.trace_ids {
        let _ = writeln!(
            out,
            "\n**Diagnosis run (`BENCH_WITHOUT_TRACE_ID=1`): events carry no `Lambda-Runtime-Trace-Id`, unlike Lambda's.** The RSS growth column shows the functions' own growth, without the trace id lambda_runtime leaves in the environment at each invocation; the other figures are not those of a deployed function."
        );
    }
    let _ = writeln!(out);
    let n = context.invocations;
    let mark = crate::measure::RSS_MARK.min(n);
    let _ = writeln!(
        out,
        "| function | zip MB (≤ {ZIP_MAX_MB:.1}) | init ms (hello) | init ÷ hello (≤ {INIT_RATIO_MAX}) | 1st invocation ms | warm p50 / p99 ms | warm-path target | peak RSS MB (≤ {RSS_MAX_MB:.0}) | RSS growth {mark}→{n} KiB (beyond hello's ≤ {RSS_GROWTH_MAX_KIB}) | GetSecretValue cold start / warm | index commands cold start / warm (0 / 0) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");

    let hello_growth = median_of(
        hello
            .runs
            .iter()
            .filter_map(|r| r.warm.as_ref())
            .map(|w| Some(growth(w) as f64)),
    );
    // The floor.
    {
        let warm: Vec<&WarmRun> = hello.runs.iter().filter_map(|r| r.warm.as_ref()).collect();
        let inits: Vec<f64> = functions
            .iter()
            .flat_map(|f| f.runs.iter())
            .filter_map(|r| median(&r.hello_inits_ms))
            .collect();
        let _ = writeln!(
            out,
            "| hello-lambda (the floor) | {} | {} | 1.00 | {} | {} | — | {} | {} | — | — |",
            zip_cell(&hello.zip_bytes).unwrap_or_else(|e| e),
            fmt(median(&inits), 1),
            fmt(median_of(hello.runs.iter().map(|r| median(&r.first_ms))), 1),
            warm_cell(&warm),
            fmt(median_of(warm.iter().map(|w| Some(kb_to_mb(w.peak_kb)))), 1),
            fmt(median_of(warm.iter().map(|w| Some(growth(w) as f64))), 0),
        );
        for (run, result) in hello.runs.iter().enumerate() {
            if let Some(error) = &result.error {
                notes.push(format!("hello-lambda, run {}: {error}", run + 1));
            }
        }
    }

    for function in functions {
        let name = function.binary.as_str();
        let runs = &function.runs;
        let warm: Vec<&WarmRun> = runs.iter().filter_map(|r| r.warm.as_ref()).collect();
        let zip = match &function.zip_bytes {
            Ok(bytes) => {
                let mb = *bytes as f64 / MB;
                tally.judge(format!("{name} zip"), format!("{mb:.2}"), mb <= ZIP_MAX_MB)
            }
            Err(error) => {
                notes.push(format!("{name}: no arm64 bootstrap to zip: {error}"));
                tally.judge(format!("{name} zip"), "missing".into(), false)
            }
        };
        let init = median_of(runs.iter().map(|r| median(&r.inits_ms)));
        let hello_init = median_of(runs.iter().map(|r| median(&r.hello_inits_ms)));
        let ratio = median_of(
            runs.iter()
                .map(|r| Some(median(&r.inits_ms)? / median(&r.hello_inits_ms)?)),
        );
        let ratio_cell = tally.judge_figure(
            format!("{name} init ÷ hello"),
            ratio,
            |ratio| format!("{ratio:.2}"),
            |ratio| ratio <= INIT_RATIO_MAX,
        );
        let first = median_of(runs.iter().map(|r| median(&r.first_ms)));

        let (target_cell, rss_cell, growth_cell) = if function.kind.warm() {
            let target = warm_target(function, &hello_warm_p50, context, &mut tally, &mut notes);
            let peak = median_of(warm.iter().map(|w| Some(kb_to_mb(w.peak_kb))));
            let rss = tally.judge_figure(
                format!("{name} peak RSS"),
                peak,
                |mb| format!("{mb:.1}"),
                |mb| mb <= RSS_MAX_MB,
            );
            let grown = median_of(warm.iter().map(|w| Some(growth(w) as f64)));
            let growth = match (grown, hello_growth) {
                (Some(kib), Some(floor)) => tally.judge(
                    format!("{name} RSS growth"),
                    format!("{kib:.0} ({:+.0})", kib - floor),
                    kib - floor <= RSS_GROWTH_MAX_KIB as f64,
                ),
                _ => tally.judge(format!("{name} RSS growth"), "—".into(), false),
            };
            (target, rss, growth)
        } else {
            ("—".to_owned(), "—".to_owned(), "—".to_owned())
        };

        let expected = function.kind.secrets_per_cold_start();
        let secrets_cold: Vec<u64> = runs
            .iter()
            .flat_map(|r| r.secrets_cold.iter().copied())
            .collect();
        let secrets_warm: Vec<u64> = warm.iter().map(|w| w.secrets).collect();
        let index_cold: Vec<u64> = runs
            .iter()
            .flat_map(|r| r.index_cold.iter().copied())
            .collect();
        let index_warm: Vec<u64> = warm.iter().map(|w| w.index_commands).collect();
        let pair = |cold: &[u64], warm: &[u64], warm_expected: bool| {
            format!(
                "{} / {}",
                counts(cold),
                if warm_expected {
                    counts(warm)
                } else {
                    "—".into()
                }
            )
        };
        let secrets = tally.judge(
            format!("{name} GetSecretValue (expected {expected} / 0)"),
            pair(&secrets_cold, &secrets_warm, function.kind.warm()),
            !secrets_cold.is_empty()
                && secrets_cold.iter().all(|&n| n == expected)
                && secrets_warm.iter().all(|&n| n == 0),
        );
        let index = tally.judge(
            format!("{name} index commands"),
            pair(&index_cold, &index_warm, function.kind.warm()),
            !index_cold.is_empty() && index_cold.iter().chain(&index_warm).all(|&n| n == 0),
        );
        let _ = writeln!(
            out,
            "| {name} | {zip} | {} ({}) | {ratio_cell} | {} | {} | {target_cell} | {rss_cell} | {growth_cell} | {secrets} (exp. {expected} / 0) | {index} |",
            fmt(init, 1),
            fmt(hello_init, 1),
            fmt(first, 1),
            if function.kind.warm() {
                warm_cell(&warm)
            } else {
                "—".into()
            },
        );

        for (run, result) in runs.iter().enumerate() {
            if let Some(error) = &result.error {
                notes.push(format!("{name}, run {}: **error**: {error}", run + 1));
            }
        }
        if let Kind::InitOnly(why) = function.kind {
            notes.push(why.to_owned());
        }
        if function.kind == Kind::Unknown {
            notes.push(format!(
                "{name}: the bench has no scenario for it yet: init only"
            ));
        }
        if function.kind == Kind::Reconcile {
            notes.push(format!(
                "{name}: init and first invocation only (a scheduled run over an empty page of closed tickets; D included)"
            ));
        }
        if let Some(last) = warm.last()
            && !last.calls.is_empty()
        {
            notes.push(format!(
                "{name}, calls per warm invocation (last run): {}",
                per_invocation(&last.calls, last.invocations)
            ));
        }
    }

    let total = tally.passed + tally.failed.len();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "**{} of {total} targets met.**{}",
        tally.passed,
        if tally.failed.is_empty() {
            String::new()
        } else {
            format!(" Not met: {}.", tally.failed.join("; "))
        }
    );
    let _ = writeln!(out);
    let definitions = [
        format!(
            "Sizes: the arm64 bootstraps of `cargo lambda build --release --arm64`, zipped as SAM does (one file `bootstrap`, deflate); MB = 10^6 bytes (stretch target {ZIP_STRETCH_MB} MB). Timings and memory: the x86_64 builds of the same code (`cargo lambda build --release --x86-64`), run on this machine."
        ),
        "init: process start → first `GET /runtime/invocation/next` on a local Runtime API emulation; ÷ hello: against the hello-world `lambda_http` function (same release profile) cold-started right before each cold start of the function. Each process gets the environment of a deployed function (template.yaml's variables, JSON logs, dummy AWS keys, `AWS_ENDPOINT_URL` = moto_server behind a counting proxy, `APP_SECRET_ARN` = a moto secret holding the configuration, MongoDB = FerretDB behind a command-counting proxy).".into(),
        "1st invocation: the first event after a cold start, handed to the waiting poll → whole answer posted (REST: the first database connection included). Warm: the same, while warm.".into(),
        format!(
            "warm-path target: REST routes, p50 through the bootstrap − p50 of the same database commands sent directly with the mongodb driver through the same proxy, right after every {}th warm invocation (delete-ticket: plus the S3 ListObjectsV2 of its file erasure, sent with the SDK's S3 client configured as the function's), ≤ {OVERHEAD_MAX_MS} ms; the commands are compared (names and counts) at the middle invocation. viewer: p50 − hello-world p50. new-ticket: p99 − D ≤ {NEW_TICKET_SLACK_MS} ms (token cached). state-change (ARCHIVE_QUEUE_URL = a moto SQS FIFO queue): p99 ≤ {STATE_CHANGE_P99_MAX_MS} ms.",
            crate::measure::BASELINE_EVERY
        ),
        format!(
            "Steady state: every {} warm invocations the bench removes what was created (tickets, transactions, clients, webhook ledger entries), tops up the deletion targets (the function's and the baseline's, in the order they are deleted: FerretDB finds a document by scanning in insertion order, so a target's position sets its cost) and drains the archive queue (ReceiveMessage, DeleteMessageBatch), straight to FerretDB and moto_server (outside every count): FerretDB's SQLite backend scans a collection for any filter but `_id`, and moto scans a FIFO queue on every send, so growth would slow each invocation whatever the function does.",
            crate::scenario::DELETION_BATCH
        ),
        "Peak RSS: VmHWM after the last warm invocation; growth: VmRSS at the last − VmRSS at invocation 100, and in brackets beyond the hello-world floor's growth, which is what the target judges. The floor's growth: lambda_runtime sets `_X_AMZN_TRACE_ID` with `setenv` at each invocation and glibc keeps every distinct value it was given, one small allocation per invocation; `BENCH_WITHOUT_TRACE_ID=1` shows the growth without it. GetSecretValue: requests with `X-Amz-Target: secretsmanager.GetSecretValue` seen by the proxy from process start to the first answer (init-only functions: to the first poll), then while warm. Index commands: `createIndexes`/`createIndex` in OP_MSG bodies seen by the MongoDB proxy; before each function the bench empties the database, creates the indexes (`Store::ensure_indexes`, what the `migrate` custom resource runs) and seeds 50 clients, 20 tickets and their transactions.".into(),
    ];
    for line in definitions.iter().chain(&notes) {
        let _ = writeln!(out, "- {line}");
    }
    out
}

/// The warm-path target of a function: REST overhead over the driver, viewer over hello,
/// webhook latency.
fn warm_target(
    function: &FunctionResult,
    hello_warm_p50: &[Option<f64>],
    context: &Context,
    tally: &mut Tally,
    notes: &mut Vec<String>,
) -> String {
    let name = function.binary.as_str();
    let runs = &function.runs;
    let p = |w: &WarmRun, q: f64| percentile(&w.samples_ms, q);
    match function.kind {
        Kind::Rest(_) => {
            let overhead = median_of(runs.iter().map(|r| {
                let w = r.warm.as_ref()?;
                Some(p(w, 50.0)? - percentile(&w.baseline_ms, 50.0)?)
            }));
            let base = median_of(
                runs.iter()
                    .map(|r| percentile(&r.warm.as_ref()?.baseline_ms, 50.0)),
            );
            let checks: Vec<&Result<(), String>> = runs
                .iter()
                .filter_map(|r| r.warm.as_ref()?.baseline_check.as_ref())
                .collect();
            let mismatch = checks.iter().find_map(|c| c.as_ref().err());
            if let Some(mismatch) = mismatch {
                notes.push(format!(
                    "{name}: **baseline differs from the route**: {mismatch}"
                ));
            }
            tally.judge_figure(
                format!("{name} overhead over the driver"),
                overhead,
                |overhead| format!("{overhead:+.2} ms over driver {}", fmt(base, 2)),
                |overhead| overhead <= OVERHEAD_MAX_MS && mismatch.is_none() && !checks.is_empty(),
            )
        }
        Kind::Viewer => {
            let overhead = median_of(
                runs.iter()
                    .zip(hello_warm_p50)
                    .map(|(r, hello)| Some(p(r.warm.as_ref()?, 50.0)? - (*hello)?)),
            );
            tally.judge_figure(
                format!("{name} overhead over hello"),
                overhead,
                |overhead| format!("{overhead:+.2} ms over hello"),
                |overhead| overhead <= OVERHEAD_MAX_MS,
            )
        }
        Kind::NewTicket => {
            let delay = context.glassix_delay_ms as f64;
            let over = median_of(
                runs.iter()
                    .map(|r| Some(p(r.warm.as_ref()?, 99.0)? - delay)),
            );
            tally.judge_figure(
                format!("{name} p99 − D"),
                over,
                |over| format!("p99 − D = {over:.1} ms (≤ {NEW_TICKET_SLACK_MS})"),
                |over| over <= NEW_TICKET_SLACK_MS,
            )
        }
        Kind::StateChange => {
            let p99 = median_of(runs.iter().map(|r| p(r.warm.as_ref()?, 99.0)));
            tally.judge_figure(
                format!("{name} p99"),
                p99,
                |p99| format!("p99 {p99:.1} ms (≤ {STATE_CHANGE_P99_MAX_MS})"),
                |p99| p99 <= STATE_CHANGE_P99_MAX_MS,
            )
        }
        Kind::Reconcile | Kind::InitOnly(_) | Kind::Unknown => "—".into(),
    }
}

fn warm_cell(warm: &[&WarmRun]) -> String {
    let p = |q: f64| median_of(warm.iter().map(|w| percentile(&w.samples_ms, q)));
    format!("{} / {}", fmt(p(50.0), 2), fmt(p(99.0), 2))
}

fn zip_cell(bytes: &Result<u64, String>) -> Result<String, String> {
    bytes
        .as_ref()
        .map(|b| format!("{:.2}", *b as f64 / MB))
        .map_err(|_| "missing".to_owned())
}

fn growth(warm: &WarmRun) -> i64 {
    warm.rss_end_kb as i64 - warm.rss_mark_kb as i64
}

fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 * 1024.0 / MB
}

/// The median of the values present.
fn median_of(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    median(&values.flatten().collect::<Vec<_>>())
}

fn fmt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.decimals$}"))
}

/// `1` when every count is 1, `0–2` when they differ, `—` when there are none.
fn counts(values: &[u64]) -> String {
    match (values.iter().min(), values.iter().max()) {
        (Some(min), Some(max)) if min == max => min.to_string(),
        (Some(min), Some(max)) => format!("{min}–{max}"),
        _ => "—".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_their_range() {
        assert_eq!(counts(&[1, 1, 1]), "1");
        assert_eq!(counts(&[1, 2, 0]), "0–2");
        assert_eq!(counts(&[]), "—");
    }

    #[test]
    fn a_failed_target_is_listed_and_a_met_one_counted() {
        let mut tally = Tally::default();
        assert_eq!(tally.judge("a".into(), "1.2".into(), true), "1.2 PASS");
        assert_eq!(tally.judge("b".into(), "3.4".into(), false), "3.4 **FAIL**");
        assert_eq!(tally.passed, 1);
        assert_eq!(tally.failed, vec!["b: 3.4".to_owned()]);
    }
}
