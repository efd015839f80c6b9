#!/usr/bin/env bash
# The stack test on a real Docker engine (scripts/test.sh stack): a test stack beside any operator's one
# (its own compose project, container prefix and free ports), brought up until every deployed container is
# healthy; a probe tick through the whole pipeline into PostgreSQL; Prometheus scraping every service;
# data surviving down/up; a pg_dump backup restored into an empty database; then nothing left behind.
# Stage times go to stdout and reports/stack-test.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
work=$(mktemp -d)
env_file="$work/stack-test.env"
. scripts/env.sh
report="$root/reports/stack-test.txt"
project="cdb_stacktest"
prefix="stacktest_"

engine_pid_before=$(cat .run/docker/dockerd.pid 2>/dev/null || true)
timings=()
stage() { # label, command...
  local label=$1 start=$SECONDS; shift
  echo "== $label"
  "$@"
  timings+=("$(printf '%-40s %4d s' "$label" $((SECONDS - start)))")
}
fail() { echo "stack-test: FAILED: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

stack() { CDB_ENV_FILE="$env_file" bash scripts/stack.sh "$@"; }
psql_in() { docker exec "${prefix}cdb_postgres" psql -v ON_ERROR_STOP=1 -qtA -U claire_user "$@"; }

leftovers() {
  {
    docker ps -aq --filter "label=com.docker.compose.project=$project"
    docker network ls -q --filter "label=com.docker.compose.project=$project"
    docker volume ls -q --filter "label=com.docker.compose.project=$project"
  } 2>/dev/null
}

cleanup() {
  local status=$?
  if [ $status -ne 0 ] && docker info >/dev/null 2>&1; then
    echo "stack-test: container states at failure:" >&2
    docker ps -a --filter "label=com.docker.compose.project=$project" --format '  {{.Names}}\t{{.Status}}' >&2 || true
  fi
  if [ -f "$env_file" ] && docker info >/dev/null 2>&1; then
    stack down -v --remove-orphans >/dev/null 2>&1 || true
    if [ -n "$(leftovers)" ]; then echo "stack-test: FAILED: left behind: $(leftovers | tr '\n' ' ')" >&2; status=1; fi
  fi
  # Stop the engine only if this test started it.
  if [ -z "$engine_pid_before" ] && [ -f .run/docker/dockerd.pid ]; then bash scripts/docker-engine.sh stop || status=1; fi
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT

write_env() {
  sed -e "s|^REDIS_PASSWORD=.*|REDIS_PASSWORD=stacktest-redis-secret|" \
      -e "s|^POSTGRES_PASSWORD=.*|POSTGRES_PASSWORD=stacktest-postgres-secret|" \
      -e "s|^GRAFANA_PASSWORD=.*|GRAFANA_PASSWORD=stacktest-grafana-secret|" \
      -e "s|^COMPOSE_PROJECT_NAME=.*|COMPOSE_PROJECT_NAME=$project|" \
      -e "s|^CDB_CONTAINER_PREFIX=.*|CDB_CONTAINER_PREFIX=$prefix|" .env.example > "$env_file"
  for variable in REDIS_PORT POSTGRES_PORT CDB_WS_PORT CDB_CORE_PORT CDB_RISK_PORT CDB_EXECUTION_PORT CDB_DB_WRITER_PORT \
                  CDB_PROMETHEUS_PORT CDB_GRAFANA_PORT; do
    sed -i "s|^$variable=.*|$variable=$(free_port)|" "$env_file"
  done
}

# Fifteen flat ticks of a symbol no feed produces, then a 1 % jump: the momentum strategy buys on the
# jump, risk approves, execution fills. The jump's id is the origin of every row that follows from it.
probe_tick() {
  local symbol=PROBEUSDT probe_id="stacktest-probe-$$" id price now
  for i in $(seq 1 16); do
    if [ "$i" -eq 16 ]; then id=$probe_id price=101.0; else id="stacktest-flat-$$-$i" price=100.0; fi
    now=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
    docker exec "${prefix}cdb_redis" redis-cli XADD market_data '*' event \
      "{\"id\":\"$id\",\"schema_version\":1,\"symbol\":\"$symbol\",\"price\":$price,\"quantity\":1,\"aggressor_side\":\"BUY\",\"event_time\":\"$now\",\"source\":\"replay\",\"origin_tick_id\":\"$id\"}" >/dev/null
  done
  local signals=0 filled=0
  for _ in $(seq 1 60); do
    signals=$(psql_in -d claire_de_binare -c "SELECT count(*) FROM signals WHERE origin_tick_id = '$probe_id'")
    filled=$(psql_in -d claire_de_binare -c "SELECT count(*) FROM orders WHERE origin_tick_id = '$probe_id' AND status = 'FILLED'")
    [ "$signals" -ge 1 ] && [ "$filled" -ge 1 ] && break
    sleep 1
  done
  echo "probe $probe_id: $signals signal row(s), $filled filled order row(s) in PostgreSQL"
  [ "$signals" -ge 1 ] || fail "no signal row descends from the probe tick (see: docker logs ${prefix}cdb_core)"
  [ "$filled" -ge 1 ] || fail "no filled order row descends from the probe tick (see: docker logs ${prefix}cdb_risk / cdb_execution / cdb_db_writer)"
  echo "$probe_id" > "$work/probe-id"
}

prometheus_targets() {
  local port up
  port=$(cdb_setting "$env_file" CDB_PROMETHEUS_PORT)
  for _ in $(seq 1 30); do
    up=$(curl -fsS "http://127.0.0.1:$port/api/v1/query?query=sum(up%7Bjob%3D~%22cdb_.*%22%7D)" \
      | python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)')
    [ "$up" -eq 5 ] && { echo "prometheus: all 5 service targets up"; return; }
    sleep 2
  done
  fail "prometheus sees $up of 5 service targets up"
}

survive_restart() {
  local before after
  before=$(psql_in -d claire_de_binare -c "SELECT count(*) FROM signals")
  docker exec "${prefix}cdb_redis" redis-cli SET stacktest:survives yes >/dev/null
  stack down
  stack up -d
  stack wait-healthy
  after=$(psql_in -d claire_de_binare -c "SELECT count(*) FROM signals WHERE origin_tick_id = '$(cat "$work/probe-id")'")
  [ "$after" -ge 1 ] || fail "the probe's signal row is gone after down/up (had $before signal rows)"
  [ "$(docker exec "${prefix}cdb_redis" redis-cli GET stacktest:survives)" = yes ] || fail "a Redis key is gone after down/up (AOF volume)"
  echo "PostgreSQL rows and Redis keys survived down/up"
}

# With the data volumes there and the .env gone, `up` must stop rather than make new passwords the volumes refuse.
env_kept() {
  local missing="$work/missing.env" output="$work/env-kept.txt" status=0
  CDB_ENV_FILE="$missing" COMPOSE_PROJECT_NAME="$project" bash scripts/stack.sh up >"$output" 2>&1 || status=$?
  cat "$output"
  [ "$status" -eq 2 ] || fail "stack.sh up without .env beside existing volumes exited $status, expected 2"
  [ ! -e "$missing" ] || fail "stack.sh up wrote a new .env although the volumes keep the old passwords"
  grep -qF "still has its data volumes" "$output" || fail "stack.sh up did not say why it refused"
  echo "no .env regenerated beside existing volumes"
}

backup_restore() {
  local dump="$work/backup.sql" restored
  # The runbook's command (§2.3), with this stack's container name.
  docker exec "${prefix}cdb_postgres" pg_dump -U claire_user -d claire_de_binare > "$dump"
  [ -s "$dump" ] || fail "pg_dump wrote nothing"
  psql_in -d postgres -c "CREATE DATABASE restore_check" >/dev/null
  docker exec -i "${prefix}cdb_postgres" psql -v ON_ERROR_STOP=1 -q -U claire_user -d restore_check < "$dump" >/dev/null
  restored=$(psql_in -d restore_check -c "SELECT (SELECT count(*) FROM signals) || ' signals, ' || (SELECT count(*) FROM orders)
                                          || ' orders, ' || (SELECT count(*) FROM schema_migrations) || ' migrations'")
  psql_in -d restore_check -c "SELECT count(*) FROM signals WHERE origin_tick_id = '$(cat "$work/probe-id")'" | grep -qx 1 \
    || fail "the restored database lacks the probe's signal row"
  echo "backup: $(du -h "$dump" | cut -f1), restored into an empty database: $restored"
}

stage "docker engine" bash scripts/docker-engine.sh start
write_env
stage "images (bootstrap, swift build, stand-ins)" env CDB_ENV_FILE="$env_file" bash scripts/stack-images.sh
stage "compose up -d" stack up -d
stage "until every container is healthy" stack wait-healthy
stage "probe tick -> PostgreSQL rows" probe_tick
stage "prometheus targets" prometheus_targets
stage "down/up keeps data" survive_restart
stage "no new .env beside existing volumes" env_kept
stage "pg_dump backup and restore" backup_restore
stage "cdbctl: the runbook end to end" bash scripts/cdbctl-stack-test.sh "$env_file" "$prefix"
stage "teardown" stack down -v --remove-orphans
[ -z "$(leftovers)" ] || fail "left behind after down -v: $(leftovers | tr '\n' ' ')"

{
  echo "stack test passed $(date -u +%Y-%m-%dT%H:%M:%SZ) (compose: $(docker compose version --short 2>/dev/null || docker-compose version --short))"
  printf '  %s\n' "${timings[@]}"
} | tee "$report"
