#!/usr/bin/env bash
# Load-tests the HTTP API of a local server, as `make bench-api` runs it.
#
# Builds foresight, starts `foresight serve` on a free loopback port with the
# embedded store and the demo fleet preloaded, all in a temporary directory,
# waits until /readyz answers 200 and the first prediction run is served
# (GET /api/v1/predictions 200), then runs `foresight bench api`: a closed
# loop (200 clients for 30 s), then an open loop (1,000 requests/s for 60 s).
# The server is stopped and the directory removed on exit, however the script
# ends.
#
# Knobs (environment):
#   BENCH_HOSTS, BENCH_DAYS, BENCH_STEP   demo fleet size (default 20 hosts, 120 days, 5m: the demo fleet
#                                         at a 5-minute step, two month-end closes, loaded in seconds)
#   BENCH_CLIENTS, BENCH_DURATION         closed loop (default 200, 30s)
#   BENCH_RATE, BENCH_OPEN_DURATION       open loop (default 1000, 60s); BENCH_RATE=0 skips it
#   BENCH_INFLIGHT                        open loop: most requests in flight (default 200)
#   BENCH_WARMUP                          unmeasured warm-up before each run (default 5s)
#   BENCH_ARGS                            more `bench api` flags for both runs (e.g. "-gzip")
#   BENCH_TOKEN                           API token, when auth is on
#   BENCH_READY_TIMEOUT                   seconds to wait for the preload and predictions (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
hosts=${BENCH_HOSTS:-20}
days=${BENCH_DAYS:-120}
step=${BENCH_STEP:-5m}
clients=${BENCH_CLIENTS:-200}
duration=${BENCH_DURATION:-30s}
rate=${BENCH_RATE:-1000}
open_duration=${BENCH_OPEN_DURATION:-60s}
inflight=${BENCH_INFLIGHT:-200}
warmup=${BENCH_WARMUP:-5s}
ready_timeout=${BENCH_READY_TIMEOUT:-300}
token=${BENCH_TOKEN:-}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/foresight-bench-api.XXXXXX")
pid=""
cleanup() {
  local rc=$?
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "bench-api: the server did not stop within 20 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  if [[ $rc != 0 && -s $tmp/serve.log ]]; then
    echo "bench-api: last lines of the server log:" >&2
    tail -n 20 "$tmp/serve.log" >&2
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench-api: building foresight" >&2
"$GO" build -o "$tmp/foresight" ./cmd/foresight

# Port 0: the kernel picks a free port; the server prints the URL it got.
# The rate limit (50 requests/s per client address by default, even with
# auth off) is lifted: this measures the API, not the limiter.
echo "bench-api: starting the server (demo fleet: $hosts hosts, $days days, step $step)" >&2
FORESIGHT_SERVER_LISTEN=127.0.0.1:0 \
  FORESIGHT_STORE_BACKEND=embedded \
  FORESIGHT_STORE_EMBEDDED_DIR="$tmp/tsdb" \
  FORESIGHT_STATE_DRIVER=sqlite \
  FORESIGHT_STATE_PATH="$tmp/state.db" \
  FORESIGHT_AUTH_BOOTSTRAP_TOKEN_FILE="$tmp/admin.token" \
  FORESIGHT_AUTH_RATE_LIMIT=0 \
  FORESIGHT_DEMO_PRELOAD=true \
  FORESIGHT_DEMO_HOSTS="$hosts" \
  FORESIGHT_DEMO_DAYS="$days" \
  FORESIGHT_DEMO_STEP="$step" \
  FORESIGHT_LOG_LEVEL=warn \
  "$tmp/foresight" serve >"$tmp/serve.out" 2>"$tmp/serve.log" &
pid=$!

url=""
for _ in $(seq 1 300); do
  url=$(sed -n 's/^Foresight is up: \(http:\/\/[^ ]*\).*/\1/p' "$tmp/serve.out" | head -n 1)
  [[ -n $url ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "bench-api: the server exited before listening" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z $url ]]; then
  echo "bench-api: the server did not print its URL within 30 s" >&2
  exit 1
fi
echo "bench-api: server at $url" >&2

auth=()
if [[ -n $token ]]; then
  auth=(-H "Authorization: Bearer $token")
fi
# status PATH prints the HTTP status of GET PATH (000 when unreachable).
status() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${auth[@]}" "$url$1" || true; }
wait_for() {
  local path=$1 start=$SECONDS code
  while :; do
    code=$(status "$path")
    [[ $code == 200 ]] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "bench-api: the server exited while waiting for $path" >&2
      return 1
    fi
    if ((SECONDS - start > ready_timeout)); then
      echo "bench-api: $path still answers $code after ${ready_timeout}s" >&2
      return 1
    fi
    sleep 1
  done
}
start=$SECONDS
wait_for /readyz
echo "bench-api: ready (demo fleet loaded) after $((SECONDS - start)) s" >&2
wait_for /api/v1/predictions
echo "bench-api: predictions served after $((SECONDS - start)) s" >&2

bench=("$tmp/foresight" bench api -server "$url" -warmup "$warmup")
if [[ -n $token ]]; then
  bench+=(-token "$token")
fi
# shellcheck disable=SC2206 # BENCH_ARGS is a list of flags
extra=(${BENCH_ARGS:-})

echo
echo "## Closed loop: $clients clients, $duration"
"${bench[@]}" -clients "$clients" -duration "$duration" "${extra[@]}"
if [[ $rate != 0 ]]; then
  echo
  echo "## Open loop: $rate requests/s, $open_duration, at most $inflight in flight"
  "${bench[@]}" -rate "$rate" -clients "$inflight" -duration "$open_duration" "${extra[@]}"
fi
