"""Writes what the load benchmark's simulated users need (JSON on stdout) from the demo data.

Published map versions per client town with their tile URL templates and extents, a share link,
the analyst's project, the leads' agreements and a month with a statement. Creates the share link
when missing, and deletes the layers earlier load runs uploaded (`load-N`), so every run starts
from the same project: otherwise its page lists a few dozen more layers at each run (184 after
a day of runs, 95 ms of CPU per page instead of 5). Reads everything else.
"""

import json
import math
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()


def tiles_in(extent: list[float], z: int) -> list[tuple[int, int, int]]:
    """Every XYZ tile at zoom z touching the extent (lon/lat, EPSG:4326)."""
    n = 2**z

    def tx(lon: float) -> int:
        return int((lon + 180) / 360 * n)

    def ty(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    minx, miny, maxx, maxy = extent
    return [(z, x, y) for x in range(tx(minx), tx(maxx) + 1) for y in range(ty(maxy), ty(miny) + 1)]


DEMO_TOWNS = ("yountville", "calistoga")  # the client towns load_demo creates


def main() -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from maps.models import MapVersion, ShareLink
    from maps.selectors import tile_template
    from maps.services import share_link_create
    from projects.models import Project, ServiceAgreement

    maps: dict[str, list[dict[str, Any]]] = {}
    share: dict[str, Any] = {}
    analyst = User.objects.get(username="analyst")
    # Only the demo's towns: other benchmarks (bench-tiles, bench-raster, bench-ogc) publish maps
    # of their own towns into the same database, which the demo's users may not see.
    lead = User.objects.get(username="lead")
    for version in (
        MapVersion.objects.filter(map__project__agreement__client__slug__in=DEMO_TOWNS)
        .select_related("map__project__agreement__client")
        .order_by("pk")
    ):
        town = version.map.project.agreement.client.slug
        entry = {
            "page": f"/maps/versions/{version.pk}/",
            "extent": version.definition["extent"],
            "tiles": [tile_template(layer) for layer in version.definition["layers"]],
        }
        maps.setdefault(town, []).append(entry)
        if not share:
            link = ShareLink.objects.filter(version=version, revoked_at__isnull=True).first()
            if link is None or not link.is_active:
                link = share_link_create(
                    version=version, by=analyst, expires_at=timezone.now() + timedelta(days=30)
                )
            share = {
                "page": f"/share/{link.token}/",
                "extent": entry["extent"],
                "tiles": [
                    tile_template(layer, token=link.token) for layer in version.definition["layers"]
                ],
            }
    today = timezone.localdate()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    agreements = [
        {
            "page": f"/agreements/{a.pk}/",
            "statement": f"/agreements/{a.pk}/statements/{last_month:%Y-%m}/",
            "csv": f"/agreements/{a.pk}/statements/{last_month:%Y-%m}/statement.csv",
        }
        for a in ServiceAgreement.objects.visible_to(lead)
        .filter(client__slug__in=list(maps))
        .order_by("pk")
    ]
    project = Project.objects.filter(agreement__client__slug__in=list(maps)).order_by("pk").first()
    assert project is not None and maps and agreements, "load_demo first"
    from layers.models import Layer
    from layers.services import layer_delete

    for layer in Layer.objects.filter(project=project, name__regex=r"^load-[0-9]+$"):
        layer_delete(layer=layer, by=analyst)
    for entries in [*maps.values(), [share]]:
        for entry in entries:
            entry["tile_xyz"] = [
                t for z in (15, 16, 17, 18, 19) for t in tiles_in(entry["extent"], z)
            ]
    print(
        json.dumps(
            {
                "password": os.environ.get("DEMO_PASSWORD", "sharedgis-demo"),
                "clients": {town: [town, f"{town}-viewer"] for town in DEMO_TOWNS},
                "maps": maps,
                "share": share,
                "project": f"/projects/{project.slug}/",
                "upload": f"/api/projects/{project.slug}/layers/imports/",
                "agreements": agreements,
            }
        )
    )


if __name__ == "__main__":
    main()
