"""Raster files through Django's storage API, and the one place that turns one into a GDAL path.

Object storage later means changing `gdal_path` (to /vsis3/bucket/name) and nothing else.
"""

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


def save_file(field: FieldFile, name: str, local: Path) -> str:
    """Store a local file under `name` (the storage may rename it) without loading it in memory."""
    with local.open("rb") as handle:
        field.save(name, File(handle), save=False)
    return str(field.name)


def delete_names(field: FieldFile, names: list[str]) -> None:
    for name in names:
        if name:
            field.storage.delete(name)
