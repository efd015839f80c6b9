#!/usr/bin/env bash
# Checks the stack's Prometheus files with promtool: the scrape config, the alert rules, and the rules' unit
# tests in services/prometheus/tests/. promtool comes from Debian's `prometheus` package, unpacked into .run/
# when it is not installed (installing the package would also start a Prometheus server on some machines).
set -euo pipefail
cd "$(dirname "$0")/.."

promtool=$(command -v promtool || echo .run/prometheus-package/usr/bin/promtool)
if [ ! -x "$promtool" ]; then
  echo "check-prometheus: unpacking promtool from Debian's prometheus package into .run/prometheus-package"
  download=$(mktemp -d)
  chmod a+rwx "$download"   # apt fetches as its own user (_apt)
  . scripts/retry.sh
  (cd "$download" && retry 3 "check-prometheus: apt-get download" apt-get -o Acquire::Retries=3 download prometheus >/dev/null) \
    || { echo "check-prometheus: 'apt-get download prometheus' failed (try: apt-get update)" >&2; exit 1; }
  mkdir -p .run/prometheus-package
  dpkg-deb -x "$download"/prometheus_*.deb .run/prometheus-package
  rm -rf "$download"
fi
"$promtool" check config services/prometheus/prometheus.yml
"$promtool" check rules services/prometheus/alerts.yml
"$promtool" test rules services/prometheus/tests/*.yml
