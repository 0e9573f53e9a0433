"""JPEG imagery is written by the system GDAL's gdal_translate (the wheel's libjpeg is ~2.5x
slower): same bytes as the reference command, progress into the job, errors as sentences."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import rasterio

from layers.ingest.errors import ImportFailed
from layers.raster import convert, safety

pytestmark = pytest.mark.skipif(
    shutil.which("gdal_translate") is None, reason="needs Debian's gdal-bin"
)


def _prepared(tmp: Path, path: Path) -> safety.RasterSource:
    (tmp / "in").mkdir()
    (tmp / "out").mkdir()
    return safety.prepare(path, path.name, tmp / "in")


def test_an_orthophoto_cog_is_exactly_what_gdal_translate_writes_with_our_options(
    tmp_path: Path,
) -> None:
    from tests import raster_data as rd

    source = _prepared(tmp_path, rd.rgb_large(tmp_path / "ortho.tif", size=1500))
    seen: list[float] = []
    result = convert.convert_to_cog(
        source, tmp_path / "out" / "layer.tif", srid=None, name="ortho.tif", progress=seen.append
    )
    assert result.content == "imagery" and result.compression == "JPEG"
    with rasterio.open(source.path) as dataset:
        options = convert.creation_args(convert.plan_for(dataset))
    assert "COMPRESS=JPEG" in options and "QUALITY=85" in options
    reference = tmp_path / "reference.tif"
    subprocess.run(
        ["gdal_translate", "-q", "-of", "COG", *options, str(source.path), str(reference)],
        check=True,
    )
    assert (tmp_path / "out" / "layer.tif").read_bytes() == reference.read_bytes()
    # gdal_translate's "0...10...20..." reached the job as fractions, in order.
    assert seen == sorted(seen) and seen[-1] >= 0.9 and len(set(seen)) > 5


def test_a_damaged_image_gives_the_analyst_a_sentence_without_our_paths(
    tmp_path: Path, settings: Any
) -> None:
    from tests import raster_data as rd

    good = rd.rgb(tmp_path / "src.tif", size=600, tiled=True, blockxsize=256, blockysize=256)
    source = _prepared(tmp_path, good)
    raw = source.path.read_bytes()
    source.path.unlink()  # our hard link: cut our copy, not the source
    source.path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ImportFailed) as failure:
        convert.translate_with_system(
            shutil.which("gdal_translate") or "",
            source,
            tmp_path / "out" / "layer.tif",
            plan=convert.Plan("imagery", {"COMPRESS": "JPEG", "QUALITY": 85}, "bilinear"),
            extra=[],
            name="ortho.tif",
            progress=None,
        )
    message = failure.value.message
    assert message.startswith("“ortho.tif” could not be converted")
    assert "damaged or truncated" in message and str(tmp_path) not in message


def test_the_subprocess_can_be_turned_off(settings: Any) -> None:
    settings.RASTER_GDAL_TRANSLATE = "none"
    assert convert.system_gdal_translate() is None
    settings.RASTER_GDAL_TRANSLATE = ""
    assert convert.system_gdal_translate() == shutil.which("gdal_translate")
