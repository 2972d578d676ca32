"""``python manage.py import_deals FILE [--dry-run] [--mapping NAME]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from certification.models import DealColumnMapping
from certification.services.deals import DealImportResult, deals_import_file
from config.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import deals from a CRM's CSV export (header: opportunity_id,rep_email,amount,"
        "currency,close_date,stage). Every bad row is listed with its row number and reason, "
        "and then nothing is imported; the last line is 'imported N deals (C created, "
        "U updated), rejected M rows', and the exit status is 1 when M > 0. Importing the same "
        "file again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Report only; write nothing.")
        parser.add_argument(
            "--mapping",
            metavar="NAME",
            help="A column mapping saved on the upload page, for a file with other column names.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        mapping = self._mapping(options["mapping"]) if options["mapping"] else None
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            result = deals_import_file(
                data=data,
                mapping=mapping,
                dry_run=options["dry_run"],
                actor=None,
                source="import_deals command",
            )
        except ApplicationError as error:
            raise CommandError(f"{path}: {error.message} Nothing was imported.") from None
        self._report(result, dry_run=options["dry_run"])
        if result.rejected:
            self.stdout.flush()
            sys.exit(1)

    def _mapping(self, name: str) -> dict[str, str]:
        saved = DealColumnMapping.objects.filter(name__iexact=name.strip()).first()
        if saved is None:
            raise CommandError(f"No column mapping named {name!r}.")
        return dict(saved.columns)

    def _report(self, result: DealImportResult, *, dry_run: bool) -> None:
        for rejected in result.rejected:
            where = f"row {rejected.row}"
            if rejected.opportunity_id:
                where += f" ({rejected.opportunity_id})"
            self.stdout.write(f"{where}: {rejected.reason}")
        if result.rejected:
            self.stdout.write("nothing was imported: fix these rows and import the file again")
        elif result.unchanged:
            self.stdout.write(f"{result.unchanged} deals were already up to date")
        if dry_run:
            self.stdout.write("(dry run: nothing was written)")
        self.stdout.write(result.summary)
