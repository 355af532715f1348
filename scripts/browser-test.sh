#!/usr/bin/env bash
# The archive viewer in a real browser: starts FerretDB (unless MONGODB_URI is set), the
# Glassix stand-in serving the test ticket and its files, and the local API, each on a free
# loopback port; then tests/browser/viewer.test.mjs archives the ticket through the signed
# closed-ticket webhook and drives Debian's Chromium through the viewer with playwright-core,
# as an administrator and then with scoped tokens (read-only, auditor, audit without read).
# Saves the ticket's screenshot to docs/viewer-ticket.png (SCREENSHOT= to put it elsewhere).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

"$ROOT/scripts/install-tools.sh" browser

work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if [ -z "${MONGODB_URI:-}" ]; then
  "$ROOT/scripts/install-tools.sh" ferretdb
  start_ferretdb "$work/ferretdb"
  pids+=("$FERRETDB_PID")
fi

node tests/browser/ticket.mjs "$work/ticket.json"
stub_port=$(free_port)
GLASSIX_STUB_TICKET="$work/ticket.json" GLASSIX_STUB_FILES="$ROOT/tests/browser/fixtures" \
  python3 scripts/glassix-stub.py "$stub_port" >"$work/glassix-stub.log" 2>&1 &
pids+=($!)
wait_for_port "$stub_port" 30 glassix-stub

local_api_defaults
# Named, scoped tokens: the development token with every scope (what the steps that archive and
# seed use), a read-only viewer, an auditor, and an auditor that may not read the archive
# (given by its SHA-256, as a deployment may keep it).
export API_TOKEN=local-dev-token-0123456789abcdef
export READ_TOKEN=support-viewer-token-0123456789abcdef
export AUDIT_TOKEN=dpo-auditor-token-0123456789abcdef012
export AUDIT_ONLY_TOKEN=audit-only-token-0123456789abcdef0123
audit_only_sha256=$(printf '%s' "$AUDIT_ONLY_TOKEN" | sha256sum | cut -d' ' -f1)
export API_TOKENS='[
  {"name": "admin", "scopes": ["read", "write", "erase", "export", "audit"], "token": "'"$API_TOKEN"'"},
  {"name": "support-viewer", "scopes": ["read"], "token": "'"$READ_TOKEN"'"},
  {"name": "dpo", "scopes": ["read", "audit"], "token": "'"$AUDIT_TOKEN"'"},
  {"name": "audit-only", "scopes": ["audit"], "sha256": "'"$audit_only_sha256"'"}
]'
# Its own database and file folder; Glassix is the stand-in above. No SQS queue: the archive
# queue is in the database, and local-api's poller archives and scrambles the ticket.
export MONGODB_DATABASE="browser_$$" FILES_DIR="$work/files" RUST_LOG=warn
export GLASSIX_BASE_URL="http://127.0.0.1:$stub_port/api/v1.2"
unset ARCHIVE_QUEUE_URL FILES_BUCKET
export PORT
PORT=$(free_port)
cargo build --quiet -p local-api
target/debug/local-api >"$work/local-api.log" 2>&1 &
pids+=($!)
wait_for_port "$PORT" 60 local-api

status=0
VIEWER_URL="http://127.0.0.1:$PORT" SCREENSHOT="${SCREENSHOT:-$ROOT/docs/viewer-ticket.png}" \
  node --test --test-reporter=spec tests/browser/viewer.test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- local-api log (last 40 lines)" >&2; tail -n 40 "$work/local-api.log" >&2
  echo "--- glassix-stub log (last 20 lines)" >&2; tail -n 20 "$work/glassix-stub.log" >&2
fi
exit "$status"
