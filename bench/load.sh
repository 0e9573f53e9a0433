#!/usr/bin/env bash
# make bench-load: start the stack `make run` starts (scripts/run.sh: gunicorn + Celery worker +
# beat) on LOAD_PORT, run 100 locust users for 60 s, sample PostgreSQL connections meanwhile,
# then print per-route percentiles and the RESULT line (bench/load_report.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${LOAD_PORT:-9650}
USERS=${LOAD_USERS:-100}
SECONDS_=${LOAD_SECONDS:-60}
SPAWN=${LOAD_SPAWN_RATE:-10}
OUT=var/bench-load
mkdir -p "$OUT"
export DEBUG=${DEBUG:-1}
# A fresh cache prefix: "uncached" tiles have never been rendered; a private queue for its jobs.
export CACHE_KEY_PREFIX="sharedgis-load-$(date +%s)"
export CELERY_QUEUE="sharedgis-load-$$"
PORT=$PORT bash scripts/run.sh >"$OUT/stack.log" 2>&1 &
stack=$!
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  kill "$stack" 2>/dev/null || true
  wait "$stack" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
for _ in $(seq 300); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$stack" 2>/dev/null || { cat "$OUT/stack.log"; exit 1; }
  sleep 0.5
done
curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "stack not ready"; cat "$OUT/stack.log"; exit 1; }
.venv/bin/python bench/load_prepare.py >"$OUT/prepared.json"
.venv/bin/python bench/load_probe.py "http://127.0.0.1:$PORT" "$OUT/prepared.json" >"$OUT/probe.json"
.venv/bin/python bench/pg_sampler.py "$OUT/pg_connections.txt" &
sampler=$!
# The machine's load before and CPU use during the run: locust shares the cores with the portal,
# so the report says how much of the machine it took (bench/load_report.py).
uptime >"$OUT/uptime.txt"
head -1 /proc/stat >"$OUT/cpu_before.txt"
.venv/bin/python bench/load_cpu.py "$stack" >"$OUT/stack_cpu_before.txt"
LOAD_PREPARED="$OUT/prepared.json" LOAD_SAMPLES="$OUT/samples.json" \
  /usr/bin/time -f "%U %S %e" -o "$OUT/locust_time.txt" .venv/bin/locust -f bench/locustfile.py --headless -u "$USERS" -r "$SPAWN" -t "${SECONDS_}s" \
  --host "http://127.0.0.1:$PORT" --only-summary --stop-timeout 15 --loglevel WARNING \
  >"$OUT/locust.log" 2>&1 || true
head -1 /proc/stat >"$OUT/cpu_after.txt"
.venv/bin/python bench/load_cpu.py "$stack" >"$OUT/stack_cpu_after.txt"
uptime >>"$OUT/uptime.txt"
kill "$sampler" 2>/dev/null || true
sampler=""
.venv/bin/python bench/load_report.py "$OUT" --users "$USERS"
