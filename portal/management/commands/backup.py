from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backup import BackupError, backup_write


class Command(BaseCommand):
    help = "Write one backup archive: database dump, stored files, manifest with checksums."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="archive path (default var/backups/…)")

    def handle(self, *args: Any, output: Path | None = None, **options: Any) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = output or settings.BASE_DIR / "var" / "backups" / f"sharedgis-{stamp}.tar"
        try:
            manifest = backup_write(output=path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["tables"].values())
        files = len(manifest["files"]) - 1
        self.stdout.write(f"Backup written: {path} ({rows:,} rows, {files} stored files)")
