#!/usr/bin/env bash
# Line coverage of the pure trading logic (TradingCore) by the unit tests; fails below the threshold.
#   scripts/coverage.sh [minimum-percent]   (default 80)
# Builds into .build-coverage so the instrumented build never replaces the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."
minimum="${1:-80}"
# The shared layer's suites need files beside the repository: the preflight's coverage must not.
swift test --scratch-path .build-coverage --enable-code-coverage --filter TradingCoreTests --skip '\.SharedData'
profile=$(find .build-coverage -name default.profdata -path '*codecov*' | head -n 1)
binary=$(find .build-coverage -name 'claire-de-binarePackageTests.xctest' -type f | head -n 1)
llvm_cov=$(dirname "$(command -v swift)")/llvm-cov
[ -x "$llvm_cov" ] || llvm_cov=$(command -v llvm-cov)
total=$("$llvm_cov" report "$binary" -instr-profile "$profile" Sources/TradingCore | awk '/^TOTAL/ { print $(NF-3) }')
echo "TradingCore line coverage: ${total} (minimum ${minimum}%)"
awk -v total="${total%\%}" -v minimum="$minimum" 'BEGIN { exit (total + 0 >= minimum + 0) ? 0 : 1 }'
