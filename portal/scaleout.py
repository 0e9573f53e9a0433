"""Settings helpers for running on several hosts: object storage and a read replica.

Kept apart from portal/settings.py so the settings module stays declarations; both functions
only parse, and a malformed value fails at startup with ImproperlyConfigured.
"""

from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

FILESYSTEM = "django.core.files.storage.FileSystemStorage"
S3 = "storages.backends.s3.S3Storage"
REPLICA = "replica"


def storage_backend(url: str) -> dict[str, Any]:
    """STORAGES["default"] for STORAGE_URL.

    ""                     local files under MEDIA_ROOT (one host, or a shared disk)
    file:///srv/media      local files under that folder
    s3://bucket/prefix?endpoint=http://host:9000&region=us-east-1
                           an S3-compatible store; keys from the URL's user:password or the
                           usual AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY variables.
    """
    if not url:
        return {"BACKEND": FILESYSTEM}  # follows MEDIA_ROOT
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if not parsed.path.startswith("/"):
            raise ImproperlyConfigured(f"STORAGE_URL file:// needs an absolute path, not {url!r}.")
        return {"BACKEND": FILESYSTEM, "OPTIONS": {"location": unquote(parsed.path)}}
    if parsed.scheme != "s3":
        raise ImproperlyConfigured(
            f"STORAGE_URL must start with s3:// or file://, not {url.split(':')[0]!r}."
        )
    bucket = parsed.hostname
    if not bucket:
        raise ImproperlyConfigured("STORAGE_URL s3:// needs a bucket: s3://bucket?endpoint=…")
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    unknown = set(query) - {"endpoint", "region", "addressing"}
    if unknown:
        raise ImproperlyConfigured(
            f"STORAGE_URL has unknown parameters {sorted(unknown)}: use endpoint, region, addressing."
        )
    endpoint = query.get("endpoint", "")
    if endpoint and urlparse(endpoint).scheme not in {"http", "https"}:
        raise ImproperlyConfigured(
            f"STORAGE_URL endpoint must be http(s)://host:port, not {endpoint!r}."
        )
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": parsed.path.strip("/"),
        "region_name": query.get("region", "us-east-1"),
        # Other S3 servers (SeaweedFS, MinIO, Ceph) want bucket names in the path.
        "addressing_style": query.get("addressing", "path" if endpoint else "auto"),
        "signature_version": "s3v4",
        "file_overwrite": False,
        "default_acl": None,
        # Downloads leave the portal as signed links valid a few minutes.
        "querystring_auth": True,
    }
    if endpoint:
        options["endpoint_url"] = endpoint
    if parsed.username:
        options["access_key"] = unquote(parsed.username)
        options["secret_key"] = unquote(parsed.password or "")
    return {"BACKEND": S3, "OPTIONS": options}


def database_replica(url: str, *, primary: Any) -> Any:
    """DATABASES["replica"] for DATABASE_REPLICA_URL, or None when no replica is configured."""
    if not url:
        return None
    try:
        replica = dj_database_url.parse(
            url, engine=primary["ENGINE"], conn_max_age=primary.get("CONN_MAX_AGE", 0)
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URL is not a database URL: {exc}") from exc
    # Tests run against the primary's test database: the replica is the same data.
    replica["TEST"] = {"MIRROR": "default"}
    return replica
