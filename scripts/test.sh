#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs every tool, checks formatting and lints,
# runs all tests against real servers (FerretDB per test binary, or MONGODB_URI; moto_server;
# wiremock), validates the SAM template, fuzzes the local API against openapi.yaml with
# schemathesis, and builds every Lambda bootstrap for arm64.
#
#   SKIP_RELEASE_BUILD=1 scripts/test.sh   # skip both release builds (cargo lambda, sam build)
#   SKIP_SAM_BUILD=1 scripts/test.sh       # skip only `sam build` (~12 min: it links every
#                                          # function again, one `cargo lambda build --bin` each)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
started=$SECONDS
step() { log "$* (at $((SECONDS - started)) s)"; }

step "installing tools"
scripts/install-tools.sh

step "formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo machete

step "tests"
test_log=$(mktemp)
trap 'rm -f "$test_log"' EXIT
cargo test --workspace --all-features 2>&1 | tee "$test_log"

step "SAM template"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" SAM_CLI_TELEMETRY=0
sam validate
sam validate --lint

step "schemathesis against the local API"
scripts/schemathesis.sh

if [ -z "${SKIP_RELEASE_BUILD:-}" ]; then
  step "release build of every Lambda (arm64)"
  cargo lambda build --release --arm64 --workspace --exclude local-api
  for bootstrap in target/lambda/*/bootstrap; do
    printf '%-32s %8s KiB\n' "$(basename "$(dirname "$bootstrap")")" "$(( $(stat -c %s "$bootstrap") / 1024 ))"
  done
fi
if [ -z "${SKIP_RELEASE_BUILD:-}" ] && [ -z "${SKIP_SAM_BUILD:-}" ]; then
  step "sam build (what sam deploy ships)"
  sam build
  ls .aws-sam/build/*/bootstrap | wc -l | xargs printf '%s bootstraps in .aws-sam/build\n'
fi

step "all checks passed"
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$test_log"
