#!/usr/bin/env bash
# The benchmark of the deployed bootstraps (issue 14). Builds every function's release
# bootstrap for arm64 (the sizes: zipped as SAM zips them) and for x86_64 (run here), plus a
# hello-world lambda_http function with the same profile (the floor), starts FerretDB and
# moto_server on free loopback ports, and runs `bench`: each bootstrap as a child process under
# a local Lambda Runtime API emulation, with a deployed function's environment. Prints one
# markdown table (every figure next to its target, PASS/FAIL) and writes it to
# target/bench/report.md; each function's logs are in target/bench/logs/.
#
#   scripts/bench.sh                                   # 3 runs × (5 cold starts + 1,000 warm invocations)
#   BENCH_RUNS=5 BENCH_INVOCATIONS=2000 scripts/bench.sh
#   BENCH_WEBHOOK_INVOCATIONS=200 BENCH_GLASSIX_DELAY_MS=50 scripts/bench.sh
#   BENCH_ONLY=list-clients,viewer scripts/bench.sh    # some functions only
#   SKIP_BUILD=1 scripts/bench.sh                      # measure what target/ holds
#   BENCH_STRICT=1 scripts/bench.sh                    # exit 1 when a target is not met
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
started=$SECONDS
step() { log "$* (at $((SECONDS - started)) s)"; }

step "tools"
scripts/install-tools.sh bench

if [ -z "${SKIP_BUILD:-}" ]; then
  # What CI builds (scripts/test.sh): the deployed artifacts, whose zipped size is measured.
  step "release build, arm64 (the deployed bootstraps and the hello-world floor)"
  cargo lambda build --release --arm64 --workspace --exclude local-api --exclude bench
  cargo lambda build --release --arm64 -p bench --bin hello-lambda
  # This machine cannot run arm64: the same code, built the same way for x86_64, is what runs.
  step "release build, x86_64 (what runs here)"
  cargo lambda build --release --x86-64 --lambda-dir target/lambda-x86_64 \
    --workspace --exclude local-api --exclude bench
  cargo lambda build --release --x86-64 --lambda-dir target/lambda-x86_64 -p bench --bin hello-lambda
  step "the benchmark runner"
  cargo build --release -p bench --bin bench
fi

step "FerretDB and moto_server"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
mkdir -p target/bench
data=target/bench/ferretdb
rm -rf "$data"
start_ferretdb "$data"
pids+=("$FERRETDB_PID")
moto_port=$(free_port)
moto_server -H 127.0.0.1 -p "$moto_port" >target/bench/moto.log 2>&1 &
pids+=("$!")
wait_for_port "$moto_port" 60 moto_server

step "benchmark on $(nproc) CPUs, $(date -u +%FT%TZ)"
bench_started=$SECONDS
BENCH_FERRETDB_URI="$MONGODB_URI" BENCH_MOTO_ENDPOINT="http://127.0.0.1:$moto_port" \
  target/release/bench
step "done: benchmark $((SECONDS - bench_started)) s, total $((SECONDS - started)) s; table in target/bench/report.md"
