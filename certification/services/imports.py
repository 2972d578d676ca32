"""Importing question files (GIFT, Moodle XML) into a bank: all or nothing, idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from accounts.models import User
from accounts.services import audit_record
from certification.importers.base import ImportFormatError, ParsedQuestion, SkippedQuestion
from certification.importers.detect import MAX_IMPORT_BYTES, decode_text, detect_format
from certification.importers.gift import parse_gift
from certification.importers.moodle_xml import parse_moodle_xml
from certification.models import Question, QuestionBank
from certification.services.questions import (
    ChoiceInput,
    QuestionInput,
    normalise_question,
    question_create,
    question_fingerprint,
)
from config.errors import ApplicationError

FORMATS = ("gift", "moodle-xml")


@dataclass(frozen=True)
class ImportedQuestion:
    title: str
    location: str


@dataclass
class ImportReport:
    """What an import did (or, on a dry run, would do)."""

    format: str
    dry_run: bool
    added: list[ImportedQuestion] = field(default_factory=list)
    unchanged: list[ImportedQuestion] = field(default_factory=list)  # already in the bank
    skipped: list[SkippedQuestion] = field(default_factory=list)  # unsupported types

    @property
    def summary(self) -> str:
        line = f"imported {len(self.added)} questions, skipped {len(self.skipped)}"
        return f"{line} (dry run: nothing was written)" if self.dry_run else line


def _as_input(parsed: ParsedQuestion) -> QuestionInput:
    return QuestionInput(
        kind=parsed.kind,
        title=parsed.title,
        text=parsed.text,
        choices=[ChoiceInput(c.text, c.weight, c.feedback) for c in parsed.choices],
        category=parsed.category,
        general_feedback=parsed.general_feedback,
    )


def _parse(data: bytes, fmt: str) -> tuple[list[ParsedQuestion], list[SkippedQuestion]]:
    result = parse_gift(decode_text(data)) if fmt == "gift" else parse_moodle_xml(data)
    return result.questions, result.skipped


@transaction.atomic
def questions_import(
    *,
    bank: QuestionBank,
    data: bytes,
    fmt: str | None = None,
    dry_run: bool = False,
    actor: User | None,
) -> ImportReport:
    """Import every supported question of the file into the bank, or none.

    Unsupported question types are reported and skipped; a malformed file, or a question that
    breaks the rules authored questions follow, fails the whole import and names where. A
    question already in the bank (same content) is not added again, so re-importing a file
    adds nothing. A dry run reports the same and writes nothing.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ApplicationError(
            f"The file is {len(data) // 1024} KB; the limit is {MAX_IMPORT_BYTES // 1024} KB.",
            field_errors={"file": ["Too large."]},
            code="too_large",
        )
    if not data.strip():
        raise ApplicationError("The file is empty.", field_errors={"file": ["Empty."]})
    fmt = fmt or detect_format(data)
    if fmt not in FORMATS:
        raise ApplicationError(
            f"Unknown format {fmt!r}: use gift or moodle-xml.",
            field_errors={"format": ["Unknown format."]},
        )
    questions, skipped = _parse(data, fmt)
    report = ImportReport(format=fmt, dry_run=dry_run, skipped=list(skipped))
    seen: set[str] = set()
    for parsed in questions:
        try:
            clean = normalise_question(_as_input(parsed))
        except ApplicationError as error:
            raise ImportFormatError(error.message, location=parsed.location) from None
        key = question_fingerprint(clean)
        entry = ImportedQuestion(clean.title, parsed.location)
        in_bank = bank.pk is not None and (
            Question.objects.filter(bank=bank, source_key=key).exists()
        )
        if key in seen or in_bank:
            report.unchanged.append(entry)
            continue
        seen.add(key)
        if not dry_run:
            question_create(bank=bank, data=clean, actor=actor)
        report.added.append(entry)
    if not dry_run and report.added:
        audit_record(
            actor=actor,
            action="bank.imported",
            target=bank,
            changes={
                "format": fmt,
                "added": len(report.added),
                "unchanged": len(report.unchanged),
                "skipped": len(report.skipped),
            },
        )
    return report
