"""No server-side read of an upload reaches the network, however the file spells its CRS link."""

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from layers.ingest import safety
from tests.conftest import World
from tests.layers_data import (
    assert_fails_leaving_nothing,
    feature,
    geojson_bytes,
    point,
    run_import,
    write_bytes,
)

pytestmark = pytest.mark.django_db

PORT = 9391


@pytest.fixture
def crs_server() -> Iterator[list[str]]:
    """A local web server that would hand GDAL a CRS; it records every request it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(
                b'GEOGCS["fetched",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257]]]'
            )

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hits
    finally:
        server.shutdown()
        server.server_close()


LINK = {"type": "link", "properties": {"href": f"http://127.0.0.1:{PORT}/crs", "type": "ogcwkt"}}


def escaped(document: dict) -> bytes:
    """The same document with every letter of "crs" and of the URL's scheme as \\u escapes."""
    text = json.dumps(document)
    return (
        text.replace('"crs"', '"\\u0063\\u0072\\u0073"')
        .replace("http://", "\\u0068ttp://")
        .encode()
    )


def late(document_crs: dict) -> bytes:
    """A FeatureCollection whose crs member comes after more than a MiB of features."""
    features = [feature(point(), name="x" * 200, i=i) for i in range(6000)]
    return json.dumps(
        {"type": "FeatureCollection", "features": features, "crs": document_crs}
    ).encode()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(geojson_bytes([feature(point())], crs=LINK), id="plain link"),
        pytest.param(
            escaped({"type": "FeatureCollection", "crs": LINK, "features": [feature(point())]}),
            id="json escapes",
        ),
        pytest.param(late(LINK), id="crs after the first MiB"),
        pytest.param(
            geojson_bytes(
                [feature(point())],
                crs={"type": "name", "properties": {"name": f"http://127.0.0.1:{PORT}/n"}},
            ),
            id="name that is a url",
        ),
        pytest.param(
            geojson_bytes(
                [feature(point())],
                crs={"type": "name", "properties": {"name": "/etc/passwd"}},
            ),
            id="name that is a file",
        ),
        pytest.param(
            geojson_bytes(
                [
                    {
                        **feature(point()),
                        "geometry": {**point(), "crs": LINK},
                    }
                ]
            ),
            id="link on a geometry",
        ),
    ],
)
def test_a_geojson_crs_link_is_refused_before_gdal_reads_it(
    world: World, tmp_path: Path, crs_server: list[str], content: bytes
) -> None:
    path = write_bytes(tmp_path, "linked.geojson", content)
    assert_fails_leaving_nothing(world.project_a, path, "link to fetch")
    assert crs_server == []


def test_crs_names_and_attributes_called_crs_still_import(world: World, tmp_path: Path) -> None:
    names = [
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "EPSG:4326",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
    ]
    for name in names:
        content = geojson_bytes(
            [feature(point(), crs="EPSG:2226", note='say "crs": {"type": "link"}')],
            crs={"type": "name", "properties": {"name": name}},
        )
        (version,) = run_import(world.project_a, write_bytes(tmp_path, "ok.geojson", content))
        assert version.feature_count == 1 and version.source_srid == 4326


def test_gdal_itself_cannot_fetch_a_crs_link_with_the_upload_configuration(
    tmp_path: Path, crs_server: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyogrio

    # Defence in depth: even a document the check missed is read without any network access.
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    path = write_bytes(tmp_path, "linked.geojson", geojson_bytes([feature(point())], crs=LINK))
    safety.configure_gdal()
    info = pyogrio.read_info(str(path))
    assert crs_server == []
    assert "fetched" not in str(info.get("crs"))
