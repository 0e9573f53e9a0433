"""Raster uploads become Cloud-Optimized GeoTIFF layer versions, whatever the allowed format."""

import json
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from django.core.management import call_command
from rio_cogeo.cogeo import cog_validate

from layers.models import Layer, LayerVersion, RasterVersion
from layers.raster.storage import gdal_path
from tests import raster_data as rd
from tests.raster_helpers import import_raster

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _imported(world: Any, path: Path, **kw: Any) -> RasterVersion:
    version = import_raster(path, project=world.project_a, by=world.analyst, **kw)
    return RasterVersion.objects.get(version=version)


def test_an_rgb_orthophoto_is_stored_as_a_jpeg_cog_with_its_metadata(
    world: Any, tmp_path: Path
) -> None:
    raster = _imported(world, rd.rgb(tmp_path / "ortho.tif"), name="Ortho")
    version = raster.version
    assert version.layer.kind == Layer.Kind.RASTER and version.layer.name == "Ortho"
    assert (raster.width, raster.height, raster.bands, raster.dtype) == (300, 300, 3, "uint8")
    assert raster.content == "imagery" and raster.compression == "JPEG"
    assert version.source_srid == rd.UTM and raster.resolution == [rd.PIXEL, rd.PIXEL]
    minx, miny, maxx, maxy = version.extent.extent
    assert -122.37 < minx < maxx < -122.35 and 38.39 < miny < maxy < 38.41
    assert cog_validate(gdal_path(raster.cog), quiet=True)[0]
    assert raster.size_in > 0 and raster.size_out > 0 and raster.convert_seconds > 0
    assert [b["band"] for b in raster.band_stats] == [1, 2, 3]
    assert raster.band_stats[0]["min"] >= 0 and raster.band_stats[0]["max"] <= 255
    assert len(raster.band_stats[0]["histogram"]["counts"]) == 64


def test_a_dem_keeps_its_values_exactly_with_deflate_and_its_nodata(
    world: Any, tmp_path: Path
) -> None:
    source = rd.dem(tmp_path / "dem.tif")
    raster = _imported(world, source)
    assert raster.content == "continuous" and raster.compression == "DEFLATE"
    assert raster.nodata == -9999.0 and raster.dtype == "float32"
    with rasterio.open(source) as a, rasterio.open(gdal_path(raster.cog)) as b:
        assert np.array_equal(a.read(1), b.read(1))
        assert b.overviews(1) == [] or b.tags() is not None
    stats = raster.band_stats[0]
    assert 50 < stats["min"] < stats["p2"] < stats["p98"] < stats["max"] < 250


def test_nodata_of_imagery_becomes_a_mask_so_edges_are_transparent(
    world: Any, tmp_path: Path
) -> None:
    raster = _imported(world, rd.rgb(tmp_path / "edge.tif", nodata=0))
    assert raster.nodata is None
    with rasterio.open(gdal_path(raster.cog)) as cog:
        mask = cog.dataset_mask()
    assert (mask[:20] == 0).all() and (mask[30:] == 255).all()


def test_a_paletted_land_cover_keeps_its_colour_table_and_classes(
    world: Any, tmp_path: Path
) -> None:
    raster = _imported(world, rd.landcover(tmp_path / "landcover.tif"))
    assert raster.content == "categorical" and raster.compression == "DEFLATE"
    assert raster.colormap["1"] == "#228b22" and raster.categories == [1, 2, 3]


@pytest.mark.parametrize(
    "make",
    [rd.rotated, rd.with_gcps],
    ids=["rotated geotransform", "ground control points"],
)
def test_rotated_and_gcp_rasters_are_warped_north_up(make: Any, world: Any, tmp_path: Path) -> None:
    raster = _imported(world, make(tmp_path / "r.tif"))
    with rasterio.open(gdal_path(raster.cog)) as cog:
        assert cog.transform.b == 0 and cog.transform.d == 0 and not cog.gcps[0]
    assert raster.version.source_srid == rd.UTM


def test_wkt_without_an_epsg_code_is_kept_as_wkt(world: Any, tmp_path: Path) -> None:
    raster = _imported(world, rd.wkt_without_epsg(tmp_path / "local.tif"))
    assert raster.version.source_srid is None
    assert "Transverse_Mercator" in raster.version.source_crs_wkt


def test_a_raster_without_crs_imports_once_the_analyst_gives_the_srid(
    world: Any, tmp_path: Path
) -> None:
    raster = _imported(world, rd.no_crs(tmp_path / "nocrs.tif"), srid=rd.UTM)
    assert raster.version.source_srid == rd.UTM


@pytest.mark.parametrize("kind", ["png", "jpg"])
def test_png_and_jpeg_with_world_file_and_prj_in_a_zip(
    kind: str, world: Any, tmp_path: Path
) -> None:
    raster = _imported(world, rd.world_file_zip(tmp_path, kind=kind))
    version = raster.version
    assert version.source_format == ("PNG" if kind == "png" else "JPEG")
    assert version.source_srid == rd.UTM
    minx, _, maxx, _ = version.extent.extent
    assert -122.37 < minx < maxx < -122.35


@pytest.mark.parametrize(
    "driver,suffix,options",
    [
        ("JP2OpenJPEG", ".jp2", {"QUALITY": 100, "REVERSIBLE": "YES"}),
        ("HFA", ".img", {}),
        ("COG", ".tif", {}),
        ("GTiff", ".tif", {"BIGTIFF": "YES"}),
    ],
    ids=["jpeg2000", "erdas img", "cog", "bigtiff"],
)
def test_other_allowed_formats_import(
    driver: str, suffix: str, options: dict[str, Any], world: Any, tmp_path: Path
) -> None:
    src = rd.dem(tmp_path / "src.tif", size=64, dtype="int16", nodata=None)
    path = rd.convert(src, tmp_path / f"converted{suffix}", driver, **options)
    raster = _imported(world, path)
    assert (raster.width, raster.height, raster.dtype) == (64, 64, "int16")


def test_an_ascii_grid_imports_with_the_srid_given(world: Any, tmp_path: Path) -> None:
    raster = _imported(world, rd.ascii_grid(tmp_path), srid=rd.UTM)
    assert raster.version.source_format == "AAIGrid" and raster.width == 80


def test_replacing_a_raster_adds_a_version(world: Any, tmp_path: Path) -> None:
    first = _imported(world, rd.dem(tmp_path / "a.tif")).version
    second = import_raster(
        rd.dem(tmp_path / "b.tif", size=100),
        project=world.project_a,
        by=world.analyst,
        layer=first.layer,
    )
    assert second.layer_id == first.layer_id and second.number == 2
    assert Layer.objects.get(pk=first.layer_id).current_version_id == second.pk
    assert RasterVersion.objects.filter(version__layer=first.layer).count() == 2


def test_replacing_a_raster_stores_its_files_before_any_transaction_opens(
    world: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A multi-GB copy (or upload to object storage) must not hold a transaction open and the
    replaced layer's row locked: the files are stored first, the rows committed after."""
    from django.db import connection

    from layers.raster import storage

    first = _imported(world, rd.dem(tmp_path / "a.tif")).version
    depth_outside = len(connection.atomic_blocks)  # the test's own transaction
    depths: list[int] = []
    save_file = storage.save_file

    def recording(*args: Any, **kwargs: Any) -> str:
        depths.append(len(connection.atomic_blocks))
        return save_file(*args, **kwargs)

    monkeypatch.setattr(storage, "save_file", recording)
    second = import_raster(
        rd.dem(tmp_path / "b.tif", size=100),
        project=world.project_a,
        by=world.analyst,
        layer=first.layer,
    )
    assert depths == [depth_outside, depth_outside]  # the COG and the original
    stored = RasterVersion.objects.get(version=second)
    assert stored.cog.storage.exists(stored.cog.name)
    assert stored.original.storage.exists(stored.original.name)


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_import_layer_json_prints_exactly_the_raster_contract(world: Any, tmp_path: Path) -> None:
    path = rd.dem(tmp_path / "dem.tif")
    code, out, err = _cli(
        "import_layer", str(path), "--project", "zoning-a", "--name", "DEM", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    assert list(result) == [
        "id", "name", "kind", "width", "height", "bands", "dtype", "source_srid", "extent", "nodata"
    ]  # fmt: skip
    assert result["kind"] == "raster" and result["name"] == "DEM"
    assert (result["width"], result["bands"], result["dtype"]) == (240, 1, "float32")
    assert result["source_srid"] == rd.UTM and result["nodata"] == -9999.0
    assert -123 < result["extent"][0] < result["extent"][2] < -122


def test_export_layer_writes_the_cog_and_the_original(world: Any, tmp_path: Path) -> None:
    path = rd.dem(tmp_path / "dem.tif")
    layer_id = _imported(world, path).version.layer_id
    cog, original = tmp_path / "out.tif", tmp_path / "orig.tif"
    assert _cli("export_layer", str(layer_id), "--format", "cog", "--output", str(cog))[0] == 0
    assert (
        _cli("export_layer", str(layer_id), "--format", "original", "--output", str(original))[0]
        == 0
    )
    assert cog_validate(str(cog), quiet=True)[0]
    assert original.read_bytes() == path.read_bytes()


def test_a_failed_import_leaves_no_row_and_no_file(world: Any, tmp_path: Path, media: Path) -> None:
    code, _out, err = _cli(
        "import_layer", str(rd.no_crs(tmp_path / "x.tif")), "--project", "zoning-a"
    )
    assert code == 1 and "no coordinate system" in err
    assert not LayerVersion.objects.exists() and not Layer.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*")) if media.exists() else True
