"""Load the demo: composed here, at the top, calling each app's demo module in dependency order.

The demo makes known logins (and a superuser), so it runs only in development (DEBUG=1) unless
forced with --force or DEMO_FORCE=1, and never with the default password outside development.
"""

import os
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# Each app contributes its own demo data; later modules build on earlier ones.
DEMO_MODULES = ["projects.demo", "layers.demo", "hours.demo", "maps.demo"]
DEFAULT_PASSWORD = "sharedgis-demo"  # noqa: S105 - the one we refuse


class Command(BaseCommand):
    help = "Load the demo provider, two client towns, their users and work (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo although DEBUG is off (needs a DEMO_PASSWORD of your own).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = settings.DEMO_PASSWORD
        forced = options["force"] or os.environ.get("DEMO_FORCE", "") in {"1", "true", "yes"}
        if not settings.DEVELOPMENT:
            if not forced:
                raise CommandError(
                    "The demo creates known logins and a superuser: it loads only in development "
                    "(DEBUG=1). To load it anyway, pass --force (or DEMO_FORCE=1) with a "
                    "DEMO_PASSWORD of your own."
                )
            if password == DEFAULT_PASSWORD:
                raise CommandError(
                    "Outside development the demo never uses the default password: set "
                    "DEMO_PASSWORD to a password of your own."
                )
        logins = import_module(DEMO_MODULES[0]).load(password)
        for module in DEMO_MODULES[1:]:
            import_module(module).load()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Logins (password: {password}):"))
        for username, role, agency in logins:
            self.stdout.write(f"  {username:<18} {role:<8} {agency}")
