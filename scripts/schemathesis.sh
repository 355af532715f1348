#!/usr/bin/env bash
# Runs schemathesis (property-based API tests from openapi.yaml) against the local API on a
# fresh database, with a fixed example budget. Fails on any 5xx, any response that breaks the
# schema, or any other check schemathesis makes.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if [ -z "${MONGODB_URI:-}" ]; then
  start_ferretdb "$work/ferretdb"
  pids+=("$FERRETDB_PID")
fi
local_api_defaults
export MONGODB_DATABASE="schemathesis_$$" FILES_DIR="$work/files"
export PORT
PORT=$(free_port)
cargo build --quiet -p local-api
RUST_LOG=warn target/debug/local-api >"$work/local-api.log" 2>&1 &
pids+=($!)
wait_for_port "$PORT" 60 local-api

schemathesis --no-color --config-file scripts/schemathesis.toml run openapi.yaml \
  --url "http://127.0.0.1:$PORT" \
  --header "Authorization: Bearer $API_TOKENS" \
  --checks all \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" \
  --seed 20261126 \
  --workers 1
