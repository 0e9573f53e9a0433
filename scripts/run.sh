#!/usr/bin/env bash
# Serve the portal for a demo: load demo data, start a Celery worker, run the web server.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}
export DEMO_PASSWORD=${DEMO_PASSWORD:-sharedgis-demo}
.venv/bin/python manage.py load_demo
mkdir -p var
.venv/bin/celery -A portal worker -B -l info -Q sharedgis --concurrency 2 \
  --schedule var/celerybeat-schedule >var/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "Celery worker started (log: var/worker.log)."
echo "Open http://127.0.0.1:8000 and log in with a demo user above (password: $DEMO_PASSWORD)."
.venv/bin/python manage.py runserver 127.0.0.1:8000
