"""``python manage.py import_questions FILE --bank NAME [--format gift|moodle-xml] [--dry-run]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from certification.models import QuestionBank
from certification.services.imports import FORMATS, questions_import
from certification.services.questions import bank_create
from config.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import single-choice, multiple-response and true/false questions from a GIFT or Moodle "
        "XML file into a bank (created if missing). Other question types are reported and "
        "skipped; a malformed file imports nothing. Importing the same file again adds nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--bank", required=True, help="Bank name (case-insensitive).")
        parser.add_argument(
            "--format", choices=FORMATS, help="Guessed from the content if omitted."
        )
        parser.add_argument("--dry-run", action="store_true", help="Report only; write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        bank = QuestionBank.objects.filter(name__iexact=options["bank"].strip()).first()
        notes: list[str] = []
        try:
            # One transaction: a bank created here is gone again if the import fails.
            with transaction.atomic():
                if bank is None and options["dry_run"]:
                    bank = QuestionBank(name=options["bank"].strip())  # nothing is written
                    notes.append(f"bank {bank.name!r} does not exist; it would be created")
                elif bank is None:
                    bank = bank_create(name=options["bank"], actor=None)
                    notes.append(f"created bank {bank.name!r}")
                report = questions_import(
                    bank=bank,
                    data=data,
                    fmt=options["format"],
                    dry_run=options["dry_run"],
                    actor=None,
                )
        except ApplicationError as error:
            raise CommandError(f"{path}: {error.message} Nothing was imported.") from None
        for note in notes:
            self.stdout.write(note)
        for skipped in report.skipped:
            self.stdout.write(f"skipped {skipped.title!r} at {skipped.location}: {skipped.reason}")
        if report.unchanged:
            self.stdout.write(f"{len(report.unchanged)} already in the bank, not added again")
        self.stdout.write(report.summary)
