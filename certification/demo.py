"""The demo's level-1 content: subjects, question banks, tests and a history of attempts.

Banks are imported from the GIFT files in ``demo_data/`` through the real importer; attempts
are taken through the same services a rep's browser uses, at simulated times in the past.
Everything is idempotent: a second run adds nothing.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone

from accounts.demo import NAMED_REP
from accounts.models import Team, User
from certification.models import Attempt, Exam, QuestionBank, Subject
from certification.services.attempts import attempt_answer, attempt_finish, attempt_start
from certification.services.catalog import subject_create
from certification.services.exams import (
    SectionInput,
    exam_assign,
    exam_create,
    exam_publish,
    exam_set_sections,
)
from certification.services.imports import questions_import
from certification.services.questions import bank_create
from config.errors import ConflictError

DATA = Path(__file__).resolve().parent / "demo_data"
# Tests were assigned before the demo's three months of attempts (20 to 85 days ago).
ASSIGNED_DAYS_AGO = 90


@dataclass(frozen=True)
class DemoSubject:
    name: str
    kind: str
    version: str
    description: str
    bank_file: str | None = None
    exam: dict[str, Any] | None = None
    draw: int = 8


SUBJECTS = (
    DemoSubject(
        "Acme company essentials",
        Subject.Kind.COMPANY,
        "",
        "Mission, history, customers, values and how Acme goes to market.",
        "company_essentials.gift",
        {
            "title": "Company essentials",
            "pass_mark": Decimal(70),
            "time_limit_minutes": 20,
            "max_attempts": 3,
            "cooldown_minutes": 60,
            "layout": Exam.Layout.ONE_PER_PAGE,
            "review_policy": Exam.Review.FEEDBACK,
        },
    ),
    DemoSubject(
        "Acme Cloud",
        Subject.Kind.OFFERING,
        "2026.2",
        "Managed platform for operational workloads, with data lineage.",
        "acme_cloud.gift",
        {
            "title": "Acme Cloud essentials",
            "pass_mark": Decimal(80),
            "time_limit_minutes": 25,
            "max_attempts": 3,
            "cooldown_minutes": 24 * 60,
            "layout": Exam.Layout.ONE_PER_PAGE,
            "review_policy": Exam.Review.FEEDBACK,
        },
        draw=10,
    ),
    DemoSubject(
        "Acme Analytics",
        Subject.Kind.OFFERING,
        "3.1",
        "Governed metrics and dashboards from over 120 sources.",
        "acme_analytics.gift",
        {
            "title": "Acme Analytics essentials",
            "pass_mark": Decimal(75),
            "time_limit_minutes": 20,
            "max_attempts": 3,
            "cooldown_minutes": 24 * 60,
            "layout": Exam.Layout.ALL_ON_ONE_PAGE,
            "review_policy": Exam.Review.CORRECTNESS,
        },
    ),
    DemoSubject(
        "Acme Secure",
        Subject.Kind.OFFERING,
        "1.4",
        "Least-privilege access, audit and key management for operational data.",
        "acme_secure.gift",
        {
            "title": "Acme Secure essentials",
            "pass_mark": Decimal(75),
            "time_limit_minutes": 20,
            "max_attempts": 2,
            "cooldown_minutes": 48 * 60,
            "layout": Exam.Layout.ONE_PER_PAGE,
            "review_policy": Exam.Review.FEEDBACK,
            "review_after_pass_only": True,
        },
    ),
    DemoSubject(
        "Four-step call opening",
        Subject.Kind.SKILL,
        "",
        "Greeting and thanks, purpose, agenda with the buyer's input, time check.",
        "call_opening.gift",
        {
            "title": "Call opening: the four steps",
            "pass_mark": Decimal(80),
            "time_limit_minutes": 10,
            "max_attempts": None,
            "cooldown_minutes": 0,
            "layout": Exam.Layout.ALL_ON_ONE_PAGE,
            "review_policy": Exam.Review.SCORE,
        },
        draw=6,
    ),
    DemoSubject(
        "Elevator pitch",
        Subject.Kind.SKILL,
        "",
        "Who Acme helps, with what, and why it matters, in thirty seconds.",
    ),
    DemoSubject(
        "Differentiated value message",
        Subject.Kind.SKILL,
        "",
        "Why Acme rather than the alternative the buyer already has.",
    ),
)

# Questions whose simulated answers make item analysis show something: one everybody gets
# right, one almost nobody does, one the strongest reps get wrong more often.
TOO_EASY, TOO_HARD, BACKWARDS = "Cloud easy", "Analytics hard", "Cloud pricing trap"


def _subject(spec: DemoSubject) -> Subject:
    existing = Subject.objects.filter(name__iexact=spec.name).first()
    return existing or subject_create(
        name=spec.name,
        kind=spec.kind,
        description=spec.description,
        current_version=spec.version,
        actor=None,
    )


def _exam(spec: DemoSubject, subject: Subject, regions: list[Team]) -> Exam:
    if not (spec.exam and spec.bank_file):
        raise ValueError(f"{spec.name} has no test to seed")
    bank = QuestionBank.objects.filter(name__iexact=spec.name).first() or bank_create(
        name=spec.name, subject=subject, actor=None
    )
    questions_import(bank=bank, data=(DATA / spec.bank_file).read_bytes(), actor=None)
    exam = Exam.objects.filter(subject=subject, title=spec.exam["title"]).first()
    if exam is None:
        exam = exam_create(subject=subject, actor=None, **spec.exam)
        exam_set_sections(exam=exam, sections=[SectionInput(bank, spec.draw)], actor=None)
    # Assigned before the three months of attempts below.
    assigned = timezone.now() - timedelta(days=ASSIGNED_DAYS_AGO)
    exam_publish(exam=exam, actor=None, now=assigned)
    exam_assign(exam=exam, teams=regions, actor=None, now=assigned)
    return exam


def _p_right(ability: float, title: str, rng: random.Random) -> float:
    if title == TOO_EASY:
        return 0.98
    if title == TOO_HARD:
        return 0.08
    if title == BACKWARDS:  # the plausible distractor tempts the confident, every time
        return 1.0 if ability < 0.7 else 0.0
    difficulty = rng.uniform(-1.6, 0.6)
    return 1 / (1 + math.exp(-(1.4 * ability - difficulty)))


def _choose(snapshot: dict[str, Any], right: bool, rng: random.Random) -> list[int]:
    choices = snapshot["choices"]
    good = [c["id"] for c in choices if Decimal(c["weight"]) > 0]
    bad = [c["id"] for c in choices if Decimal(c["weight"]) <= 0]
    if snapshot["kind"] == "multiple":
        return good if right else [rng.choice(good), rng.choice(bad)]
    best = max(choices, key=lambda c: Decimal(c["weight"]))["id"]
    return [best] if right else [rng.choice(bad)]


def _sit(exam: Exam, rep: User, ability: float, start: datetime) -> Attempt:
    attempt = attempt_start(exam=exam, rep=rep, now=start).attempt
    items = list(attempt.items.order_by("position"))
    for i, item in enumerate(items):
        title = item.snapshot["title"]
        # Each question's difficulty is stable across reps and databases: seed it by the
        # question's title (its id differs from one database to the next).
        question_rng = random.Random(title)
        # Each answer is seeded by who answers what, not drawn from a stream: the test shows
        # its questions in a random order, and the demo's figures must not depend on it.
        answer_rng = random.Random(f"{rep.email}:{exam.title}:{attempt.number}:{title}")
        # The demo rep's history is the README's promise: they aced Company essentials.
        right = rep.email == NAMED_REP or (
            answer_rng.random() < _p_right(ability, title, question_rng)
        )
        attempt_answer(
            attempt_id=attempt.pk,
            rep=rep,
            question_id=item.question_id,
            choice_ids=_choose(item.snapshot, right, answer_rng),
            now=start + timedelta(seconds=40 * (i + 1)),
        )
    return attempt_finish(attempt=attempt, now=start + timedelta(seconds=40 * len(items) + 30))


def _history(exams: list[Exam], reps: list[User], now: datetime) -> int:
    """Simulated attempts over the last three months, for exams nobody has sat yet."""
    sat = 0
    for exam in exams:
        if exam.attempts.exists():
            continue
        for rep in reps:
            rng = random.Random(f"{rep.email}:{exam.title}")
            if rep.email == NAMED_REP and exam.subject.name != "Acme company essentials":
                continue  # left for the demo rep to take
            if rng.random() < 0.15:
                continue  # not started yet
            ability = rng.gauss(0.9, 0.9)
            start = now - timedelta(days=rng.randint(20, 85), hours=rng.randint(0, 8))
            start = start.replace(hour=9 + rng.randint(0, 7), minute=rng.randint(0, 59))
            for _ in range(exam.max_attempts or 3):
                try:
                    attempt = _sit(exam, rep, ability, start)
                except ConflictError:
                    break
                sat += 1
                if attempt.passed:
                    break
                ability += 0.6  # they study before trying again
                start += timedelta(days=rng.randint(3, 9), minutes=exam.cooldown_minutes)
    return sat


def seed() -> dict[str, Any]:
    """Create or refresh the catalog, five banks and tests, and three months of attempts."""
    regions = list(Team.objects.filter(kind=Team.Kind.REGION, parent=None))
    exams = []
    for spec in SUBJECTS:
        subject = _subject(spec)
        if spec.exam:
            exams.append(_exam(spec, subject, regions))
    reps = list(
        User.objects.filter(is_rep=True, is_active=True, email__endswith="@demo.test")
        .select_related("team")
        .order_by("email")
    )
    attempts = _history(exams, reps, timezone.now())
    return {
        "subjects": Subject.objects.count(),
        "tests": len(exams),
        "questions": sum(b.questions.count() for b in QuestionBank.objects.all()),
        "attempts_added": attempts,
    }
