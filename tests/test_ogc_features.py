"""OGC API – Features over a town's published layers: paging, CRS, filters, errors (Django client)."""

from typing import Any

import pytest
from django.test import Client

from tests.conftest import World
from tests.ogc_helpers import Published, get_json, publish_parcels

pytestmark = pytest.mark.django_db


@pytest.fixture
def parcels(world: World) -> Published:
    return publish_parcels(world, n=250)


def items_url(p: Published, query: str = "") -> str:
    return f"/ogc/collections/{p.cid}/items" + (f"?{query}" if query else "")


def all_pages(client: Client, url: str) -> list[dict[str, Any]]:
    features, seen = [], 0
    while url:
        page = get_json(client, url)
        features += page["features"]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), "")
        seen += 1
        assert seen < 100
    return features


def test_the_landing_page_links_the_api_conformance_and_collections(as_town_a: Client) -> None:
    body = get_json(as_town_a, "/ogc/?f=json")
    rels = {link["rel"] for link in body["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= rels
    conformance = get_json(as_town_a, "/ogc/conformance")["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in conformance
    assert "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions" in conformance
    assert not any("array-functions" in c or "arithmetic" in c for c in conformance)


def test_a_client_lists_its_published_layer_with_its_map_and_version(
    parcels: Published, as_town_a: Client
) -> None:
    body = get_json(as_town_a, "/ogc/collections")
    (collection,) = body["collections"]
    assert collection["id"] == parcels.cid
    assert collection["featureCount"] == 250
    assert collection["publishedIn"][0]["map_title"] == "Zoning"
    assert collection["publishedIn"][0]["map_version"] == 1
    assert "http://www.opengis.net/def/crs/EPSG/0/3857" in collection["crs"]


def test_another_town_sees_no_collection_and_404_on_town_a_paths(
    parcels: Published, as_town_b: Client
) -> None:
    assert get_json(as_town_b, "/ogc/collections")["collections"] == []
    for path in ("", "/items", "/items/1", "/queryables", "/tiles"):
        response = as_town_b.get(f"/ogc/collections/{parcels.cid}{path}")
        assert response.status_code == 404, path
        missing = as_town_b.get(f"/ogc/collections/layer-999999{path}")
        assert missing.status_code == 404 and missing.content == response.content


def test_keyset_pages_return_every_feature_once_with_next_and_prev_links(
    parcels: Published, as_town_a: Client
) -> None:
    features = all_pages(as_town_a, items_url(parcels, "limit=60"))
    assert [f["id"] for f in features] == list(range(250))
    first = get_json(as_town_a, items_url(parcels, "limit=60"))
    assert first["numberMatched"] == 250 and first["numberReturned"] == 60
    assert not any(link["rel"] == "prev" for link in first["links"])
    second = get_json(as_town_a, next(x["href"] for x in first["links"] if x["rel"] == "next"))
    back = get_json(as_town_a, next(x["href"] for x in second["links"] if x["rel"] == "prev"))
    assert [f["id"] for f in back["features"]] == list(range(60))
    assert "OFFSET" not in str(second)


def test_limit_defaults_to_100_and_is_capped_at_10000(
    parcels: Published, as_town_a: Client
) -> None:
    assert get_json(as_town_a, items_url(parcels))["numberReturned"] == 100
    assert get_json(as_town_a, items_url(parcels, "limit=50000"))["numberReturned"] == 250
    assert as_town_a.get(items_url(parcels, "limit=0")).status_code == 400


def test_bbox_selects_features_in_crs84_and_in_lat_lon_epsg_4326(
    parcels: Published, as_town_a: Client
) -> None:
    # Parcel i sits at lon -122.36 + (i % 50) * 0.0004, lat 38.40 + (i // 50) * 0.0004.
    box = "-122.36,38.40,-122.3599,38.4001"
    ids = [f["id"] for f in get_json(as_town_a, items_url(parcels, f"bbox={box}"))["features"]]
    assert ids == [0]
    lat_lon = "38.40,-122.36,38.4001,-122.3599"
    crs = "http://www.opengis.net/def/crs/EPSG/0/4326"
    same = get_json(as_town_a, items_url(parcels, f"bbox={lat_lon}&bbox-crs={crs}"))
    assert [f["id"] for f in same["features"]] == [0]


def test_crs_reprojects_geometries_with_the_authority_axis_order(
    parcels: Published, as_town_a: Client
) -> None:
    url = items_url(parcels, "limit=1")
    lon, lat = get_json(as_town_a, url)["features"][0]["geometry"]["coordinates"][0][0]
    assert (round(lon, 4), round(lat, 4)) == (-122.36, 38.40)
    response = as_town_a.get(url + "&crs=http://www.opengis.net/def/crs/EPSG/0/4326")
    assert response["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    first = response.json()["features"][0]["geometry"]["coordinates"][0][0]
    assert (round(first[0], 4), round(first[1], 4)) == (38.40, -122.36)
    x, y = get_json(as_town_a, url + "&crs=http://www.opengis.net/def/crs/EPSG/0/3857")["features"][
        0
    ]["geometry"]["coordinates"][0][0]
    assert round(x) == -13621053 and 4.63e6 < y < 4.64e6
    bad = as_town_a.get(url + "&crs=http://www.opengis.net/def/crs/EPSG/0/9999999")
    assert bad.status_code == 400 and "not offered" in bad.json()["description"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filter=zone = 'R1' AND value < 100", [0, 4, 8]),
        ("filter=name LIKE 'Parcel 24_'", list(range(240, 250))),
        ("filter=zone IN ('C', 'I') AND value BETWEEN 0 AND 40", [2, 3]),
        ("filter=NOT (value >= 30) OR name = 'Parcel 249'", [0, 1, 2, 249]),
        ("filter=casei(zone) = 'r2' AND value <= 50", [1, 5]),
        ("filter=S_INTERSECTS(geometry, BBOX(-122.36, 38.40, -122.3599, 38.4001))", [0]),
        ("filter=S_INTERSECTS(geometry, POINT(-122.35985 38.40015))", [0]),
        ("filter=zone IS NULL", []),
        (
            'filter-lang=cql2-json&filter={"op": "and", "args": [{"op": "=", "args": [{"property": "zone"}, "R1"]}, {"op": "<", "args": [{"property": "value"}, 100]}]}',
            [0, 4, 8],
        ),
        (
            'filter-lang=cql2-json&filter={"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [-122.36, 38.40, -122.3599, 38.4001]}]}',
            [0],
        ),
        (
            'filter-lang=cql2-json&filter={"op": "between", "args": [{"property": "value"}, 10, 30]}',
            [1, 2, 3],
        ),
        ("zone=C&value=20", [2]),
    ],
)
def test_cql2_filters_and_property_equality_are_applied_in_the_database(
    parcels: Published, as_town_a: Client, query: str, expected: list[int]
) -> None:
    from urllib.parse import quote

    encoded = "&".join(
        f"{k}={quote(v)}" for k, v in (part.split("=", 1) for part in query.split("&"))
    )
    body = get_json(as_town_a, items_url(parcels, encoded + "&limit=1000"))
    assert [f["id"] for f in body["features"]] == expected
    assert body["numberMatched"] == len(expected)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("filter=zone = ", "could not be read"),
        ("filter=owner = 'x'", "Unknown property “owner”"),
        ("filter=value = 'ten'", "not a number"),
        ("filter=zone = 'R1'&filter-lang=sql", "filter-lang must be"),
        ("filter-lang=cql2-json&filter={not json", "not valid JSON"),
        ("bbox=1,2,3", "bbox takes 4 numbers"),
        ("nonsense=1", "Unknown query parameter"),
        ("datetime=2024-01-01", "no date attribute"),
        ("cursor=zz", "cursor"),
        ("token=abc", "never accepted in the URL"),
    ],
)
def test_a_bad_parameter_is_a_400_that_names_the_problem(
    parcels: Published, as_town_a: Client, query: str, message: str
) -> None:
    response = as_town_a.get(items_url(parcels, query))
    assert response.status_code == 400, response.content
    assert message in response.json()["description"]


def _with_built_dates(p: Published) -> None:
    """Give parcel i the date attribute built = 2000-01-01 + 30·i days (2000 is a leap year)."""
    from django.db import connection

    version = p.layer.current_version
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE layers_feature SET properties = properties || jsonb_build_object("
            "'built', (date '2000-01-01' + (fid * 30)::int)::text) WHERE version_id = %s",
            [version.pk],
        )
    version.schema = [*version.schema, {"name": "built", "type": "date"}]
    version.save(update_fields=["schema"])


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("T_BEFORE(built, DATE('2000-03-01'))", [0, 1]),
        ("T_AFTER(built, DATE('2020-01-01'))", list(range(244, 250))),
        ("T_AFTER(built, INTERVAL('..', '2020-01-01'))", list(range(244, 250))),
        ("T_BEFORE(built, INTERVAL('2000-03-01', '..'))", [0, 1]),
        ("T_DURING(built, INTERVAL('2000-01-02', '2000-03-01'))", [1]),
        ("T_INTERSECTS(built, INTERVAL('2000-01-31', '2000-03-01'))", [1, 2]),
        ("T_INTERSECTS(built, DATE('2000-01-31'))", [1]),
        ("T_EQUALS(built, DATE('2000-01-31'))", [1]),
        ("T_BEFORE(built, TIMESTAMP('2000-01-31T00:00:01Z')) AND zone = 'R2'", [1]),
        ("T_DISJOINT(built, INTERVAL('2000-01-31', '2020-01-01'))", [0, *range(244, 250)]),
        ('{"op": "t_before", "args": [{"property": "built"}, {"date": "2000-03-01"}]}', [0, 1]),
        (
            '{"op": "t_during", "args": [{"property": "built"}, '
            '{"interval": ["2000-01-02", "2000-03-01"]}]}',
            [1],
        ),
    ],
)
def test_temporal_functions_compare_a_date_attribute_with_dates_timestamps_and_intervals(
    parcels: Published, as_town_a: Client, cql: str, expected: list[int]
) -> None:
    from urllib.parse import quote

    _with_built_dates(parcels)
    lang = "cql2-json" if cql.startswith("{") else "cql2-text"
    body = get_json(
        as_town_a, items_url(parcels, f"filter-lang={lang}&filter={quote(cql)}&limit=1000")
    )
    assert [f["id"] for f in body["features"]] == expected


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        # Parcel 0's corner is the point; parcel 1 is 35 m east, parcel 50 44 m north, 51 56 m.
        ("S_DWITHIN(geometry, POINT(-122.36 38.40), 10)", [0]),
        ("S_DWITHIN(geometry, POINT(-122.36 38.40), 40)", [0, 1]),
        ("S_DWITHIN(geometry, POINT(-122.36 38.40), 50)", [0, 1, 50]),
        ("S_DWITHIN(geometry, POINT(-122.36 38.40), 0.05, km)", [0, 1, 50]),
        ("S_DWITHIN(geometry, POINT(-122.36 38.40), 164, 'ft')", [0, 1, 50]),
        (
            '{"op": "s_dwithin", "args": [{"property": "geometry"}, '
            '{"type": "Point", "coordinates": [-122.36, 38.40]}, 40]}',
            [0, 1],
        ),
    ],
)
def test_s_dwithin_measures_metres_on_the_ground_for_geographic_coordinates(
    parcels: Published, as_town_a: Client, cql: str, expected: list[int]
) -> None:
    from urllib.parse import quote

    lang = "cql2-json" if cql.startswith("{") else "cql2-text"
    body = get_json(
        as_town_a, items_url(parcels, f"filter-lang={lang}&filter={quote(cql)}&limit=1000")
    )
    assert [f["id"] for f in body["features"]] == expected


def test_s_dwithin_in_a_state_plane_filter_crs_measures_its_us_feet(
    parcels: Published, as_town_a: Client
) -> None:
    from urllib.parse import quote

    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT ST_X(p), ST_Y(p) FROM ST_Transform("
                    "ST_SetSRID(ST_MakePoint(-122.36, 38.40), 4326), 2226) p")  # fmt: skip
        x, y = cur.fetchone()
    crs = "http://www.opengis.net/def/crs/EPSG/0/2226"
    for feet, expected in ((131, [0, 1]), (164, [0, 1, 50])):  # 40 m and 50 m
        cql = quote(f"S_DWITHIN(geometry, POINT({x} {y}), {feet})")
        body = get_json(as_town_a, items_url(parcels, f"filter={cql}&filter-crs={crs}"))
        assert [f["id"] for f in body["features"]] == expected


@pytest.mark.parametrize(
    ("cql", "message"),
    [
        ("T_BEFORE(value, DATE('2000-01-01'))", "compares dates; “value” holds real"),
        ("T_BEFORE(nope, DATE('2000-01-01'))", "Unknown property “nope”"),
        ("A_CONTAINS(zone, ('R1'))", "A_CONTAINS: the layers of this server have no array"),
        ("value + 1 > 2", "arithmetic (+)"),
        ("ACCENTI(name) = 'x'", "uses ACCENTI"),
        ("S_DWITHIN(geometry, POINT(-122.36 38.40), -1)", "S_DWITHIN: the distance"),
        ("S_DWITHIN(geometry, POINT(-122.36 38.40), 5, parsecs)", "unknown unit 'parsecs'"),
        ("S_DWITHIN(zone, POINT(-122.36 38.40), 5)", "S_DWITHIN compares the property"),
        ("T_BEFORE(built, 'yesterday')", "takes DATE"),
    ],
)
def test_an_unsupported_or_misused_cql2_construct_is_a_400_naming_it(
    parcels: Published, as_town_a: Client, cql: str, message: str
) -> None:
    from urllib.parse import quote

    _with_built_dates(parcels)
    response = as_town_a.get(items_url(parcels, f"filter={quote(cql)}"))
    assert response.status_code == 400, response.content
    assert message in response.json()["description"]


def test_one_feature_by_id_and_404_for_a_missing_one(parcels: Published, as_town_a: Client) -> None:
    feature = get_json(as_town_a, f"/ogc/collections/{parcels.cid}/items/7")
    assert feature["id"] == 7 and feature["properties"]["name"] == "Parcel 7"
    assert as_town_a.get(f"/ogc/collections/{parcels.cid}/items/100000").status_code == 404
    assert as_town_a.get(f"/ogc/collections/{parcels.cid}/items/abc").status_code == 404


def test_queryables_are_the_layer_attributes_as_json_schema(
    parcels: Published, as_town_a: Client
) -> None:
    body = get_json(as_town_a, f"/ogc/collections/{parcels.cid}/queryables")
    assert body["properties"]["value"]["type"] == "number"
    assert body["properties"]["zone"]["type"] == "string"
    assert "geometry" in body["properties"]


def test_html_is_served_by_content_negotiation_and_f_html(
    parcels: Published, as_town_a: Client
) -> None:
    page = as_town_a.get(items_url(parcels, "limit=5"), HTTP_ACCEPT="text/html")
    assert page["Content-Type"].startswith("text/html") and b"Parcel 4" in page.content
    assert as_town_a.get("/ogc/collections?f=html")["Content-Type"].startswith("text/html")
    assert as_town_a.get(items_url(parcels, "f=json"))["Content-Type"] == "application/geo+json"


def test_the_openapi_document_describes_each_collections_items_parameters(
    parcels: Published, as_town_a: Client
) -> None:
    response = as_town_a.get("/ogc/api")
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    doc = response.json()
    params = doc["paths"][f"/collections/{parcels.cid}/items"]["get"]["parameters"]
    names = {p.get("name") for p in params}
    assert {"zone", "value", "name"} <= names
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (100, 10_000)


def test_older_published_versions_stay_addressable(
    parcels: Published, world: World, as_town_a: Client
) -> None:
    from maps.services import map_publish
    from tests.map_factories import add_parcels, make_layer_version

    newer = make_layer_version(layer=parcels.layer)
    add_parcels(newer, n=3)
    map_publish(map=parcels.version.map, by=world.analyst, notes="v2")
    latest = get_json(as_town_a, f"/ogc/collections/{parcels.cid}")
    assert latest["layerVersion"] == 2 and latest["featureCount"] == 3
    old = get_json(as_town_a, f"/ogc/collections/{parcels.cid}-v1/items?limit=1")
    assert old["numberMatched"] == 250


def test_the_analyst_reads_the_current_unpublished_version(
    parcels: Published, world: World, as_analyst: Client, as_town_a: Client
) -> None:
    from tests.map_factories import add_parcels, make_layer_version

    draft = make_layer_version(layer=parcels.layer)
    add_parcels(draft, n=2)
    assert get_json(as_analyst, f"/ogc/collections/{parcels.cid}")["featureCount"] == 2
    assert get_json(as_town_a, f"/ogc/collections/{parcels.cid}")["featureCount"] == 250
    assert as_town_a.get(f"/ogc/collections/{parcels.cid}-v2").status_code == 404


def test_vector_tiles_come_from_the_portal_tile_code_and_bad_tiles_are_json_404s(
    parcels: Published, as_town_a: Client
) -> None:
    from tests.map_factories import tile_of

    z, x, y = tile_of(-122.3595, 38.4001, 15)
    url = f"/ogc/collections/{parcels.cid}/tiles/WebMercatorQuad"
    tile = as_town_a.get(f"{url}/{z}/{y}/{x}?f=mvt")
    assert tile.status_code == 200 and tile["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert as_town_a.get(f"{url}/{z}/{y}/{x}", HTTP_IF_NONE_MATCH=tile["ETag"]).status_code == 304
    for bad in (f"{z}/{y}/-1", f"{z}/{2**z}/{x}", "99/0/0", "a/b/c"):
        response = as_town_a.get(f"{url}/{bad}")
        assert response.status_code == 404 and response["Content-Type"] == "application/json", bad
    template = next(x for x in get_json(as_town_a, url)["links"] if x["rel"] == "item")["href"]
    assert template.endswith("/{tileMatrix}/{tileRow}/{tileCol}?f=mvt")
