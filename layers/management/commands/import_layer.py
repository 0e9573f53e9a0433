"""`manage.py import_layer PATH --project SLUG`: the web import, run synchronously."""

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from layers.ingest.errors import ImportFailed
from layers.services import import_options_parse, layer_import_file
from projects.models import Project


class Command(BaseCommand):
    help = "Import a vector or raster file into a project as a new layer (all or nothing)."
    requires_system_checks: list[str] = []  # a fast CLI: checks run with the server

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--name", default="", help="layer name (default: the file name)")
        parser.add_argument("--layer", default="", help="layer inside the source (GeoPackage)")
        parser.add_argument(
            "--srid",
            default=None,
            help="EPSG code of the source (for files without one; overrides the file's)",
        )
        parser.add_argument("--drop-z", action="store_true", help="store 2D geometries")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            project = (
                Project.objects.select_related("agreement").filter(slug=opts["project"]).first()
            )
            if project is None:
                raise ImportFailed(f"There is no project with the slug “{opts['project']}”.")
            options = import_options_parse(
                {
                    "name": opts["name"],
                    "source_layer": opts["layer"],
                    "srid": opts["srid"],
                    "drop_z": opts["drop_z"],
                }
            )
            path = Path(opts["path"])
            if not str(opts["path"]).lower().startswith("/vsi") and ":" not in opts["path"]:
                path = path.resolve()
            versions = layer_import_file(
                project=project,
                path=path,
                original_filename=opts["path"],
                by=None,
                options=options,
            )
        except ImportFailed as exc:
            self.stderr.write(f"import_layer: {exc.message}")
            sys.exit(1)
        for version in versions:
            extent = list(version.extent.extent) if version.extent else None
            if version.layer.kind == version.layer.Kind.RASTER:
                self._raster(version, extent, as_json=opts["json"])
                continue
            if opts["json"]:
                self.stdout.write(
                    json.dumps(
                        {
                            "id": version.layer_id,
                            "name": version.layer.name,
                            "feature_count": version.feature_count,
                            "geometry_type": version.geometry_type,
                            "source_srid": version.source_srid,
                            "extent": extent,
                        }
                    )
                )
            else:
                self.stdout.write(
                    f"Imported layer {version.layer_id} “{version.layer.name}”: "
                    f"{version.feature_count:,} {version.geometry_type} features"
                    f" (EPSG:{version.source_srid or '?'} → 4326)."
                )
                for warning in version.warnings:
                    self.stdout.write(f"  warning: {warning}")

    def _raster(self, version: Any, extent: list[float] | None, *, as_json: bool) -> None:
        raster = version.raster
        if as_json:
            self.stdout.write(
                json.dumps(
                    {
                        "id": version.layer_id,
                        "name": version.layer.name,
                        "kind": "raster",
                        "width": raster.width,
                        "height": raster.height,
                        "bands": raster.bands,
                        "dtype": raster.dtype,
                        "source_srid": version.source_srid,
                        "extent": extent,
                        "nodata": raster.nodata,
                    }
                )
            )
            return
        self.stdout.write(
            f"Imported raster layer {version.layer_id} “{version.layer.name}”: "
            f"{raster.width:,} × {raster.height:,}, {raster.bands} band(s) of {raster.dtype}"
            f" (EPSG:{version.source_srid or '?'}), stored as a Cloud-Optimized GeoTIFF "
            f"in {raster.convert_seconds:,.1f} s."
        )
