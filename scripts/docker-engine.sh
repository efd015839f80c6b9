#!/usr/bin/env bash
# A Docker engine and Compose for the stack, on Debian 12 / Ubuntu.
#   scripts/docker-engine.sh start   install docker.io, docker-compose and debootstrap if missing; start dockerd
#                                    in the background unless an engine already answers (pid in .run/docker/dockerd.pid)
#   scripts/docker-engine.sh stop    stop the dockerd this script started (by its recorded pid), nothing else
# Machines where systemd runs docker need none of this: `start` finds the engine answering and returns.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/retry.sh
state="$PWD/.run/docker"
pidfile="$state/dockerd.pid"
mkdir -p "$state"

root=(); [ "$(id -u)" -eq 0 ] || root=(sudo)
as_root() { "${root[@]}" "$@"; }

started_here() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

stop_engine() {
  started_here || { rm -f "$pidfile"; return 0; }
  local pid; pid=$(cat "$pidfile")
  as_root kill -TERM "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then echo "docker-engine: dockerd ($pid) did not stop within 30 s" >&2; exit 1; fi
  rm -f "$pidfile"
  echo "docker-engine: stopped dockerd ($pid)"
}

# Starts dockerd with `driver`; true once the engine answers, false (daemon gone, log kept) if it does not.
try_driver() {
  local driver=$1 log="$state/dockerd.log"
  echo "docker-engine: starting dockerd (storage driver $driver, log $log)"
  # Started directly, not through a shell function, so $! is dockerd itself (or sudo, which forwards signals);
  # in a session of its own, so a timed-out cdbctl step that ends its command's process group leaves the engine.
  "${root[@]}" setsid dockerd --storage-driver="$driver" >>"$log" 2>&1 </dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 1 150); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$pidfile")" 2>/dev/null || break
    sleep 0.2
  done
  stop_engine >/dev/null 2>&1 || true
  echo "docker-engine: dockerd with $driver did not come up; its log ends:" >&2
  tail -n 5 "$log" >&2
  return 1
}

start_engine() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "docker-engine: installing ${missing[*]}"
    retry 3 "docker-engine: apt-get update" as_root apt-get -o Acquire::Retries=3 update -qq
    retry 3 "docker-engine: apt-get install" as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if docker info >/dev/null 2>&1; then return 0; fi
  if started_here; then echo "docker-engine: dockerd ($(cat "$pidfile")) runs but does not answer" >&2; exit 1; fi
  # overlay2 is the fast one; vfs works on any file system (copies every layer).
  try_driver overlay2 || try_driver vfs || { echo "docker-engine: no storage driver worked; see $state/dockerd.log" >&2; exit 1; }
}

case "${1:-}" in
  start) start_engine ;;
  stop) stop_engine ;;
  *) echo "usage: scripts/docker-engine.sh start|stop" >&2; exit 2 ;;
esac
