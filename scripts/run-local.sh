#!/usr/bin/env bash
# Starts the whole API locally on http://127.0.0.1:${PORT:-3000}, installing what it needs.
# Without MONGODB_URI it runs an embedded FerretDB whose data stays in .local/ferretdb/.
# Configuration: the same environment variables as production (see README.md).
#
# Closed tickets go through the archive queue as deployed: the webhook enqueues and the local
# API's poller runs the archive worker's own handler. The queue is kept in the database (it
# survives a restart; `local-api dead-letters` lists the jobs that gave up) unless
# ARCHIVE_QUEUE_URL names an SQS queue. With LOCAL_QUEUE=moto this script starts moto_server,
# creates an SQS FIFO queue in it and sets ARCHIVE_QUEUE_URL: SQS itself, on loopback.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

"$ROOT/scripts/install-tools.sh" ferretdb

if [ -z "${MONGODB_URI:-}" ]; then
  start_ferretdb "$ROOT/.local/ferretdb"
  trap 'kill "$FERRETDB_PID" 2>/dev/null || true' EXIT
  log "embedded FerretDB on $MONGODB_URI (data in .local/ferretdb/)"
fi
if [ "${LOCAL_QUEUE:-}" = moto ]; then
  "$ROOT/scripts/install-tools.sh" moto
  start_moto_queue
  trap 'kill ${FERRETDB_PID:-} ${MOTO_PID:-} 2>/dev/null || true' EXIT
  log "archive queue in moto_server: $ARCHIVE_QUEUE_URL"
fi
local_api_defaults
export PORT="${PORT:-3000}"

log "building and starting the local API on http://127.0.0.1:$PORT"
cargo build --quiet -p local-api
"$ROOT/target/debug/local-api"
