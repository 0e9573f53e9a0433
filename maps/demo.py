"""Demo maps: one styled, published map per demo town (idempotent: keyed by map title).

Uses the demo layers of the town's first project when the layers demo made some; otherwise it
generates a small parcel layer inside the town's boundary so the viewer has something to show.
"""

from django.contrib.auth.models import User
from django.db import connection, transaction

from layers import partitions
from layers.models import Layer, LayerVersion
from layers.tiles import overviews_prepare
from maps.models import Map, MapLayer
from maps.services import (
    map_create,
    map_layer_add,
    map_layer_update,
    map_publish,
    map_version_attach,
    schema_fields,
)
from maps.styles import is_numeric_type
from projects.demo import demo_projects
from projects.models import Deliverable, Project

# (project slug, map title)
DEMO_MAPS = [
    ("yountville-zoning", "Yountville zoning 2026"),
    ("calistoga-stormwater", "Calistoga stormwater assets"),
]
PARCEL_SCHEMA = [
    {"name": "apn", "type": "string"},
    {"name": "zoning", "type": "string"},
    {"name": "assessed_value", "type": "real"},
]


def _generated_layer(project: Project, by: User) -> Layer:
    """A grid of parcels inside the client's boundary (about 1,600 features)."""
    layer, _ = Layer.objects.get_or_create(
        project=project, name="Demo parcels", defaults={"created_by": by}
    )
    if layer.current_version is not None:
        return layer
    version = LayerVersion.objects.create(
        layer=layer,
        number=1,
        source_filename="generated",
        source_format="generated",
        geometry_type="Polygon",
        schema=PARCEL_SCHEMA,
        created_by=by,
    )
    boundary = project.agreement.client.boundary
    assert boundary is not None  # load() only generates inside a boundary
    w, s, e, n = boundary.extent
    with connection.cursor() as cur:
        partitions.create_attached(cur, version.pk)
        cur.execute(
            "INSERT INTO layers_feature (version_id, fid, geom, properties) "
            "SELECT %(v)s, i * 40 + j, ST_MakeEnvelope(%(w)s + i * %(dx)s, %(s)s + j * %(dy)s, "
            "  %(w)s + (i + 0.85) * %(dx)s, %(s)s + (j + 0.85) * %(dy)s, 4326), "
            "jsonb_build_object('apn', lpad((i * 40 + j)::text, 6, '0'), "
            "  'zoning', (ARRAY['R-1', 'R-2', 'C-1', 'PD', 'OS'])[1 + ((i / 8 + j / 8) %% 5)], "
            "  'assessed_value', 250000 + ((i * 7919 + j * 104729) %% 1500000)) "
            "FROM generate_series(0, 39) i, generate_series(0, 39) j",
            {"v": version.pk, "w": w, "s": s, "dx": (e - w) / 40, "dy": (n - s) / 40},
        )
    version.feature_count = 1600
    version.save(update_fields=["feature_count"])
    layer.current_version = version
    layer.save(update_fields=["current_version"])
    return layer


def _style_for(version: LayerVersion) -> dict:
    fields = schema_fields(version)
    text = [f for f, t in fields.items() if not is_numeric_type(t)]
    numeric = [f for f, t in fields.items() if is_numeric_type(t)]
    popup = [{"attribute": f, "alias": f.replace("_", " ").capitalize()} for f in list(fields)[:4]]
    if "Point" in version.geometry_type and numeric:
        return {"type": "graduated", "attribute": numeric[0], "method": "jenks", "classes": 5,
                "ramp": "ylorrd", "symbol": {"marker": "circle", "size": 8}, "popup": popup}  # fmt: skip
    if text:
        return {"type": "categorized", "attribute": "zoning" if "zoning" in text else text[0],
                "popup": popup, "symbol": {"fill_opacity": 0.7, "stroke": "#ffffff"}}  # fmt: skip
    return {"type": "single", "popup": popup}


@transaction.atomic
def load() -> None:
    analyst = User.objects.filter(username="analyst").first()
    if analyst is None:
        return
    for slug, title in DEMO_MAPS:
        project = demo_projects().filter(slug=slug).first()
        if project is None or Map.objects.filter(project=project, title=title).exists():
            continue
        layers = list(
            Layer.objects.filter(project=project, current_version__isnull=False).order_by("name")
        )
        if not layers and project.agreement.client.boundary is not None:
            layers = [_generated_layer(project, analyst)]
        if not layers:
            continue
        new = map_create(project=project, title=title, by=analyst)
        for layer in layers[:4]:
            version = layer.current_version
            assert version is not None  # filtered above
            added = map_layer_add(map=new, layer=layer, by=analyst)
            map_layer_update(
                map_layer=MapLayer.objects.select_related("map__project__agreement").get(
                    pk=added.pk
                ),
                by=analyst,
                style=_style_for(version),
            )
            overviews_prepare(version.pk)
        published = map_publish(
            map=new, by=analyst, notes="Demo release: styled and published to the town."
        )
        # The town reviews a delivered map deliverable with the map it was delivered with.
        delivered = project.deliverables.filter(
            kind=Deliverable.Kind.MAP, status=Deliverable.Status.DELIVERED
        ).first()
        if delivered is not None:
            map_version_attach(version=published, deliverable=delivered, by=analyst)
