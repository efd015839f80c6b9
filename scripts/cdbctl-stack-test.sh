#!/usr/bin/env bash
# cdbctl end to end on a running test stack (called by scripts/stack-test.sh after the stack is healthy):
#   scripts/cdbctl-stack-test.sh ENV_FILE CONTAINER_PREFIX
# preflight → go → start → monitor must be green on the healthy stack; then each fault turns the right item
# red with its reason: a stopped service (monitor, then the container-crash playbook brings it back), a broken
# .env (go), a missing table (go). A daily report is written, and the emergency stop runs twice (harmless).
# Also times `cdbctl preflight`'s checks next to the seed's §2 shell commands run one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
env_file=$1
prefix=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
reports="$work/reports"
export CDB_ENV_FILE="$env_file"   # scripts/stack.sh, run by cdbctl's compose steps, reads the same settings

swift build --product cdbctl >/dev/null
cdbctl() { .build/debug/cdbctl "$@" --env-file "$env_file" --reports-dir "$reports"; }
fail() {
  echo "cdbctl-stack-test: FAILED: $*" >&2
  # A red test step's whole output is kept by cdbctl; show its failures before the work folder goes.
  for log in "$reports"/commands/*.log; do
    [ -e "$log" ] || continue
    echo "--- failures in $log:" >&2; grep -E "✘|error:" "$log" | head -n 40 >&2
  done
  exit 1
}
expect_exit() { # expected-status, output-file, command...
  local expected=$1 output=$2 status=0; shift 2
  "$@" >"$output" 2>&1 || status=$?
  cat "$output"
  [ "$status" -eq "$expected" ] || fail "'$*' exited $status, expected $expected"
}
expect_text() { grep -qF -- "$2" "$1" || fail "expected '$2' in the output above"; }

echo "== cdbctl validate"
cdbctl validate

echo "== cdbctl preflight (coverage left out: it rebuilds everything instrumented; a warning step)"
start=$SECONDS
expect_exit 0 "$work/preflight.txt" cdbctl preflight --skip coverage
echo "preflight with the unit and integration suites: $((SECONDS - start)) s"

echo "== timing: the preflight's checks against the seed's §2 commands, one after another"
setting() { sed -n "s/^$1=//p" "$env_file"; }   # not sourced: cdbctl's process environment would override the file
milliseconds() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(milliseconds)
# Its own reports directory: this partial preflight must not become the record `go` judges.
.build/debug/cdbctl preflight --skip unit-tests --skip integration-tests --skip coverage --env-file "$env_file" \
  --reports-dir "$work/timing-reports" >/dev/null 2>&1 || true
checks=$(( $(milliseconds) - start ))
start=$(milliseconds)
{
  docker ps -a --filter "label=com.docker.compose.project=$(setting COMPOSE_PROJECT_NAME)"
  for port in "$(setting CDB_WS_PORT)" "$(setting CDB_CORE_PORT)" "$(setting CDB_RISK_PORT)" "$(setting CDB_EXECUTION_PORT)"; do
    curl -fsS "http://127.0.0.1:$port/health"
  done
  docker exec "${prefix}cdb_postgres" psql -U claire_user -d claire_de_binare -c '\dt'
  docker exec "${prefix}cdb_postgres" pg_dump -U claire_user -d claire_de_binare > "$work/backup_pre_paper_run.sql"
  ls -lh "$work/backup_pre_paper_run.sql"
  curl -fsS "http://127.0.0.1:$(setting CDB_PROMETHEUS_PORT)/api/v1/targets"
  curl -fsS "http://127.0.0.1:$(setting CDB_PROMETHEUS_PORT)/api/v1/rules"
} >/dev/null 2>&1 || true
manual=$(( $(milliseconds) - start ))
printf 'cdbctl preflight (checks only, concurrent, incl. restore check): %d ms; seed §2 commands in sequence (no restore check): %d ms\n' "$checks" "$manual" \
  | tee -a "$work/timing.txt"

echo "== cdbctl go"
expect_exit 0 "$work/go.txt" cdbctl go
expect_text "$work/go.txt" "go: GO"

echo "== cdbctl start (the stack is up already: compose up is a no-op; 5-minute stabilisation)"
expect_exit 0 "$work/start.txt" cdbctl start
expect_text "$work/start.txt" "start: OPERATIONAL"

echo "== cdbctl monitor (healthy)"
expect_exit 0 "$work/monitor.txt" cdbctl monitor
expect_text "$work/monitor.txt" "monitor: OK"

echo "== fault: cdb_core stopped"
docker stop "${prefix}cdb_core" >/dev/null
expect_exit 1 "$work/monitor-stopped.txt" cdbctl monitor
expect_text "$work/monitor-stopped.txt" "cdb_core is exited"
expect_text "$work/monitor-stopped.txt" "monitor: CRITICAL"
expect_text "$work/monitor-stopped.txt" "→ cdbctl incident container-crash"
expect_exit 0 "$work/incident.txt" cdbctl incident container-crash
expect_text "$work/incident.txt" "incident container-crash-cdb_core-"
expect_text "$work/incident.txt" "incidents: RESOLVED"
ls "$reports"/incidents/container-crash-cdb_core-*/cdb_core.log >/dev/null || fail "no evidence saved"

echo "== fault: a broken .env"
sed 's/^MAX_DAILY_DRAWDOWN_PCT=.*/MAX_DAILY_DRAWDOWN_PCT=0.9/' "$env_file" > "$work/broken.env"
status=0; .build/debug/cdbctl go --env-file "$work/broken.env" --reports-dir "$reports" >"$work/go-env.txt" 2>&1 || status=$?
cat "$work/go-env.txt"
[ "$status" -eq 1 ] || fail "go with a broken .env exited $status, expected 1"
expect_text "$work/go-env.txt" "MAX_DAILY_DRAWDOWN_PCT: '0.9' is outside 0.01–0.5"
expect_text "$work/go-env.txt" "go: NO-GO"

echo "== fault: a table gone from the schema (renamed away, then back, so the stop below can back up all five)"
docker exec "${prefix}cdb_postgres" psql -q -U claire_user -d claire_de_binare -c "ALTER TABLE trades RENAME TO trades_gone"
status=0; cdbctl go >"$work/go-table.txt" 2>&1 || status=$?
docker exec "${prefix}cdb_postgres" psql -q -U claire_user -d claire_de_binare -c "ALTER TABLE trades_gone RENAME TO trades"
cat "$work/go-table.txt"
[ "$status" -eq 1 ] || fail "go without the trades table exited $status, expected 1"
expect_text "$work/go-table.txt" "missing: trades"
expect_text "$work/go-table.txt" "go: NO-GO"

echo "== cdbctl report daily"
expect_exit 0 "$work/report.txt" cdbctl report daily
grep -q "^| cdb_core | running | healthy |" "$(sed -n 's/^report: //p' "$work/report.txt")" || fail "the daily report lacks the container table"

echo "== cdbctl stop --emergency, twice"
expect_exit 0 "$work/stop1.txt" cdbctl stop --emergency --reason "stack test"
expect_text "$work/stop1.txt" "stop: STOPPED"
expect_exit 0 "$work/stop2.txt" cdbctl stop --emergency --reason "stack test, again"
expect_text "$work/stop2.txt" "stop: STOPPED"
ls "$reports"/incidents/emergency-stop-*.md >/dev/null || fail "no emergency-stop report"

cat "$work/timing.txt"
echo "cdbctl stack test passed"
