#!/usr/bin/env bash
# A client's data export at scale (issue 25, item 8): seeds FerretDB with one client of 200
# tickets and 20,000 transactions (and other clients' tickets next to it), and moto's S3 with
# the client's 500 MB of archived files, records a pending export of that client, then runs the
# release x86_64 export-worker bootstrap once under the Lambda Runtime API emulation with the
# export's SQS event and the template's 900 s timeout. Prints the invocation's wall time, the
# export's size and MB/s, peak RSS (VmHWM), the CPU the bootstrap, FerretDB and moto_server
# spent (in all and in each stretch: reads, ZIP written, ZIP hashed and stored), the export
# record, a check and one markdown table row; the same goes to target/bench/export.md. Each
# run's logs: target/bench/export-runs/<date>-<pid>/.
#
#   scripts/bench-export.sh                              # 200 tickets × 100 transactions, 500 files, 500 MB
#   EXPORT_TICKETS=20 EXPORT_MB=20 scripts/bench-export.sh   # a quick try
#   SKIP_BUILD=1 EXPORT_FILES=2000 scripts/bench-export.sh
#
# EXPORT_TICKETS (200), EXPORT_TRANSACTIONS_PER_TICKET (100), EXPORT_FILES (500), EXPORT_MB
# (500, MiB shared out evenly between the files), EXPORT_OTHER_CLIENTS (10), EXPORT_OTHER_TICKETS
# (50), EXPORT_OTHER_TRANSACTIONS_PER_TICKET (10). The ZIP is built in the run's directory (the
# bootstrap's TMPDIR, Lambda's /tmp), removed at the end; moto holds the files and the ZIP.
# SKIP_BUILD=1 uses what target/ holds.
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
  step "release build, x86_64: export-worker"
  cargo lambda build --release --x86-64 --lambda-dir target/lambda-x86_64 -p export-worker
  step "the benchmark runner"
  cargo build --release -p bench --bin export
fi

# The files go to moto twice (seeded, then inside the ZIP) and the ZIP is on this disk once.
mb=${EXPORT_MB:-500}
mb=${mb//[_,]/}
free_mb=$(df -Pm "$ROOT/target" | awk 'NR == 2 {print $4}')
if [ "$free_mb" -lt $((3 * mb + 1024)) ]; then
  echo "only $free_mb MB free under target/: an export of $mb MB needs about $((3 * mb + 1024)) MB" >&2
  exit 1
fi

step "FerretDB and moto_server"
# Each run has its own directory (FerretDB's data, the function's TMPDIR, the logs): two runs at
# once must not share a database. Its data and TMPDIR go at the end; the logs and figures stay.
run_dir=target/bench/export-runs/$(date -u +%Y%m%dT%H%M%SZ)-$$
data=$run_dir/ferretdb
tmp=$run_dir/tmp
moto_tmp=$run_dir/moto-tmp
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$data" "$tmp" "$moto_tmp"' EXIT
mkdir -p "$run_dir" "$tmp" "$moto_tmp"
start_ferretdb "$data"
pids+=("$FERRETDB_PID")
moto_port=$(free_port)
# moto spills objects over 5 MB (the ZIP) to temporary files: keep them in the run's directory.
TMPDIR="$ROOT/$moto_tmp" moto_server -H 127.0.0.1 -p "$moto_port" >"$run_dir/moto.log" 2>&1 &
pids+=("$!")
moto_pid=$!
wait_for_port "$moto_port" 60 moto_server
if others=$(pgrep -d, -f 'target/release/export$'); then
  echo "warning: another export benchmark is running (pid $others): the figures share the CPUs" >&2
fi

step "export benchmark on $(nproc) CPUs, $(date -u +%FT%TZ), in $run_dir"
bench_started=$SECONDS
BENCH_FERRETDB_URI="$MONGODB_URI" BENCH_MOTO_ENDPOINT="http://127.0.0.1:$moto_port" \
  EXPORT_FERRETDB_PID="$FERRETDB_PID" EXPORT_MOTO_PID="$moto_pid" \
  EXPORT_LOG="$run_dir/bootstrap.log" EXPORT_TMPDIR="$tmp" \
  target/release/export | tee "$run_dir/export.md"
cp "$run_dir/export.md" target/bench/export.md
step "done: benchmark $((SECONDS - bench_started)) s, total $((SECONDS - started)) s; figures in target/bench/export.md, logs in $run_dir"
