"""`manage.py export_layer ID --format FMT --output PATH [--srid N]`."""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from layers.exports import FORMATS, ExportError, export_version
from layers.models import Layer
from layers.raster.importer import RASTER_FORMATS, export_raster


class Command(BaseCommand):
    help = "Export a layer's current version to a file."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("id", type=int, help="layer id")
        parser.add_argument(
            "--format", required=True, choices=sorted(FORMATS) + list(RASTER_FORMATS)
        )
        parser.add_argument("--output", required=True)
        parser.add_argument("--srid", type=int, default=None, help="default 4326")

    def handle(self, *args: Any, **opts: Any) -> None:
        layer = Layer.objects.select_related("current_version").filter(pk=opts["id"]).first()
        if layer is None or layer.current_version is None:
            self.stderr.write(f"export_layer: there is no layer with id {opts['id']}.")
            sys.exit(1)
        if layer.kind == Layer.Kind.RASTER or opts["format"] in RASTER_FORMATS:
            try:
                out = export_raster(
                    version=layer.current_version, fmt=opts["format"], out=Path(opts["output"])
                )
            except ExportError as exc:
                self.stderr.write(f"export_layer: {exc}")
                sys.exit(1)
            self.stdout.write(f"Wrote {out.stat().st_size:,} bytes to {out}.")
            return
        try:
            out = export_version(
                version=layer.current_version,
                fmt=opts["format"],
                srid=opts["srid"],
                out=Path(opts["output"]),
            )
        except ExportError as exc:
            self.stderr.write(f"export_layer: {exc}")
            sys.exit(1)
        self.stdout.write(f"Wrote {layer.current_version.feature_count:,} features to {out}.")
