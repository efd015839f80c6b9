#!/usr/bin/env bash
# Installs the system packages the build, the tests and the local stack need (Debian 12 / Ubuntu).
# Idempotent: installs only what is missing, so it costs nothing on a prepared machine.
set -euo pipefail

packages=(
  libpq-dev libhiredis-dev libcurl4-openssl-dev libyaml-dev   # the four C client libraries
  redis-server redis-tools                                     # local Redis for tests, redis-benchmark
  postgresql postgresql-client                                 # initdb/postgres for tests, psql, pg_dump
  cron                                                         # crontab for cdbctl schedule --install (and its test)
  ca-certificates
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  run_as_root=()
elif command -v sudo >/dev/null 2>&1; then
  run_as_root=(sudo)
else
  echo "setup: missing packages: ${missing[*]}; run this as root (or install sudo)" >&2
  exit 2
fi
. "$(dirname "$0")/retry.sh"
echo "setup: installing ${missing[*]}"
retry 3 "setup: apt-get update" "${run_as_root[@]}" apt-get -o Acquire::Retries=3 update -qq
retry 3 "setup: apt-get install" "${run_as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
