"""Styles are validated server-side and classified over the data in SQL."""

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from maps.styles import (
    breaks_for,
    color_for,
    jenks_breaks,
    legend_for,
    ramp_colors,
    style_fields,
    style_resolve,
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
