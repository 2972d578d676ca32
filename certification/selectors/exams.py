"""Reads for level 1: a rep's tests, an attempt as the rep may see it, results, item analysis.

The answer key (choice weights and feedback) lives in each attempt's snapshot. Only
``attempt_review`` reads it, and only for an attempt that is over.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    Exists,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast, Coalesce

from accounts.models import User
from accounts.selectors import reps_visible_to, team_and_ancestor_paths
from certification.models import (
    Attempt,
    AttemptQuestion,
    Certification,
    Exam,
    ExamAssignment,
    Question,
)
from certification.selectors.certificates import renewal_closed_q
from certification.services.grading import right_choice_ids
from config.errors import NotFoundError

# Item analysis: below this many graded answers a question is not flagged.
MIN_RESPONSES = 10
TOO_EASY = 0.90
TOO_HARD = 0.30
WEAK_DISCRIMINATION = 0.20


def in_category(category: str) -> Q:
    """Questions in the category or any category under it ("Products" covers "Products/Cloud")."""
    if not category:
        return Q()
    return Q(category=category) | Q(category__startswith=f"{category}/")


def active_question_count(*, bank_id: int, category: str = "") -> int:
    """How many active questions a section drawing from this bank and category can pick from."""
    return (
        Question.objects.filter(bank_id=bank_id, is_active=True)
        .filter(in_category(category))
        .count()
    )


def _assigned_to(rep: User) -> Q:
    """Assignments that reach the rep: to them, or to their team or any team above it."""
    return Q(rep=rep) | Q(team__path__in=team_and_ancestor_paths(rep.team))


def exam_is_assigned(*, exam: Exam, rep: User) -> bool:
    """The test is assigned to this active rep, directly or through their team."""
    if not (rep.is_active and rep.is_rep):
        return False
    return ExamAssignment.objects.filter(_assigned_to(rep), exam=exam).exists()


# A rep's tests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepExam:
    """One assigned test as the rep sees it in "My tests"."""

    exam: Exam
    state: str  # not_started, in_progress, passed, retake, cooling_down, used_up, not_open, closed
    attempts_used: int
    attempts_left: int | None  # None: no limit
    open_attempt_id: int | None
    open_deadline: datetime | None
    best_score: Decimal | None
    last_attempt_id: int | None
    next_attempt_at: datetime | None
    due_at: datetime | None

    @property
    def can_start(self) -> bool:
        return self.state in {"not_started", "retake", "in_progress"}


def _rep_exams_queryset(rep: User, now: datetime) -> QuerySet[Exam]:
    mine = Attempt.objects.filter(exam=OuterRef("pk"), rep=rep)
    per_exam = mine.order_by().values("exam")
    return (
        Exam.objects.filter(status=Exam.Status.PUBLISHED)
        .filter(Exists(ExamAssignment.objects.filter(_assigned_to(rep), exam=OuterRef("pk"))))
        .select_related("subject")
        .annotate(
            attempts_used=Coalesce(
                Subquery(per_exam.annotate(n=Count("pk")).values("n"), output_field=IntegerField()),
                0,
            ),
            best_score=Subquery(per_exam.annotate(best=Max("score")).values("best")),
            last_end=Subquery(per_exam.annotate(last=Max("finished_at")).values("last")),
            open_attempt_id=Subquery(
                mine.filter(status=Attempt.Status.IN_PROGRESS).values("pk")[:1]
            ),
            open_deadline=Subquery(
                mine.filter(status=Attempt.Status.IN_PROGRESS).values("deadline")[:1]
            ),
            last_attempt_id=Subquery(
                mine.exclude(status=Attempt.Status.IN_PROGRESS)
                .order_by("-finished_at")
                .values("pk")[:1]
            ),
            # Held and not yet open for recertification (see renewal_closed_q).
            certified=Exists(
                Certification.objects.filter(
                    renewal_closed_q(now), rep=rep, subject=OuterRef("subject"), level=1
                )
            ),
            due_at=Subquery(
                ExamAssignment.objects.filter(_assigned_to(rep), exam=OuterRef("pk"))
                .order_by()
                .values("exam")
                .annotate(due=Min("due_at"))
                .values("due")
            ),
        )
        .order_by("subject__name", "title")
    )


def _state(exam: Any, now: datetime) -> tuple[str, datetime | None]:  # noqa: PLR0911 - one per state
    if exam.open_attempt_id:
        return "in_progress", None
    if exam.certified:
        return "passed", None
    if exam.available_from and now < exam.available_from:
        return "not_open", exam.available_from
    if exam.available_until and now >= exam.available_until:
        return "closed", None
    if exam.max_attempts is not None and exam.attempts_used >= exam.max_attempts:
        return "used_up", None
    if exam.cooldown_minutes and exam.last_end:
        opens = exam.last_end + timedelta(minutes=exam.cooldown_minutes)
        if now < opens:
            return "cooling_down", opens
    return ("retake" if exam.attempts_used else "not_started"), None


def exams_for_rep(*, rep: User, now: datetime, exam_id: int | None = None) -> list[RepExam]:
    """Return the rep's assigned, published tests (or just one) with their state, in one query."""
    exams = _rep_exams_queryset(rep, now)
    if exam_id is not None:
        exams = exams.filter(pk=exam_id)
    rows = []
    exam: Any  # an Exam carrying the annotations above
    for exam in exams:
        state, next_at = _state(exam, now)
        left = None if exam.max_attempts is None else max(exam.max_attempts - exam.attempts_used, 0)
        rows.append(
            RepExam(
                exam=exam,
                state=state,
                attempts_used=exam.attempts_used,
                attempts_left=left,
                open_attempt_id=exam.open_attempt_id,
                open_deadline=exam.open_deadline,
                best_score=exam.best_score,
                last_attempt_id=exam.last_attempt_id,
                next_attempt_at=next_at,
                due_at=exam.due_at,
            )
        )
    return rows


def exam_get_for_rep(*, exam_id: int, rep: User) -> Exam:
    """A published test assigned to the rep; 404 for anything else."""
    exam = (
        Exam.objects.select_related("subject")
        .filter(pk=exam_id, status=Exam.Status.PUBLISHED)
        .first()
    )
    if exam is None or not exam_is_assigned(exam=exam, rep=rep):
        raise NotFoundError("No such test.")
    return exam


# One attempt ---------------------------------------------------------------------------------


def attempt_get_for_rep(*, attempt_id: int, rep: User) -> Attempt:
    """The rep's own attempt; another rep's (or none) is 404."""
    attempt = Attempt.objects.select_related("exam__subject").filter(pk=attempt_id, rep=rep).first()
    if attempt is None:
        raise NotFoundError("No such attempt.")
    return attempt


@dataclass(frozen=True)
class OfferedChoice:
    id: int
    text: str


@dataclass(frozen=True)
class OfferedQuestion:
    """A question as shown while the attempt is open: no weights, no feedback."""

    question_id: int
    position: int
    kind: str
    text: str
    choices: list[OfferedChoice]
    selected: list[int]

    @property
    def answered(self) -> bool:
        return bool(self.selected)


def attempt_questions(attempt: Attempt) -> list[OfferedQuestion]:
    """The attempt's questions in order, with the rep's answers and without the key."""
    return [
        OfferedQuestion(
            question_id=item.question_id,
            position=item.position,
            kind=item.snapshot["kind"],
            text=item.snapshot["text"],
            choices=[OfferedChoice(c["id"], c["text"]) for c in item.snapshot["choices"]],
            selected=list(item.selected),
        )
        for item in attempt.items.order_by("position").only(
            "question_id", "position", "snapshot", "selected"
        )
    ]


@dataclass(frozen=True)
class ReviewedChoice:
    id: int
    text: str
    chosen: bool
    right: bool | None  # None when the review does not say
    feedback: str
    weight: Decimal | None = None  # the key itself: enablement's review only


@dataclass(frozen=True)
class ReviewedQuestion:
    question_id: int
    position: int
    text: str
    kind: str
    score: Decimal | None  # fraction of the mark; None when the review shows the score only
    choices: list[ReviewedChoice]
    general_feedback: str


@dataclass
class AttemptReview:
    attempt: Attempt
    detail: str  # "score", "correctness", "feedback", or "key" (enablement: every weight)
    withheld_until_pass: bool = False
    questions: list[ReviewedQuestion] = field(default_factory=list)


def _review_detail(attempt: Attempt, viewer: User) -> tuple[str, bool]:
    """How much of a finished attempt the viewer sees, and whether detail awaits a pass."""
    if viewer.pk != attempt.rep_id:
        return ("key" if viewer.is_enablement else "score"), False
    exam = attempt.exam
    if exam.review_policy == Exam.Review.SCORE:
        return "score", False
    if (
        exam.review_after_pass_only
        and not Attempt.objects.filter(exam=exam, rep=attempt.rep_id, passed=True).exists()
    ):
        return "score", True
    return exam.review_policy, False


def attempt_review(*, attempt: Attempt, viewer: User) -> AttemptReview:
    """What the viewer may see of an attempt that is over, per the test's review policy.

    The rep sees what the policy allows; enablement sees everything; a manager sees the score.
    An open attempt has no review: that is where the key would leak.
    """
    if attempt.is_open:
        raise NotFoundError("This attempt is still in progress.")
    detail, withheld = _review_detail(attempt, viewer)
    review = AttemptReview(attempt=attempt, detail=detail, withheld_until_pass=withheld)
    if detail == "score":
        return review
    for item in attempt.items.order_by("position"):
        snapshot = item.snapshot
        keys = set(right_choice_ids(snapshot))
        show_key = detail in {"feedback", "key"}
        everything = detail == "key"
        choices = [
            ReviewedChoice(
                id=c["id"],
                text=c["text"],
                chosen=c["id"] in item.selected,
                right=(c["id"] in keys) if (show_key or c["id"] in item.selected) else None,
                feedback=c["feedback"]
                if everything or (show_key and c["id"] in item.selected)
                else "",
                weight=Decimal(c["weight"]) if everything else None,
            )
            for c in snapshot["choices"]
        ]
        review.questions.append(
            ReviewedQuestion(
                question_id=item.question_id,
                position=item.position,
                text=snapshot["text"],
                kind=snapshot["kind"],
                score=item.score,
                choices=choices,
                general_feedback=snapshot["general_feedback"] if show_key else "",
            )
        )
    return review


# Enablement: results and item analysis ------------------------------------------------------


def exam_results(*, exam: Exam, viewer: User) -> QuerySet[Attempt]:
    """Graded attempts at the test by the reps the viewer may see, newest first."""
    return (
        Attempt.objects.filter(exam=exam)
        .exclude(status=Attempt.Status.IN_PROGRESS)
        .filter(rep__in=reps_visible_to(viewer).values("pk"))
        .select_related("rep__team")
        .order_by("-finished_at", "-pk")
    )


def exam_summary(*, exam: Exam, viewer: User) -> dict[str, Any]:
    """Headline figures of the test, over the reps the viewer may see, in one query."""
    figures = (
        exam_results(exam=exam, viewer=viewer)
        .order_by()
        .aggregate(
            attempts=Count("pk"),
            reps=Count("rep", distinct=True),
            passed_reps=Count("rep", filter=Q(passed=True), distinct=True),
            mean_score=Avg("score"),
        )
    )
    figures["pass_rate"] = (
        round(100 * figures["passed_reps"] / figures["reps"]) if figures["reps"] else None
    )
    return figures


@dataclass(frozen=True)
class ItemStatistics:
    question_id: int
    title: str
    responses: int
    facility: float | None  # share of the mark earned on average, 0 to 1
    discrimination: float | None  # point-biserial correlation with the attempt's score
    flags: tuple[str, ...]


def _correlation(row: Mapping[str, Any]) -> float | None:
    """Pearson's r from the sums of x, y, xy, x² and y² (point-biserial for 0/1 items)."""
    n, sx, sy = row["n"], row["sx"], row["sy"]
    spread = (n * row["sxx"] - sx * sx) * (n * row["syy"] - sy * sy)
    if n < 2 or spread <= 0:
        return None
    return (n * row["sxy"] - sx * sy) / math.sqrt(spread)


def item_analysis(*, exam: Exam) -> list[ItemStatistics]:
    """Facility and discrimination per question over the test's graded attempts.

    Aggregated in the database (one GROUP BY); flags: too easy, too hard, negative or weak
    discrimination, once a question has MIN_RESPONSES answers.
    """
    x = Cast("score", FloatField())
    y = Cast("attempt__score", FloatField())
    rows = (
        AttemptQuestion.objects.filter(attempt__exam=exam, score__isnull=False)
        .values("question_id", "question__title")
        .annotate(
            n=Count("pk"),
            sx=Sum(x),
            sy=Sum(y),
            sxy=Sum(x * y),
            sxx=Sum(x * x),
            syy=Sum(y * y),
        )
        .order_by("question__title", "question_id")
    )
    stats = []
    for row in rows:
        n = row["n"]
        facility = row["sx"] / n if n else None
        discrimination = _correlation(row)
        flags: list[str] = []
        if n >= MIN_RESPONSES and facility is not None:
            if facility > TOO_EASY:
                flags.append("too easy")
            if facility < TOO_HARD:
                flags.append("too hard")
            if discrimination is not None and discrimination < 0:
                flags.append("discriminates negatively")
            elif discrimination is not None and discrimination < WEAK_DISCRIMINATION:
                flags.append("weak discrimination")
        stats.append(
            ItemStatistics(
                question_id=row["question_id"],
                title=row["question__title"],
                responses=n,
                facility=facility,
                discrimination=discrimination,
                flags=tuple(flags),
            )
        )
    return stats


def questions_of_bank(*, bank_id: int, category: str = "", text: str = "") -> QuerySet[Question]:
    """A bank's questions, optionally one category (with sub-categories) or matching a text."""
    questions = Question.objects.filter(bank_id=bank_id).annotate(choice_count=Count("choices"))
    questions = questions.filter(in_category(category))
    if text := text.strip():
        questions = questions.filter(Q(title__icontains=text) | Q(text__icontains=text))
    return questions.order_by("category", "title", "pk")


def session_hold_until(user: User) -> datetime | None:
    """Until when the person must stay signed in whatever the session timeouts say: the
    deadline (with the grace) of a test they are taking, so no timeout cuts a rep off in the
    middle of a timed exam. None when they are not taking one."""
    deadline = (
        Attempt.objects.filter(rep_id=user.pk, status=Attempt.Status.IN_PROGRESS)
        .order_by("-deadline")
        .values_list("deadline", flat=True)
        .first()
    )
    if deadline is None:
        return None
    return deadline + timedelta(seconds=settings.EXAM_GRACE_SECONDS)
