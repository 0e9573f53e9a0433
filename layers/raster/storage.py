"""Raster files through Django's storage API, and the one place that turns one into a GDAL path.

Object storage later means changing `gdal_path` (to /vsis3/bucket/name) and nothing else.
"""

import os
from pathlib import Path

from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db.models.fields.files import FieldFile


def gdal_path(field: FieldFile) -> str:
    """What rasterio/GDAL opens for a stored file: a local path on disk storage."""
    storage = field.storage
    if isinstance(storage, FileSystemStorage):
        return storage.path(str(field.name))
    raise NotImplementedError(  # pragma: no cover - the object-storage helper fills this in
        f"Raster reads from {type(storage).__name__} need a /vsi path mapping."
    )


def local_path(field: FieldFile) -> Path:
    """A local file to read an upload from (disk storage: the file itself)."""
    return Path(gdal_path(field))


def save_file(field: FieldFile, name: str, local: Path, *, move: bool = False) -> str:
    """Store a local file under `name` (the storage may rename it) without loading it in memory.

    `move`: the file is ours to give away (a conversion's output); on disk storage it is then
    hard-linked into place instead of copied, which matters for multi-GB rasters.
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


def delete_names(field: FieldFile, names: list[str]) -> None:
    for name in names:
        if name:
            field.storage.delete(name)
