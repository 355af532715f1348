#!/usr/bin/env bash
# Ticket search at scale (issue 26, item 6): seeds FerretDB with archived tickets (10
# transactions each, 5 tickets per client; Hebrew and English text with a Zipf-like word
# frequency, phone numbers written six ways, e-mail addresses, HTML-only e-mails), their
# search documents built by shared::search::build, then times GET /tickets' path (Query::parse
# → Store::search_tickets, first page of 20 → SearchResultView::of → JSON) for a one-word, a
# two-word and a phone query and a listing by channel alone, counts and checks what each finds,
# and reports what ticket_search stores next to tickets and transactions (collStats, the SQLite
# file, the BSON of terms and texts). Prints the figures and one markdown table row; the same
# goes to target/bench/search.md. Each run's logs: target/bench/search-runs/<date>-<pid>/.
#
#   scripts/bench-search.sh                              # 20,000 tickets × 10 transactions, 30 runs per query
#   SEARCH_TICKETS=500 scripts/bench-search.sh           # a quick try
#   SKIP_BUILD=1 SEARCH_REPEATS=100 scripts/bench-search.sh
#
# SEARCH_TICKETS (20000), SEARCH_TRANSACTIONS_PER_TICKET (10), SEARCH_TICKETS_PER_CLIENT (5),
# SEARCH_REPEATS (30): timed runs of each query after one warm-up. SKIP_BUILD=1 uses what
# target/ holds.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
started=$SECONDS
step() { log "$* (at $((SECONDS - started)) s)"; }

step "tools"
scripts/install-tools.sh ferretdb

if [ -z "${SKIP_BUILD:-}" ]; then
  step "the benchmark runner"
  cargo build --release -p bench --bin search
fi

step "FerretDB"
# Each run has its own directory (FerretDB's data, the logs): two runs at once must not share
# a database. Its data goes at the end; FerretDB's log and the figures stay.
run_dir=target/bench/search-runs/$(date -u +%Y%m%dT%H%M%SZ)-$$
data=$run_dir/ferretdb
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; cp "$data/ferretdb.log" "$run_dir/" 2>/dev/null || true; rm -rf "$data"' EXIT
mkdir -p "$run_dir"
start_ferretdb "$data"
pids+=("$FERRETDB_PID")
if others=$(pgrep -d, -f 'target/release/search$'); then
  echo "warning: another search benchmark is running (pid $others): the figures share the CPUs" >&2
fi

step "search benchmark on $(nproc) CPUs, $(date -u +%FT%TZ), in $run_dir"
bench_started=$SECONDS
BENCH_FERRETDB_URI="$MONGODB_URI" SEARCH_FERRETDB_PID="$FERRETDB_PID" SEARCH_DATA_DIR="$data" \
  target/release/search | tee "$run_dir/search.md"
cp "$run_dir/search.md" target/bench/search.md
step "done: benchmark $((SECONDS - bench_started)) s, total $((SECONDS - started)) s; figures in target/bench/search.md, logs in $run_dir"
