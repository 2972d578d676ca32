"""``python manage.py seed_demo``: build (or refresh) the demo organisation."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = (
        "Create or refresh the demo organisation (sign in as rep@, manager@ or lead@demo.test "
        "with password 'demo'). Idempotent. Refuses to run unless DEBUG is on."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates accounts with a public password and refuses to run with "
                "DEBUG off. Use it with the local settings only."
            )
        for dotted in settings.DEMO_SEEDERS:
            with transaction.atomic():
                summary = import_string(dotted)()
            figures = ", ".join(f"{k}={v}" for k, v in summary.items() if isinstance(v, int))
            self.stdout.write(f"{dotted}: {figures}")
        self.stdout.write(
            self.style.SUCCESS("Demo organisation ready. Password for every demo account: demo")
        )
