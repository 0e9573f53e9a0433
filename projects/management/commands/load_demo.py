from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand

# Each app contributes its own demo data, in dependency order.
DEMO_MODULES = ["projects.demo", "layers.demo", "hours.demo", "maps.demo"]


class Command(BaseCommand):
    help = "Load the demo provider, two client towns, their users and work (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        password = settings.DEMO_PASSWORD
        logins = import_module("projects.demo").load(password)
        for module in DEMO_MODULES[1:]:
            import_module(module).load()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Logins (password: {password}):"))
        for username, role, agency in logins:
            self.stdout.write(f"  {username:<18} {role:<8} {agency}")
