"""Class names of a categorical raster come from the file (GDAL category names or its raster
attribute table) and reach the paletted style, its legend and pixel identify."""

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from layers.models import RasterVersion
from layers.raster import styles
from layers.raster.tiles import raster_info
from tests import raster_data as rd
from tests.raster_helpers import import_raster

pytestmark = pytest.mark.django_db
# Inside the first 70 x 70 pixel block of rd.landcover: class 1.
LON, LAT = -122.36069, 38.40350


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _imported(world: Any, path: Path) -> RasterVersion:
    version = import_raster(path, project=world.project_a, by=world.analyst, name="Land cover")
    return RasterVersion.objects.get(version=version)


EXPECTED = {str(k): v for k, v in rd.LANDCOVER_NAMES.items()}


@pytest.mark.parametrize(
    "how,driver",
    [("rat", "GTiff"), ("categories", "GTiff"), ("rows", "HFA")],
    ids=["GeoTIFF attribute table (.aux.xml)", "GDAL category names (.aux.xml)", "Erdas .img"],
)
def test_class_names_are_read_from_the_file_and_stored_with_the_band(
    world: Any, tmp_path: Path, how: str, driver: str
) -> None:
    raster = _imported(world, rd.landcover_named(tmp_path, how=how, driver=driver))
    assert raster.content == "categorical" and raster.colormap["3"] == "#d2b48c"
    assert raster.band_stats[0]["category_names"] == EXPECTED


def test_the_paletted_style_and_its_legend_use_the_files_class_names(
    world: Any, tmp_path: Path
) -> None:
    raster = _imported(world, rd.landcover_named(tmp_path))
    style = styles.raster_style_validate({"type": "raster_paletted"}, raster_info(raster))
    assert style["labels"] == EXPECTED
    assert {"label": "Deciduous forest", "color": "#d2b48c"} in style["legend"]
    # The analyst's own label still wins over the file's.
    mine = styles.raster_style_validate(
        {"type": "raster_paletted", "labels": {"2": "Reservoir"}}, raster_info(raster)
    )
    assert mine["labels"]["2"] == "Reservoir" and mine["labels"]["1"] == "Evergreen forest"


def test_pixel_identify_names_the_class(world: Any, tmp_path: Path, as_analyst: Client) -> None:
    raster = _imported(world, rd.landcover_named(tmp_path))
    layer = raster.version.layer
    body = as_analyst.get(
        f"/tiles/layers/{layer.pk}/identify.json?v={raster.version_id}&lon={LON}&lat={LAT}"
    ).json()
    (band,) = body["bands"]
    assert band["value"] == 1 and band["label"] == "1 — Evergreen forest"


def test_a_land_cover_without_names_keeps_numbered_classes(world: Any, tmp_path: Path) -> None:
    raster = _imported(world, rd.landcover(tmp_path / "plain.tif"))
    assert "category_names" not in raster.band_stats[0]
    style = styles.raster_style_validate({"type": "raster_paletted"}, raster_info(raster))
    assert style["labels"]["3"] == "Class 3"
