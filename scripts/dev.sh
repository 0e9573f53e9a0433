#!/usr/bin/env bash
# Development: the auto-reloading Django server plus a Celery worker with the beat scheduler.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}
export DEMO_PASSWORD=${DEMO_PASSWORD:-sharedgis-demo}
# runserver starts a thread per request: persistent connections would pile up in PostgreSQL.
export DB_CONN_MAX_AGE=0
PORT=${PORT:-8000}
.venv/bin/python manage.py load_demo
mkdir -p var
.venv/bin/celery -A portal worker -B -l info -Q "${CELERY_QUEUE:-sharedgis}" --concurrency 2 \
  --schedule var/celerybeat-schedule >var/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "Celery worker started (log: var/worker.log)."
echo "Open http://127.0.0.1:$PORT and log in with a demo user above (password: $DEMO_PASSWORD)."
.venv/bin/python manage.py runserver "127.0.0.1:$PORT"
