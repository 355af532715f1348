#!/usr/bin/env bash
# Load run (hardening suite, item 3): 10,000 mixed requests — REST (clients, tickets, deletes,
# duplicates sent on purpose) and signed Glassix webhooks (new tickets against the wiremock
# Glassix stub, closed tickets queued and archived by the poller) — from 32 concurrent
# workers to the local API on loopback, with the real handlers and a FerretDB of its own; then
# an audit that every acknowledged write is stored exactly once. Prints throughput, p50/p99
# latency per operation and the errors by status; fails on any unexpected status (every 5xx
# included) or audit finding.
#
#   scripts/load.sh                                   # 10,000 requests, 32 workers, release build
#   LOAD_REQUESTS=2000 LOAD_CONCURRENCY=8 scripts/load.sh
#   LOAD_SEED=7 scripts/load.sh                       # another (reproducible) mix
#
# The same test runs in `cargo test` with 600 requests (functions/local-api/tests/load/).
# MONGODB_URI, when set, points the run at that server instead of FerretDB.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

export LOAD_REQUESTS="${LOAD_REQUESTS:-10000}" LOAD_CONCURRENCY="${LOAD_CONCURRENCY:-32}"
# The release build first, so that the load figures below are not shared with the compiler.
cargo test --release -p local-api --all-features --test load --no-run
log "load: $LOAD_REQUESTS requests, $LOAD_CONCURRENCY workers; $(nproc) CPUs, $(date -u +%FT%TZ), $(uptime | sed 's/.*load/load/')"
status=0
cargo test --release -p local-api --all-features --test load -- --nocapture || status=$?
log "done: $(date -u +%FT%TZ), $(uptime | sed 's/.*load/load/')"
exit "$status"
