"""``python manage.py refresh_readiness_summaries [--all]``: re-derive readiness summaries now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from certification.services.readiness_summaries import readiness_summaries_refresh
from certification.services.tiers import all_rep_ids


class Command(BaseCommand):
    help = (
        "Re-derive the readiness summaries the readiness headline reads: the stale ones (as "
        "the task does every minute), or with --all every active rep's, for example after a "
        "restore or a bulk load that ran without triggers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Every active rep, not only stale.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = readiness_summaries_refresh(rep_ids=all_rep_ids() if options["all"] else None)
        left = f", {result.skipped} busy (left stale)" if result.skipped else ""
        self.stdout.write(
            f"refreshed {result.refreshed} readiness summar"
            f"{'ies' if result.refreshed != 1 else 'y'}{left} in {result.seconds:.1f} s"
        )
