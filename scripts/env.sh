# Sourced by the scripts: the one way they read settings. `.env` is data: it is parsed by cdbctl's reader
# (the rules compose v1.29 and v2 share; a line they would read differently is a located error) and handed over
# as single-quoted assignments, so no value is ever run by a shell. Never `. .env`.
#   cdb_cdbctl                      prints the cdbctl to use: $CDBCTL when set (the tests' debug build), else the
#                                   release build, built (or brought up to date) first
#   cdb_load_env FILE [NAME ...]    exports the named settings (every key of FILE without names); with no FILE
#                                   the process environment is all there is, and nothing changes; a broken FILE
#                                   fails with its located errors
#   cdb_setting FILE NAME           prints one setting's value (the same reader; nothing exported)

cdb_cdbctl() {
  if [ -n "${CDBCTL:-}" ]; then printf '%s\n' "$CDBCTL"; return; fi
  local root log
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  log=$(mktemp)
  [ -x "$root/.build/release/cdbctl" ] || echo "env: building cdbctl, the .env reader (release; the first build takes minutes)" >&2
  if ! (cd "$root" && swift build -c release --static-swift-stdlib --product cdbctl) >"$log" 2>&1; then
    grep -E "error" "$log" >&2 || tail -n 20 "$log" >&2
    rm -f "$log"
    echo "env: building cdbctl (which reads .env) failed" >&2
    return 1
  fi
  rm -f "$log"
  printf '%s/cdbctl\n' "$(cd "$root" && swift build -c release --static-swift-stdlib --show-bin-path)"
}

cdb_load_env() {
  local file=$1 cdbctl assignments
  shift
  # No file: the settings are what the process environment already holds.
  [ -f "$file" ] || return 0
  cdbctl=$(cdb_cdbctl) || return 1
  assignments=$("$cdbctl" env export --env-file "$file" "$@") || return 1
  # Every value is single-quoted by cdbctl and every name checked against [A-Za-z_][A-Za-z0-9_]*.
  set -a
  eval "$assignments"
  set +a
}

cdb_setting() {
  ( cdb_load_env "$1" "$2" && printf '%s' "${!2:-}" )
}
