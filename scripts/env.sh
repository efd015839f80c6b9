# Sourced by the scripts: the one way they read settings. `.env` is data: it is parsed by cdbctl's reader
# (the rules compose v1.29 and v2 share; a line they would read differently is a located error) and handed over
# as single-quoted assignments, so no value is ever run by a shell. Never `. .env`.
#   cdb_cdbctl                      prints the cdbctl to use: $CDBCTL when set (the tests' debug build), else the
#                                   release build, built (or brought up to date) first
#   cdb_load_env FILE [NAME ...]    exports the named settings (every key of FILE without names); a missing FILE
#                                   exports the names from the process environment alone; a broken FILE fails
#                                   with its located errors
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
  cdbctl=$(cdb_cdbctl) || return 1
  if [ -f "$file" ]; then
    assignments=$("$cdbctl" env export --env-file "$file" "$@") || return 1
  else
    [ $# -gt 0 ] || return 0
    # No file: only what the process environment has (cdbctl would otherwise fall back to ./.env).
    assignments=$("$cdbctl" env export --env-file /dev/null "$@") || return 1
  fi
  # Every value is single-quoted by cdbctl and every name checked against [A-Za-z_][A-Za-z0-9_]*.
  set -a
  eval "$assignments"
  set +a
}

cdb_setting() {
  ( cdb_load_env "$1" "$2" && printf '%s' "${!2:-}" )
}
