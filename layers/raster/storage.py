"""Raster files through Django's storage API, and the one place that turns one into a GDAL path.

On disk storage GDAL opens the file itself; on object storage (STORAGE_URL=s3://…) it reads the
COG over /vsis3/ with HTTP range requests, so a tile fetches only the blocks under it and nothing
is copied to local disk. `read_env` is the GDAL configuration every such read runs under.
"""

import functools
import os
from pathlib import Path
from typing import Any, BinaryIO

from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile

from layers.storage import files

# How titiler opens COGs: no directory listing next to the file (a COG has no side files; on
# object storage a listing is one more request per open), and ranges merged per read.
READ_OPTIONS: dict[str, str] = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    # A COG's header and tile index sit in its first bytes: one 64 KB GET reads them.
    "GDAL_INGESTED_BYTES_AT_OPEN": "65536",
}


def gdal_path(field: FieldFile) -> str:
    """What rasterio/GDAL opens for a stored COG: a local path, or /vsis3/bucket/key.

    Only for files the portal wrote itself (uploads are read from a private local copy)."""
    return files.open_for_gdal(field)


def read_env(field: FieldFile) -> Any:
    """A rasterio.Env to read `field` at `gdal_path(field)` under: enter it around the open and
    every later read of the dataset (/vsis3/ signs each range request with its credentials)."""
    import rasterio

    config = files.gdal_config(field.storage)
    if files.is_local(field.storage):
        return rasterio.Env(**READ_OPTIONS)
    # rasterio takes S3 keys only through a session, never as plain GDAL options.
    session = _aws_session(
        config.pop("AWS_ACCESS_KEY_ID", None),
        config.pop("AWS_SECRET_ACCESS_KEY", None),
        config["AWS_REGION"],
        config.get("AWS_S3_ENDPOINT"),
    )
    return rasterio.Env(session=session, **{**READ_OPTIONS, **config})


@functools.lru_cache(maxsize=8)
def _aws_session(key: str | None, secret: str | None, region: str, endpoint: str | None) -> Any:
    """One rasterio AWSSession per storage configuration: making one builds a boto3 session
    (milliseconds), entering it only copies its frozen credentials into GDAL's options."""
    from rasterio.session import AWSSession

    return AWSSession(
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name=region,
        endpoint_url=endpoint,
    )


def save_file(field: FieldFile, name: str, local: Path, *, move: bool = False) -> str:
    """Store a local file under `name` (the storage may rename it) without loading it in memory.

    `move`: the file is ours to give away (a conversion's output); on disk storage it is then
    hard-linked into place instead of copied, which matters for multi-GB rasters. Object storage
    receives it as a streamed multipart upload (boto3), read from the local file chunk by chunk.
    """
    storage = field.storage
    if move and isinstance(storage, FileSystemStorage):
        target = storage.get_available_name(field.field.generate_filename(field.instance, name))
        destination = Path(storage.path(target))
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(local, destination)
        except OSError:
            pass  # another filesystem: stream it below
        else:
            field.name = target
            return target
    with local.open("rb") as handle:
        field.save(name, File(handle), save=False)
    return str(field.name)


def copy_to(field: FieldFile, out: BinaryIO) -> None:
    """Write a stored file's bytes into `out` (exports, packages) in bounded memory."""
    files.stream_into(field, out)


def delete_names(field: FieldFile, names: list[str]) -> None:
    for name in names:
        if name:
            field.storage.delete(name)
