"""Prints, as JSON, what a restore must reproduce: run in its own process against DATABASE_URL.

`python -m tests.backup_fingerprint LAYER_ID AGREEMENT_ID YYYY-MM` gives every table's row count,
the layer's features (geometry as EWKB hex, properties), the month's statement, a vector tile
of the share link's map, the layer's GeoJSON and CSV downloads and every stored file (SHA-256).
"""

import hashlib
import json
import os
import sys
from datetime import date
from typing import Any

PARCELS_AT = (-122.3595, 38.4005)  # inside tests.map_factories' parcel grid


def fingerprint(layer_id: int, agreement_id: int, month: date) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.core.files.storage import default_storage
    from django.db import connection
    from django.test import Client

    from hours.statements import statement_for
    from maps.models import ShareLink
    from portal.backup import stored_files, table_counts
    from projects.models import ServiceAgreement
    from tests.map_factories import tile_of

    counts = table_counts()  # first: the logins below add session rows
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f.fid, ST_AsHexEWKB(f.geom), f.properties::text FROM layers_feature f "
            "JOIN layers_layer l ON l.current_version_id = f.version_id WHERE l.id = %s "
            "ORDER BY f.fid",
            [layer_id],
        )
        features = [list(row) for row in cursor.fetchall()]
    statement = statement_for(ServiceAgreement.objects.get(pk=agreement_id), month)
    link = ShareLink.objects.order_by("-pk").first()
    assert link is not None
    shared = link.version.layer_versions.order_by("pk").first()
    assert shared is not None
    z, x, y = tile_of(*PARCELS_AT, 14)
    anonymous = Client()
    tile = anonymous.get(
        f"/share/{link.token}/tiles/{shared.layer_id}/{z}/{x}/{y}.pbf?v={shared.pk}"
    )
    analyst = Client()
    analyst.force_login(User.objects.get(username="analyst"))
    downloads = {}
    for fmt in ("geojson", "csv"):
        response = analyst.get(f"/layers/{layer_id}/download/{fmt}/")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        downloads[fmt] = [response.status_code, hashlib.sha256(body).hexdigest()]
    files = {}
    for name in stored_files():
        with default_storage.open(name, "rb") as handle:
            files[name] = hashlib.sha256(handle.read()).hexdigest()
    return {
        "counts": counts,
        "features": features,
        "statement": json.loads(json.dumps(statement, default=str)),
        "tile": [tile.status_code, len(tile.content), hashlib.sha256(tile.content).hexdigest()],
        "downloads": downloads,
        "files": files,
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    year, mon = (int(p) for p in sys.argv[3].split("-"))
    print(json.dumps(fingerprint(int(sys.argv[1]), int(sys.argv[2]), date(year, mon, 1))))
