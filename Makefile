# SharedGIS task runner. `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
export DJANGO_SETTINGS_MODULE := portal.settings

.PHONY: help setup run test lint typecheck worker bench-ingest bench-tiles bench-hours bench-downloads clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: ## Install what is missing (apt, .venv, npm), create the database, migrate
	@bash scripts/setup.sh
	@DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput -v 0

run: setup ## Set up, load the demo and serve on http://127.0.0.1:8000 with a Celery worker
	@bash scripts/run.sh

test: setup ## Set up and run the whole test suite against real PostGIS, Redis and Chromium
	@$(PY) scripts/check_arrows.py
	@DEBUG=1 $(PY) manage.py makemigrations --check --dry-run -v 0 || (echo "Missing migrations: run manage.py makemigrations"; exit 1)
	@# Tests keep their tasks and cached tiles apart from a `make run` on the same Redis.
	@DEBUG=1 DJANGO_ALLOW_ASYNC_UNSAFE=true CELERY_QUEUE=sharedgis-test CACHE_KEY_PREFIX=sharedgis-test \
	  $(PY) -m pytest --create-db -p no:cacheprovider $(PYTEST_ARGS)

lint: ## ruff check and format check
	@[ -x .venv/bin/ruff ] || bash scripts/setup.sh
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: ## mypy on the apps
	.venv/bin/mypy portal projects audit layers maps hours notifications

worker: ## A Celery worker (with the beat scheduler for the stuck-job sweeper)
	DEBUG=$${DEBUG:-1} .venv/bin/celery -A portal worker -B -l info -Q sharedgis

bench-ingest: setup ## Benchmark layer import against ogr2ogr
	DEBUG=1 $(PY) bench/ingest.py

bench-tiles: setup ## Benchmark vector tiles against raw ST_AsMVT
	DEBUG=1 $(PY) bench/tiles.py

bench-hours: setup ## Benchmark statements and burn-down against hand-written SQL
	DEBUG=1 $(PY) bench/hours.py

bench-downloads: setup ## Benchmark 1,000,000-feature downloads: web peak RSS, streamed and as jobs
	DEBUG=1 $(PY) bench/downloads.py

clean: ## Remove the virtualenv, npm modules and setup stamps
	rm -rf .venv node_modules .setup staticfiles
