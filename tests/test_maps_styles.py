"""Styles are validated server-side and classified over the data in SQL."""

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from maps.styles import (
    MAX_CLASSES,
    MIN_CLASSES,
    RAMPS,
    breaks_for,
    category_key,
    color_for,
    jenks_breaks,
    legend_for,
    ramp_colors,
    style_fields,
    style_resolve,
    style_schema,
    style_validate,
)
from tests.map_factories import make_parcel_layer

FIELDS = {"zone": "string", "value": "real", "name": "string"}


def test_an_empty_style_becomes_a_single_symbol_with_defaults() -> None:
    style = style_validate({}, FIELDS)
    assert style["type"] == "single"
    assert style["symbol"]["fill"].startswith("#") and style["popup"] == []
    assert (style["min_zoom"], style["max_zoom"]) == (0, 22)


@pytest.mark.parametrize(
    ("style", "message"),
    [
        ({"type": "heatmap"}, "Style type"),
        ({"type": "categorized", "attribute": "nope"}, "attribute of the layer"),
        ({"type": "graduated", "attribute": "zone"}, "numeric attribute"),
        ({"type": "graduated", "attribute": "value", "classes": 2}, "from 3 to 9"),
        ({"type": "graduated", "attribute": "value", "classes": 10}, "from 3 to 9"),
        ({"type": "graduated", "attribute": "value", "method": "kmeans"}, "Classification"),
        ({"type": "graduated", "attribute": "value", "ramp": "rainbow"}, "Colour ramp"),
        ({"symbol": {"fill": "red"}}, "colour like"),
        ({"symbol": {"stroke_width": 50}}, "Line width"),
        ({"symbol": {"dash": "wavy"}}, "Line dash"),
        ({"symbol": {"marker": "star"}}, "Marker shape"),
        ({"symbol": {"size": "big"}}, "Marker size"),
        ({"popup": [{"attribute": "secret"}]}, "popup attribute"),
        ({"label": {"attribute": "missing"}}, "label attribute"),
        ({"min_zoom": 15, "max_zoom": 10}, "minimum zoom"),
        ("not a style", "JSON object"),
    ],
)
def test_bad_styles_are_refused_with_a_clear_message(style, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        style_validate(style, FIELDS)
    assert message in " ".join(exc.value.messages)


def test_a_style_names_only_the_attributes_a_renderer_needs() -> None:
    style = style_validate(
        {
            "type": "categorized",
            "attribute": "zone",
            "label": {"attribute": "name"},
            "popup": [{"attribute": "zone", "alias": "Zoning"}],
        },
        FIELDS,
    )
    assert style_fields(style) == ["name", "zone"]
    assert style["popup"] == [{"attribute": "zone", "alias": "Zoning"}]


def test_ramps_interpolate_to_the_number_of_classes() -> None:
    colors = ramp_colors("blues", 5)
    assert len(colors) == 5 and colors[0] == "#eff3ff" and colors[-1] == "#08519c"
    assert len(set(ramp_colors("viridis", 9))) == 9


def test_jenks_finds_the_natural_gaps() -> None:
    values = np.array([1, 2, 3, 10, 11, 12, 50, 51, 52], float)
    assert jenks_breaks(values, np.ones(9), 3) == [3.0, 12.0, 52.0]


def test_weighted_jenks_matches_repeated_values() -> None:
    values = np.array([1.0, 2.0, 20.0, 21.0, 90.0])
    weights = np.array([10.0, 10.0, 5.0, 5.0, 1.0])
    assert jenks_breaks(values, weights, 3) == [2.0, 21.0, 90.0]


@pytest.mark.django_db
def test_classification_runs_over_the_whole_layer_in_sql(world) -> None:
    # value = 10 × i for i in 0..99
    version = make_parcel_layer(project=world.project_a, n=100).current_version
    assert breaks_for(version.pk, "value", "equal_interval", 3) == pytest.approx([330, 660, 990])
    quantiles = breaks_for(version.pk, "value", "quantile", 4)
    assert quantiles == pytest.approx([247.5, 495, 742.5, 990])
    jenks = breaks_for(version.pk, "value", "jenks", 5)
    assert len(jenks) == 5 and jenks[-1] == 990 and jenks == sorted(jenks)


@pytest.mark.django_db
def test_text_values_are_left_out_of_numeric_classes(world) -> None:
    from django.db import connection

    version = make_parcel_layer(project=world.project_a, n=10).current_version
    with connection.cursor() as cur:
        cur.execute(
            'UPDATE layers_feature SET properties = properties || \'{"value": "n/a"}\' '
            "WHERE version_id = %s AND fid = 9",
            [version.pk],
        )
    assert breaks_for(version.pk, "value", "equal_interval", 3)[-1] == 80


@pytest.mark.django_db
def test_categorized_styles_get_one_entry_per_value_and_an_other(world) -> None:
    version = make_parcel_layer(project=world.project_a, n=40).current_version
    style = style_resolve(
        {"type": "categorized", "attribute": "zone"}, version_id=version.pk, fields=FIELDS
    )
    assert sorted(c["value"] for c in style["categories"]) == ["C", "I", "R1", "R2"]
    assert [e["label"] for e in style["legend"]][-1] == "Other"
    r1 = next(c["color"] for c in style["categories"] if c["value"] == "R1")
    assert color_for(style, {"zone": "R1"}) == r1
    assert color_for(style, {"zone": "unknown"}) == style["other"]["color"]


@pytest.mark.django_db
def test_graduated_styles_carry_breaks_colours_and_a_legend(world) -> None:
    version = make_parcel_layer(project=world.project_a, n=50).current_version
    style = style_resolve(
        {"type": "graduated", "attribute": "value", "method": "quantile", "classes": 5},
        version_id=version.pk,
        fields=FIELDS,
    )
    assert len(style["breaks"]) == len(style["colors"]) == 5
    assert legend_for(style)[0]["label"].startswith("≤")
    assert color_for(style, {"value": 0}) == style["colors"][0]
    assert color_for(style, {"value": 490}) == style["colors"][-1]
    assert color_for(style, {"value": "text"}) == "#bdbdbd"


@pytest.mark.django_db
def test_an_attribute_without_numbers_cannot_be_graduated(world) -> None:
    version = make_parcel_layer(project=world.project_a, n=5).current_version
    with pytest.raises(ValidationError, match="no numeric values"):
        style_resolve(
            {"type": "graduated", "attribute": "zone"},
            version_id=version.pk,
            fields={**FIELDS, "zone": "integer"},  # declared numeric, holds text
        )


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (None, None),
        (True, "true"),
        (False, "false"),
        (3, "3"),
        (1.0, "1"),
        (-0.0, "0"),
        (2.5, "2.5"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (1e21, "1e+21"),
        (1e16, "10000000000000000"),
        (0.1 + 0.2, "0.30000000000000004"),
        ("R1", "R1"),
    ],
)
def test_category_values_are_named_as_javascript_writes_them(value, key) -> None:
    # What String(value) gives in the browser, which matches tile attributes against categories.
    assert category_key(value) == key


@pytest.mark.django_db
def test_booleans_and_whole_numbers_categorize_like_the_tiles_carry_them(world) -> None:
    from django.db import connection

    version = make_parcel_layer(project=world.project_a, n=8).current_version
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE layers_feature SET properties = properties || jsonb_build_object("
            "'flag', fid %% 2 = 0, 'floors', (fid %% 2) + 1.0) WHERE version_id = %s",
            [version.pk],
        )
    fields = {**FIELDS, "flag": "boolean", "floors": "real"}
    flags = style_resolve(
        {"type": "categorized", "attribute": "flag"}, version_id=version.pk, fields=fields
    )
    floors = style_resolve(
        {"type": "categorized", "attribute": "floors"}, version_id=version.pk, fields=fields
    )
    assert sorted(c["value"] for c in flags["categories"]) == ["false", "true"]
    assert sorted(c["value"] for c in floors["categories"]) == ["1", "2"]
    true = next(c["color"] for c in flags["categories"] if c["value"] == "true")
    assert color_for(flags, {"flag": True}) == true != flags["other"]["color"]
    assert color_for(floors, {"floors": 2.0}) == color_for(floors, {"floors": 2})


def test_every_choice_the_schema_offers_is_a_style_the_server_accepts() -> None:
    schema = style_schema()
    numeric = {"value": "real"}
    for kind in schema["types"]:
        attribute = {} if kind["name"] == "single" else {"attribute": "value"}
        style_validate({"type": kind["name"], **attribute}, numeric)
    for method in schema["methods"]:
        for ramp in schema["ramps"]:
            for classes in (schema["classes"]["min"], schema["classes"]["max"]):
                style = {"type": "graduated", "attribute": "value", "method": method["name"]}
                style_validate({**style, "ramp": ramp["name"], "classes": classes}, numeric)
    for marker in schema["markers"]:
        style_validate({"symbol": {"marker": marker}}, FIELDS)
    for dash in schema["dashes"]:
        style_validate({"symbol": {"dash": dash["name"]}}, FIELDS)
    for key, limit in schema["symbol_limits"].items():
        style_validate({"symbol": {key: limit["min"]}}, FIELDS)
        style_validate({"symbol": {key: limit["max"]}}, FIELDS)
        with pytest.raises(ValidationError):
            style_validate({"symbol": {key: limit["max"] + limit["step"]}}, FIELDS)
    zoom = schema["zoom"]
    style_validate({"min_zoom": zoom["min"], "max_zoom": zoom["max"]}, FIELDS)
    with pytest.raises(ValidationError):
        style_validate({"max_zoom": zoom["max"] + 1}, FIELDS)


def test_the_schema_carries_each_ramp_with_the_colours_a_style_of_n_classes_gets() -> None:
    ramps = {r["name"]: r for r in style_schema()["ramps"]}
    assert ramps.keys() == RAMPS.keys()
    for name, ramp in ramps.items():
        assert ramp["stops"] == RAMPS[name]
        assert ramp["colors"] == {
            str(n): ramp_colors(name, n) for n in range(MIN_CLASSES, MAX_CLASSES + 1)
        }
