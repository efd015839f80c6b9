#!/usr/bin/env bash
# Makes every image services/docker-compose.yml runs, on machines with or without a registry.
#   - the services image: the five binaries built on the host (`swift build -c release --static-swift-stdlib`)
#     on top of debian:bookworm-slim (services/images/services.Dockerfile);
#   - redis, postgres, prometheus: kept if present, else pulled, else built as stand-ins from Debian packages
#     under the very tags the compose file names (services/images/*.Dockerfile);
#   - debian:bookworm-slim itself, when it cannot be pulled: debootstrap + docker import;
#   - grafana: kept or pulled; Debian does not package it, so without a registry it is not deployed.
# Prints the time of each stage and the image sizes. Tags come from .env (CDB_*_IMAGE), as in the compose file;
# CDB_NO_PULL=1 skips the registry (no pull attempts at all); DEBIAN_MIRROR is debootstrap's mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
. scripts/retry.sh
. scripts/env.sh
cdb_load_env "${CDB_ENV_FILE:-.env}" CDB_SERVICES_IMAGE CDB_REDIS_IMAGE CDB_POSTGRES_IMAGE CDB_PROMETHEUS_IMAGE CDB_GRAFANA_IMAGE

base_image=debian:bookworm-slim
services_image="${CDB_SERVICES_IMAGE:-claire-de-binare/services:0.1.0}"
redis_image="${CDB_REDIS_IMAGE:-redis:7-bookworm}"
postgres_image="${CDB_POSTGRES_IMAGE:-postgres:15-bookworm}"
prometheus_image="${CDB_PROMETHEUS_IMAGE:-prom/prometheus:v2.42.0}"
grafana_image="${CDB_GRAFANA_IMAGE:-grafana/grafana:10.4.2}"

timings=()
timed() {
  local label=$1; shift
  local start=$SECONDS
  "$@"
  timings+=("$(printf '%-45s %4d s' "$label" $((SECONDS - start)))")
}

have() { docker image inspect "$1" >/dev/null 2>&1; }
stand_in() { [ -n "$(docker image inspect -f '{{index .Config.Labels "org.claire-de-binare.stand-in"}}' "$1" 2>/dev/null)" ]; }
# A pull that fails (no registry: "no such host", at once) is the normal case here, so it stays quiet.
pulled() { [ "${CDB_NO_PULL:-0}" != 1 ] && docker pull -q "$1" >/dev/null 2>&1; }

# docker build, its output shown only when it fails.
build_image() {
  local tag=$1 dockerfile=$2 context=$3 log
  log=$(mktemp)
  # The stand-ins install from Debian's mirror inside the build: a dropped connection gets another try.
  if ! retry 2 "stack-images: docker build $tag" docker build -t "$tag" -f "$dockerfile" "$context" >"$log" 2>&1; then
    tail -n 25 "$log" >&2; rm -f "$log"
    echo "stack-images: building $tag ($dockerfile) failed" >&2; exit 1
  fi
  rm -f "$log"
}

# Sets `rootfs` to a fresh minbase bookworm, or cleans up and fails (the caller retries).
debootstrap_rootfs() {
  rootfs=$(mktemp -d /var/tmp/cdb-rootfs.XXXXXX)
  echo "stack-images: debootstrap bookworm (minbase) into $rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$rootfs.log" 2>&1 && return
  echo "stack-images: debootstrap failed; its log ends:" >&2
  tail -n 5 "$rootfs.log" >&2
  remove_rootfs "$rootfs"
  return 1
}

bootstrap_base() {
  local rootfs
  retry 3 "stack-images: debootstrap" debootstrap_rootfs || exit 1
  # What the official slim image leaves out too: package caches and lists, docs, man pages, locales.
  tar -C "$rootfs" -c --exclude='./proc/*' --exclude='./sys/*' --exclude='./dev/*' \
      --exclude='./var/cache/apt/*' --exclude='./var/lib/apt/lists/*' --exclude='./usr/share/doc/*' \
      --exclude='./usr/share/man/*' --exclude='./usr/share/locale/*' . \
    | docker import -c 'CMD ["bash"]' -c 'LABEL org.claire-de-binare.stand-in=debian' - "$base_image" >/dev/null
  remove_rootfs "$rootfs"
}

# debootstrap mounts /proc and /sys inside the root file system; a failed run may leave them mounted.
remove_rootfs() {
  local mounted
  for mounted in "$1/proc" "$1/sys"; do mountpoint -q "$mounted" && umount "$mounted"; done
  rm -rf --one-file-system "$1" "$1.log"
}

base() {
  have "$base_image" && return
  pulled "$base_image" && return
  bootstrap_base
}

# An official image when there is one (present or pullable), else our stand-in; a stand-in is rebuilt
# every time (layer cache: seconds) so a changed Dockerfile takes effect.
third_party() {
  local tag=$1 dockerfile=$2
  if have "$tag" && ! stand_in "$tag"; then return; fi
  if ! have "$tag" && pulled "$tag"; then return; fi
  build_image "$tag" "services/images/$dockerfile" services/images
}

binaries() {
  local log; log=$(mktemp)
  bash scripts/setup.sh
  if ! swift build -c release --static-swift-stdlib >"$log" 2>&1; then
    grep -E "error" "$log" >&2 || tail -n 20 "$log" >&2
    echo "stack-images: swift build failed" >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
}

services() {
  local bin context
  bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"
  context=$(mktemp -d)
  mkdir "$context/bin"
  # .build/release is a symlink and the build dir is large: stage just the five executables.
  for service in cdb_ws cdb_core cdb_risk cdb_execution cdb_db_writer; do
    cp "$bin/$service" "$context/bin/"
  done
  strip "$context"/bin/*
  build_image "$services_image" services/images/services.Dockerfile "$context"
  rm -rf "$context"
}

grafana() {
  if have "$grafana_image" || pulled "$grafana_image"; then
    echo "stack-images: $grafana_image present: cdb_grafana is deployed"
  else
    echo "stack-images: $grafana_image cannot be had (no registry, not packaged by Debian): cdb_grafana is not deployed"
  fi
}

timed "base image ($base_image)" base
timed "redis ($redis_image)" third_party "$redis_image" redis.Dockerfile
timed "postgres ($postgres_image)" third_party "$postgres_image" postgres.Dockerfile
timed "prometheus ($prometheus_image)" third_party "$prometheus_image" prometheus.Dockerfile
timed "swift build (release, static stdlib)" binaries
timed "services image ($services_image)" services
grafana

echo "stack-images: stage times"
printf '  %s\n' "${timings[@]}"
echo "stack-images: image sizes"
for image in "$base_image" "$redis_image" "$postgres_image" "$prometheus_image" "$services_image" "$grafana_image"; do
  have "$image" || continue
  kind=official; stand_in "$image" && kind=stand-in
  [ "$image" = "$services_image" ] && kind=project
  printf '  %-40s %7.1f MB  %s\n' "$image" "$(docker image inspect -f '{{.Size}}' "$image" | awk '{print $1/1e6}')" "$kind"
done
