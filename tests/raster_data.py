"""Small rasters generated in code (a few hundred pixels), good and hostile, for the raster tests.

Coordinates sit on town A's parcels (around -122.36, 38.40) so maps mix them with vectors.
"""

import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.control import GroundControlPoint
from rasterio.transform import Affine, from_origin

# EPSG:32610 (UTM 10N): the top-left corner sits on the parcels of tests/map_factories.py.
UTM = 32610
ORIGIN = (555_800.0, 4_250_800.0)
PIXEL = 2.0


def _write(path: Path, data: np.ndarray, **profile: Any) -> Path:
    count, height, width = data.shape
    base = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": str(data.dtype),
        "crs": f"EPSG:{UTM}",
        "transform": from_origin(*ORIGIN, PIXEL, PIXEL),
    }
    base.update(profile)
    colormap = base.pop("colormap", None)
    with rasterio.open(path, "w", **base) as ds:
        ds.write(data)
        if colormap:
            ds.write_colormap(1, colormap)
    return path


def rgb(path: Path, *, size: int = 300, nodata: int | None = None, **kw: Any) -> Path:
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:size, 0:size]
    data = np.stack([(x * 255 // size), (y * 255 // size), ((x + y) * 127 // size)]).astype("uint8")
    data = np.clip(data.astype(int) + rng.integers(-3, 4, data.shape), 1, 255).astype("uint8")
    if nodata is not None:
        data[:, :20, :] = nodata
    return _write(path, data, nodata=nodata, **kw)


def rgb_large(path: Path, *, size: int) -> Path:
    """A tiled RGB orthophoto (smooth relief and sensor noise, as in bench/raster.py) written in
    strips (bounded memory), large enough that a test can act while it converts."""
    from rasterio.windows import Window

    rng = np.random.default_rng(2)
    profile = {"tiled": True, "blockxsize": 512, "blockysize": 512}
    with rasterio.open(
        path, "w", driver="GTiff", width=size, height=size, count=3, dtype="uint8",
        crs=f"EPSG:{UTM}", transform=from_origin(*ORIGIN, PIXEL, PIXEL), **profile,
    ) as ds:  # fmt: skip
        for row in range(0, size, 512):
            h = min(512, size - row)
            x = np.arange(size, dtype="float32")
            y = np.arange(row, row + h, dtype="float32")[:, None]
            base = (np.sin(x / 300) * np.cos(y / 410) + 1) * 100
            data = np.stack([base + 10, base * 0.9 + 20, base * 0.7 + 30])
            data = data + rng.integers(0, 16, (3, h, size))
            ds.write(data.clip(0, 255).astype("uint8"), window=Window(0, row, size, h))
    return path


def dem(path: Path, *, size: int = 240, nodata: float | None = -9999.0, **kw: Any) -> Path:
    y, x = np.mgrid[0:size, 0:size].astype("float32")
    z = 100 + 40 * np.sin(x / 25) * np.cos(y / 30) + y * 0.3
    if nodata is not None:
        z[:10, :10] = nodata
    return _write(path, z[None].astype(kw.pop("dtype", "float32")), nodata=nodata, **kw)


LANDCOVER_COLORS = {1: (34, 139, 34, 255), 2: (65, 105, 225, 255), 3: (210, 180, 140, 255)}


def landcover(path: Path, *, size: int = 200) -> Path:
    y, x = np.mgrid[0:size, 0:size]
    classes = (1 + (x // 70 + y // 70) % 3).astype("uint8")
    return _write(path, classes[None], colormap=LANDCOVER_COLORS, nodata=0)


LANDCOVER_NAMES = {1: "Evergreen forest", 2: "Open water", 3: "Deciduous forest"}
# Class names are written by GDAL itself (Debian's Python bindings: rasterio cannot write them).
_NAME_CLASSES = """
import sys
from osgeo import gdal
path, how, names = sys.argv[1], sys.argv[2], eval(sys.argv[3])
ds = gdal.Open(path, gdal.GA_Update)
band = ds.GetRasterBand(1)
if how == "categories":
    band.SetCategoryNames([names.get(v, "") for v in range(max(names) + 1)])
elif how == "rows":  # Erdas style: row i is pixel value i
    rat = gdal.RasterAttributeTable()
    rat.CreateColumn("Class_Names", gdal.GFT_String, gdal.GFU_Name)
    for value in range(max(names) + 1):
        rat.SetValueAsString(value, 0, names.get(value, ""))
    band.SetDefaultRAT(rat)
else:
    rat = gdal.RasterAttributeTable()
    rat.CreateColumn("Value", gdal.GFT_Integer, gdal.GFU_MinMax)
    rat.CreateColumn("Class_Name", gdal.GFT_String, gdal.GFU_Name)
    for row, (value, name) in enumerate(sorted(names.items())):
        rat.SetValueAsInt(row, 0, value)
        rat.SetValueAsString(row, 1, name)
    band.SetDefaultRAT(rat)
ds = None
"""


def landcover_named(tmp: Path, *, how: str = "rat", driver: str = "GTiff") -> Path:
    """A land cover whose classes carry names: a GeoTIFF zipped with the .aux.xml GDAL wrote
    (an attribute table, or GDAL category names), or an Erdas .img with its own table."""
    import subprocess

    src = landcover(tmp / "landcover.tif")
    target = src if driver == "GTiff" else convert(src, tmp / "landcover.img", "HFA")
    how = how if driver == "GTiff" else "rows"
    subprocess.run(
        ["/usr/bin/python3", "-c", _NAME_CLASSES, str(target), how, repr(LANDCOVER_NAMES)],
        check=True,
        env={"PATH": "/usr/bin:/bin", "GDAL_PAM_ENABLED": "YES"},
    )
    if driver != "GTiff":
        return target
    return zip_of(
        tmp / "landcover.zip",
        {"landcover.tif": target, "landcover.tif.aux.xml": Path(f"{target}.aux.xml")},
    )


def rotated(path: Path, *, size: int = 120) -> Path:
    transform = Affine.translation(*ORIGIN) @ Affine.rotation(20) @ Affine.scale(PIXEL, -PIXEL)
    return dem(path, size=size, nodata=None, transform=transform)


def with_gcps(path: Path, *, size: int = 120) -> Path:
    x0, y0 = ORIGIN
    far = size * PIXEL
    gcps = [
        GroundControlPoint(0, 0, x0, y0),
        GroundControlPoint(0, size, x0 + far, y0 + 10),
        GroundControlPoint(size, 0, x0 - 10, y0 - far),
        GroundControlPoint(size, size, x0 + far - 10, y0 - far + 10),
    ]
    data = np.arange(size * size, dtype="float32").reshape(1, size, size)
    with rasterio.open(
        path, "w", driver="GTiff", width=size, height=size, count=1, dtype="float32",
        gcps=gcps, crs=f"EPSG:{UTM}",
    ) as ds:  # fmt: skip
        ds.write(data)
    return path


def wkt_without_epsg(path: Path) -> Path:
    wkt = (
        'PROJCS["Local UTM-like",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
        '298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],'
        'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],'
        'PARAMETER["central_meridian",-123.1],PARAMETER["scale_factor",0.9996],'
        'PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1]]'
    )
    return dem(path, size=100, crs=wkt)


def no_crs(path: Path) -> Path:
    return dem(path, size=100, crs=None)


def convert(src: Path, dst: Path, driver: str, **options: Any) -> Path:
    import rasterio.shutil

    rasterio.shutil.copy(src, dst, driver=driver, **options)
    for aux in dst.parent.glob(dst.name + ".aux.xml"):
        aux.unlink()
    return dst


def ascii_grid(tmp: Path) -> Path:
    return convert(dem(tmp / "g.tif", size=80), tmp / "grid.asc", "AAIGrid")


def world_file_zip(tmp: Path, *, kind: str = "png", members: tuple[str, ...] = ()) -> Path:
    """A PNG (or JPEG) with its world file and .prj in a zip, as exported by desktop GIS."""
    src = rgb(tmp / "src.tif", size=128)
    image = tmp / f"ortho.{kind}"
    with rasterio.open(src) as ds:
        data = ds.read()
    driver = "PNG" if kind == "png" else "JPEG"
    with rasterio.open(
        image, "w", driver=driver, width=128, height=128, count=3, dtype="uint8"
    ) as out:
        out.write(data)
    world = f"{PIXEL}\n0\n0\n{-PIXEL}\n{ORIGIN[0] + PIXEL / 2}\n{ORIGIN[1] - PIXEL / 2}\n"
    prj = rasterio.crs.CRS.from_epsg(UTM).to_wkt()
    archive = tmp / f"ortho_{kind}.zip"
    ext = "pgw" if kind == "png" else "jgw"
    with zipfile.ZipFile(archive, "w") as z:
        if "no-image" not in members:
            z.write(image, image.name)
        if "no-world" not in members:
            z.writestr(f"ortho.{ext}", world)
        z.writestr("ortho.prj", prj)
    return archive


# --- hostile or broken inputs


def _patch_tag(path: Path, tag: int, value: int) -> Path:
    """Rewrite one SHORT/LONG tag of a classic little-endian TIFF's first IFD in place."""
    raw = bytearray(path.read_bytes())
    assert raw[:4] == b"II*\x00"
    ifd = struct.unpack_from("<I", raw, 4)[0]
    (n,) = struct.unpack_from("<H", raw, ifd)
    for i in range(n):
        entry = ifd + 2 + 12 * i
        code, _kind, _count = struct.unpack_from("<HHI", raw, entry)
        if code == tag:
            # Rewritten as a LONG so that any 32-bit value fits.
            struct.pack_into("<HHII", raw, entry, code, 4, 1, value)
            path.write_bytes(bytes(raw))
            return path
    raise AssertionError(f"tag {tag} not found")


def _tiny(path: Path, **kw: Any) -> Path:
    data = np.zeros((1, 16, 16), dtype="uint8")
    return _write(path, data, compress="deflate", **kw)


def bomb(path: Path) -> Path:
    """A few hundred bytes whose header claims 150,000 × 150,000 pixels."""
    _tiny(path)
    _patch_tag(path, 256, 150_000)
    return _patch_tag(path, 257, 150_000)


def absurd_side(path: Path) -> Path:
    _tiny(path)
    _patch_tag(path, 256, 3_000_000)
    return _patch_tag(path, 257, 1)


def zero_size(path: Path) -> Path:
    _tiny(path)
    return _patch_tag(path, 256, 0)


def truncated(path: Path) -> Path:
    dem(path, size=200, compress="deflate", tiled=True, blockxsize=64, blockysize=64)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 3])
    return path


def too_many_bands(path: Path, bands: int = 20) -> Path:
    return _write(path, np.zeros((bands, 8, 8), dtype="uint8"))


def complex_pixels(path: Path) -> Path:
    return _write(path, np.zeros((1, 8, 8), dtype="complex64"))


def no_georeferencing(path: Path) -> Path:
    data = np.zeros((1, 32, 32), dtype="uint8")
    with rasterio.open(
        path, "w", driver="GTiff", width=32, height=32, count=1, dtype="uint8"
    ) as ds:
        ds.write(data)
    return path


def vrt_text(target: str = "/etc/passwd") -> str:
    return (
        '<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Byte" band="1">'
        f'<SimpleSource><SourceFilename relativeToVRT="0">{target}</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>"
    )


def zip_of(path: Path, members: dict[str, bytes | Path]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, content in members.items():
            if isinstance(content, Path):
                z.write(content, name)
            else:
                z.writestr(name, content)
    return path


def png_bytes() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


Maker = Callable[[Path], tuple[Path, str]]


def hostile_corpus() -> dict[str, tuple[Maker, str]]:
    """name: (maker returning (file, upload name), a phrase the analyst's message must contain)."""

    def f(fn: Callable[[Path], Path], upload: str) -> Maker:
        return lambda tmp: (fn(tmp / upload.replace("/", "_")), upload)

    def raw(content: bytes, upload: str) -> Maker:
        def make(tmp: Path) -> tuple[Path, str]:
            p = tmp / "upload.bin"
            p.write_bytes(content)
            return p, upload

        return make

    def z(members: Callable[[Path], dict[str, bytes | Path]], upload: str = "a.zip") -> Maker:
        return lambda tmp: (zip_of(tmp / "upload.zip", members(tmp)), upload)

    tif = lambda tmp: dem(tmp / "ok.tif", size=40)  # noqa: E731
    return {
        "decompression bomb": (f(bomb, "bomb.tif"), "pixels per band; the limit is"),
        "absurd dimensions": (f(absurd_side, "strip.tif"), "a side may be at most"),
        "zero-size band": (f(zero_size, "empty_band.tif"), "could not be read"),
        "truncated tiff": (f(truncated, "cut.tif"), "damaged"),
        "too many bands": (f(too_many_bands, "bands.tif"), "bands; the limit is"),
        "complex pixels": (f(complex_pixels, "complex.tif"), "which we do not import"),
        "no georeferencing": (f(no_georeferencing, "plain.tif"), "has no georeferencing"),
        "png renamed tif": (raw(png_bytes(), "photo.tif"), "its content is PNG"),
        "vrt disguised as tif": (raw(vrt_text().encode(), "ortho.tif"), "VRT file"),
        "vrt disguised as img": (raw(vrt_text().encode(), "dem.img"), "VRT file"),
        "empty file": (raw(b"", "empty.tif"), "empty (0 bytes)"),
        "random bytes": (raw(b"\x01\x02garbage" * 50, "noise.tif"), "not a raster format"),
        "vsi path as name": (raw(b"II*\x00", "/vsicurl/http://example.com/a.tif"), "virtual"),
        "subdataset syntax": (raw(b"II*\x00", "GTIFF_DIR:1:/etc/a.tif"), "connection string"),
        "ovr side file pointing elsewhere": (
            z(lambda t: {"ortho.tif": tif(t), "ortho.tif.ovr": vrt_text().encode()}),
            "side file",
        ),
        "msk side file": (
            z(lambda t: {"ortho.tif": tif(t), "ortho.tif.msk": b"II*\x00rest"}),
            "side file",
        ),
        "aux.xml pointing elsewhere": (
            z(
                lambda t: {
                    "ortho.tif": tif(t),
                    "ortho.tif.aux.xml": b"<PAMDataset><SourceFilename>/vsicurl/http://x/y"
                    b"</SourceFilename></PAMDataset>",
                }
            ),
            "point elsewhere",
        ),
        "crs as url in prj": (
            z(
                lambda t: {
                    "o.png": png_bytes(),
                    "o.pgw": b"1\n0\n0\n-1\n0\n0\n",
                    "o.prj": b"http://evil.example/crs.wkt",
                }
            ),
            "refers to a URL",
        ),
        "world file without image": (
            z(lambda t: {"o.pgw": b"1\n0\n0\n-1\n0\n0\n", "o.prj": b"GEOGCS[]"}),
            "but no image",
        ),
        "two images in one zip": (
            z(lambda t: {"a.tif": tif(t), "b.tif": dem(t / "b.tif", size=20)}),
            "one image per upload",
        ),
        "plain png without world file": (raw(png_bytes(), "photo.png"), "no georeferencing"),
        "broken ascii grid": (raw(b"ncols -5\nnrows x\n1 2 3\n", "grid.asc"), "could not be read"),
        "no crs": (f(no_crs, "nocrs.tif"), "has no coordinate system"),
        "world file alone": (raw(b"1\n0\n0\n-1\n0\n0\n", "ortho.pgw"), "world file on its own"),
    }


def manifest(tmp: Path) -> str:
    return json.dumps(sorted(hostile_corpus()))
