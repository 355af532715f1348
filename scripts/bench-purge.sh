#!/usr/bin/env bash
# The retention purge at scale (issue 24, item 6): seeds FerretDB with expired tickets (closed
# 400 days ago), their transactions and clients, and moto's S3 with one file per ticket, then
# runs the release x86_64 purge-expired-tickets bootstrap once under the Lambda Runtime API
# emulation with RETENTION_DAYS=365 and the template's 900 s timeout. Prints the seed time, the
# invocation's wall time, tickets/transactions/files per second, peak RSS (VmHWM), the CPU the
# bootstrap, FerretDB and moto_server spent, the function's report, and one markdown table row;
# the same goes to target/bench/purge.md. Each run's logs: target/bench/purge-runs/<date>-<pid>/.
#
#   scripts/bench-purge.sh                                # 10,000 tickets × 10 transactions, 10,000 files
#   PURGE_TICKETS=500 scripts/bench-purge.sh              # a quick try
#   SKIP_BUILD=1 PURGE_TRANSACTIONS_PER_TICKET=20 scripts/bench-purge.sh
#
# PURGE_TICKETS (10000), PURGE_TRANSACTIONS_PER_TICKET (10), PURGE_TICKETS_PER_CLIENT (5);
# PURGE_MAX_INVOCATIONS (3): a run cut by its 900 s time budget is invoked again (as the next
# scheduled run resumes it), up to this many runs. SKIP_BUILD=1 uses what target/ holds.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
started=$SECONDS
step() { log "$* (at $((SECONDS - started)) s)"; }

step "tools"
scripts/install-tools.sh ferretdb
scripts/install-tools.sh moto
command -v cargo-lambda >/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check "cargo-lambda==1.*"

if [ -z "${SKIP_BUILD:-}" ]; then
  # The same code as the deployed arm64 bootstrap, built the same way for x86_64 (bench.sh).
  step "release build, x86_64: purge-expired-tickets"
  cargo lambda build --release --x86-64 --lambda-dir target/lambda-x86_64 -p purge-expired-tickets
  step "the benchmark runner"
  cargo build --release -p bench --bin purge
fi

step "FerretDB and moto_server"
# Each run has its own directory (FerretDB's data, the logs): two runs at once must not share
# a database. Its data goes at the end; the logs and the figures stay.
run_dir=target/bench/purge-runs/$(date -u +%Y%m%dT%H%M%SZ)-$$
data=$run_dir/ferretdb
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$data"' EXIT
mkdir -p "$run_dir"
start_ferretdb "$data"
pids+=("$FERRETDB_PID")
moto_port=$(free_port)
moto_server -H 127.0.0.1 -p "$moto_port" >"$run_dir/moto.log" 2>&1 &
pids+=("$!")
moto_pid=$!
wait_for_port "$moto_port" 60 moto_server
if others=$(pgrep -d, -f 'target/release/purge$'); then
  echo "warning: another purge benchmark is running (pid $others): the figures share the CPUs" >&2
fi

step "purge benchmark on $(nproc) CPUs, $(date -u +%FT%TZ), in $run_dir"
bench_started=$SECONDS
BENCH_FERRETDB_URI="$MONGODB_URI" BENCH_MOTO_ENDPOINT="http://127.0.0.1:$moto_port" \
  PURGE_FERRETDB_PID="$FERRETDB_PID" PURGE_MOTO_PID="$moto_pid" \
  PURGE_LOG="$run_dir/bootstrap.log" \
  target/release/purge | tee "$run_dir/purge.md"
cp "$run_dir/purge.md" target/bench/purge.md
step "done: benchmark $((SECONDS - bench_started)) s, total $((SECONDS - started)) s; figures in target/bench/purge.md, logs in $run_dir"
