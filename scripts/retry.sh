# Sourced by the set-up scripts: `retry N what cmd...` runs a step that needs Debian's mirror up to N times,
# 15 s apart, so one dropped connection does not fail a fresh machine's set-up (or CI). Other failures
# fail the same way every time, so they cost at most N tries.
retry() {
  local attempts=$1 what=$2 attempt=1
  shift 2
  until "$@"; do
    if [ "$attempt" -ge "$attempts" ]; then
      echo "$what failed $attempts times; giving up" >&2
      return 1
    fi
    echo "$what failed (attempt $attempt of $attempts); retrying in 15 s" >&2
    attempt=$((attempt + 1))
    sleep 15
  done
}
