#!/usr/bin/env bash
# The whole test suite, as `make test` and CI run it. Starts a real InfluxDB
# (building it from source on first use) and requires the InfluxDB tests to
# run: if the server cannot start, the run fails instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")/.."

# Another checkout's InfluxDB may hold the default port: take the next free one.
port_busy() { curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/ping"; }
if [[ -z "${FORESIGHT_INFLUX_PORT:-}" ]] && ! bash scripts/influxdb.sh status >/dev/null 2>&1; then
  port=18086
  while port_busy "$port" && ((port < 18186)); do port=$((port + 10)); done
  export FORESIGHT_INFLUX_PORT=$port
fi

started=0
if ! bash scripts/influxdb.sh status >/dev/null 2>&1; then
  bash scripts/influxdb.sh start
  started=1
fi
cleanup() {
  if [[ $started == 1 && -z "${FORESIGHT_KEEP_INFLUX:-}" ]]; then
    bash scripts/influxdb.sh stop || true
  fi
}
trap cleanup EXIT
eval "$(bash scripts/influxdb.sh env)"
export FORESIGHT_REQUIRE_INFLUX=1
export FORESIGHT_REQUIRE_POSTGRES=1
# The web console's browser test: headless Chromium (apt-get installs it if
# missing), required so that the test fails rather than skips without it.
bash scripts/browser.sh install
export FORESIGHT_CHROMIUM=/usr/bin/chromium FORESIGHT_REQUIRE_BROWSER=1

go vet ./...
go test -count=1 -timeout 15m "$@" ./...

# Every fuzz target also explores beyond its committed corpus for a few
# seconds (make fuzz runs them longer).
bash scripts/fuzz.sh "${FORESIGHT_FUZZ_SECONDS:-3}"
