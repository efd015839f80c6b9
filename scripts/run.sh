#!/usr/bin/env bash
# The main job: build everything, start the stack, run the runbook on it.
#   scripts/run.sh         the Docker stack (scripts/stack.sh up: engine, images, nine containers
#                          or eight without a Grafana image), then the runbook on it (below)
#   scripts/run.sh runbook [cdbctl options]
#                          the runbook alone, on a stack already up: `cdbctl health`, preflight, go, start, one
#                          monitor cycle and the daily report, each verdict printed; stops at the first failed
#                          gate (preflight, go, start) with its reasons. Options such as --env-file or
#                          --reports-dir go to every cdbctl call; CDBCTL names the binary (default: the release build)
#   scripts/run.sh local   Redis, PostgreSQL and the services as local processes under .run/ instead
#                          (ports from .env or the defaults below; no system-wide server is touched)
#   scripts/run.sh stop    stop what either way started (the stack's data volumes stay)
# Exit status: 0 when the run started and every verdict passed, else the failing cdbctl's status (1 a failed
# check, NO-GO or alarm; 2 a configuration error; 3 another cdbctl run holds the lock).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
. scripts/env.sh

# One cdbctl phase; its output is shown and kept, so the summary can name what failed.
phase_output=$(mktemp)
trap 'rm -f "$phase_output"' EXIT
run_phase() { # cdbctl, phase words..., --, cdbctl options...
  local cdbctl=$1 status=0 words=() ; shift
  while [ "$1" != -- ]; do words+=("$1"); shift; done
  shift
  # On a terminal stderr stays one (cdbctl's progress line updates in place); in a log it is kept with the rest.
  if [ -t 2 ]; then
    "$cdbctl" "${words[@]}" "$@" | tee "$phase_output" || status=${PIPESTATUS[0]}
  else
    "$cdbctl" "${words[@]}" "$@" 2>&1 | tee "$phase_output" || status=${PIPESTATUS[0]}
  fi
  return "$status"
}
# What a failed phase said about itself: its failed items, its verdict line, cdbctl's own messages.
# Progress lines (`cdbctl: unit-tests 3m13s building 71/623`) are left out: they say how far it got, not why it failed.
reasons() {
  grep -vE '^cdbctl: [A-Za-z0-9_-]+ (([0-9]+h)?([0-9]+m)?[0-9]+s |done after )' "$phase_output" \
    | grep -E '(^| )(FAIL|NO-GO|CRITICAL)( |$)|^cdbctl: |^[^ ]+:[0-9]+: |: (FAIL|NO-GO)$' | sed 's/^/    /' | head -n 20
}

runbook() {
  local cdbctl status failed=0 verdicts=() phase
  cdbctl=$(cdb_cdbctl)
  echo
  "$cdbctl" health --timeout 3 "$@" || true
  # The runbook on the stack: preflight (with the unit and integration suites; coverage, a warning step that
  # rebuilds everything instrumented, is left out), go, start, one monitor cycle, the daily report.
  for phase in "preflight --skip coverage" go start monitor "report daily"; do
    echo; echo "== cdbctl $phase"
    status=0
    # shellcheck disable=SC2086
    run_phase "$cdbctl" $phase -- "$@" || status=$?
    verdicts+=("$(printf '%-26s exit %d' "cdbctl $phase" "$status")")
    [ "$status" -eq 0 ] && continue
    failed=$status
    echo; echo "run: cdbctl $phase failed (exit $status):"
    reasons
    case "$phase" in
      preflight*|go|start)
        echo; echo "run: the paper run was not started (fix the items above, then: scripts/run.sh runbook)"
        printf '  %s\n' "${verdicts[@]}"
        exit "$status" ;;
    esac
  done
  echo; echo "verdicts (records and reports under reports/, every action in reports/audit.jsonl):"
  printf '  %s\n' "${verdicts[@]}"
  exit "$failed"
}

case "${1:-}" in
  "")
    bash scripts/stack.sh up
    # The preflight runs the unit and integration suites: build them now, in plain sight, so its test steps time
    # the tests and not a first debug build (on two busy cores that alone can take longer than a step's timeout).
    echo "run: building the test suites (debug)…"
    swift build --build-tests 2>&1 | grep -E "error|warning: .*Sources/|Build complete" || true
    runbook ;;
  runbook) shift; runbook "$@" ;;
esac
state="$root/.run"
mkdir -p "$state"

cdb_load_env .env
export REDIS_PORT="${REDIS_PORT:-16379}" POSTGRES_PORT="${POSTGRES_PORT:-15432}"
export POSTGRES_USER="${POSTGRES_USER:-claire_user}" POSTGRES_DB="${POSTGRES_DB:-claire_de_binare}"
export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-local-demo-password}"
export REDIS_HOST=127.0.0.1 POSTGRES_HOST=127.0.0.1

stop_all() {
  for pidfile in "$state"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = "stop" ]; then
  if [ -f .env ] && docker info >/dev/null 2>&1; then bash scripts/stack.sh down; fi
  stop_all
  echo "stopped"; exit 0
fi

bash scripts/setup.sh
echo "building (release)…"
swift build -c release 2>&1 | grep -E "error|warning: .*Sources/|Compiling|Build complete" | grep -v "^\[" || true
bin="$(swift build -c release --show-bin-path)"

running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid postgres --regid postgres --init-groups -- "$@"; else "$@"; fi; }

if ! running redis; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$state" --appendonly yes --daemonize no \
    </dev/null >>"$state/redis.log" 2>&1 & echo $! > "$state/redis.pid"
fi

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
if [ ! -d "$state/postgres" ]; then
  mkdir -p "$state/postgres"
  printf '%s' "$POSTGRES_PASSWORD" > "$state/pwfile"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$state/postgres" "$state/pwfile"
  as_postgres "$pgbin/initdb" -D "$state/postgres/data" -U "$POSTGRES_USER" --pwfile "$state/pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$state/pwfile"
fi
if ! running postgres; then
  # Started directly (not through the shell function) so $! is the server itself: setpriv execs it.
  server=("$pgbin/postgres" -D "$state/postgres/data" -p "$POSTGRES_PORT" -k "$state/postgres" -c listen_addresses=127.0.0.1)
  [ "$(id -u)" -eq 0 ] && server=(setpriv --reuid postgres --regid postgres --init-groups -- "${server[@]}")
  "${server[@]}" </dev/null >>"$state/postgres.log" 2>&1 & echo $! > "$state/postgres.pid"
  for _ in $(seq 1 100); do "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$POSTGRES_PORT" && break; sleep 0.1; done
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  PGPASSWORD="$POSTGRES_PASSWORD" psql -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='$POSTGRES_DB'" | grep -q 1 \
    || PGPASSWORD="$POSTGRES_PASSWORD" createdb -h 127.0.0.1 -p "$POSTGRES_PORT" -U "$POSTGRES_USER" "$POSTGRES_DB"
fi

# Services that exist so far, each with its runbook port.
for service in cdb_db_writer:8004 cdb_ws:8000 cdb_core:8001 cdb_risk:8002 cdb_execution:8003; do
  name=${service%%:*}; port=${service##*:}
  [ -x "$bin/$name" ] || continue
  running "$name" && continue
  HTTP_PORT="$port" "$bin/$name" </dev/null >>"$state/$name.log" 2>&1 & echo $! > "$state/$name.pid"
done
sleep 2

echo
echo "stack (local processes; logs and data in .run/, stop with: scripts/run.sh stop)"
"$bin/cdbctl" health --timeout 3 || true
