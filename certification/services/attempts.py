"""Taking a test: start (or resume) an attempt, save answers, finish, and close overdue ones.

The server owns the clock. An attempt's deadline is fixed when it starts; answers arriving
after the deadline plus a short grace for latency are refused, and the attempt is graded with
what was saved: lazily by the next request that touches it, and by a periodic sweep.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import User
from certification.models import (
    Attempt,
    AttemptQuestion,
    Certification,
    Choice,
    Exam,
    Question,
)
from certification.selectors.certificates import renewal_closed_q
from certification.selectors.exams import exam_is_assigned, in_category
from certification.services.certifications import certification_issue
from certification.services.grading import grade_item, grade_total
from config.errors import ApplicationError, ConflictError, NotFoundError

_random = secrets.SystemRandom()


def grace() -> timedelta:
    """How long after the deadline an answer or a finish is still accepted (network latency)."""
    return timedelta(seconds=settings.EXAM_GRACE_SECONDS)


def is_overdue(attempt: Attempt, now: datetime) -> bool:
    """The attempt is open but its time, with the grace, is up."""
    return attempt.status == Attempt.Status.IN_PROGRESS and now > attempt.deadline + grace()


# Starting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartedAttempt:
    attempt: Attempt
    created: bool  # False when an attempt in progress was resumed


def _refuse(message: str, code: str, retry_at: datetime | None = None) -> ConflictError:
    return ConflictError(message, code=code, retry_at=retry_at)


def _check_may_start(*, exam: Exam, rep: User, now: datetime) -> int:
    """Refuse a new attempt the rules forbid; return the number the new attempt will have."""
    if exam.available_from and now < exam.available_from:
        raise _refuse(
            f"This test opens on {timezone.localtime(exam.available_from):%d %b %Y at %H:%M}.",
            "not_open_yet",
            exam.available_from,
        )
    if exam.available_until and now >= exam.available_until:
        raise _refuse("This test has closed.", "closed")
    # Inside the renewal window (or after a new version of the offering) a rep recertifies.
    if Certification.objects.filter(
        renewal_closed_q(now), rep=rep, subject=exam.subject, level=exam.level
    ).exists():
        raise _refuse("You already hold this certification.", "already_certified")
    history = Attempt.objects.filter(exam=exam, rep=rep).aggregate(
        used=Count("pk"), last_end=Max("finished_at")
    )
    if exam.max_attempts is not None and history["used"] >= exam.max_attempts:
        raise _refuse(
            f"You have used all {exam.max_attempts} attempts at this test.", "attempts_used_up"
        )
    if exam.cooldown_minutes and history["last_end"]:
        opens = history["last_end"] + timedelta(minutes=exam.cooldown_minutes)
        if now < opens:
            raise _refuse(
                f"Your next attempt opens at {timezone.localtime(opens):%H:%M on %d %b}.",
                "cooling_down",
                opens,
            )
    return history["used"] + 1


def _draw(exam: Exam) -> list[tuple[int, dict[str, Any]]]:
    """Pick each section's questions at random, without repeats: (question id, snapshot).

    The snapshots are built from plain rows (two queries for all the questions and their
    choices), not model instances: a boot camp starts thousands of attempts at once.
    """
    picked: list[int] = []
    for section in exam.sections.select_related("bank"):
        candidates = list(
            Question.objects.filter(bank=section.bank, is_active=True)
            .filter(in_category(section.category))
            .exclude(pk__in=picked)
            .values_list("pk", flat=True)
        )
        if len(candidates) < section.count:
            where = (
                f"{section.bank.name} / {section.category}"
                if section.category
                else (section.bank.name)
            )
            raise ConflictError(
                f"This test cannot start: it draws {section.count} questions from {where}, "
                f"which has {len(candidates)} active. Enablement has been shown the same error.",
                code="not_enough_questions",
            )
        picked.extend(_random.sample(candidates, section.count))
    if not picked:
        raise ConflictError("This test has no questions yet.", code="not_enough_questions")
    rows = {
        row["pk"]: row
        for row in Question.objects.filter(pk__in=picked).values(
            "pk", "kind", "title", "text", "general_feedback", "mark"
        )
    }
    choices: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for question_id, pk, text, weight, feedback in (
        Choice.objects.filter(question_id__in=picked)
        .order_by("question_id", "position", "pk")
        .values_list("question_id", "pk", "text", "weight", "feedback")
    ):
        choices[question_id].append(
            {"id": pk, "text": text, "weight": str(weight), "feedback": feedback}
        )
    if exam.shuffle_questions:
        _random.shuffle(picked)
    return [(pk, _snapshot(rows[pk], choices[pk])) for pk in picked]


def _snapshot(question: Mapping[str, Any], choices: list[dict[str, Any]]) -> dict[str, Any]:
    """What the attempt keeps of a question: it is graded and reviewed against this copy."""
    if question["kind"] != Question.Kind.TRUE_FALSE:  # True before False reads naturally
        _random.shuffle(choices)
    return {
        "kind": question["kind"],
        "title": question["title"],
        "text": question["text"],
        "general_feedback": question["general_feedback"],
        "mark": str(question["mark"]),
        "choices": choices,
    }


@transaction.atomic
def attempt_start(*, exam: Exam, rep: User, now: datetime | None = None) -> StartedAttempt:
    """Start an attempt at a published, assigned test, or resume the one in progress."""
    now = now or timezone.now()
    if exam.status != Exam.Status.PUBLISHED or not exam_is_assigned(exam=exam, rep=rep):
        raise NotFoundError("No such test.")
    # One rep's starts run one at a time; the partial unique constraint backs this up.
    User.objects.select_for_update().filter(pk=rep.pk).first()
    current = Attempt.objects.filter(exam=exam, rep=rep, status=Attempt.Status.IN_PROGRESS).first()
    if current is not None:
        if not is_overdue(current, now):
            return StartedAttempt(current, created=False)
        attempt_finish(attempt=current, now=now)
    number = _check_may_start(exam=exam, rep=rep, now=now)
    questions = _draw(exam)
    deadline = now + timedelta(minutes=exam.time_limit_minutes)
    if exam.available_until:
        deadline = min(deadline, exam.available_until)
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                exam=exam, rep=rep, number=number, started_at=now, deadline=deadline
            )
    except IntegrityError:
        current = Attempt.objects.get(exam=exam, rep=rep, status=Attempt.Status.IN_PROGRESS)
        return StartedAttempt(current, created=False)
    AttemptQuestion.objects.bulk_create(
        AttemptQuestion(attempt=attempt, question_id=pk, position=i, snapshot=snapshot)
        for i, (pk, snapshot) in enumerate(questions, start=1)
    )
    return StartedAttempt(attempt, created=True)


# Answering ----------------------------------------------------------------------------------


def _closed_error(attempt: Attempt) -> ConflictError:
    if attempt.status == Attempt.Status.EXPIRED:
        return ConflictError(
            "Time is up: this attempt was graded with the answers saved before the deadline.",
            code="time_up",
        )
    return ConflictError(
        "This attempt is finished; its answers can no longer change.", code="attempt_closed"
    )


def _clean_selection(item: AttemptQuestion, choice_ids: Any) -> list[int]:
    if not isinstance(choice_ids, list) or not all(
        isinstance(c, int) and not isinstance(c, bool) for c in choice_ids
    ):
        raise ApplicationError(
            "Send the chosen options as a list of ids.", field_errors={"choices": ["Not a list."]}
        )
    offered = [choice["id"] for choice in item.snapshot["choices"]]
    unknown = sorted(set(choice_ids) - set(offered))
    if unknown:
        raise ApplicationError(
            "Those options are not part of this question.",
            field_errors={"choices": [f"Unknown option ids: {unknown}."]},
        )
    if item.snapshot["kind"] != Question.Kind.MULTIPLE and len(set(choice_ids)) > 1:
        raise ApplicationError(
            "Choose one option for this question.",
            field_errors={"choices": ["Only one option may be chosen."]},
        )
    return [c for c in offered if c in set(choice_ids)]  # display order, no duplicates


@transaction.atomic
def _save(attempt_id: int, rep: User, question_id: int, choice_ids: Any, now: datetime) -> Any:
    # One read: the item with its attempt, locking the attempt's row only (finishing takes the
    # same lock, so an answer is either in the grade or refused, never lost in between).
    try:
        item = (
            AttemptQuestion.objects.select_related("attempt")
            .select_for_update(of=("attempt",))
            .only(
                "snapshot",
                "question_id",
                "attempt__status",
                "attempt__deadline",
                "attempt__rep_id",
                "attempt__exam_id",
            )
            .get(attempt_id=attempt_id, attempt__rep_id=rep.pk, question_id=question_id)
        )
    except AttemptQuestion.DoesNotExist:
        raise NotFoundError("No such question in your attempts.") from None
    attempt = item.attempt
    if attempt.status != Attempt.Status.IN_PROGRESS:
        return attempt
    if is_overdue(attempt, now):
        closing = Attempt.objects.select_related("exam__subject", "rep").get(pk=attempt.pk)
        return _close(closing, now)
    item.selected = _clean_selection(item, choice_ids)
    item.answered_at = now
    AttemptQuestion.objects.filter(pk=item.pk).update(
        selected=item.selected, answered_at=item.answered_at
    )
    return item


def attempt_answer(
    *,
    attempt_id: int,
    rep: User,
    question_id: int,
    choice_ids: Any,
    now: datetime | None = None,
) -> AttemptQuestion:
    """Save (or clear, with no ids) the rep's answer to one question of their open attempt.

    Another rep's attempt, or a question it does not hold, is NotFoundError.
    """
    outcome = _save(attempt_id, rep, question_id, choice_ids, now or timezone.now())
    if isinstance(outcome, Attempt):  # closed before or by this request; the grade is kept
        raise _closed_error(outcome)
    return outcome


# Finishing ----------------------------------------------------------------------------------


def _close(attempt: Attempt, now: datetime) -> Attempt:
    """Grade a locked, open attempt: finished if in time, expired (as of the deadline) if not."""
    overdue = is_overdue(attempt, now)
    items = list(attempt.items.only("pk", "snapshot", "selected"))
    by_score: dict[Decimal, list[int]] = defaultdict(list)
    for item in items:
        item.score = grade_item(item.snapshot, item.selected)
        by_score[item.score].append(item.pk)
    # One UPDATE per distinct score (usually two: full marks and none), not a 20-way CASE.
    for score, pks in by_score.items():
        AttemptQuestion.objects.filter(pk__in=pks).update(score=score)
    attempt.score = grade_total((item.score or Decimal(0), _mark(item)) for item in items)
    attempt.passed = attempt.score >= attempt.exam.pass_mark
    attempt.status = Attempt.Status.EXPIRED if overdue else Attempt.Status.FINISHED
    attempt.finished_at = attempt.deadline if overdue else now
    attempt.save(update_fields=["score", "passed", "status", "finished_at"])
    if attempt.passed:
        certification_issue(
            rep=attempt.rep,
            subject=attempt.exam.subject,
            level=1,
            now=attempt.finished_at,
            attempt=attempt,
        )
    return attempt


def _mark(item: AttemptQuestion) -> Decimal:
    return Decimal(item.snapshot["mark"])


@transaction.atomic
def attempt_finish(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Grade the attempt once; finishing again, or at the same time, returns the same grade."""
    now = now or timezone.now()
    locked = (
        Attempt.objects.select_for_update(of=("self",))
        .select_related("exam__subject", "rep")
        .get(pk=attempt.pk)
    )
    if locked.status != Attempt.Status.IN_PROGRESS:
        return locked
    return _close(locked, now)


def attempt_close_if_overdue(*, attempt: Attempt, now: datetime | None = None) -> Attempt:
    """Grade the attempt if its time is up (the lazy half of deadline enforcement)."""
    now = now or timezone.now()
    if is_overdue(attempt, now):
        return attempt_finish(attempt=attempt, now=now)
    return attempt


def attempts_close_overdue(*, now: datetime | None = None, limit: int = 500) -> int:
    """Grade up to ``limit`` attempts whose time is up (the periodic half). Return how many."""
    now = now or timezone.now()
    overdue = Attempt.objects.filter(
        status=Attempt.Status.IN_PROGRESS, deadline__lt=now - grace()
    ).order_by("deadline")[:limit]
    closed = 0
    for attempt in overdue:
        if attempt_finish(attempt=attempt, now=now).status == Attempt.Status.EXPIRED:
            closed += 1
    return closed
