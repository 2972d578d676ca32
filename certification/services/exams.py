"""Writes to tests: settings, the sections questions are drawn from, publishing, assignment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Team, User
from accounts.services import audit_record
from certification.models import Exam, ExamAssignment, ExamSection, QuestionBank, Subject
from certification.selectors.exams import active_question_count
from certification.services.notifications import notify_exam_assigned
from config.errors import ApplicationError, ConflictError, from_validation_error

EDITABLE = (
    "title",
    "description",
    "pass_mark",
    "time_limit_minutes",
    "max_attempts",
    "cooldown_minutes",
    "available_from",
    "available_until",
    "layout",
    "shuffle_questions",
    "review_policy",
    "review_after_pass_only",
)


def _refuse_if_archived(exam: Exam) -> None:
    if exam.status == Exam.Status.ARCHIVED:
        raise ConflictError("This test is archived: it cannot change.", code="archived")


def _validated(exam: Exam) -> Exam:
    exam.title = (exam.title or "").strip()
    # Before full_clean, whose database constraint would only say "exam_window_ordered".
    if exam.available_from and exam.available_until and exam.available_from >= exam.available_until:
        raise ApplicationError(
            "The test must open before it closes.",
            field_errors={"available_until": ["After the opening time."]},
        )
    try:
        exam.full_clean(exclude=["created_by"])
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    return exam


@transaction.atomic
def exam_create(*, subject: Subject, actor: User | None, **settings: Any) -> Exam:
    """Create a draft test on a subject."""
    unknown = set(settings) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown test settings: {sorted(unknown)}")
    if not subject.is_active:
        raise ApplicationError("That subject is retired.", field_errors={"subject": ["Retired."]})
    exam = _validated(Exam(subject=subject, created_by=actor, **settings))
    exam.save()
    audit_record(actor=actor, action="exam.created", target=exam)
    return exam


@transaction.atomic
def exam_update(*, exam: Exam, actor: User | None, **settings: Any) -> Exam:
    """Change a test's settings. Attempts already started keep their deadline and questions."""
    unknown = set(settings) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Unknown test settings: {sorted(unknown)}")
    _refuse_if_archived(exam)
    changes = {
        name: [str(getattr(exam, name)), str(value)]
        for name, value in settings.items()
        if getattr(exam, name) != value
    }
    for name, value in settings.items():
        setattr(exam, name, value)
    exam.updated_at = timezone.now()
    _validated(exam).save()
    if changes:
        audit_record(actor=actor, action="exam.updated", target=exam, changes=changes)
    return exam


@dataclass(frozen=True)
class SectionInput:
    bank: QuestionBank
    count: int
    category: str = ""


@transaction.atomic
def exam_set_sections(
    *, exam: Exam, sections: Sequence[SectionInput], actor: User | None
) -> list[ExamSection]:
    """Replace what the test draws: N questions from each bank (or bank category)."""
    _refuse_if_archived(exam)
    seen = set()
    for section in sections:
        key = (section.bank.pk, section.category.strip())
        if key in seen:
            raise ApplicationError(
                "Each bank and category appears once.",
                field_errors={"sections": ["Repeated bank and category."]},
            )
        seen.add(key)
        if not 1 <= section.count <= 200:
            raise ApplicationError(
                "Draw between 1 and 200 questions per section.",
                field_errors={"sections": ["Count out of range."]},
            )
    exam.sections.all().delete()
    created = ExamSection.objects.bulk_create(
        ExamSection(exam=exam, bank=s.bank, category=s.category.strip(), count=s.count, position=i)
        for i, s in enumerate(sections)
    )
    audit_record(
        actor=actor,
        action="exam.sections_set",
        target=exam,
        changes={"sections": [str(s) for s in created]},
    )
    return created


def exam_problems(exam: Exam) -> list[str]:
    """What stops the test from being taken, in words enablement can act on."""
    problems = []
    sections = list(exam.sections.select_related("bank"))
    if not sections:
        problems.append("It draws no questions: add at least one section.")
    for section in sections:
        available = active_question_count(bank_id=section.bank_id, category=section.category)
        if available < section.count:
            problems.append(
                f"{section} needs {section.count} active questions; there are {available}."
            )
    if not exam.subject.is_active:
        problems.append(f"Its subject, {exam.subject.name}, is retired.")
    return problems


@transaction.atomic
def exam_publish(*, exam: Exam, actor: User | None, now: datetime | None = None) -> Exam:
    """Make a draft test available to the reps it is assigned to (and tell them)."""
    if exam.status == Exam.Status.PUBLISHED:
        return exam
    if problems := exam_problems(exam):
        raise ApplicationError(
            "This test cannot be published yet: " + " ".join(problems),
            field_errors={"__all__": problems},
            code="not_ready",
        )
    exam.status = Exam.Status.PUBLISHED
    exam.save(update_fields=["status"])
    audit_record(actor=actor, action="exam.published", target=exam)
    # Reps assigned while it was a draft are told now that they can take it.
    assignments = list(exam.assignments.select_related("team"))
    _tell_assigned(
        exam=exam,
        actor=actor,
        teams=[a.team for a in assignments if a.team is not None],
        rep_ids=[a.rep_id for a in assignments if a.rep_id is not None],
        due_at=min((a.due_at for a in assignments if a.due_at), default=None),
        now=now or timezone.now(),
    )
    return exam


def _tell_assigned(
    *,
    exam: Exam,
    actor: User | None,
    teams: Sequence[Team],
    rep_ids: Sequence[int],
    due_at: datetime | None,
    now: datetime,
) -> int:
    """Notify the active reps the assignments reach (a team reaches its whole subtree), once
    the test is published: a draft cannot be taken yet."""
    if exam.status != Exam.Status.PUBLISHED or not (teams or rep_ids):
        return 0
    reached = set(rep_ids)
    if teams:
        subtree = Q()
        for team in teams:
            subtree |= Q(team__path__startswith=team.path)
        reached.update(
            User.objects.filter(subtree, is_active=True, is_rep=True).values_list("pk", flat=True)
        )
    return notify_exam_assigned(exam=exam, rep_ids=reached, actor=actor, due_at=due_at, now=now)


@transaction.atomic
def exam_archive(*, exam: Exam, actor: User | None) -> Exam:
    """Withdraw a test: no new attempts; results and certifications stay."""
    if exam.status != Exam.Status.ARCHIVED:
        exam.status = Exam.Status.ARCHIVED
        exam.save(update_fields=["status"])
        audit_record(actor=actor, action="exam.archived", target=exam)
    return exam


@transaction.atomic
def exam_assign(
    *,
    exam: Exam,
    actor: User | None,
    teams: Iterable[Team] = (),
    reps: Iterable[User] = (),
    due_at: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """Assign the test to teams (with every team under them) and reps, and tell the reps it
    reaches once it is published; return how many assignments are new."""
    now = now or timezone.now()
    _refuse_if_archived(exam)
    teams, reps = list(teams), list(reps)
    if not teams and not reps:
        raise ApplicationError(
            "Choose at least one team or rep.", field_errors={"teams": ["Choose a team or a rep."]}
        )
    not_reps = [r.email for r in reps if not (r.is_active and r.is_rep)]
    if not_reps:
        raise ApplicationError(
            f"Only active reps take tests: {', '.join(not_reps)}.",
            field_errors={"reps": ["Not an active rep."]},
        )
    if due_at is not None and due_at <= now:
        raise ApplicationError(
            "The due date must be in the future.", field_errors={"due_at": ["In the past."]}
        )
    already_teams = set(exam.assignments.filter(team__in=teams).values_list("team_id", flat=True))
    already_reps = set(exam.assignments.filter(rep__in=reps).values_list("rep_id", flat=True))
    new = [
        ExamAssignment(exam=exam, team=t, due_at=due_at, assigned_by=actor)
        for t in teams
        if t.pk not in already_teams
    ] + [
        ExamAssignment(exam=exam, rep=r, due_at=due_at, assigned_by=actor)
        for r in reps
        if r.pk not in already_reps
    ]
    ExamAssignment.objects.bulk_create(new)
    _tell_assigned(
        exam=exam,
        actor=actor,
        teams=[a.team for a in new if a.team is not None],
        rep_ids=[a.rep.pk for a in new if a.rep is not None],
        due_at=due_at,
        now=now,
    )
    if new:
        audit_record(
            actor=actor,
            action="exam.assigned",
            target=exam,
            changes={
                "teams": [t.name for t in teams if t.pk not in already_teams],
                "reps": [r.email for r in reps if r.pk not in already_reps],
            },
        )
    return len(new)


@transaction.atomic
def exam_unassign(*, assignment: ExamAssignment, actor: User | None) -> None:
    """Remove an assignment; attempts already made and certifications earned stay."""
    audit_record(
        actor=actor,
        action="exam.unassigned",
        target=assignment.exam,
        changes={"from": str(assignment.team or assignment.rep)},
    )
    assignment.delete()
