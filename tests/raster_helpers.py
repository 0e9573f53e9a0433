"""Importing generated rasters through the one import service, for tests of pages, tiles and maps."""

from pathlib import Path
from typing import Any

from layers.models import Layer, LayerVersion
from layers.services import ImportOptions, layer_import_file
from projects.models import Project
from tests import raster_data as rd


def import_raster(
    path: Path, *, project: Project, by: Any, name: str = "", srid: int | None = None, **kw: Any
) -> LayerVersion:
    (version,) = layer_import_file(
        project=project,
        path=path,
        original_filename=kw.pop("filename", path.name),
        by=by,
        options=ImportOptions(name=name, srid=srid),
        **kw,
    )
    return version


def make_dem_layer(tmp: Path, *, project: Project, by: Any, name: str = "Elevation") -> Layer:
    version = import_raster(rd.dem(tmp / "dem.tif"), project=project, by=by, name=name)
    return version.layer


def make_ortho_layer(tmp: Path, *, project: Project, by: Any, name: str = "Ortho") -> Layer:
    version = import_raster(rd.rgb(tmp / "ortho.tif"), project=project, by=by, name=name)
    return version.layer
