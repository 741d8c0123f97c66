#!/usr/bin/env bash
# Sustained ingest through POST /api/v2/write, as `make bench-ingest` runs it.
#
# Builds foresight and runs `foresight bench ingest` twice, each against a
# fresh `foresight serve` on a free loopback port (no demo preload, scheduled
# jobs off, rate limit off, everything in a temporary directory):
#   1. the embedded store (a new TSDB directory); every series is then read
#      back through the API and compared point by point with what was
#      acknowledged;
#   2. store.backend influxdb against the project's InfluxDB 1.8
#      (scripts/influxdb.sh start, if it is not running), in a fresh database
#      that is dropped afterwards; the points are counted with InfluxQL.
# The servers are stopped and the directory removed on exit, however the
# script ends. The exit status is 1 when a run failed a batch or found
# acknowledged and stored points differ (both runs still happen).
#
# Knobs (environment):
#   BENCH_DURATION, BENCH_CLIENTS, BENCH_BATCH, BENCH_SERIES   default 60s, 8, 5000, 10000
#   BENCH_ARGS        more `bench ingest` flags for both runs (e.g. "-gzip", "-rate 20")
#   BENCH_ONLY        embedded or influxdb: run only that one
#   BENCH_EMBEDDED_READS  series read back after the embedded run (default -1: all)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
duration=${BENCH_DURATION:-60s}
clients=${BENCH_CLIENTS:-8}
batch=${BENCH_BATCH:-5000}
series=${BENCH_SERIES:-10000}
only=${BENCH_ONLY:-}
embedded_reads=${BENCH_EMBEDDED_READS:--1}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/foresight-bench-ingest.XXXXXX")
pid=""
influx_url=""
influx_db=""

stop_server() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "bench-ingest: the server did not stop within 20 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  pid=""
}

cleanup() {
  local rc=$?
  stop_server
  if [[ $rc != 0 ]]; then
    for log in "$tmp"/serve-*.log; do
      [[ -s $log ]] || continue
      echo "bench-ingest: last lines of $(basename "$log"):" >&2
      tail -n 20 "$log" >&2
    done
  fi
  if [[ -n $influx_db ]]; then
    curl -sS -o /dev/null --max-time 60 -XPOST "$influx_url/query" --data-urlencode "q=DROP DATABASE $influx_db" || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench-ingest: building foresight" >&2
"$GO" build -o "$tmp/foresight" ./cmd/foresight

# start_server NAME ENV...: starts `foresight serve` with the common settings
# plus ENV, waits for its URL and /readyz, and sets pid and url.
start_server() {
  local name=$1
  shift
  env FORESIGHT_SERVER_LISTEN=127.0.0.1:0 \
    FORESIGHT_STATE_DRIVER=sqlite \
    FORESIGHT_STATE_PATH="$tmp/state-$name.db" \
    FORESIGHT_AUTH_BOOTSTRAP_TOKEN_FILE="$tmp/admin-$name.token" \
    FORESIGHT_AUTH_RATE_LIMIT=0 \
    FORESIGHT_DEMO_PRELOAD=false \
    FORESIGHT_JOBS_ENABLED=false \
    FORESIGHT_LOG_LEVEL=warn \
    "$@" \
    "$tmp/foresight" serve >"$tmp/serve-$name.out" 2>"$tmp/serve-$name.log" &
  pid=$!
  url=""
  for _ in $(seq 1 300); do
    url=$(sed -n 's/^Foresight is up: \(http:\/\/[^ ]*\).*/\1/p' "$tmp/serve-$name.out" | head -n 1)
    [[ -n $url ]] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench-ingest: the $name server exited before listening" >&2
      return 1
    fi
    sleep 0.1
  done
  if [[ -z $url ]]; then
    echo "bench-ingest: the $name server did not print its URL within 30 s" >&2
    return 1
  fi
  local start=$SECONDS
  until [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/readyz" || true) == 200 ]]; do
    if ((SECONDS - start > 60)); then
      echo "bench-ingest: the $name server is not ready after 60 s" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "bench-ingest: $name server at $url" >&2
}

# shellcheck disable=SC2206 # BENCH_ARGS is a list of flags
extra=(${BENCH_ARGS:-})
bench=("$tmp/foresight" bench ingest -duration "$duration" -clients "$clients" -batch "$batch" -series "$series")
status=0

echo "Machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) before the runs."

if [[ -z $only || $only == embedded ]]; then
  start_server embedded FORESIGHT_STORE_BACKEND=embedded FORESIGHT_STORE_EMBEDDED_DIR="$tmp/tsdb"
  echo
  echo "## Embedded store: $clients clients, $duration, batches of $batch points, $series series"
  echo
  "${bench[@]}" -server "$url" -verify-reads "$embedded_reads" "${extra[@]}" || status=1
  stop_server
fi

if [[ -z $only || $only == influxdb ]]; then
  bash scripts/influxdb.sh start >&2
  eval "$(bash scripts/influxdb.sh env)"
  influx_url=$FORESIGHT_INFLUX_URL
  db=bench_ingest_$$_$RANDOM
  out=$(curl -sS --max-time 30 -XPOST "$influx_url/query" --data-urlencode "q=CREATE DATABASE $db")
  if [[ $out == *'"error"'* ]]; then
    echo "bench-ingest: CREATE DATABASE $db failed: $out" >&2
    exit 1
  fi
  influx_db=$db
  start_server influxdb FORESIGHT_STORE_BACKEND=influxdb FORESIGHT_STORE_INFLUXDB_URL="$influx_url" \
    FORESIGHT_STORE_INFLUXDB_BUCKET="$db"
  echo
  echo "## InfluxDB 1.8 ($influx_url, database $db): $clients clients, $duration, batches of $batch points, $series series"
  echo
  "${bench[@]}" -server "$url" -influxdb-url "$influx_url" -influxdb-db "$db" "${extra[@]}" || status=1
  stop_server
fi
exit "$status"
