#!/usr/bin/env bash
# cdbctl end to end on a running test stack (called by scripts/stack-test.sh after the stack is healthy):
#   scripts/cdbctl-stack-test.sh ENV_FILE CONTAINER_PREFIX
# preflight → go → start → monitor must be green on the healthy stack; then each fault turns the right item
# red with its reason: a killed service (monitor, then the container-crash playbook brings it back), a broken
# .env (go), a missing table (go). Every other playbook runs against its real fault (a paused service, PostgreSQL
# stopped, the feed stopped, the risk breaker, resource relief, a restore onto a new volume), each followed by the
# monitor's persistence check: no event the writer took is missing or stored twice. A daily report is written;
# the planned stop runs twice and the emergency stop after it (all harmless).
# Also times `cdbctl preflight`'s checks next to the seed's §2 shell commands run one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
env_file=$1
prefix=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
reports="$work/reports"
. scripts/env.sh
export CDB_ENV_FILE="$env_file"   # scripts/stack.sh, run by cdbctl's compose steps, reads the same settings

swift build --product cdbctl >/dev/null
export CDBCTL="$PWD/.build/debug/cdbctl"   # the binary under test, also for scripts/stack.sh's reading of .env
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
psql_value() { docker exec "${prefix}cdb_postgres" psql -tA -U claire_user -d claire_de_binare -c "$1"; }
# The monitor's persistence step must pass: nothing the writer acknowledged is missing, nothing is stored twice.
expect_persisted() { # label
  local output="$work/persisted-$1.txt"
  cdbctl monitor >"$output" 2>&1 || true
  grep -E "^persisted " "$output"
  grep -qE "^persisted +4\.1 +critical +PASS" "$output" || { cat "$output"; fail "after $1: events lost or stored twice"; }
}
# Runs a playbook that must resolve its fault.
expect_resolved() { # label, cdbctl incident arguments...
  local label=$1; shift
  expect_exit 0 "$work/incident-$label.txt" cdbctl incident "$@"
  expect_text "$work/incident-$label.txt" "incidents: RESOLVED"
}

echo "== cdbctl validate"
cdbctl validate

echo "== cdbctl preflight (coverage left out: it rebuilds everything instrumented; a warning step)"
start=$SECONDS
expect_exit 0 "$work/preflight.txt" cdbctl preflight --skip coverage
echo "preflight with the unit and integration suites: $((SECONDS - start)) s"

echo "== timing: the preflight's checks against the seed's §2 commands, one after another"
# Read before the clock starts: the seed's commands had these values typed in.
project_name=$(cdb_setting "$env_file" COMPOSE_PROJECT_NAME)
service_ports=()
for name in CDB_WS_PORT CDB_CORE_PORT CDB_RISK_PORT CDB_EXECUTION_PORT; do service_ports+=("$(cdb_setting "$env_file" "$name")"); done
prometheus_port=$(cdb_setting "$env_file" CDB_PROMETHEUS_PORT)
milliseconds() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(milliseconds)
# Its own reports directory: this partial preflight must not become the record `go` judges.
.build/debug/cdbctl preflight --skip unit-tests --skip integration-tests --skip coverage --env-file "$env_file" \
  --reports-dir "$work/timing-reports" >/dev/null 2>&1 || true
checks=$(( $(milliseconds) - start ))
start=$(milliseconds)
{
  docker ps -a --filter "label=com.docker.compose.project=$project_name"
  for port in "${service_ports[@]}"; do
    curl -fsS "http://127.0.0.1:$port/health"
  done
  docker exec "${prefix}cdb_postgres" psql -U claire_user -d claire_de_binare -c '\dt'
  docker exec "${prefix}cdb_postgres" pg_dump -U claire_user -d claire_de_binare > "$work/backup_pre_paper_run.sql"
  ls -lh "$work/backup_pre_paper_run.sql"
  curl -fsS "http://127.0.0.1:$prometheus_port/api/v1/targets"
  curl -fsS "http://127.0.0.1:$prometheus_port/api/v1/rules"
} >/dev/null 2>&1 || true
manual=$(( $(milliseconds) - start ))
printf 'cdbctl preflight (checks only, concurrent, incl. restore check): %d ms; seed §2 commands in sequence (no restore check): %d ms\n' "$checks" "$manual" \
  | tee -a "$work/timing.txt"

echo "== cdbctl go"
expect_exit 0 "$work/go.txt" cdbctl go
expect_text "$work/go.txt" "go: GO"

echo "== cdbctl start (the stack is up already: compose up is a no-op; 5-minute stabilisation)"
expect_exit 0 "$work/start.txt" cdbctl start
env_copy=$(ls "$reports"/start/env-*.env 2>/dev/null | head -n 1)
[ -n "$env_copy" ] || fail "cdbctl start kept no copy of .env under $reports/start"
[ "$(stat -c %a "$env_copy")" = 600 ] || fail "$env_copy is readable by others ($(stat -c %a "$env_copy"))"
cmp -s "$env_copy" "$env_file" || fail "$env_copy differs from $env_file"
expect_text "$work/start.txt" "start: OPERATIONAL"

echo "== cdbctl monitor (healthy)"
expect_exit 0 "$work/monitor.txt" cdbctl monitor
expect_text "$work/monitor.txt" "monitor: OK"

echo "== fault: cdb_core's process killed, Docker restarts it (a crash between two cycles)"
restarts_before=$(docker inspect -f '{{.RestartCount}}' "${prefix}cdb_core")
core_pid=$(docker inspect -f '{{.State.Pid}}' "${prefix}cdb_core")
if [ "$(id -u)" = 0 ]; then kill -KILL "$core_pid"; else sudo kill -KILL "$core_pid"; fi
for _ in $(seq 1 60); do
  [ "$(docker inspect -f '{{.RestartCount}} {{.State.Health.Status}}' "${prefix}cdb_core")" = "$((restarts_before + 1)) healthy" ] && break
  sleep 1
done
# The fault landed: Docker restarted it once and it is healthy again, so only the restart count can tell.
[ "$(docker inspect -f '{{.RestartCount}} {{.State.Health.Status}}' "${prefix}cdb_core")" = "$((restarts_before + 1)) healthy" ] \
  || fail "cdb_core was not restarted by Docker and healthy within 60 s after SIGKILL"
expect_exit 1 "$work/monitor-crashed.txt" cdbctl monitor
expect_text "$work/monitor-crashed.txt" "cdb_core crashed and was restarted by Docker 1 time since the previous cycle"
expect_text "$work/monitor-crashed.txt" "monitor: CRITICAL"
cdbctl monitor >"$work/monitor-after-crash.txt" 2>&1 || true
if grep -q "restarted by Docker" "$work/monitor-after-crash.txt"; then
  fail "the next cycle still reports the crash the previous cycle reported: $(grep 'restarted by Docker' "$work/monitor-after-crash.txt")"
fi

echo "== fault: cdb_core killed"
docker kill "${prefix}cdb_core" >/dev/null
expect_exit 1 "$work/monitor-stopped.txt" cdbctl monitor
expect_text "$work/monitor-stopped.txt" "cdb_core is exited"
expect_text "$work/monitor-stopped.txt" "monitor: CRITICAL"
expect_text "$work/monitor-stopped.txt" "→ cdbctl incident container-crash"
expect_exit 0 "$work/incident.txt" cdbctl incident container-crash
expect_text "$work/incident.txt" "incident container-crash-cdb_core-"
expect_text "$work/incident.txt" "incidents: RESOLVED"
ls "$reports"/incidents/container-crash-cdb_core-*/cdb_core.log >/dev/null || fail "no evidence saved"
expect_persisted container-crash

echo "== fault: cdb_risk paused (unresponsive)"
docker pause "${prefix}cdb_risk" >/dev/null
expect_resolved unresponsive service-unresponsive --service cdb_risk
[ "$(docker inspect -f '{{.State.Status}}' "${prefix}cdb_risk")" = running ] || fail "cdb_risk is not running after the playbook"
expect_persisted service-unresponsive

echo "== fault: PostgreSQL stopped"
docker stop "${prefix}cdb_postgres" >/dev/null
expect_exit 1 "$work/monitor-database.txt" cdbctl monitor
expect_text "$work/monitor-database.txt" "cdbctl incident database-outage"
expect_resolved database-outage database-outage
expect_persisted database-outage

echo "== fault: the feed stopped"
docker stop "${prefix}cdb_ws" >/dev/null
expect_resolved data-stop data-stop
expect_persisted data-stop

echo "== playbook: risk limit (the manual circuit breaker), held through a remediating cycle, then trading resumed"
expect_resolved risk-limit risk-limit
[ "$(docker inspect -f '{{.State.Status}}' "${prefix}cdb_execution")" = exited ] || fail "cdb_execution still runs after the circuit breaker"
expect_exit 0 "$work/status-paused.txt" cdbctl status
expect_text "$work/status-paused.txt" "PAUSED"
expect_text "$work/status-paused.txt" "held: cdb_execution"
# A deliberate stop is no crash: the cycle reports it held and --remediate leaves it stopped.
cdbctl monitor --remediate >"$work/monitor-held.txt" 2>&1 || true
expect_text "$work/monitor-held.txt" "cdb_execution held since"
if grep -q "remediation container-crash" "$work/monitor-held.txt"; then fail "the monitor took the held cdb_execution for a crash"; fi
[ "$(docker inspect -f '{{.State.Status}}' "${prefix}cdb_execution")" = exited ] || fail "monitor --remediate restarted the held cdb_execution"
expect_exit 0 "$work/release.txt" cdbctl release cdb_execution
expect_text "$work/release.txt" "run run-"
expect_text "$work/release.txt" ": running"
expect_persisted risk-limit

echo "== playbook: resource shortage (Prometheus and Grafana stopped), then Prometheus back"
expect_resolved resource-shortage resource-shortage
[ "$(docker inspect -f '{{.State.Status}}' "${prefix}cdb_prometheus")" = exited ] || fail "cdb_prometheus still runs after the relief"
bash scripts/stack.sh start cdb_prometheus >/dev/null 2>&1

echo "== playbook: database restore onto a new volume (destructive)"
signals_before=$(psql_value "SELECT count(*) FROM signals")
expect_exit 2 "$work/restore-refused.txt" cdbctl incident database-restore --recreate-volume
expect_text "$work/restore-refused.txt" "run again with --yes"
[ "$(psql_value "SELECT count(*) FROM signals")" -ge "$signals_before" ] || fail "a refused restore changed the database"
expect_resolved database-restore database-restore --recreate-volume --yes
expect_text "$work/incident-database-restore.txt" "removed with volume"
ls "$reports"/backups/pre-restore/*.dump >/dev/null || fail "no safety copy of the database before the restore"
signals_after=$(psql_value "SELECT count(*) FROM signals")
echo "signals: $signals_before before the restore, $signals_after after it and the replay"
[ "$signals_after" -ge "$signals_before" ] || fail "signals lost by the restore: $signals_before before, $signals_after after"
expect_persisted database-restore

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
# The review judges a run of minutes that went through every fault above: its exit says whether the seed's
# expectations held, and the report must say which did not.
status=0; cdbctl report daily >"$work/report.txt" 2>&1 || status=$?
cat "$work/report.txt"
report_file=$(sed -n 's/^report: //p' "$work/report.txt")
[ -n "$report_file" ] || fail "cdbctl report daily wrote no report (exit $status)"
grep -q "^| cdb_core | running | healthy |" "$report_file" || fail "the daily report lacks the container table"
if grep -qE '\*\* nil$' "$report_file"; then fail "the daily report shows nil for a problem: $(grep -nE '\*\* nil$' "$report_file" | head -n 3)"; fi
if [ "$status" -eq 0 ]; then grep -q "^## Verdict: PASS" "$report_file" || fail "report exited 0 without a PASS verdict"
elif [ "$status" -eq 1 ]; then grep -q "^## Verdict: FAIL" "$report_file" && grep -q "^FAIL " "$work/report.txt" || fail "report exited 1 without naming what failed"
else fail "cdbctl report daily exited $status"; fi

echo "== cdbctl stop (planned, positions waited for 20 s then closed in paper mode), twice; then --emergency"
expect_exit 0 "$work/stop1.txt" cdbctl stop --position-wait 20s
expect_text "$work/stop1.txt" "stop: STOPPED"
expect_exit 0 "$work/stop2.txt" cdbctl stop --position-wait 20s
expect_text "$work/stop2.txt" "stop: STOPPED"
expect_exit 0 "$work/stop3.txt" cdbctl stop --emergency --reason "stack test, after the planned stop"
expect_text "$work/stop3.txt" "stop: STOPPED"
ls "$reports"/incidents/emergency-stop-*.md >/dev/null || fail "no emergency-stop report"
# After the stop the cron cycles have nothing to watch: no CRITICAL every four hours.
expect_exit 0 "$work/monitor-after-stop.txt" cdbctl monitor
expect_text "$work/monitor-after-stop.txt" "stopped since"
expect_exit 0 "$work/status-stopped.txt" cdbctl status
expect_text "$work/status-stopped.txt" "STOPPED"

cat "$work/timing.txt"
echo "cdbctl stack test passed"
