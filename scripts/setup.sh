#!/usr/bin/env bash
# Idempotent setup for `make run` and `make test`: system packages, services, virtualenv,
# front-end assets, database with PostGIS, migrations. Each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
STAMPS=.setup
mkdir -p "$STAMPS"

pg_answers() {
  if [ -n "${DATABASE_URL:-}" ]; then
    psql "$(printf '%s' "$DATABASE_URL" | sed -E 's#/[^/?]*(\?|$)#/postgres\1#')" -Atqc 'select 1' >/dev/null 2>&1
  else
    psql -d postgres -Atqc 'select 1' >/dev/null 2>&1 || pg_lsclusters 2>/dev/null | grep -q online
  fi
}
redis_answers() { redis-cli -u "${REDIS_URL:-redis://127.0.0.1:6379/0}" ping 2>/dev/null | grep -q PONG; }

# --- 1. System packages (apt), only those missing.
want=(postgresql-15-postgis-3 gdal-bin libgdal32 chromium poppler-utils postgresql-client-15 fonts-dejavu-core)
command -v redis-cli >/dev/null 2>&1 || want+=(redis-tools)
command -v node >/dev/null 2>&1 || want+=(nodejs npm)
if ! pg_answers && ! dpkg -s postgresql-15 >/dev/null 2>&1; then want+=(postgresql-15 postgresql-contrib); fi
if ! redis_answers && ! command -v redis-server >/dev/null 2>&1; then want+=(redis-server); fi
missing=()
for pkg in "${want[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing system packages: ${missing[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi
# QGIS (its Python bindings and data providers) for the OGC API client tests; without the GUI.
qgis=()
for pkg in python3-qgis qgis-providers; do dpkg -s "$pkg" >/dev/null 2>&1 || qgis+=("$pkg"); done
if [ ${#qgis[@]} -gt 0 ]; then
  say "Installing QGIS for the OGC API tests: ${qgis[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${qgis[@]}" >/dev/null
fi

# --- 2. Services: reuse what answers, else start Debian's own.
if ! pg_answers; then
  say "Starting PostgreSQL"
  cluster=$(pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2; exit}')
  if [ -z "$cluster" ]; then $SUDO pg_createcluster 15 main >/dev/null; cluster="15 main"; fi
  # shellcheck disable=SC2086
  $SUDO pg_ctlcluster --skip-systemctl-redirect $cluster start || true
fi
if [ -z "${DATABASE_URL:-}" ] && ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  say "Creating PostgreSQL role $(id -un)"
  $SUDO -u postgres createuser --superuser "$(id -un)" 2>/dev/null || su postgres -c "createuser --superuser $(id -un)"
fi
if ! redis_answers; then
  say "Starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/sharedgis-redis.log
fi

# --- 3. Python virtualenv with the project's dependencies.
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
# Installs come from requirements.lock (exact versions, hashes checked); `make lock` updates it.
deps_hash=$(cat pyproject.toml requirements.lock 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ]; then say "Creating .venv"; "$PY" -m venv .venv; fi
if [ "$(cat "$STAMPS/pip" 2>/dev/null)" != "$deps_hash" ]; then
  say "Installing Python dependencies from requirements.lock"
  .venv/bin/pip install -q --require-hashes --no-deps -r requirements.lock
  .venv/bin/python scripts/requirements.py > "$STAMPS/requirements.txt"
  locked=$(sed -n 's/^# pyproject-deps: //p' requirements.lock)
  if [ "$locked" != "$(sha256sum < "$STAMPS/requirements.txt" | cut -c1-16)" ]; then
    say "requirements.lock is older than pyproject.toml: installing the new requirements too; run make lock"
    .venv/bin/pip install -q -r "$STAMPS/requirements.txt"
  fi
  echo "$deps_hash" > "$STAMPS/pip"
fi

# --- 3b. A local, git-ignored .env so `manage.py` and `celery` work with no prefix (settings read
# it; a variable set in the environment always wins; production sets its environment instead).
if [ ! -f .env ]; then
  say "Writing .env (development settings, generated SECRET_KEY)"
  {
    echo "# Written by make setup for development; git-ignored. The environment wins over this file."
    echo "DEBUG=1"
    echo "SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    if [ -n "${DATABASE_URL:-}" ]; then echo "DATABASE_URL=$DATABASE_URL"; fi
    if [ -n "${REDIS_URL:-}" ]; then echo "REDIS_URL=$REDIS_URL"; fi
  } > .env
  chmod 600 .env
fi

# --- 4. Front-end assets from npm.
npm_hash=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(cat "$STAMPS/npm" 2>/dev/null)" != "$npm_hash" ] || [ ! -d node_modules ]; then
  say "Installing front-end assets (npm)"
  if [ -f package-lock.json ]; then npm ci --silent --no-audit --no-fund; else npm install --silent --no-audit --no-fund; fi
  echo "$npm_hash" > "$STAMPS/npm"
fi

# --- 5. Database with PostGIS, then migrations.
.venv/bin/python scripts/ensure_db.py
