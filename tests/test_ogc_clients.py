"""Real clients against a live server: Debian's GDAL (ogrinfo/ogr2ogr), pyogrio's GDAL, OWSLib,
QGIS 3.22 (OAPIF and vector tiles) and schemathesis over the OpenAPI document."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import World
from tests.map_factories import tile_of
from tests.ogc_helpers import Published, publish_parcels, token_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

N = 2_500  # more than two pages of 1,000


@pytest.fixture
def served(world: World, live_server: Any) -> tuple[Published, str, str]:
    """(the published layer, the OGC API URL, a token of town A's manager)."""
    return publish_parcels(world, n=N), f"{live_server.url}/ogc", token_for(world.manager_a)


def gdal_env(token: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GDAL_HTTP_AUTH": "BASIC",
        "GDAL_HTTP_USERPWD": f"manager_a:{token}",
        "CPL_DEBUG": "ON",
        "HOME": str(tmp_path),
        # The OGCAPI driver caches map tiles (default ./gdalwmscache): per test, never stale.
        "GDAL_DEFAULT_WMS_CACHE_PATH": str(tmp_path / "gdalwmscache"),
    }


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, (cmd, done.stdout[-2000:], done.stderr[-3000:])
    return done


def read_geojson(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["features"]


def test_debian_gdal_lists_reads_every_page_and_filters_on_the_server(
    served: tuple[Published, str, str], tmp_path: Path
) -> None:
    p, url, token = served
    env = gdal_env(token, tmp_path)
    listing = run(["ogrinfo", "-ro", "-q", f"OAPIF:{url}"], env).stdout
    assert p.cid in listing
    out = tmp_path / "all.geojson"
    run(["ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{url}", p.cid, "-oo", "PAGE_SIZE=1000"], env)
    features = read_geojson(out)
    assert len(features) == N
    assert {f["properties"]["name"] for f in features} == {f"Parcel {i}" for i in range(N)}
    assert features[7]["properties"]["zone"] == "I" and features[7]["properties"]["value"] == 70
    # Parcels 0..49 are the first row of the grid; zone R1 is every fourth of them.
    out = tmp_path / "some.geojson"
    done = run(
        ["ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{url}", p.cid, "-oo", "PAGE_SIZE=1000",
         "-spat", "-122.3601", "38.3999", "-122.3401", "38.4002", "-where", "zone = 'R1'"],
        env,
    )  # fmt: skip
    assert sorted(f["properties"]["value"] for f in read_geojson(out)) == [
        i * 10 for i in range(0, 50, 4)
    ]
    requests = done.stderr
    assert "bbox=" in requests and "filter=" in requests, requests[-3000:]


def test_pyogrio_gdal_reads_the_whole_layer_and_a_filtered_one(
    served: tuple[Published, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p, url, token = served
    code = textwrap.dedent(f"""
        import json, pyogrio
        layers = [name for name, _ in pyogrio.list_layers("OAPIF:{url}")]
        everything = pyogrio.read_dataframe("OAPIF:{url}", layer="{p.cid}")
        some = pyogrio.read_dataframe("OAPIF:{url}", layer="{p.cid}",
            where="zone = 'C' AND value < 500", bbox=(-122.3601, 38.3999, -122.3401, 38.4002))
        print(json.dumps({{"layers": layers, "n": len(everything), "crs": str(everything.crs),
            "names": sorted(everything["name"])[:2], "some": sorted(some["value"].tolist())}}))
    """)
    done = run([sys.executable, "-c", code], {**gdal_env(token, tmp_path), "CPL_DEBUG": "OFF"})
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert p.cid in result["layers"]
    assert result["n"] == N
    assert result["names"] == ["Parcel 0", "Parcel 1"]
    assert result["some"] == [
        20.0,
        60.0,
        100.0,
        140.0,
        180.0,
        220.0,
        260.0,
        300.0,
        340.0,
        380.0,
        420.0,
        460.0,
    ]


def test_owslib_lists_collections_pages_and_filters(served: tuple[Published, str, str]) -> None:
    from owslib.ogcapi.features import Features

    p, url, token = served
    api = Features(url, headers={"Authorization": f"Bearer {token}"})
    assert p.cid in [c["id"] for c in api.collections()["collections"]]
    seen: list[int] = []
    page = api.collection_items(p.cid, limit=1000)
    while True:
        seen += [f["id"] for f in page["features"]]
        nxt = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        if nxt is None:
            break
        cursor = nxt.split("cursor=")[1].split("&")[0]
        page = api.collection_items(p.cid, limit=1000, cursor=cursor)
    assert seen == list(range(N))
    filtered = api.collection_items(
        p.cid, bbox=[-122.3601, 38.3999, -122.3401, 38.4002], filter="zone = 'I'", limit=100
    )
    assert [f["properties"]["value"] for f in filtered["features"]] == [
        i * 10 for i in range(3, 50, 4)
    ]
    assert filtered["numberMatched"] == 12


def test_pyogrio_gdal_ogcapi_driver_reads_a_vector_collection_s_tiles(
    served: tuple[Published, str, str], tmp_path: Path
) -> None:
    """pyogrio's GDAL (3.12) `OGCAPI:` driver reads the MVT tileset: one layer per zoom, every
    parcel in the tiles of zoom 14 with its attributes. (Debian's GDAL 3.6 opens no vector
    tileset through `OGCAPI:`, not even a minimal hand-written one; it reads these layers
    through OAPIF, above.)"""
    p, url, token = served
    source = f"OGCAPI:{url}/collections/{p.cid}"
    code = textwrap.dedent(f"""
        import json, pyogrio
        layers = [name for name, _ in pyogrio.list_layers("{source}")]
        tiles = pyogrio.read_dataframe("{source}", layer="Zoom level 14", API="TILES")
        print(json.dumps({{"layers": layers, "names": sorted(set(tiles["name"])),
            "columns": sorted(tiles.columns), "zone_7": sorted(set(tiles[tiles["name"] ==
            "Parcel 7"]["zone"]))}}))
    """)
    done = run([sys.executable, "-c", code], {**gdal_env(token, tmp_path), "CPL_DEBUG": "OFF"})
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["layers"][0] == "Zoom level 0" and "Zoom level 14" in result["layers"]
    assert result["names"] == sorted(f"Parcel {i}" for i in range(N))
    assert {"name", "zone", "value", "geometry"} <= set(result["columns"])
    assert result["zone_7"] == ["I"]


QGIS_SCRIPT = """
import json, os, sys
from qgis.core import (QgsApplication, QgsAuthMethodConfig, QgsVectorLayer, QgsVectorTileLayer,
                       QgsFeatureRequest, QgsRectangle, QgsBlockingNetworkRequest)
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtNetwork import QNetworkRequest
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
url, cid, user, token = sys.argv[1:5]
am = QgsApplication.authManager()
am.setMasterPassword("sharedgis-tests", True)
cfg = QgsAuthMethodConfig()
cfg.setName("SharedGIS")
cfg.setMethod("Basic")
cfg.setConfig("username", user)
cfg.setConfig("password", token)
stored = am.storeAuthenticationConfig(cfg)  # (ok, copy) in 3.22: keep using our own cfg
ok = stored[0] if isinstance(stored, tuple) else stored
layer = QgsVectorLayer(f"url='{url}' typename='{cid}' authcfg={cfg.id()}", "parcels", "OAPIF")
valid = layer.isValid()
names = list(layer.fields().names()) if valid else []
zone = names.index("zone") if "zone" in names else -1
count, zones = 0, set()
for feature in (layer.getFeatures() if valid else []):
    count += 1
    zones.add(feature.attributes()[zone])
in_box = sum(1 for _ in layer.getFeatures(QgsFeatureRequest(QgsRectangle(-122.3601, 38.3999, -122.3401, 38.4002)))) if valid else 0
tiles = QgsVectorTileLayer(
    "type=xyz&url=" + url + "/collections/" + cid + "/tiles/WebMercatorQuad/{z}/{y}/{x}?f%3Dmvt"
    + "&zmax=16&authcfg=" + cfg.id(), "tiles")
template = tiles.source().split("url=")[1].split("&")[0].replace("%3D", "=")
z, x, y = map(int, sys.argv[5:8])
# The tile the layer would draw, fetched by QGIS's network stack with the same auth config.
fetch = QgsBlockingNetworkRequest()
fetch.setAuthCfg(cfg.id())
tile_url = template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
fetch.get(QNetworkRequest(QUrl(tile_url)))
raw = fetch.reply().content()
print(json.dumps({"stored": bool(ok), "valid": valid, "count": count, "zones": sorted(zones),
                  "fields": names, "in_box": in_box, "tiles_valid": tiles.isValid(),
                  "tile_bytes": len(bytes(raw))}), flush=True)
os._exit(0)  # QGIS 3.22 may crash in its own teardown after a headless run
"""


@pytest.mark.skipif(not Path("/usr/lib/python3/dist-packages/qgis").exists(), reason="python3-qgis")
def test_qgis_adds_the_oapif_layer_with_a_token_auth_config_and_the_vector_tiles(
    served: tuple[Published, str, str], tmp_path: Path
) -> None:
    p, url, token = served
    script = tmp_path / "qgis_check.py"
    script.write_text(QGIS_SCRIPT)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path),
           "QT_QPA_PLATFORM": "offscreen"}  # fmt: skip
    z, x, y = tile_of(-122.3595, 38.4001, 15)
    args = [url, p.cid, "manager_a", token, str(z), str(x), str(y)]
    done = run(["/usr/bin/python3", str(script), *args], env)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["stored"] and result["valid"], result
    assert result["count"] == N
    assert result["zones"] == ["C", "I", "R1", "R2"]
    assert {"zone", "value", "name"} <= set(result["fields"])
    assert result["in_box"] == 50
    assert result["tiles_valid"] and result["tile_bytes"] > 100


def test_schemathesis_finds_no_server_error_and_no_response_off_the_document(
    served: tuple[Published, str, str], tmp_path: Path
) -> None:
    p, url, token = served
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli is not None
    done = subprocess.run(
        [cli, "run", f"{url}/api", "-H", f"Authorization: Bearer {token}",
         "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
         # The coverage phase takes about two minutes here; its edge cases (negative tile
         # rows, bad ids) are specified in tests/test_ogc_features.py instead.
         "--max-examples", "10", "--phases", "examples,fuzzing", "--no-color"],
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path), "SCHEMATHESIS_HOOKS": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_gdal_reads_the_pixels_of_a_raster_collection_through_its_map_tiles(
    world: World, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    """Debian's GDAL follows the tileset's advertised PNG template (its WMS driver, TMS mode)
    and writes the map tiles' pixels over the collection's extent to a GeoTIFF."""
    import rasterio
    from django.test import Client

    from tests.ogc_helpers import publish_raster

    settings.MEDIA_ROOT = tmp_path
    _, rid = publish_raster(world, tmp_path)
    token = token_for(world.manager_a)
    env = gdal_env(token, tmp_path)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    path = f"/ogc/collections/{rid}"
    collection = Client().get(path, **headers).json()
    tileset = Client().get(f"{path}/map/tiles/WebMercatorQuad", **headers).json()
    template = next(x["href"] for x in tileset["links"] if x["type"] == "image/png")
    template = template.replace("http://testserver", live_server.url)
    template = template.replace("{tileMatrix}", "${z}").replace("{tileRow}", "${y}")
    template = template.replace("{tileCol}", "${x}")
    world_m = 20037508.342789244
    xml = tmp_path / "tiles.xml"
    xml.write_text(
        textwrap.dedent(f"""\
        <GDAL_WMS>
          <Service name="TMS"><ServerUrl>{template.replace("&", "&amp;")}</ServerUrl></Service>
          <DataWindow><UpperLeftX>{-world_m}</UpperLeftX><UpperLeftY>{world_m}</UpperLeftY>
            <LowerRightX>{world_m}</LowerRightX><LowerRightY>{-world_m}</LowerRightY>
            <TileLevel>18</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY>
            <YOrigin>top</YOrigin></DataWindow>
          <Projection>EPSG:3857</Projection><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY>
          <BandsCount>4</BandsCount>
        </GDAL_WMS>
    """)
    )
    w, s, e, n = collection["extent"]["spatial"]["bbox"][0]
    out = tmp_path / "dem_tiles.tif"
    done = run(["gdal_translate", "-projwin", str(w), str(n), str(e), str(s),
                "-projwin_srs", "EPSG:4326", str(xml), str(out)], env)  # fmt: skip
    assert "/map/tiles/WebMercatorQuad/18/" in done.stderr  # the tiles came from our route
    with rasterio.open(out) as ds:
        pixels = ds.read()
        assert ds.crs.to_epsg() == 3857 and ds.count == 4
    alpha = pixels[-1]
    assert (alpha > 0).mean() > 0.5
    assert len(np.unique(pixels[0][alpha > 0])) > 10  # shaded relief, not a blank


def test_gdal_ogcapi_driver_opens_a_raster_collection_and_reads_the_portal_s_pixels(
    world: World, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    """Debian's GDAL 3.6 `OGCAPI:` driver (what `gdalinfo OGCAPI:…/collections/<id>` runs) follows
    the collection's tilesets-map link, picks WorldCRS84Quad, sizes the raster from the finest
    zoom served and crops it to the collection's extent; its pixels are the portal's map tile's.
    3.6 mis-sizes a zoom whose tileMatrixSetLimits are narrower than its matrix (a 69 × 886,864
    raster in WorldCRS84Quad, "Computed -srcwin … negative width" in WebMercatorQuad).
    """
    import io

    import rasterio
    from django.test import Client
    from PIL import Image

    from tests.ogc_helpers import publish_raster

    settings.MEDIA_ROOT = tmp_path
    _, rid = publish_raster(world, tmp_path)
    token = token_for(world.manager_a)
    env = {**gdal_env(token, tmp_path), "CPL_DEBUG": "OFF"}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    path = f"/ogc/collections/{rid}"
    w, s, e, n = Client().get(path, **headers).json()["extent"]["spatial"]["bbox"][0]
    tileset = Client().get(f"{path}/map/tiles/WorldCRS84Quad", **headers).json()
    z = max(int(m["tileMatrix"]) for m in tileset["tileMatrixSetLimits"])
    res = 180 / 256 / 2**z  # degrees per pixel of WorldCRS84Quad's zoom z
    source = f"OGCAPI:{live_server.url}{path}"

    info = json.loads(run(["gdalinfo", "-json", source], env).stdout)
    assert info["driverShortName"] == "OGCAPI"
    assert "CRS84" in info["coordinateSystem"]["wkt"]
    x0, dx, _, y0, _, dy = info["geoTransform"]
    assert abs(dx - res) < 1e-12 and abs(dy + res) < 1e-12
    assert abs(x0 - w) <= res and abs(y0 - n) <= res
    width, height = info["size"]
    assert abs(width - (e - w) / res) <= 2 and abs(height - (n - s) / res) <= 2
    assert len(info["bands"]) == 4

    out = tmp_path / "dem_ogcapi.tif"
    run(["gdal_translate", "-outsize", "256", "256", source, str(out)], env)
    with rasterio.open(out) as ds:
        pixels = ds.read()
        assert ds.count == 4 and ds.crs.to_string() in ("OGC:CRS84", "EPSG:4326")
    alpha = pixels[-1]
    assert (alpha > 0).mean() > 0.9
    assert len(np.unique(pixels[0][alpha > 0])) > 10  # shaded relief, not a blank

    # At its own resolution GDAL's pixel at the raster's centre is the portal tile's pixel there.
    native = tmp_path / "dem_native.tif"
    run(["gdal_translate", source, str(native)], env)
    lon, lat = (w + e) / 2, (s + n) / 2
    with rasterio.open(native) as ds:
        r, c = ds.index(lon, lat)
        ours = ds.read(window=((r, r + 1), (c, c + 1)))[:, 0, 0]
    fx, fy = (lon + 180) / res, (90 - lat) / res
    col, row = int(fx // 256), int(fy // 256)
    png = Client().get(f"{path}/map/tiles/WorldCRS84Quad/{z}/{row}/{col}?f=png", **headers)
    assert png.status_code == 200
    tile = np.asarray(Image.open(io.BytesIO(png.content)).convert("RGBA"))
    theirs = tile[int(fy) - row * 256, int(fx) - col * 256]
    assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1, (ours, theirs)
