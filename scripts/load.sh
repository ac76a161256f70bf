#!/usr/bin/env bash
# Load test: builds release, starts the service on its own port, and drives order-select with
# the realistic request (fixtures/perf/) using wrk; prints req/s, p50/p99 latency, errors and
# the service's peak RSS.
#
#   scripts/load.sh [off|auth|auth-pg|fallback|all] [DURATION_S=30] [CONNECTIONS=32]
#
#   off       auth.required = false
#   auth      auth on; every request carries its own pre-signed ES384 token (unique jti)
#   auth-pg   as auth, with a PostgreSQL store: each jti is recorded in the replay_cache table
#             shared by replicas (LOAD_POSTGRES_URL, default the tests' database; a schema of
#             its own, dropped afterwards; psql needed)
#   fallback  auth off; the request has no prefetch and the service fetches everything from
#             the real FHIR server used by the tests (Medplum, tests/fhir-server), one call at
#             a time (that server answers the labs search in ~90 ms per page on one Node
#             thread: it, not the service, bounds this mode's throughput); prints the gather
#             time over the slowest query per call, then freezes the FHIR server (SIGSTOP) and
#             checks that calls still return within fhir.budget_ms.
#   compare   auth off, side by side with the "JSON-parse floor" peer (scripts/json-floor: a
#             minimal Express service that parses the same body with express.json and answers
#             no cards, as the Node reference CDS service does): ROUNDS alternate runs of
#             each on the same request and the same cores, then the ratio of their req/s.
#
# LOAD_BIN=path runs that build of the service instead of target/release/jak-sle-cds.
#
# `all` runs off, auth, auth-pg and fallback (compare is run on its own: it installs Express).
#
# Besides wrk's figures each mode prints the service's CPU time per request
# (service_cpu_ms_per_req: user + system time of the service process over the run ÷
# requests), which does not depend on how much CPU wrk takes on the same machine.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-all}
DURATION=${2:-30}
CONNS=${3:-32}
THREADS=2
PORT=${LOAD_PORT:-18080}
WORK=$(mktemp -d)
trap 'kill -CONT ${FHIR_PID:-} 2>/dev/null; kill ${SVC_PID:-} ${FHIR_PID:-} ${FLOOR_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT

if ! command -v wrk >/dev/null; then
  echo "== installing wrk (Debian package)"
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

echo "== building release"
cargo build --release --quiet --bin jak-sle-cds --example sign_tokens
# LOAD_BIN: another build of the service to drive (an A/B of two builds on the same machine).
BIN=${LOAD_BIN:-target/release/jak-sle-cds}

start_service() { # $1 = auth required (true|false), $2 = allowed servers TOML array
  cat > "$WORK/config.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"
[auth]
required = $1
[fhir]
allowed_servers = $2
[store]
url = "${STORE_URL:-sqlite://$WORK/store.db}"
TOML
  # As shipped (Dockerfile, deploy/kubernetes): arena memory committed as used.
  MIMALLOC_ARENA_EAGER_COMMIT=${MIMALLOC_ARENA_EAGER_COMMIT:-0} \
  RUST_LOG=${SVC_LOG:-warn} JAK_SLE_LOG_FORMAT=json "$BIN" serve --config "$WORK/config.toml" \
    > "$WORK/service.log" 2>&1 &
  SVC_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/livez" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "service did not start:"; cat "$WORK/service.log"; exit 1
}

stop_service() {
  local hwm
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SVC_PID/status")
  echo "peak_rss_mb=$((hwm / 1024))"
  kill "$SVC_PID"; wait "$SVC_PID" 2>/dev/null || true
  SVC_PID=
}

# User + system CPU time of the service under load so far, in clock ticks (MEASURED_PID: the
# peer of `compare`; our service otherwise).
service_ticks() { awk '{print $14 + $15}' "/proc/${MEASURED_PID:-$SVC_PID}/stat"; }
# Busy CPU time of the whole machine so far, in clock ticks (all cores).
machine_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }

run_wrk() { # $1 = label, $2 = body file, $3 = token file or "", $4 = connections
  local url="${WRK_URL:-http://127.0.0.1:$PORT/cds-services/jak-sle-order-select}"
  local conns=${4:-$CONNS} threads=$THREADS
  [ "$conns" -lt "$threads" ] && threads=$conns
  echo "== $1: wrk -t$threads -c$conns -d${DURATION}s"
  local before after m_before m_after result requests wrk_s hz
  hz=$(getconf CLK_TCK)
  before=$(service_ticks); m_before=$(machine_ticks)
  result=$( { TIMEFORMAT='%U %S'; time LOAD_BODY="$2" LOAD_TOKENS="$3" LOAD_THREADS=$threads \
    wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 5s -s scripts/load.lua "$url" \
    | grep '^RESULT'; } 2> "$WORK/wrk.time")
  after=$(service_ticks); m_after=$(machine_ticks)
  wrk_s=$(awk '{print $1 + $2}' "$WORK/wrk.time")
  requests=$(echo "$result" | grep -oE 'requests=[0-9]+' | cut -d= -f2)
  echo "$result service_cpu_ms_per_req=$(awk -v t=$((after - before)) -v hz="$hz" \
    -v n="$requests" 'BEGIN { printf "%.3f", n ? t * 1000 / hz / n : 0 }')"
  # Where the machine's CPU went over the run (cores-seconds): the service, wrk, and anything
  # else running (other processes make the figures above lower than on a quiet machine).
  awk -v s=$((after - before)) -v m=$((m_after - m_before)) -v w="$wrk_s" -v hz="$hz" \
    'BEGIN { printf "CPU core-seconds: service=%.1f wrk=%.1f other=%.1f\n", s / hz, w, m / hz - s / hz - w }'
}

mode_off() {
  start_service false '[]'
  run_wrk "auth off" fixtures/perf/realistic-order-select.json ""
  stop_service
}

# The auth run against the service started by the caller; $1 = label.
run_auth() {
  local url="http://127.0.0.1:$PORT/cds-services/jak-sle-order-select"
  # Enough distinct tokens for the whole run at up to 5,000 req/s.
  local n=$((DURATION * 5000))
  echo "== signing $n tokens"
  target/release/examples/sign_tokens "$url" "$n" "$WORK/tokens.txt"
  run_wrk "$1" fixtures/perf/realistic-order-select.json "$WORK/tokens.txt"
}

mode_auth() {
  start_service true '[]'
  run_auth "auth on (ES384, unique jti, in-memory replay cache)"
  stop_service
}

mode_auth_pg() {
  local base=${LOAD_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
  local schema="jak_load_$$"
  psql "$base" -qc "CREATE SCHEMA $schema"
  STORE_URL="$base?options=-c%20search_path%3D$schema" start_service true '[]'
  run_auth "auth on (ES384, unique jti, PostgreSQL replay cache)"
  stop_service
  psql "$base" -qc "DROP SCHEMA $schema CASCADE"
}

mode_fallback() {
  (cd tests/fhir-server && { [ -d node_modules ] || npm ci --silent --no-audit --no-fund; })
  python3 scripts/perf-transaction.py fixtures/perf/realistic-order-select.json "$WORK/bundle.json" "$WORK/request.json"
  local node=tests/fhir-server/node_modules/.bin/node
  # The test FHIR server exits when its stdin closes: hold a FIFO open as its stdin.
  mkfifo "$WORK/fhir.in"
  "$node" tests/fhir-server/server.mjs "$WORK/bundle.json" --port 0 < "$WORK/fhir.in" > "$WORK/fhir.log" 2>&1 &
  FHIR_PID=$!
  exec 3> "$WORK/fhir.in"
  local fhir_port=""
  for _ in $(seq 1 600); do
    fhir_port=$(grep -m1 -oE '^port [0-9]+' "$WORK/fhir.log" | cut -d' ' -f2 || true)
    [ -n "$fhir_port" ] && break
    sleep 0.1
  done
  [ -n "$fhir_port" ] || { echo "FHIR server did not start:"; cat "$WORK/fhir.log"; return 1; }
  local base="http://127.0.0.1:$fhir_port/fhir"
  local pid
  pid=$(curl -fsS "$base/Patient" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entry"][0]["resource"]["id"])')
  sed -i "s#FHIR_BASE#$base#; s#PATIENT_ID#$pid#g" "$WORK/request.json"
  SVC_LOG="warn,jak_sle_cds::fhir=debug" start_service false '["http://127.0.0.1:*"]'
  run_wrk "fallback (no prefetch, real FHIR server), one call at a time" "$WORK/request.json" "" 1
  python3 scripts/load-gather.py "$WORK/service.log"
  echo "== fallback with the FHIR server frozen (SIGSTOP): 5 calls, budget_ms = 3000 (default)"
  kill -STOP "$FHIR_PID"
  local url="http://127.0.0.1:$PORT/cds-services/jak-sle-order-select" worst=0 t
  for _ in 1 2 3 4 5; do
    t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H 'Content-Type: application/json' \
      --data-binary @"$WORK/request.json" "$url")
    echo "  status ${t% *} in ${t#* } s"
    worst=$(awk -v a="$worst" -v b="${t#* }" 'BEGIN { print (b > a) ? b : a }')
  done
  kill -CONT "$FHIR_PID"
  echo "RESULT hang_worst_s=$worst budget_s=3.0"
  stop_service
  exec 3>&-
  wait "$FHIR_PID" 2>/dev/null || true; FHIR_PID=
}

# RESULT line of the last run_wrk as "req_s" (wrk's figure).
last_req_s() { grep -oE ' rps=[0-9.]+' "$WORK/last.out" | tail -1 | cut -d= -f2; }

mode_compare() {
  local rounds=${ROUNDS:-3} floor_port=$((PORT + 1)) node=scripts/json-floor/node_modules/.bin/node
  (cd scripts/json-floor && { [ -d node_modules ] || npm ci --silent --no-audit --no-fund; })
  "$node" scripts/json-floor/server.mjs "$floor_port" > "$WORK/floor.log" 2>&1 &
  FLOOR_PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$floor_port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  start_service false '[]'
  local ours=() floor=() r
  for r in $(seq 1 "$rounds"); do
    WRK_URL="http://127.0.0.1:$PORT/cds-services/jak-sle-order-select" \
      run_wrk "round $r: jak-sle-cds (auth off)" fixtures/perf/realistic-order-select.json "" | tee "$WORK/last.out"
    ours+=("$(last_req_s)")
    MEASURED_PID=$FLOOR_PID WRK_URL="http://127.0.0.1:$floor_port/cds-services/jak-sle-order-select" \
      run_wrk "round $r: Express JSON-parse floor" fixtures/perf/realistic-order-select.json "" | tee "$WORK/last.out"
    floor+=("$(last_req_s)")
  done
  stop_service
  kill "$FLOOR_PID" 2>/dev/null || true; wait "$FLOOR_PID" 2>/dev/null || true; FLOOR_PID=
  awk -v a="${ours[*]}" -v b="${floor[*]}" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); sx = 0; sy = 0
    for (i = 1; i <= n; i++) { sx += x[i]; sy += y[i] }
    printf "RESULT compare jak_sle_cds_req_s=%.0f floor_req_s=%.0f ratio=%.2f (mean of %d rounds each)\n", sx / n, sy / n, sy ? sx / sy : 0, n }'
}

echo "machine: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
case "$MODE" in
  off) mode_off ;;
  auth) mode_auth ;;
  auth-pg) mode_auth_pg ;;
  fallback) mode_fallback ;;
  compare) mode_compare ;;
  all) mode_off; mode_auth; mode_auth_pg; mode_fallback ;;
  *) echo "unknown mode $MODE"; exit 2 ;;
esac
