"""SharedGIS settings: one module, every deploy-specific value read from the environment."""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_file_load, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# Development: `make setup` writes a git-ignored .env (SECRET_KEY, DEBUG=1); the environment wins.
# SHAREDGIS_ENV_FILE names another file, or "" for none (production needs no file).
env_file_load(os.environ.get("SHAREDGIS_ENV_FILE", str(BASE_DIR / ".env")))

DEBUG = env_bool("DEBUG", default=False)
# A development deployment (DEBUG=1 in the environment). Kept apart from DEBUG, which test runners
# switch off: the demo loader (known logins, a superuser) runs only where this is true.
DEVELOPMENT = DEBUG
# A development key is only acceptable while DEBUG is on; production must bring its own.
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else None)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "leaflet",
    "axes",
    "portal",  # management commands: load_demo (the demo composition), backup, restore
    "audit",
    "projects",
    "layers",
    "maps",
    "hours",
    "ogc",
    "notifications",
    "collaboration",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.health.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "projects.view_as.ViewAsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "projects.context_processors.memberships",
            ],
        },
    },
]

# --- Database: PostGIS, reached by DATABASE_URL (default: the local unix socket).
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres:///sharedgis"),
        engine="django.contrib.gis.db.backends.postgis",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # A persistent connection broken by a database restart is replaced at the next request.
        conn_health_checks=True,
    )
}
# A connection pool per process (DB_POOL_MAX_SIZE; portal/gunicorn_conf.py sets 3, tests and
# commands keep plain connections): connections are bounded by processes x pool size whatever the
# threads; a broken one is replaced on checkout; with the database down a request waits at most
# DB_POOL_TIMEOUT seconds, then gets the 503 page.
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 0)
if DB_POOL_MAX_SIZE:
    # CONN_HEALTH_CHECKS makes the pool check each connection on checkout (psycopg_pool).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        # Every connection opens when the worker first needs one and stays: a new PostgreSQL
        # backend's first PostGIS query pays ~150 ms of catalog loading, which a pool growing
        # under a morning rush would add to the slowest requests of the rush.
        "min_size": DB_POOL_MAX_SIZE,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env_int("DB_POOL_TIMEOUT", 3),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and the shared cache (tiles, throttling).
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# The cache only speeds things up: with Redis down, reads miss and writes are dropped (logged).
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "sharedgis"),
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# Sessions are read from Redis and written through to the database (cached_db): every page and
# tile reads the session, and a cached tile then runs no query at all. The
# database stays the record (backups, any web host); with Redis down reads fall back to it.
# portal/sessions.py keeps each Redis copy at most SESSION_CACHE_SECONDS, so a session ended while
# Redis was unreachable cannot come back with Redis for longer than that.
SESSION_ENGINE = "portal.sessions"
SESSION_CACHE_SECONDS = env_int("SESSION_CACHE_SECONDS", 300)
# Each web process keeps this many MB of the hottest vector tiles in memory, in front of Redis
# (layers/tiles/mvt.py): a cached tile then costs no round trip.
TILE_MEMORY_CACHE_MB = env_int("TILE_MEMORY_CACHE_MB", 32)

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None  # job state lives in our own database rows
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task gets its job redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 3300)
# Redelivery after worker loss happens once the visibility timeout expires.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3700)}
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "sharedgis")
CELERY_TASK_ALWAYS_EAGER = False
# With Redis down a queued job stays "queued" (the sweeper sends it later): fail fast, don't hang.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-imports": {"task": "layers.tasks.requeue_stuck_jobs_task", "schedule": 300.0},
    "worker-heartbeat": {"task": "portal.heartbeat", "schedule": 60.0},
    "drop-orphan-feature-partitions": {
        "task": "layers.tasks.drop_orphan_partitions_task",
        "schedule": 3600.0,
    },
    "sweep-orphan-raster-files": {
        "task": "layers.tasks.raster_orphans_sweep_task",
        "schedule": 3600.0,
    },
}

# --- Auth
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend with a host-wide budget of concurrent password hashes (portal/auth.py).
    "portal.auth.SlottedModelBackend",
]
# Argon2id first (portal/auth.py: why, and its cost); the PBKDF2 hashes made before still verify
# and are re-hashed with Argon2id at the next login.
PASSWORD_HASHERS = [
    "portal.auth.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# Concurrent password checks on this host: one per core, so a login rush takes at most the cores'
# worth of hashing and the other logins queue (without a database connection) while tiles go on.
LOGIN_SLOTS = env_int("LOGIN_SLOTS", len(os.sched_getaffinity(0)) or 1)
LOGIN_SLOT_DIR = env_str("LOGIN_SLOT_DIR", str(BASE_DIR / "var"))
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1  # hours
# Counted per user name AND address (a nested list: the combination), so a stranger's wrong
# passwords never lock out everyone behind the same address; portal/login_security.py adds the
# per-account limit over all addresses.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "portal.login_security.LoginLockoutHandler"
AXES_CLIENT_IP_CALLABLE = "portal.login_security.client_address"
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("LOGIN_ACCOUNT_FAILURE_LIMIT", 30)
# Reverse proxies in front of the portal that append to X-Forwarded-For (0: none, trust
# REMOTE_ADDR); TRUSTED_PROXIES optionally lists their addresses or networks.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")

# --- Security: strict by default outside DEBUG.
SECURE = not DEBUG
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# GDAL < 3.9 cannot block file/network access itself; layers/ingest does it for every upload.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# --- i18n
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True

# --- Static and media files
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages from npm (scripts/setup.sh installs them), served under /static/vendor/.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/vectorgrid", BASE_DIR / "node_modules" / "leaflet.vectorgrid" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"

# ==== Scale-out (operations: object storage, read replica, big exports) ====================
# STORAGE_URL (s3://bucket?endpoint=…) moves every stored file to object storage; unset keeps
# MEDIA_ROOT. DATABASE_REPLICA_URL adds a streaming replica for reads (portal/db_router.py).
from portal.scaleout import database_replica, storage_backend  # noqa: E402

STORAGES["default"] = storage_backend(env_str("STORAGE_URL", ""))
# A file served from object storage: a signed link valid this long (seconds).
STORAGE_LINK_SECONDS = env_int("STORAGE_LINK_SECONDS", 300)
_replica = database_replica(env_str("DATABASE_REPLICA_URL", ""), primary=DATABASES["default"])
if _replica:
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["portal.db_router.ReplicaRouter"]
    MIDDLEWARE.insert(0, "portal.db_router.PrimaryPinMiddleware")
# After a write, that browser's reads stay on the primary this long (covers replica lag).
REPLICA_PIN_SECONDS = env_int("REPLICA_PIN_SECONDS", 15)
# Downloads of layers with more features than this are built by a worker (an ExportJob);
# smaller ones stream straight from the database.
EXPORT_JOB_MIN_FEATURES = env_int("EXPORT_JOB_MIN_FEATURES", 100_000)
# Prepared exports are kept this long, then the sweeper deletes them.
EXPORT_KEEP_HOURS = env_int("EXPORT_KEEP_HOURS", 24)
CELERY_BEAT_SCHEDULE["sweep-export-jobs"] = {
    "task": "layers.tasks.export_jobs_sweep_task",
    "schedule": 600.0,
}
# ==== End scale-out =========================================================================
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024


# --- Email: EMAIL_URL like smtp://user:pass@host:587?tls=1, or console:// (default).
def _email_settings(url: str) -> dict[str, object]:
    parsed = urlparse(url)
    if parsed.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parsed.scheme in {"smtp", "smtps"}:
        query = parse_qs(parsed.query)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parsed.hostname or "localhost",
            "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
            "EMAIL_HOST_USER": unquote(parsed.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
            "EMAIL_USE_SSL": parsed.scheme == "smtps",
            "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in {"1", "true"},
        }
    raise ImproperlyConfigured(f"EMAIL_URL scheme must be console, smtp or smtps, not {url!r}.")


globals().update(_email_settings(env_str("EMAIL_URL", "console://")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SharedGIS <noreply@sharedgis.local>")
# Emails link back to the portal: their readers need an absolute address.
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")

# --- REST framework: session auth for the browser, token-free by design for now.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}

# --- Maps: basemaps offered to analysts. "none" keeps the portal usable with no internet.
BASEMAPS = {
    "osm": {
        "name": "OpenStreetMap",
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "&copy; OpenStreetMap contributors",
        "max_zoom": 19,
    },
    "none": {"name": "None (plain background)", "url": "", "attribution": "", "max_zoom": 22},
}
DEFAULT_BASEMAP = env_str("DEFAULT_BASEMAP", "osm")

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (38.40, -122.36),
    "DEFAULT_ZOOM": 10,
    "MIN_ZOOM": 2,
    "MAX_ZOOM": 20,
    "TILES": []
    if DEFAULT_BASEMAP == "none"
    else [
        (
            BASEMAPS["osm"]["name"],
            BASEMAPS["osm"]["url"],
            {"attribution": BASEMAPS["osm"]["attribution"]},
        )
    ],
    "RESET_VIEW": False,
}

# --- Uploads (layers): configurable limits for untrusted files.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 2 * 1024**3)
UPLOAD_MAX_UNZIPPED_BYTES = env_int("UPLOAD_MAX_UNZIPPED_BYTES", 8 * 1024**3)
UPLOAD_MAX_ZIP_MEMBERS = env_int("UPLOAD_MAX_ZIP_MEMBERS", 200)
UPLOAD_MAX_FIELDS = env_int("UPLOAD_MAX_FIELDS", 1000)
# Rasters (layers/raster): checked from the header before any pixel is read.
RASTER_MAX_PIXELS = env_int("RASTER_MAX_PIXELS", 2_000_000_000)  # width x height of one band
RASTER_MAX_SIDE = env_int("RASTER_MAX_SIDE", 200_000)
RASTER_MAX_BANDS = env_int("RASTER_MAX_BANDS", 16)
# GDAL's block cache of a conversion: with windowed reads this bounds the job's memory.
RASTER_GDAL_CACHE_MB = env_int("RASTER_GDAL_CACHE_MB", 256)
# The system GDAL's gdal_translate writes JPEG COGs (the rasterio wheel's libjpeg is ~2.5x slower,
# docs/architecture.md); empty = find it on PATH, "none" = always convert in-process.
RASTER_GDAL_TRANSLATE = env_str("RASTER_GDAL_TRANSLATE", "")
# Stored raster files no row references are deleted once older than this (a killed worker's).
RASTER_ORPHAN_GRACE_SECONDS = env_int("RASTER_ORPHAN_GRACE_SECONDS", 6 * 3600)

# --- Health (/readyz): the worker heartbeat's maximum age, and free disk under MEDIA_ROOT.
HEARTBEAT_MAX_AGE = env_int("HEARTBEAT_MAX_AGE", 180)
DISK_MIN_FREE_MB = env_int("DISK_MIN_FREE_MB", 1024)

# Share links (no account): every link expires; the form proposes the default.
SHARE_LINK_DEFAULT_DAYS = env_int("SHARE_LINK_DEFAULT_DAYS", 30)
SHARE_LINK_MAX_DAYS = env_int("SHARE_LINK_MAX_DAYS", 90)

# --- OGC API: personal access tokens for desktop GIS, and the CRSs offered beside WGS 84/3857
# and each layer's source (California state plane zones, UTM 10N/11N on NAD83 and WGS 84).
OGC_TOKEN_DEFAULT_DAYS = env_int("OGC_TOKEN_DEFAULT_DAYS", 365)
OGC_TOKEN_MAX_DAYS = env_int("OGC_TOKEN_MAX_DAYS", 365)
OGC_EXTRA_SRIDS = [
    int(c)
    for c in env_list("OGC_EXTRA_SRIDS", "2225,2226,2227,2228,2229,2230,26910,26911,32610,32611")
]

# --- Value reports: the month fiscal years start in (many cities: July).
FISCAL_YEAR_START_MONTH = env_int("FISCAL_YEAR_START_MONTH", 7)

DEMO_PASSWORD = env_str("DEMO_PASSWORD", "sharedgis-demo")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "numexpr": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
    },
}
