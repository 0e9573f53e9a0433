"""`manage.py token_create USERNAME [--name NAME] [--days N]`: print a new OGC API token, alone."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ogc.services import token_create


class Command(BaseCommand):
    help = "Create a personal access token for the OGC API and print it (one line)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="Command line", help="what the token is for")
        parser.add_argument("--days", type=int, default=None, help="days until it expires")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = get_user_model().objects.filter(username=opts["username"]).first()
        if user is None or not user.is_active:
            raise CommandError(f"There is no active user “{opts['username']}”.")
        try:
            _, clear = token_create(user=user, name=opts["name"], days=opts["days"], by=None)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(clear)
