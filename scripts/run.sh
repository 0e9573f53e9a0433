#!/usr/bin/env bash
# Serve the portal as it is meant to run: load the demo, then gunicorn (threaded workers,
# keep-alive), a Celery worker and the beat scheduler. Ctrl-C stops all three.
# PORT (default 8000), WEB_WORKERS, WEB_THREADS tune the web server (portal/gunicorn_conf.py).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}
export DEMO_PASSWORD=${DEMO_PASSWORD:-sharedgis-demo}
PORT=${PORT:-8000}
mkdir -p var
.venv/bin/python manage.py load_demo
if [ "${DEBUG}" = "0" ]; then .venv/bin/python manage.py collectstatic --noinput -v 0; fi
pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait; }
trap stop EXIT INT TERM
# keep LOG CMD...: run CMD again 2 s after it exits (e.g. Celery after losing Redis), as a
# process supervisor (systemd Restart=always) does in production.
keep() {
  local log=$1; shift
  (
    child=""
    trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT
    while true; do "$@" >>"$log" 2>&1 & child=$!; wait "$child" || true; sleep 2; done
  ) &
  pids+=($!)
}
: >var/worker.log; : >var/beat.log
keep var/worker.log .venv/bin/celery -A portal worker -l info -Q "${CELERY_QUEUE:-sharedgis}" \
  --concurrency "${WORKER_CONCURRENCY:-2}"
keep var/beat.log .venv/bin/celery -A portal beat -l info --schedule var/celerybeat-schedule
BIND="127.0.0.1:$PORT" .venv/bin/gunicorn -c portal/gunicorn_conf.py portal.wsgi >var/web.log 2>&1 &
web=$!
pids+=($web)
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
echo "Celery worker and beat started (logs: var/worker.log, var/beat.log); gunicorn: var/web.log."
echo "Open http://127.0.0.1:$PORT and log in with a demo user above (password: $DEMO_PASSWORD)."
echo "Health: http://127.0.0.1:$PORT/healthz and /readyz. Ctrl-C stops everything."
wait "$web"
