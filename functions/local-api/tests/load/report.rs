//! The report: throughput, latency percentiles by operation, statuses, what the audit checked,
//! and every failure grouped by kind.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::audit::AuditSummary;
use crate::workers::Sample;

/// What the run did and found.
pub(crate) struct Report<'a> {
    pub(crate) requests: usize,
    pub(crate) concurrency: usize,
    pub(crate) seed: u64,
    pub(crate) samples: &'a [&'a Sample],
    pub(crate) wall: Duration,
    pub(crate) setup: Duration,
    pub(crate) audit: Duration,
    pub(crate) summary: &'a AuditSummary,
    pub(crate) unexpected: &'a [String],
    pub(crate) failures: &'a [String],
}

/// What a failure says without its numbers and its body: failures of one kind count together.
fn kind(failure: &str) -> String {
    let text = failure
        .split_once(": ")
        .filter(|(worker, _)| worker.starts_with("worker "))
        .map_or(failure, |(_, rest)| rest);
    let text = text.split(": {").next().unwrap_or(text);
    let mut kind = String::new();
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                kind.push('#');
            }
            in_number = true;
        } else {
            kind.push(c);
            in_number = false;
        }
    }
    kind.chars().take(140).collect()
}

/// Failures by kind: how many, and the first of each.
fn by_kind(failures: &[String]) -> Vec<String> {
    let mut kinds: BTreeMap<String, (usize, &String)> = BTreeMap::new();
    for failure in failures {
        kinds.entry(kind(failure)).or_insert((0, failure)).0 += 1;
    }
    let mut kinds: Vec<_> = kinds.into_iter().collect();
    kinds.sort_by_key(|kind| std::cmp::Reverse(kind.1.0));
    kinds
        .into_iter()
        .map(|(_, (count, first))| {
            let first: String = first.chars().take(240).collect();
            format!("  {count:>5} × {first}")
        })
        .collect()
}

/// Nearest-rank percentile of sorted durations.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

fn latency_row(label: &str, samples: &[&&Sample]) -> String {
    let mut durations: Vec<Duration> = samples.iter().map(|s| s.elapsed).collect();
    durations.sort_unstable();
    format!(
        "  {label:<36} {:>6} {:>8} {:>8} {:>8}",
        durations.len(),
        ms(percentile(&durations, 0.50)),
        ms(percentile(&durations, 0.99)),
        ms(durations.last().copied().unwrap_or_default()),
    )
}

/// Prints the report to stdout (shown with `-- --nocapture`).
pub(crate) fn print_report(report: &Report<'_>) {
    let samples = report.samples;
    let seconds = report.wall.as_secs_f64();
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "\n=== load: {} requests, {} workers, seed {}, {cpus} CPUs, {} build ===",
        samples.len(),
        report.concurrency,
        report.seed,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    ));
    line(format!(
        "wall {seconds:.2} s  throughput {:.0} req/s  (set-up {:.2} s, audit {:.2} s; asked for {})",
        samples.len() as f64 / seconds.max(f64::EPSILON),
        report.setup.as_secs_f64(),
        report.audit.as_secs_f64(),
        report.requests,
    ));
    line(format!(
        "latency ms{:<28} {:>6} {:>8} {:>8} {:>8}",
        "", "count", "p50", "p99", "max"
    ));
    let every: Vec<&&Sample> = samples.iter().collect();
    line(latency_row("all requests", &every));
    let mut ops: BTreeMap<&str, Vec<&&Sample>> = BTreeMap::new();
    for sample in samples {
        ops.entry(sample.op).or_default().push(sample);
    }
    for (op, of_op) in &ops {
        line(latency_row(op, of_op));
    }
    let mut statuses: BTreeMap<(u16, bool), usize> = BTreeMap::new();
    for sample in samples {
        *statuses
            .entry((sample.status, sample.expected))
            .or_default() += 1;
    }
    let describe = |(status, expected): &(u16, bool), count: &usize| {
        let status = if *status == 0 {
            "no answer".to_owned()
        } else {
            status.to_string()
        };
        let kind = if *expected { "" } else { " UNEXPECTED" };
        format!("{status}{kind}: {count}")
    };
    let statuses_line: Vec<String> = statuses.iter().map(|(k, v)| describe(k, v)).collect();
    line(format!("statuses: {}", statuses_line.join(", ")));
    let errors: Vec<String> = statuses
        .iter()
        .filter(|((status, _), _)| !(200..300).contains(status))
        .map(|(k, v)| describe(k, v))
        .collect();
    let unexpected: usize = statuses
        .iter()
        .filter(|((_, expected), _)| !expected)
        .map(|(_, count)| count)
        .sum();
    let server_errors: usize = statuses
        .iter()
        .filter(|((status, expected), _)| *status >= 500 && !expected)
        .map(|(_, count)| count)
        .sum();
    line(format!(
        "errors by status (all on purpose unless UNEXPECTED): {}",
        if errors.is_empty() {
            "none".to_owned()
        } else {
            errors.join(", ")
        }
    ));
    line(format!(
        "unexpected statuses: {unexpected} (unexpected 5xx: {server_errors})"
    ));
    let s = report.summary;
    line(format!(
        "audit: {} clients and {} tickets ({} transactions) stored exactly once as acknowledged; \
         {} acknowledged deletes gone; {} contested keys created once; \
         {} new tickets tagged and noted once each, {} closed tickets archived and scrambled once \
         ({} requests at the Glassix stub); deliveries never acknowledged (partial work \
         checked against the invariants): {} new, {} closed; acknowledged Glassix actions \
         whose `done` was not recorded in time: {}",
        s.clients,
        s.tickets,
        s.transactions,
        s.gone,
        s.contests,
        s.new_tickets,
        s.closed,
        s.glassix_calls,
        s.refused_new,
        s.refused_closed,
        s.unrecorded_actions
    ));
    if !s.uncertain.is_empty() {
        line(format!(
            "clients a write of which got no answer or an unexpected one (a failure; checked for \
             duplicates only): {}; those left inconsistent:",
            s.uncertain.len()
        ));
        for client in s.uncertain.iter().filter(|c| c.contains("; ")).take(10) {
            line(format!("  {client}"));
        }
    }
    line(format!(
        "unexpected answers: {} (each kind once, with a count):",
        report.unexpected.len()
    ));
    for group in by_kind(report.unexpected) {
        line(group);
    }
    line(format!(
        "failed checks (reads and audit): {}",
        report.failures.len()
    ));
    for group in by_kind(report.failures) {
        line(group);
    }
    println!("{out}");
}
