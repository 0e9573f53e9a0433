# SharedGIS task runner. `make help` lists the targets.
SHELL := /bin/bash
PY := .venv/bin/python
export DJANGO_SETTINGS_MODULE := portal.settings

.PHONY: help setup lock run dev test lint typecheck worker backup restore bench-ingest bench-tiles bench-hours bench-load bench-faults bench-raster bench-ogc bench-package bench-downloads clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

setup: ## Install what is missing (apt, .venv, npm), create the database, migrate
	@bash scripts/setup.sh
	@DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput -v 0

lock: ## Regenerate requirements.lock (exact versions + hashes) from pyproject.toml
	@[ -x $(PY) ] || bash scripts/setup.sh
	@bash scripts/lock.sh

run: setup ## Set up, load the demo, serve http://127.0.0.1:8000 (gunicorn + Celery worker + beat)
	@bash scripts/run.sh

dev: setup ## Like run, with the auto-reloading development server (for people changing code)
	@bash scripts/dev.sh

test: setup ## Lint, types, arrows, migrations check, then the whole test suite (real PostGIS, Redis, Chromium)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	@$(MAKE) --no-print-directory typecheck
	@$(PY) scripts/check_arrows.py
	@DEBUG=1 $(PY) manage.py makemigrations --check --dry-run -v 0 || (echo "Missing migrations: run manage.py makemigrations"; exit 1)
	@# Tests keep their tasks and cached tiles apart from a `make run` on the same Redis, and each run
	@# gets a fresh cache prefix: tile keys are version ids, which a new test database reuses.
	@DEBUG=1 DJANGO_ALLOW_ASYNC_UNSAFE=true CELERY_QUEUE=sharedgis-test CACHE_KEY_PREFIX=sharedgis-test-$$(date +%s%N) \
	  $(PY) -m pytest --create-db -p no:cacheprovider $(PYTEST_ARGS)

lint: ## ruff check and format check
	@[ -x .venv/bin/ruff ] || bash scripts/setup.sh
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: ## mypy on the apps
	.venv/bin/mypy portal projects audit layers maps hours notifications ogc collaboration

worker: ## A Celery worker (with the beat scheduler for the stuck-job sweeper)
	DEBUG=$${DEBUG:-1} .venv/bin/celery -A portal worker -B -l info -Q sharedgis

backup: setup ## One archive in var/backups/: database dump, stored files, manifest with checksums
	@$(PY) manage.py backup $(if $(OUTPUT),--output $(OUTPUT),)

restore: setup ## Restore BACKUP=path into an empty database and storage
	@[ -n "$(BACKUP)" ] || (echo "Usage: make restore BACKUP=var/backups/sharedgis-....tar"; exit 2)
	@$(PY) manage.py restore "$(BACKUP)"

bench-ingest: setup ## Benchmark layer import against ogr2ogr
	DEBUG=1 $(PY) bench/ingest.py

bench-tiles: setup ## Benchmark vector tiles against raw ST_AsMVT
	DEBUG=1 $(PY) bench/tiles.py

bench-hours: setup ## Benchmark statements and burn-down against hand-written SQL
	DEBUG=1 $(PY) bench/hours.py

bench-load: setup ## 100 users for 60 s against the make-run stack (locust), per-route percentiles
	@bash bench/load.sh

bench-faults: setup ## PostgreSQL restart, Redis stop, disk full against a live stack: report + RESULT
	@DEBUG=1 $(PY) bench/faults.py

bench-raster: setup ## Benchmark raster import and tiles against gdal_translate, rio-tiler and titiler
	DEBUG=1 $(PY) bench/raster.py

bench-ogc: setup ## Benchmark the OGC API against tipg and raw SQL (pages, filters, ogr2ogr reads)
	DEBUG=1 $(PY) bench/ogc.py

bench-package: setup ## Benchmark a 1,000,000-feature deliverable package (time, peak RSS) against ogr2ogr
	DEBUG=1 $(PY) bench/package.py

bench-downloads: setup ## Benchmark 1,000,000-feature downloads: web peak RSS, streamed and as jobs
	DEBUG=1 $(PY) bench/downloads.py

clean: ## Remove the virtualenv, npm modules and setup stamps
	rm -rf .venv node_modules .setup staticfiles
