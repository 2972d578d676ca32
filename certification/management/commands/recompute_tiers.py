"""``python manage.py recompute_tiers [--rep EMAIL]``: recompute tiers now, in this process."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from certification.services.tiers import all_rep_ids, tiers_recompute


class Command(BaseCommand):
    help = (
        "Recompute every active rep's tier (or one rep's with --rep), store each change with "
        "its reasons, and print how many changed. The nightly task does the same."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rep", metavar="EMAIL", help="Only this rep.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rep"]:
            rep = User.objects.filter(email__iexact=options["rep"].strip(), is_rep=True).first()
            if rep is None:
                raise CommandError(f"No rep with the email {options['rep']!r}.")
            ids = [rep.pk]
        else:
            ids = all_rep_ids()
        started = time.monotonic()
        changed = tiers_recompute(rep_ids=ids, cause="recompute_tiers command")
        self.stdout.write(
            f"recomputed {len(ids)} rep{'s' if len(ids) != 1 else ''}: {changed} changed tier "
            f"in {time.monotonic() - started:.1f} s"
        )
