# Shared by scripts/test.sh and scripts/run-local.sh (sourced, not run).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$(go env GOPATH)/bin:$HOME/.cargo/bin:$PATH"

log() { printf '\n==> %s\n' "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() { # port seconds what
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "$3 did not start listening on 127.0.0.1:$1 within $2 s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# Starts FerretDB (SQLite backend) with its data in $1 on a free loopback port and exports
# MONGODB_URI; sets FERRETDB_PID. Each instance gets its own state dir and no debug listener.
start_ferretdb() {
  local data_dir=$1 port
  port=$(free_port)
  mkdir -p "$data_dir"
  ferretdb --handler=sqlite --listen-addr="127.0.0.1:$port" --sqlite-url="file:$data_dir/" \
    --state-dir="$data_dir" --debug-addr=- --telemetry=disable --log-level=warn \
    >"$data_dir/ferretdb.log" 2>&1 &
  FERRETDB_PID=$!
  wait_for_port "$port" 60 FerretDB
  export MONGODB_URI="mongodb://127.0.0.1:$port/"
}

# Starts moto_server on a free loopback port with an SQS FIFO archive queue in it; exports
# ARCHIVE_QUEUE_URL and what the AWS SDK needs to reach moto; sets MOTO_PID.
start_moto_queue() {
  local port
  port=$(free_port)
  moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
  MOTO_PID=$!
  wait_for_port "$port" 60 moto_server
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  ARCHIVE_QUEUE_URL=$(python3 - <<'PY'
import boto3, os
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
print(sqs.create_queue(QueueName="archive-local.fifo", Attributes={
    "FifoQueue": "true", "ContentBasedDeduplication": "false", "VisibilityTimeout": "720"})["QueueUrl"])
PY
)
  export ARCHIVE_QUEUE_URL
}

# Development defaults for the local API, each overridable from the environment. The token and
# the Glassix API secret match the files in events/ (documented in README.md).
local_api_defaults() {
  export API_TOKENS="${API_TOKENS:-local-dev-token-0123456789abcdef}"
  export GLASSIX_WORKSPACE="${GLASSIX_WORKSPACE:-local}"
  export GLASSIX_API_KEY="${GLASSIX_API_KEY:-00000000-0000-0000-0000-000000000000}"
  export GLASSIX_API_SECRET="${GLASSIX_API_SECRET:-test-api-secret}"
  export GLASSIX_USER_NAME="${GLASSIX_USER_NAME:-api-user@example.com}"
  export NEW_TICKET_TAGS="${NEW_TICKET_TAGS:-archived-by-ctm}"
  export RUST_LOG="${RUST_LOG:-info}"
}
