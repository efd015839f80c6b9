#!/usr/bin/env bash
# Runs the test suite: `scripts/test.sh [unit|integration|stack|all]` (default: all).
#   unit         pure logic, no servers (seconds)
#   integration  real redis-server and PostgreSQL, started by the tests themselves on free ports
#   stack        the real Docker engine with the nine containers (skipped until the stack exists)
set -euo pipefail
cd "$(dirname "$0")/.."

layer="${1:-all}"
unit='TradingCoreTests|YAMLParserTests|RunbookUnitTests'
case "$layer" in
  unit|integration|stack|all) ;;
  *) echo "usage: scripts/test.sh [unit|integration|stack|all]" >&2; exit 2 ;;
esac

bash scripts/setup.sh
swift build --build-tests

case "$layer" in
  unit)        swift test --skip-build --filter "$unit" ;;
  integration) swift test --skip-build --skip "$unit" --skip 'StackTests' ;;
  stack)       swift test --skip-build --filter 'StackTests' ;;
  all)         swift test --skip-build ;;
esac
