from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database (DATABASE_URL) and empty storage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)

    def handle(self, *args: Any, archive: Path, **options: Any) -> None:
        try:
            manifest = backup_restore(archive_path=archive)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["tables"].values())
        self.stdout.write(
            f"Restored {archive} (taken {manifest['created_at']}): {rows:,} rows in "
            f"{len(manifest['tables'])} tables and {len(manifest['files']) - 1} stored files, "
            "checksums and row counts verified."
        )
