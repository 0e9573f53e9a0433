"""Every stored file (uploads, exports, rasters) goes through Django's storage API.

With the default FileSystemStorage files live under MEDIA_ROOT; with STORAGE_URL=s3://… they live
in object storage and no step relies on a disk shared between hosts: a worker fetches what it
needs into a private temporary file (untrusted uploads) or lets GDAL read it over /vsis3/ with
range requests (files we wrote ourselves, such as COGs), and downloads leave as signed links.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlparse

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase

CHUNK = 1024 * 1024


def is_local(storage: Storage) -> bool:
    return isinstance(storage, FileSystemStorage)


def _s3_key(storage: Any, name: str) -> str:
    from storages.utils import clean_name

    return str(storage._normalize_name(clean_name(name)))


def _name(fieldfile: FieldFile) -> str:
    if not fieldfile.name:
        raise ValueError("This file field holds no file.")
    return str(fieldfile.name)


@contextmanager
def local_copy(fieldfile: FieldFile, *, suffix: str = "") -> Iterator[Path]:
    """A local file holding the stored file's bytes, for code that needs a real path.

    Local storage gives its own file (read only, never moved); object storage is streamed into a
    private temporary file, deleted on exit.
    """
    storage, name = fieldfile.storage, _name(fieldfile)
    if is_local(storage):
        yield Path(storage.path(name))
        return
    with tempfile.TemporaryDirectory(prefix="sharedgis-file-") as tmp:
        target = Path(tmp) / f"stored{suffix}"
        with target.open("wb") as dst:
            stream_into(fieldfile, dst)
        yield target


def stream_into(fieldfile: FieldFile, dst: BinaryIO) -> None:
    """Copy a stored file's bytes into an open binary file, in bounded memory."""
    storage, name = fieldfile.storage, _name(fieldfile)
    if hasattr(storage, "bucket"):
        # boto3's ranged, parallel download; S3File would first spool it all in memory.
        storage.bucket.Object(_s3_key(storage, name)).download_fileobj(dst)
        return
    with storage.open(name, "rb") as src:
        shutil.copyfileobj(src, dst, CHUNK)


def open_for_gdal(fieldfile: FieldFile) -> str:
    """The name GDAL (pyogrio, rasterio) opens a stored file by: a local path or /vsis3/bucket/key.

    Use with `gdal_config()` (rasterio.Env(**gdal_config()) or pyogrio.set_gdal_config_options).
    Only for files the portal wrote itself: untrusted uploads go through `local_copy` and the
    ingest safety checks, which keep GDAL off the network.
    """
    storage: Any = fieldfile.storage
    name = _name(fieldfile)
    if is_local(storage):
        return str(storage.path(name))
    return f"/vsis3/{storage.bucket_name}/{_s3_key(storage, name)}"


def gdal_config(storage: Storage | None = None) -> dict[str, str]:
    """GDAL configuration options that make the /vsis3/ paths of `open_for_gdal` readable."""
    storage = storage or default_storage
    if is_local(storage):
        return {}
    s3: Any = storage
    config = {
        "AWS_REGION": s3.region_name or "us-east-1",
        # One GET per range; no listing of the bucket when a file is opened.
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_USE_HEAD": "NO",
    }
    if s3.endpoint_url:
        endpoint = urlparse(s3.endpoint_url)
        config["AWS_S3_ENDPOINT"] = endpoint.netloc
        config["AWS_HTTPS"] = "YES" if endpoint.scheme == "https" else "NO"
    if s3.addressing_style == "path":
        config["AWS_VIRTUAL_HOSTING"] = "FALSE"
    key = s3.access_key or os.environ.get("AWS_ACCESS_KEY_ID", "")
    secret = s3.secret_key or os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if key:
        config["AWS_ACCESS_KEY_ID"] = key
        config["AWS_SECRET_ACCESS_KEY"] = secret
    return config


def save_file(storage: Storage, name: str, path: Path) -> str:
    """Stream a local file into storage under `name` (a free variant of it); returns the name."""
    with path.open("rb") as handle:
        return storage.save(name, File(handle, name=Path(name).name))


def download_response(
    fieldfile: FieldFile, *, filename: str, content_type: str
) -> HttpResponseBase:
    """Send a stored file to the browser without holding it: a streamed file or a signed link."""
    storage: Any = fieldfile.storage
    name = _name(fieldfile)
    if is_local(storage) or not hasattr(storage, "bucket"):
        return FileResponse(
            storage.open(name, "rb"),
            as_attachment=True,
            filename=filename,
            content_type=content_type,
        )
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    url = storage.url(
        name,
        parameters={"ResponseContentDisposition": disposition, "ResponseContentType": content_type},
        expire=settings.STORAGE_LINK_SECONDS,
    )
    return HttpResponseRedirect(url)
