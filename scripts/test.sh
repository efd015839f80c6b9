#!/usr/bin/env bash
# Runs the test suite: `scripts/test.sh [unit|integration|shared|stack|all]` (default: all).
#   unit         pure logic, no servers (seconds)
#   integration  real redis-server and PostgreSQL, started by the tests themselves on free ports
#                (includes StackConfigTests: the dashboard's SQL and the alerts' metric names)
#   shared       the suites named SharedData…: they read the shared directory beside the repository
#                (${CDB_SHARED_DIR:-../shared}: seed/runbook-v1.0.md, data/btc-perp-2022-01_1m.csv), which a
#                clone on its own does not have; the month's replay through the five services is among them
#   stack        promtool on the Prometheus files, then the nine-container stack on a real Docker engine
#                (scripts/stack-test.sh: installs and starts the engine when needed)
#   all          unit and integration (one run), shared, stack; it stops at the first layer that fails
# unit and integration run with CDB_SHARED_DIR pointing where nothing is, so a default-layer test that reads the
# shared directory fails there instead of passing on a machine that happens to have it.
# A layer whose selection runs no test at all fails: a renamed suite must not turn a layer silently empty.
set -euo pipefail
cd "$(dirname "$0")/.."

layer="${1:-all}"
# Swift Testing matches these regular expressions against test ids, `Module.Type/test(…)` (a suite's own id is
# `Module.Type`), and runs a suite's tests when the suite matches.
unit='TradingCoreTests|YAMLParserTests|RunbookUnitTests|DockerClientTests|PlainTextTests|SharedTestDataTests|PrimitivesTests|StackContractTests|TradingServicesTests'
shared='\.SharedData'
case "$layer" in
  unit|integration|shared|stack|all) ;;
  *) echo "usage: scripts/test.sh [unit|integration|shared|stack|all]" >&2; exit 2 ;;
esac

shared_dir="${CDB_SHARED_DIR:-../shared}"
absent_shared_dir=/nonexistent/cdb-shared-dir

# Fails (exit 1) before building when the shared layer's inputs are not there: the message, not a wall of
# failed tests, should tell a user with only the repository what is missing.
require_shared_dir() {
  local missing=()
  for file in seed/runbook-v1.0.md data/btc-perp-2022-01_1m.csv; do
    [ -r "$shared_dir/$file" ] || missing+=("$shared_dir/$file")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: the shared layer needs the shared directory (CDB_SHARED_DIR, default ../shared beside the repository);" >&2
    echo "test.sh: missing: ${missing[*]}" >&2
    exit 1
  fi
}

# `swift test --skip-build` with the given selection, its output passed through; fails when the tests fail or
# when the selection ran no test.
run_tests() {
  local name=$1; shift
  local log status count
  log=$(mktemp)
  set +e
  swift test --skip-build "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  # Swift Testing's summary: "Test run with 42 tests in 7 suites passed after 1.2 seconds."
  count=$(sed -n 's/.*Test run with \([0-9][0-9]*\) test.*/\1/p' "$log" | tail -n 1)
  rm -f "$log"
  [ "$status" -eq 0 ] || return "$status"
  if [ "${count:-0}" -eq 0 ]; then
    echo "test.sh: the $name layer ran no test: its selection ($*) matches nothing" >&2
    return 1
  fi
}

if [ "$layer" = shared ] || [ "$layer" = all ]; then require_shared_dir; fi
bash scripts/setup.sh
if [ "$layer" != stack ]; then swift build --build-tests; fi

default_layers() {
  if [ -e "$absent_shared_dir" ]; then
    echo "test.sh: $absent_shared_dir exists; the default layers need a shared directory that does not" >&2
    exit 1
  fi
  CDB_SHARED_DIR="$absent_shared_dir" run_tests "$@"
}

shared_layer() {
  # Absolute, so every test reads the directory that was just checked whatever its working directory.
  CDB_SHARED_DIR="$(cd "$shared_dir" && pwd)" run_tests shared --filter "$shared"
}

stack_layer() {
  bash scripts/check-prometheus.sh
  bash scripts/stack-test.sh
}

case "$layer" in
  unit)        default_layers unit --filter "$unit" --skip "$shared" ;;
  integration) default_layers integration --skip "$unit" --skip "$shared" ;;
  shared)      shared_layer ;;
  stack)       stack_layer ;;
  all)         default_layers "unit and integration" --skip "$shared"; shared_layer; stack_layer ;;
esac
