"""Authoring services: question rules, duplicates, sanitising; tests, sections, publish, assign."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from certification.models import Choice, Exam, ExamAssignment, Question
from certification.services.exams import (
    SectionInput,
    exam_assign,
    exam_create,
    exam_problems,
    exam_publish,
    exam_set_sections,
    exam_unassign,
    exam_update,
)
from certification.services.questions import (
    ChoiceInput,
    QuestionInput,
    bank_create,
    question_create,
    question_update,
)
from config.errors import ApplicationError, ConflictError
from tests.factories.certification import BankFactory, SubjectFactory, make_question

pytestmark = pytest.mark.django_db


def _input(kind="single", weights=(100, 0), text="<p>Which?</p>", **extra):
    return QuestionInput(
        kind=kind,
        title="",
        text=text,
        choices=[ChoiceInput(f"Option {i}", Decimal(w)) for i, w in enumerate(weights)],
        **extra,
    )


@pytest.mark.parametrize(
    ("kind", "weights", "message"),
    [
        ("single", (100,), "at least two"),
        ("single", (50, 0), "worth 100%"),
        ("multiple", (50, 40, -10), "add up to 100%"),
        ("true_false", (100, 0, 0), "exactly two"),
        ("single", (100, -150), "between -100% and 100%"),
    ],
)
def test_choice_rules(kind, weights, message):
    bank = BankFactory()
    with pytest.raises(ApplicationError, match=message):
        question_create(bank=bank, data=_input(kind, weights), actor=None)
    assert not Question.objects.exists()
    assert not Choice.objects.exists()


def test_question_html_is_sanitised_and_title_derived():
    question = question_create(
        bank=BankFactory(),
        data=_input(text='<p onclick="x()">Pick <script>alert(1)</script>one</p>'),
        actor=None,
    )
    assert "<script" not in question.text
    assert "onclick" not in question.text
    assert question.title == "Pick one"


def test_identical_questions_are_refused_in_one_bank_but_allowed_in_another():
    bank = BankFactory()
    question_create(bank=bank, data=_input(), actor=None)
    with pytest.raises(ApplicationError, match="identical question") as raised:
        question_create(bank=bank, data=_input(), actor=None)
    assert raised.value.code == "duplicate_question"
    question_create(bank=BankFactory(), data=_input(), actor=None)


def test_update_replaces_choices_and_is_audited():
    question = make_question(BankFactory())
    question_update(question=question, data=_input("multiple", (50, 50, -100)), actor=None)
    question.refresh_from_db()
    assert question.kind == "multiple"
    assert [c.weight for c in question.choices.all()] == [50, 50, -100]
    assert AuditEvent.objects.filter(action="question.updated").count() == 1


def test_banks_need_unique_names():
    bank_create(name="Cloud", actor=None)
    with pytest.raises(ApplicationError, match="already a bank"):
        bank_create(name="cloud", actor=None)


def test_exam_settings_are_validated():
    subject = SubjectFactory()
    now = timezone.now()
    with pytest.raises(ApplicationError, match="open before it closes"):
        exam_create(
            subject=subject,
            actor=None,
            title="X",
            available_from=now,
            available_until=now - timedelta(days=1),
        )
    with pytest.raises(ApplicationError):
        exam_create(subject=subject, actor=None, title="X", pass_mark=Decimal(120))
    with pytest.raises(ApplicationError):
        exam_create(subject=subject, actor=None, title="", pass_mark=Decimal(50))
    assert not Exam.objects.exists()


def test_publish_lists_what_is_missing_then_succeeds():
    subject = SubjectFactory()
    exam = exam_create(subject=subject, actor=None, title="Essentials")
    with pytest.raises(ApplicationError, match="draws no questions"):
        exam_publish(exam=exam, actor=None)
    bank = BankFactory()
    make_question(bank)
    exam_set_sections(exam=exam, sections=[SectionInput(bank, 2)], actor=None)
    assert exam_problems(exam) == [f"2 from {bank.name} needs 2 active questions; there are 1."]
    make_question(bank)
    exam_publish(exam=exam, actor=None)
    exam.refresh_from_db()
    assert exam.status == Exam.Status.PUBLISHED


def test_sections_refuse_repeats_and_bad_counts():
    exam = exam_create(subject=SubjectFactory(), actor=None, title="Essentials")
    bank = BankFactory()
    with pytest.raises(ApplicationError, match="once"):
        exam_set_sections(
            exam=exam, sections=[SectionInput(bank, 1), SectionInput(bank, 2)], actor=None
        )
    with pytest.raises(ApplicationError, match="between 1 and 200"):
        exam_set_sections(exam=exam, sections=[SectionInput(bank, 0)], actor=None)


def test_archived_tests_cannot_change(exam_for, org):
    from certification.services.exams import exam_archive

    exam = exam_for(org.rep_a)
    exam_archive(exam=exam, actor=None)
    with pytest.raises(ConflictError):
        exam_update(exam=exam, actor=None, title="Renamed")


def test_assign_is_idempotent_and_checks_reps(org, exam_for):
    exam = exam_for()
    assert exam_assign(exam=exam, actor=None, teams=[org.alpha], reps=[org.rep_b]) == 2
    assert exam_assign(exam=exam, actor=None, teams=[org.alpha], reps=[org.rep_b]) == 0
    with pytest.raises(ApplicationError, match="Only active reps"):
        exam_assign(exam=exam, actor=None, reps=[org.manager_a])
    with pytest.raises(ApplicationError, match="at least one"):
        exam_assign(exam=exam, actor=None)
    with pytest.raises(ApplicationError, match="future"):
        exam_assign(
            exam=exam, actor=None, reps=[org.rep_c], due_at=timezone.now() - timedelta(days=1)
        )
    exam_unassign(assignment=ExamAssignment.objects.get(rep=org.rep_b), actor=None)
    assert list(exam.assignments.values_list("team__name", flat=True)) == ["Alpha"]


def test_archived_tests_refuse_new_sections_and_assignments(org, exam_for):
    from certification.services.exams import exam_archive

    exam = exam_for(org.rep_a)
    exam_archive(exam=exam, actor=None)
    bank = exam.sections.get().bank
    with pytest.raises(ConflictError, match="archived"):
        exam_set_sections(exam=exam, sections=[SectionInput(bank, 1)], actor=None)
    with pytest.raises(ConflictError, match="archived"):
        exam_assign(exam=exam, actor=None, reps=[org.rep_b])
    assert exam.sections.get().count == 5


def test_enablement_review_carries_every_weight_and_feedback(org, exam_for):
    from certification.selectors.exams import attempt_review
    from certification.services.attempts import attempt_finish, attempt_start

    exam = exam_for(org.rep_a, review_policy="correctness")
    attempt = attempt_finish(attempt=attempt_start(exam=exam, rep=org.rep_a).attempt)
    as_lead = attempt_review(attempt=attempt, viewer=org.enablement)
    assert as_lead.detail == "key"
    first = as_lead.questions[0]
    assert first.question_id == attempt.items.get(position=1).question_id
    assert all(c.weight is not None and c.feedback for c in first.choices)
    as_rep = attempt_review(attempt=attempt, viewer=org.rep_a)
    assert as_rep.detail == "correctness"
    assert all(c.weight is None and not c.feedback for c in as_rep.questions[0].choices)
    as_manager = attempt_review(attempt=attempt, viewer=org.manager_a)
    assert (as_manager.detail, as_manager.questions) == ("score", [])
