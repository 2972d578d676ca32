"""Importing question files into a bank: all or nothing, idempotent, dry run, limits."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent
from certification.importers.base import ImportFormatError
from certification.importers.detect import MAX_IMPORT_BYTES
from certification.models import Question, QuestionBank
from certification.services.imports import questions_import
from config.errors import ApplicationError
from tests.factories.certification import BankFactory

pytestmark = pytest.mark.django_db

GIFT = b"""// two supported, one essay
::Q1::Acme Cloud keeps backups for 35 days.{T}

::Q2::Which tier adds SSO?{=Business ~Team ~Enterprise only}

::Essay::Describe our mission.{}
"""
BROKEN = GIFT + b"\n::Q3::Unclosed block {=A ~B\n"


def test_import_adds_supported_questions_and_reports_skipped():
    bank = BankFactory()
    report = questions_import(bank=bank, data=GIFT, actor=None)
    assert report.format == "gift"
    assert [q.title for q in report.added] == ["Q1", "Q2"]
    assert [(s.title, s.location) for s in report.skipped] == [("Essay", "line 6")]
    assert report.summary == "imported 2 questions, skipped 1"
    assert bank.questions.count() == 2
    assert AuditEvent.objects.filter(action="bank.imported").count() == 1


def test_importing_the_same_file_again_adds_nothing():
    bank = BankFactory()
    questions_import(bank=bank, data=GIFT, actor=None)
    report = questions_import(bank=bank, data=GIFT, actor=None)
    assert report.summary == "imported 0 questions, skipped 1"
    assert len(report.unchanged) == 2
    assert bank.questions.count() == 2


def test_dry_run_writes_nothing():
    bank = BankFactory()
    report = questions_import(bank=bank, data=GIFT, dry_run=True, actor=None)
    assert report.summary == "imported 2 questions, skipped 1 (dry run: nothing was written)"
    assert not Question.objects.exists()


def test_a_malformed_file_imports_nothing_and_names_the_line():
    bank = BankFactory()
    with pytest.raises(ImportFormatError, match="line 8"):
        questions_import(bank=bank, data=BROKEN, actor=None)
    assert not Question.objects.exists()


def test_a_rule_breaking_question_fails_the_file_at_its_location():
    data = b"::Ok::Fine?{=A ~B}\n\n::Bad::Partial only?{~%50%A ~%40%B}\n"
    with pytest.raises(ImportFormatError, match="line 3"):
        questions_import(bank=BankFactory(), data=data, actor=None)
    assert not Question.objects.exists()


def test_limits_and_empty_files():
    with pytest.raises(ApplicationError, match="limit"):
        questions_import(bank=BankFactory(), data=b"x" * (MAX_IMPORT_BYTES + 1), actor=None)
    with pytest.raises(ApplicationError, match="empty"):
        questions_import(bank=BankFactory(), data=b"  \n", actor=None)


def test_moodle_xml_is_detected():
    xml = b"""<?xml version="1.0"?><quiz><question type="truefalse"><name><text>TF</text></name>
    <questiontext format="html"><text>True?</text></questiontext>
    <answer fraction="100"><text>true</text></answer>
    <answer fraction="0"><text>false</text></answer>
    </question></quiz>"""
    report = questions_import(bank=BankFactory(), data=xml, actor=None)
    assert report.format == "moodle-xml"
    assert Question.objects.get().kind == "true_false"


# The command ------------------------------------------------------------------------------


def _run(*args):
    out = StringIO()
    call_command("import_questions", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_command_creates_the_bank_and_ends_with_the_summary(tmp_path: Path):
    path = tmp_path / "cloud.gift"
    path.write_bytes(GIFT)
    lines = _run(str(path), "--bank", "Acme Cloud")
    assert lines[0] == "created bank 'Acme Cloud'"
    assert lines[1] == "skipped 'Essay' at line 6: essay questions are not supported"
    assert lines[-1] == "imported 2 questions, skipped 1"
    lines = _run(str(path), "--bank", "acme cloud")
    assert lines[-2:] == [
        "2 already in the bank, not added again",
        "imported 0 questions, skipped 1",
    ]
    assert QuestionBank.objects.count() == 1


def test_command_dry_run_and_errors(tmp_path: Path):
    path = tmp_path / "broken.gift"
    path.write_bytes(BROKEN)
    with pytest.raises(CommandError, match=r"line 8.*Nothing was imported"):
        _run(str(path), "--bank", "X")
    good = tmp_path / "good.gift"
    good.write_bytes(GIFT)
    lines = _run(str(good), "--bank", "Dry", "--dry-run", "--format", "gift")
    assert lines[-1].startswith("imported 2 questions, skipped 1 (dry run")
    assert not QuestionBank.objects.exists()
    with pytest.raises(CommandError, match="Cannot read"):
        _run(str(tmp_path / "missing.gift"), "--bank", "X")
