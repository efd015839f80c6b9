#!/usr/bin/env bash
# Runs the test suite: `scripts/test.sh [unit|integration|stack|all]` (default: all).
#   unit         pure logic, no servers (seconds)
#   integration  real redis-server and PostgreSQL, started by the tests themselves on free ports
#                (includes StackConfigTests: the dashboard's SQL and the alerts' metric names)
#   stack        promtool on the Prometheus files, then the nine-container stack on a real Docker engine
#                (scripts/stack-test.sh: installs and starts the engine when needed)
set -euo pipefail
cd "$(dirname "$0")/.."

layer="${1:-all}"
unit='TradingCoreTests|YAMLParserTests|RunbookUnitTests|PlainTextTests'
case "$layer" in
  unit|integration|stack|all) ;;
  *) echo "usage: scripts/test.sh [unit|integration|stack|all]" >&2; exit 2 ;;
esac

bash scripts/setup.sh
if [ "$layer" != stack ]; then swift build --build-tests; fi

stack_layer() {
  bash scripts/check-prometheus.sh
  bash scripts/stack-test.sh
}

case "$layer" in
  unit)        swift test --skip-build --filter "$unit" ;;
  integration) swift test --skip-build --skip "$unit" --skip 'StackTests' ;;
  stack)       stack_layer ;;
  all)         swift test --skip-build; stack_layer ;;
esac
