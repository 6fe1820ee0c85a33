#!/usr/bin/env bash
# End-to-end overhead of ModelGuard in front of the demo model server, on loopback.
#
# Starts the demo jar unguarded (--guard off: the same app without ModelGuard) and guarded, and
# drives each with wrk (POST /v1/models/digits/predict, real digits rows, credentials rotated over
# $CLIENTS clients of a benchmark tier whose quota limits are out of reach, so every request is
# counted and allowed). Reports throughput and p50/p99 latency for:
#   1. unguarded                                    (the baseline)
#   2. API key + in-memory quota + validation + extraction detection
#   3. cached JWT (demo issuer, RS256) + the same
#   4. API key + Redis quota (a redis-server this script starts on a free loopback port) + the same
# and the guarded/unguarded throughput ratio and p99 added (targets: >= 0.90, <= 1 ms). The guarded
# servers write their JSON audit log, one line per decision, to a file in the work directory
# (--audit-log, the way a deployment keeps one; its line count is printed).
#
# Two runs per row: throughput at saturation (THREADS x CONNECTIONS, what the server and wrk can do
# together on this machine), and latency on one connection (wrk -t1 -c1, one request at a time),
# where a request's time is its service time rather than its wait in a saturated queue: the "p99
# added" is the difference of those single-connection p99s.
#
# Usage: modelguard-benchmarks/e2e.sh            (from the repository root or anywhere)
# Environment: DURATION (s, default 20), WARMUP (s, default 30; shorter left the JIT compiling in
#              the measured run), LATENCY_DURATION (s, default 15),
#              THREADS (2), CONNECTIONS (16),
#              CLIENTS (512), JAR (default modelguard-examples/target/modelguard-examples.jar,
#              built with "mvn -B -q package -pl modelguard-examples -am -DskipTests" if missing),
#              JAVA_OPTS (default -Xms1g -Xmx1g).
# Needs java 17, curl, redis-server; installs wrk with apt-get when missing (Debian, as root).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-30}"
LATENCY_DURATION="${LATENCY_DURATION:-15}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-16}"
CLIENTS="${CLIENTS:-512}"
JAR="${JAR:-$ROOT/modelguard-examples/target/modelguard-examples.jar}"
JAVA_OPTS="${JAVA_OPTS:--Xms1g -Xmx1g}"
LUA="$ROOT/modelguard-benchmarks/e2e/predict.lua"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/modelguard-e2e.XXXXXX")"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
  echo "e2e: installing wrk" >&2
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
  fi
fi
command -v redis-server >/dev/null || { echo "e2e: redis-server is needed (apt-get install redis-server)" >&2; exit 1; }
if [ ! -f "$JAR" ]; then
  echo "e2e: building $JAR" >&2
  (cd "$ROOT" && mvn -B -q package -pl modelguard-examples -am -DskipTests)
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_ready() { # URL
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "$1/healthz" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "e2e: $1 did not come up" >&2
  exit 1
}

start_demo() { # PORT ARGS... ; sets DEMO_PID
  local port="$1"; shift
  # shellcheck disable=SC2086
  java $JAVA_OPTS -jar "$JAR" --port "$port" "$@" >"$WORK/demo-$port.out" 2>"$WORK/demo-$port.err" &
  DEMO_PID=$!
  PIDS+=("$DEMO_PID")
  wait_ready "http://127.0.0.1:$port"
}

denials() { # AUDIT_FILE: the reason codes of the server's refusals, if any
  grep -o '"code":"[^"]*"' "$1" | sort | uniq -c | sed 's/^/e2e:   refused /' >&2 || true
}

stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

warm() { # PORT CREDENTIALS_FILE HEADER PREFIX: JIT warm-up, not measured, with the warm-up clients
  export E2E_DIR="$WORK" E2E_CREDENTIALS="warm-$2" E2E_HEADER="$3" E2E_PREFIX="$4"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$LUA" "http://127.0.0.1:$1" >/dev/null
}

drive() { # LABEL PORT CREDENTIALS_FILE HEADER PREFIX: warm-up, then the measured run
  local label="$1" port="$2"
  warm "$port" "$3" "$4" "$5"
  export E2E_CREDENTIALS="$3"
  local line
  line="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$LUA" "http://127.0.0.1:$port" | grep '^E2E_RESULT')"
  local single
  single="$(wrk -t1 -c1 -d"${LATENCY_DURATION}s" -s "$LUA" "http://127.0.0.1:$port" | grep '^E2E_RESULT' \
    | sed -E 's/ ([a-z0-9_]+)=/ one_\1=/g')"
  echo "$label $line ${single#E2E_RESULT }" >>"$WORK/results"
  echo "e2e: $label: $line; one connection: ${single#E2E_RESULT }" >&2
}

split_half() { # FILE: its first $CLIENTS lines stay, the rest go to warm-FILE
  tail -n +"$((CLIENTS + 1))" "$WORK/$1" >"$WORK/warm-$1"
  head -n "$CLIENTS" "$WORK/$1" >"$WORK/$1.measured"
  mv "$WORK/$1.measured" "$WORK/$1"
}

# Twice the clients: the second half only warms the JIT up, so a measured client's extraction
# history holds only measured queries (with a long warm-up on the same clients, each sent
# thousands of queries and the defence flagged some of them).
java -cp "$JAR" "$ROOT/modelguard-benchmarks/src/main/java/io/modelguard/benchmarks/e2e/E2eSetup.java" \
  "$WORK" "$((2 * CLIENTS))"
split_half keys.txt
CONFIG="$WORK/bench-config.json"
head -c 32 /dev/urandom | base64 >"$WORK/pepper"
PEPPER=(--pepper-file "$WORK/pepper")

# 1. Unguarded: the same app and configuration with ModelGuard off.
if java -jar "$JAR" --help 2>/dev/null | grep -q -- '--guard'; then
  PORT="$(free_port)"
  start_demo "$PORT" --config "$CONFIG" "${PEPPER[@]}" --guard off
  drive unguarded "$PORT" keys.txt X-API-Key ""
  stop_pid "$DEMO_PID"
else
  # A jar without --guard: the bare model server (the demo's PredictServlet on Jetty, no filter).
  echo "e2e: this jar has no --guard flag; the baseline is io.modelguard.examples.gateway.UpstreamServer" >&2
  PORT="$(free_port)"
  # shellcheck disable=SC2086
  java $JAVA_OPTS -cp "$JAR" io.modelguard.examples.gateway.UpstreamServer --port "$PORT" >"$WORK/bare.out" 2>&1 &
  DEMO_PID=$!
  PIDS+=("$DEMO_PID")
  wait_ready "http://127.0.0.1:$PORT"
  drive unguarded "$PORT" keys.txt X-API-Key ""
  stop_pid "$DEMO_PID"
  touch "$WORK/bare-baseline"
fi

# 2 and 3. Guarded, in-memory quota: API keys, then cached demo-issuer JWTs.
PORT="$(free_port)"
start_demo "$PORT" --config "$CONFIG" "${PEPPER[@]}" --audit-log "$WORK/audit-memory.jsonl"
# One demo token per subject, minted in one process (a curl and a python start per token took
# minutes, long enough for the first tokens to near their five-minute lifetime).
python3 - "http://127.0.0.1:$PORT/demo/token" "$WORK/subjects.txt" "$WORK/tokens.txt" <<'PY'
import json, sys, urllib.request
url, subjects, tokens = sys.argv[1:4]
with open(subjects) as names, open(tokens, "w") as out:
    for subject in (line.strip() for line in names if line.strip()):
        body = json.dumps({"subject": subject, "tier": "bench"}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            out.write(json.load(response)["access_token"] + "\n")
PY
split_half tokens.txt
# Both credential paths warm before either is measured, so the first row does not carry the JIT's
# start; the tokens are measured first, well within their five-minute lifetime.
warm "$PORT" keys.txt X-API-Key ""
drive jwt-cached "$PORT" tokens.txt Authorization "Bearer "
drive api-key "$PORT" keys.txt X-API-Key ""
stop_pid "$DEMO_PID"
echo "e2e: in-memory guarded server: $(wc -l <"$WORK/audit-memory.jsonl") audit lines" >&2
denials "$WORK/audit-memory.jsonl"

# 4. Guarded, quota counted in Redis.
REDIS_PORT="$(free_port)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$WORK/redis.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
PORT="$(free_port)"
start_demo "$PORT" --config "$CONFIG" "${PEPPER[@]}" --redis-url "redis://127.0.0.1:$REDIS_PORT" --quota-failure closed \
  --audit-log "$WORK/audit-redis.jsonl"
drive api-key-redis "$PORT" keys.txt X-API-Key ""
stop_pid "$DEMO_PID"
echo "e2e: Redis guarded server: $(wc -l <"$WORK/audit-redis.jsonl") audit lines" >&2
denials "$WORK/audit-redis.jsonl"

python3 - "$WORK/results" "$THREADS" "$CONNECTIONS" "$DURATION" "$CLIENTS" "$WORK/bare-baseline" <<'PY'
import os, sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    rows[parts[0]] = {k: float(v) for k, v in (p.split("=") for p in parts[2:])}
base = rows["unguarded"]
print(f"\nEnd-to-end, loopback, POST /v1/models/digits/predict, {sys.argv[5]} clients. Throughput: "
      f"wrk -t{sys.argv[2]} -c{sys.argv[3]} -d{sys.argv[4]}s (saturation); latency: wrk -t1 -c1 "
      "(one request at a time)\n")
print("| configuration | req/s | guarded/unguarded | p50 (1 conn.) | p99 (1 conn.) | p99 added | p99 at saturation | non-2xx |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
names = {"unguarded": "unguarded (bare model server: this jar has no --guard)" if os.path.exists(sys.argv[6])
         else "unguarded (--guard off)",
         "api-key": "API key + in-memory quota + validation + extraction detection",
         "jwt-cached": "cached JWT (RS256) + the same",
         "api-key-redis": "API key + Redis quota + the same"}
for key in ["unguarded", "api-key", "jwt-cached", "api-key-redis"]:
    r = rows.get(key)
    if r is None:
        continue
    ratio = "" if key == "unguarded" else f"{r['rps'] / base['rps']:.2f}"
    added = "" if key == "unguarded" else f"{(r['one_p99_us'] - base['one_p99_us']) / 1000:+.2f} ms"
    print(f"| {names[key]} | {r['rps']:.0f} | {ratio} | {r['one_p50_us'] / 1000:.2f} ms | {r['one_p99_us'] / 1000:.2f} ms "
          f"| {added} | {r['p99_us'] / 1000:.2f} ms | {int(r['non2xx'] + r['one_non2xx'])} |")
print("\nTargets: guarded/unguarded >= 0.90 with the full in-memory chain, p99 added <= 1 ms.")
PY
