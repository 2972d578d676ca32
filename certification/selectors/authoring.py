"""Reads for enablement's authoring pages: subjects, banks, tests and their counts.

Every count is aggregated in the database (a correlated subquery per figure), so a list page
runs the same few queries whether it shows five rows or fifty.
"""

from __future__ import annotations

from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Concat
from django.db.models.lookups import Exact

from accounts.models import User
from accounts.selectors import reps_visible_to
from certification.models import (
    Attempt,
    Choice,
    Exam,
    ExamAssignment,
    ExamSection,
    Question,
    QuestionBank,
    Subject,
)
from certification.selectors.exams import exam_results, in_category


class _SubqueryCount(Subquery):
    """COUNT(*) of a correlated subquery: one figure per row, no GROUP BY on the outer query."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


def subquery_count(queryset: QuerySet[Any]) -> _SubqueryCount:
    """Count the rows of ``queryset`` (correlated with OuterRef) for each outer row."""
    return _SubqueryCount(queryset.order_by().values("pk"))


def count_per_parent(model: type[Model], fk: str, **filters: Any) -> _SubqueryCount:
    """Count ``model`` rows whose ``fk`` is the outer row, matching ``filters``."""
    return subquery_count(model._default_manager.filter(**{fk: OuterRef("pk")}, **filters))


# Subjects -----------------------------------------------------------------------------------


def subjects_for_authoring(
    *, text: str = "", kind: str = "", status: str = ""
) -> QuerySet[Subject]:
    """Subjects with how many banks and tests use them, filtered by name, kind and status."""
    subjects = Subject.objects.annotate(
        bank_count=count_per_parent(QuestionBank, "subject"),
        exam_count=count_per_parent(Exam, "subject"),
    )
    if text := text.strip():
        subjects = subjects.filter(name__icontains=text)
    if kind:
        subjects = subjects.filter(kind=kind)
    if status == "active":
        subjects = subjects.filter(is_active=True)
    elif status == "retired":
        subjects = subjects.filter(is_active=False)
    return subjects.order_by("-is_active", "kind", "name")


def subjects_for_choice(*, active_only: bool = True) -> QuerySet[Subject]:
    """Subjects to pick from in a form: active ones unless told otherwise."""
    subjects = Subject.objects.all()
    if active_only:
        subjects = subjects.filter(is_active=True)
    return subjects.order_by("name")


# Banks --------------------------------------------------------------------------------------


def banks_for_authoring(*, text: str = "", subject_id: int | None = None) -> QuerySet[QuestionBank]:
    """Banks with their subject and question counts (all and active), filtered."""
    banks = QuestionBank.objects.select_related("subject").annotate(
        question_count=count_per_parent(Question, "bank"),
        active_count=count_per_parent(Question, "bank", is_active=True),
    )
    if text := text.strip():
        banks = banks.filter(Q(name__icontains=text) | Q(description__icontains=text))
    if subject_id is not None:
        banks = banks.filter(subject_id=subject_id)
    return banks.order_by("name")


def banks_for_choice() -> list[QuestionBank]:
    """Every bank with its active question count, for a section's bank picker (one query)."""
    return list(
        QuestionBank.objects.annotate(
            active_count=count_per_parent(Question, "bank", is_active=True)
        ).order_by("name")
    )


def bank_counts(*, bank_id: int) -> dict[str, int]:
    """How many questions the bank holds: all, active and retired."""
    figures = Question.objects.filter(bank_id=bank_id).aggregate(
        total=Count("pk"), active=Count("pk", filter=Q(is_active=True))
    )
    figures["retired"] = figures["total"] - figures["active"]
    return figures


def bank_categories(*, bank_id: int) -> list[dict[str, Any]]:
    """The bank's categories, parents included, with question counts that cover sub-categories.

    One GROUP BY query per category; the roll-up to parent paths runs over those few rows.
    """
    rows = (
        Question.objects.filter(bank_id=bank_id)
        .exclude(category="")
        .order_by()
        .values("category")
        .annotate(total=Count("pk"), active=Count("pk", filter=Q(is_active=True)))
    )
    totals: dict[str, dict[str, Any]] = {}
    for row in rows:
        parts = row["category"].split("/")
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            entry = totals.setdefault(
                path, {"category": path, "label": path, "total": 0, "active": 0}
            )
            entry["total"] += row["total"]
            entry["active"] += row["active"]
    return [totals[path] for path in sorted(totals)]


def bank_questions(
    *, bank_id: int, category: str = "", text: str = "", status: str = ""
) -> QuerySet[Question]:
    """A bank's questions for the bank page: category (with sub-categories), text and status."""
    questions = Question.objects.filter(bank_id=bank_id).filter(in_category(category))
    if text := text.strip():
        questions = questions.filter(Q(title__icontains=text) | Q(text__icontains=text))
    if status == "active":
        questions = questions.filter(is_active=True)
    elif status == "retired":
        questions = questions.filter(is_active=False)
    return questions.annotate(choice_count=count_per_parent(Choice, "question"))


def all_categories() -> list[str]:
    """Every category used in any bank, for suggestions when drawing from a category."""
    return list(
        Question.objects.exclude(category="")
        .order_by("category")
        .values_list("category", flat=True)
        .distinct()
    )


def question_with_choices(*, question_id: int) -> Question | None:
    """One question with its bank and choices (in order), or None."""
    return (
        Question.objects.select_related("bank__subject")
        .prefetch_related("choices")
        .filter(pk=question_id)
        .first()
    )


# Tests --------------------------------------------------------------------------------------


def exams_for_authoring(
    *, text: str = "", status: str = "", subject_id: int | None = None
) -> QuerySet[Exam]:
    """Tests with their subject and how many sections, assignments and graded attempts."""
    exams = Exam.objects.select_related("subject").annotate(
        section_count=count_per_parent(ExamSection, "exam"),
        assignment_count=count_per_parent(ExamAssignment, "exam"),
        attempt_count=subquery_count(
            Attempt.objects.filter(exam=OuterRef("pk")).exclude(status=Attempt.Status.IN_PROGRESS)
        ),
    )
    if text := text.strip():
        exams = exams.filter(title__icontains=text)
    if status:
        exams = exams.filter(status=status)
    if subject_id is not None:
        exams = exams.filter(subject_id=subject_id)
    return exams.order_by("subject__name", "title", "pk")


def exam_sections_available(*, exam: Exam) -> list[ExamSection]:
    """The test's sections, each with ``available``: the active questions it can draw from."""
    category = OuterRef("category")
    drawable = Question.objects.filter(bank=OuterRef("bank"), is_active=True).filter(
        Q(Exact(category, Value("")))
        | Q(category=category)
        | Q(category__startswith=Concat(category, Value("/")))
    )
    return list(
        exam.sections.select_related("bank")
        .annotate(available=subquery_count(drawable))
        .order_by("position", "pk")
    )


def exam_assignments(*, exam: Exam) -> QuerySet[ExamAssignment]:
    """Who the test is assigned to: teams first, then reps by name."""
    return (
        exam.assignments.select_related("team", "rep__team", "assigned_by")
        .alias(to_rep=ExpressionWrapper(Q(rep__isnull=False), output_field=BooleanField()))
        .order_by("to_rep", "team__path", "rep__display_name", "pk")
    )


def assignable_reps(*, viewer: User, text: str = "", limit: int = 50) -> tuple[list[User], int]:
    """Up to ``limit`` active reps the viewer may assign, matching a text; and how many match."""
    reps = reps_visible_to(viewer)
    if text := text.strip():
        reps = reps.filter(Q(display_name__icontains=text) | Q(email__icontains=text))
    reps = reps.order_by("display_name", "pk")
    return list(reps[:limit]), reps.count()


def exam_results_filtered(
    *, exam: Exam, viewer: User, text: str = "", outcome: str = ""
) -> QuerySet[Attempt]:
    """The viewer's view of the test's graded attempts, narrowed by rep name and outcome."""
    attempts = exam_results(exam=exam, viewer=viewer)
    if text := text.strip():
        attempts = attempts.filter(
            Q(rep__display_name__icontains=text) | Q(rep__email__icontains=text)
        )
    if outcome == "passed":
        attempts = attempts.filter(passed=True)
    elif outcome == "failed":
        attempts = attempts.filter(passed=False)
    return attempts


def attempt_for_review(*, attempt_id: int) -> Attempt | None:
    """An attempt with its test, subject and rep (and the rep's team), or None."""
    return (
        Attempt.objects.select_related("exam__subject", "rep__team").filter(pk=attempt_id).first()
    )
