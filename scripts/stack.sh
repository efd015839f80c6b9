#!/usr/bin/env bash
# The docker stack (services/docker-compose.yml) with this repository's settings.
#   scripts/stack.sh up      engine, images, `up -d`, then wait until every deployed container is healthy
#                            (`up` with arguments, e.g. `up -d`, is plain compose)
#   scripts/stack.sh down    remove the containers and the network; the data volumes stay
#   scripts/stack.sh wait-healthy   wait (CDB_HEALTH_TIMEOUT s, default 180) until every container is healthy
#   scripts/stack.sh ARGS    any other compose command (ps, logs -f cdb_risk, exec cdb_redis redis-cli, ...)
# Settings come from .env (CDB_ENV_FILE names another file), read as data through cdbctl (scripts/env.sh), never
# sourced. `up` creates it (0600, fresh random passwords) only when neither it nor the project's data volumes exist:
# the volumes keep the passwords of the .env that made them. Compose v2 (`docker compose`) is used when present,
# else docker-compose 1.29; CDB_COMPOSE (process environment only) overrides the choice. cdb_grafana is deployed
# when its image is present (see stack-images.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
env_file="${CDB_ENV_FILE:-$root/.env}"
. scripts/env.sh
# Read before .env: a command line to run is never taken from the settings file.
compose_override="${CDB_COMPOSE:-}"

if [ $# -eq 0 ]; then sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; fi

if [ ! -f "$env_file" ]; then
  if [ "$1" != up ]; then echo "stack: $env_file does not exist (scripts/stack.sh up creates it)" >&2; exit 2; fi
  bash scripts/docker-engine.sh start
  project="${COMPOSE_PROJECT_NAME:-cdb}"
  volumes=$(docker volume ls -q --filter "label=com.docker.compose.project=$project")
  if [ -n "$volumes" ]; then
    echo "stack: $env_file is missing, but project $project still has its data volumes:" >&2
    printf '  %s\n' $volumes >&2
    echo "  They keep the passwords of the .env that created them, so a new .env could not log in to them." >&2
    echo "  Restore that .env (cdbctl start keeps a copy: reports/start/env-*.env), or drop the data for good:" >&2
    echo "  docker volume rm" $volumes >&2
    exit 2
  fi
  secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
  (umask 077 && sed -e "s|^REDIS_PASSWORD=$|REDIS_PASSWORD=$(secret)|" -e "s|^POSTGRES_PASSWORD=$|POSTGRES_PASSWORD=$(secret)|" \
      -e "s|^GRAFANA_PASSWORD=$|GRAFANA_PASSWORD=$(secret)|" .env.example > "$env_file")
  chmod 600 "$env_file"
  echo "stack: created $env_file from .env.example with new passwords (Grafana login: admin / GRAFANA_PASSWORD there)"
fi
cdb_load_env "$env_file" COMPOSE_PROJECT_NAME CDB_GRAFANA_IMAGE || { echo "stack: fix $env_file (above) first" >&2; exit 2; }
project="${COMPOSE_PROJECT_NAME:-cdb}"

if [ -n "$compose_override" ]; then read -r -a compose_command <<< "$compose_override"
elif docker compose version >/dev/null 2>&1; then compose_command=(docker compose)
else compose_command=(docker-compose); fi

compose() {
  local profiles=()
  docker image inspect "${CDB_GRAFANA_IMAGE:-grafana/grafana:10.4.2}" >/dev/null 2>&1 && profiles=(--profile grafana)
  "${compose_command[@]}" --env-file "$env_file" -f "$root/services/docker-compose.yml" -p "$project" "${profiles[@]}" "$@"
}

# Waits until every container of the project is healthy; a container that exits or restarts fails at once.
wait_healthy() {
  local limit="${CDB_HEALTH_TIMEOUT:-180}" start=$SECONDS ids states
  while :; do
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project")
    [ -n "$ids" ] || { echo "stack: no containers of project $project" >&2; return 1; }
    # shellcheck disable=SC2086
    states=$(docker inspect -f '{{.Name}} {{.State.Status}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' $ids)
    if echo "$states" | awk '$2 != "running" || $3 > 0 { bad = 1 } END { exit !bad }'; then
      echo "stack: a container stopped or restarted:" >&2
      echo "$states" | awk '$2 != "running" || $3 > 0' >&2
      echo "$states" | awk '$2 != "running" || $3 > 0 { sub("^/", "", $1); print $1 }' | while read -r name; do
        echo "--- last lines of $name:" >&2; docker logs --tail 15 "$name" 2>&1 | sed 's/^/  /' >&2
      done
      return 1
    fi
    if ! echo "$states" | awk '$4 != "healthy" { found = 1 } END { exit !found }'; then
      echo "stack: all $(echo "$states" | wc -l) containers healthy after $((SECONDS - start)) s"
      return 0
    fi
    if [ $((SECONDS - start)) -ge "$limit" ]; then
      echo "stack: not healthy within $limit s:" >&2
      echo "$states" | awk '$4 != "healthy"' >&2
      return 1
    fi
    sleep 2
  done
}

case "$*" in
  up)
    bash scripts/docker-engine.sh start
    bash scripts/stack-images.sh
    compose up -d --remove-orphans
    wait_healthy
    docker ps --filter "label=com.docker.compose.project=$project" --format 'table {{.Names}}\t{{.Status}}\t{{.Ports}}'
    docker image inspect "${CDB_GRAFANA_IMAGE:-grafana/grafana:10.4.2}" >/dev/null 2>&1 \
      || echo "stack: cdb_grafana not deployed (no image ${CDB_GRAFANA_IMAGE:-grafana/grafana:10.4.2}; needs a registry)"
    ;;
  wait-healthy) wait_healthy ;;
  *) compose "$@" ;;
esac
