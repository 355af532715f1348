//! One run's measurements of one function: its cold starts (each right after a hello-world
//! cold start, so both see the same machine), then, for HTTP functions, its warm path.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use tokio::time::Instant;

use crate::aws_proxy::{AwsCalls, GET_SECRET_VALUE, difference};
use crate::instance::{Instance, Launch};
use crate::mongo_proxy::CommandLog;
use crate::scenario::{DELETION_BATCH, Deletion, Kind, Scenario, same_commands};
use shared::testing::glassix::{Delay, GlassixStub};

/// RSS growth is measured from this invocation on (or the last, if fewer): the first ones
/// still fill pools and caches.
pub const RSS_MARK: usize = 100;

/// The driver baseline of a REST route is timed after every 4th warm invocation (250 samples
/// of 1,000): FerretDB's writes take milliseconds, and the p50 needs no more.
pub const BASELINE_EVERY: usize = 4;

pub struct Settings {
    pub cold_starts: usize,
    pub invocations: usize,
    /// new-ticket: invocations timed with the Glassix delay; the rest run without it.
    pub webhook_invocations: usize,
    pub glassix_delay: Duration,
}

pub struct Bench<'a> {
    pub settings: &'a Settings,
    pub scenario: &'a Scenario,
    pub aws: &'a AwsCalls,
    pub commands: &'a CommandLog,
    pub glassix: &'a GlassixStub,
    /// The stub's delay D, lifted for the untimed invocations.
    pub glassix_delay: &'a Delay,
    pub hello: &'a Launch,
}

#[derive(Debug, Default)]
pub struct FunctionRun {
    pub inits_ms: Vec<f64>,
    /// The hello-world's init, measured right before each of the function's.
    pub hello_inits_ms: Vec<f64>,
    pub first_ms: Vec<f64>,
    pub secrets_cold: Vec<u64>,
    pub index_cold: Vec<u64>,
    pub warm: Option<WarmRun>,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct WarmRun {
    pub invocations: usize,
    /// The latencies p50/p99 are taken from (new-ticket: those with the Glassix delay).
    pub samples_ms: Vec<f64>,
    /// REST routes: the same database commands sent directly with the driver.
    pub baseline_ms: Vec<f64>,
    pub baseline_check: Option<Result<(), String>>,
    pub rss_mark_at: usize,
    pub rss_mark_kb: u64,
    pub rss_end_kb: u64,
    pub peak_kb: u64,
    pub secrets: u64,
    pub index_commands: u64,
    /// AWS and Glassix calls made while warm, by operation.
    pub calls: BTreeMap<String, u64>,
}

/// The deletions of warm invocations `invocations` (the first deleting the function's target
/// `first`) in the order they happen: each invocation's, then the baseline's that follows it.
fn deletion_order(kind: Kind, invocations: Range<usize>, first: usize) -> Vec<Deletion> {
    let mut order = Vec::new();
    for (n, j) in invocations.enumerate() {
        order.push(Deletion::Function(first + n));
        if matches!(kind, Kind::Rest(_)) && j % BASELINE_EVERY == 0 {
            order.push(Deletion::Baseline(j / BASELINE_EVERY));
        }
    }
    order
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

pub async fn function(
    bench: &Bench<'_>,
    launch: &Launch,
    kind: Kind,
    files_bucket: bool,
    run: usize,
) -> FunctionRun {
    let mut out = FunctionRun::default();
    if let Err(error) = cold_then_warm(bench, launch, kind, files_bucket, run, &mut out).await {
        out.error = Some(error);
    }
    out
}

async fn cold_then_warm(
    bench: &Bench<'_>,
    launch: &Launch,
    kind: Kind,
    files_bucket: bool,
    run: usize,
    out: &mut FunctionRun,
) -> Result<(), String> {
    let cold_starts = bench.settings.cold_starts.max(1);
    let targets: Vec<Deletion> = (0..cold_starts).map(Deletion::Function).collect();
    bench.scenario.prepare_deletions(kind, &targets).await?;
    let mut index = 0;
    let mut kept = None;
    for cold_start in 0..cold_starts {
        let hello = Instance::start(bench.hello)
            .await
            .map_err(|e| format!("hello-lambda: {e}"))?;
        out.hello_inits_ms.push(ms(hello.init));
        drop(hello);

        let secrets = bench.aws.count(GET_SECRET_VALUE);
        let mark = bench.commands.mark();
        let instance = Instance::start(launch).await?;
        out.inits_ms.push(ms(instance.init));
        if kind.invoked() {
            let payload = bench.scenario.payload(kind, &launch.binary, run, index)?;
            let (latency, answer) = instance.invoke(payload).await?;
            bench
                .scenario
                .check(kind, files_bucket, &answer)
                .map_err(|e| format!("first invocation {}: {e}", cold_start + 1))?;
            index += 1;
            out.first_ms.push(ms(latency));
        }
        out.secrets_cold
            .push(bench.aws.count(GET_SECRET_VALUE) - secrets);
        out.index_cold
            .push(bench.commands.index_commands_since(mark));
        if cold_start + 1 == cold_starts && kind.warm() {
            kept = Some(instance);
        }
    }
    if let Some(instance) = kept {
        let warm = warm(bench, &instance, launch, kind, files_bucket, run, index).await;
        bench.glassix_delay.set(bench.settings.glassix_delay);
        out.warm = Some(warm?);
    }
    Ok(())
}

async fn warm(
    bench: &Bench<'_>,
    instance: &Instance,
    launch: &Launch,
    kind: Kind,
    files_bucket: bool,
    run: usize,
    mut index: usize,
) -> Result<WarmRun, String> {
    let n = bench.settings.invocations.max(1);
    let timed = match kind {
        Kind::NewTicket => bench.settings.webhook_invocations.clamp(1, n),
        _ => n,
    };
    // The driver baseline runs after every BASELINE_EVERY-th invocation; the route's commands
    // are compared with it at the middle one.
    let verify_at = n / 2 / BASELINE_EVERY * BASELINE_EVERY;
    let mut baseline_calls = BTreeMap::<String, u64>::new();
    let mut warm = WarmRun {
        invocations: n,
        rss_mark_at: RSS_MARK.min(n),
        ..WarmRun::default()
    };
    let secrets = bench.aws.count(GET_SECRET_VALUE);
    let mark = bench.commands.mark();
    let aws_before = bench.aws.snapshot();
    let glassix_before = bench.glassix.calls().await;
    for j in 0..n {
        if j == timed {
            bench.glassix_delay.set(Duration::ZERO);
        }
        if j % DELETION_BATCH == 0 {
            let batch = DELETION_BATCH.min(n - j);
            bench.scenario.tidy(kind).await?;
            let targets = deletion_order(kind, j..j + batch, index);
            bench.scenario.prepare_deletions(kind, &targets).await?;
        }
        let payload = bench.scenario.payload(kind, &launch.binary, run, index)?;
        let before = bench.commands.mark();
        let (latency, answer) = instance.invoke(payload).await?;
        let after_route = bench.commands.mark();
        bench
            .scenario
            .check(kind, files_bucket, &answer)
            .map_err(|e| format!("warm invocation {}: {e}", j + 1))?;
        index += 1;
        if j < timed {
            warm.samples_ms.push(ms(latency));
        }
        if let Kind::Rest(route) = kind
            && j % BASELINE_EVERY == 0
        {
            let before_baseline = bench.commands.mark();
            let aws_before_baseline = bench.aws.snapshot();
            let started = Instant::now();
            route
                .baseline(bench.scenario, j / BASELINE_EVERY, files_bucket)
                .await
                .map_err(|e| format!("baseline {}: {e}", j / BASELINE_EVERY + 1))?;
            warm.baseline_ms.push(ms(started.elapsed()));
            for (operation, count) in difference(&aws_before_baseline, &bench.aws.snapshot()) {
                *baseline_calls.entry(operation).or_default() += count;
            }
            if j == verify_at {
                let after_baseline = bench.commands.mark();
                warm.baseline_check = Some(same_commands(
                    bench.commands.between(before, after_route),
                    bench.commands.between(before_baseline, after_baseline),
                ));
            }
        }
        if j + 1 == warm.rss_mark_at {
            warm.rss_mark_kb = instance.memory()?.resident_kb;
        }
    }
    let end = instance.memory()?;
    warm.rss_end_kb = end.resident_kb;
    warm.peak_kb = end.peak_kb;
    warm.secrets = bench.aws.count(GET_SECRET_VALUE) - secrets;
    warm.index_commands = bench.commands.index_commands_since(mark);
    // The function's calls: the baselines' own S3 listings are not.
    warm.calls = difference(&aws_before, &bench.aws.snapshot())
        .into_iter()
        .map(|(operation, n)| {
            let own = n - baseline_calls.get(&operation).copied().unwrap_or(0);
            (operation, own)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    for (endpoint, count) in difference(&glassix_before, &bench.glassix.calls().await) {
        warm.calls.insert(format!("Glassix {endpoint}"), count);
    }
    Ok(warm)
}

/// The hello-world floor of a run: cold starts with a first invocation, then the warm path.
#[derive(Debug, Default)]
pub struct HelloRun {
    pub first_ms: Vec<f64>,
    pub warm: Option<WarmRun>,
    pub error: Option<String>,
}

pub async fn hello(bench: &Bench<'_>) -> HelloRun {
    let mut out = HelloRun::default();
    if let Err(error) = hello_run(bench, &mut out).await {
        out.error = Some(error);
    }
    out
}

async fn hello_run(bench: &Bench<'_>, out: &mut HelloRun) -> Result<(), String> {
    let payload = bench.scenario.hello_payload()?;
    let check = |answer: &[u8]| -> Result<(), String> {
        let response: serde_json::Value = serde_json::from_slice(answer).unwrap_or_default();
        if response["statusCode"] == 200 && response["body"] == "hello" {
            Ok(())
        } else {
            Err(format!(
                "hello-lambda answered {}",
                shared::testing::lambda::excerpt(answer)
            ))
        }
    };
    let cold_starts = bench.settings.cold_starts.max(1);
    let mut kept = None;
    for cold_start in 0..cold_starts {
        let instance = Instance::start(bench.hello).await?;
        let (latency, answer) = instance.invoke(payload.clone()).await?;
        check(&answer)?;
        out.first_ms.push(ms(latency));
        if cold_start + 1 == cold_starts {
            kept = Some(instance);
        }
    }
    let Some(instance) = kept else {
        return Ok(());
    };
    let n = bench.settings.invocations.max(1);
    let mut warm = WarmRun {
        invocations: n,
        rss_mark_at: RSS_MARK.min(n),
        ..WarmRun::default()
    };
    for j in 0..n {
        let (latency, answer) = instance.invoke(payload.clone()).await?;
        check(&answer)?;
        warm.samples_ms.push(ms(latency));
        if j + 1 == warm.rss_mark_at {
            warm.rss_mark_kb = instance.memory()?.resident_kb;
        }
    }
    let end = instance.memory()?;
    warm.rss_end_kb = end.resident_kb;
    warm.peak_kb = end.peak_kb;
    out.warm = Some(warm);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Route;

    #[test]
    fn each_baseline_target_is_seeded_right_after_the_invocation_it_follows() {
        use Deletion::{Baseline, Function};
        // Warm invocations 50..57 delete the function's targets 55..62; the baselines run
        // after invocations 52 and 56 (every 4th), the 13th and 14th.
        let order = deletion_order(Kind::Rest(Route::DeleteTicket), 50..57, 55);
        assert_eq!(
            order,
            [
                Function(55),
                Function(56),
                Function(57),
                Baseline(13),
                Function(58),
                Function(59),
                Function(60),
                Function(61),
                Baseline(14),
            ]
        );
    }

    #[test]
    fn functions_without_a_baseline_seed_their_own_targets_only() {
        let order = deletion_order(Kind::NewTicket, 0..3, 0);
        assert_eq!(
            order,
            [
                Deletion::Function(0),
                Deletion::Function(1),
                Deletion::Function(2),
            ]
        );
    }
}
