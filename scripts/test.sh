#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs every tool, checks formatting and lints,
# runs all tests against real servers (FerretDB per test binary, or MONGODB_URI; moto_server;
# wiremock), validates the SAM template, fuzzes the local API against openapi.yaml with
# schemathesis, drives the archive viewer in Debian's Chromium, and builds every Lambda
# bootstrap for arm64.
#
#   SKIP_RELEASE_BUILD=1 scripts/test.sh   # skip the release build of the bootstraps
#
# Every bootstrap is built once, by one `cargo lambda build` of the workspace. `sam build`
# would build each function again (one cargo-lambda run per function): instead
# a contract test (`sam_builds_every_function_as_ci_does`) checks that the template builds
# exactly these binaries, the same way. `sam validate --lint` still checks the template.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
started=$SECONDS
step() { log "$* (at $((SECONDS - started)) s)"; }

# A CI run builds once from a fresh clone: incremental caches would only fill its disk. A
# developer's run keeps them.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

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

step "SAM template and the infrastructure scan (checkov)"
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" SAM_CLI_TELEMETRY=0
sam validate
sam validate --lint
# Every finding fixed or skipped in the template itself, each skip with its reason.
"$HOME/.local/share/ctm-checkov/bin/checkov" --skip-download --quiet --compact \
  --framework cloudformation -f template.yaml

step "schemathesis against the local API"
scripts/schemathesis.sh

step "the archive viewer in Chromium (playwright-core)"
scripts/browser-test.sh

if [ -z "${SKIP_RELEASE_BUILD:-}" ]; then
  step "release build of every Lambda (arm64)"
  # Proves every bootstrap compiles and links for arm64 with the release profile's code
  # (opt-level, features, panic strategy). Without its fat LTO and single codegen unit, which
  # only shrink what is deployed and make each link slow on 2 cores; the deployed sizes are
  # scripts/bench.sh's (README, "Performance"). bench is not deployed.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo lambda build --release --arm64 --workspace --exclude local-api --exclude bench
  echo "bootstraps built (no LTO: larger than what deploys)"
  for bootstrap in target/lambda/*/bootstrap; do
    [ "$(basename "$(dirname "$bootstrap")")" = hello-lambda ] && continue
    printf '%-32s %8s KiB\n' "$(basename "$(dirname "$bootstrap")")" "$(( $(stat -c %s "$bootstrap") / 1024 ))"
  done
fi

step "all checks passed"
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$test_log"
