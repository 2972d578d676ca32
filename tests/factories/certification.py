"""Factories for the catalog, question banks and tests. Writes go through the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from accounts.models import Team, User
from certification.models import Exam, Question, QuestionBank, Subject
from certification.services.exams import SectionInput, exam_assign, exam_publish, exam_set_sections
from certification.services.questions import ChoiceInput, QuestionInput, question_create


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    name = factory.Sequence(lambda n: f"Offering {n}")
    kind = Subject.Kind.OFFERING
    current_version = "1.0"


class BankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuestionBank

    name = factory.Sequence(lambda n: f"Bank {n}")


_sequence = iter(range(1, 10**9))


def make_question(
    bank: QuestionBank,
    *,
    kind: str = Question.Kind.SINGLE,
    weights: list[int | str] | None = None,
    category: str = "",
    mark: str = "1",
    title: str | None = None,
) -> Question:
    """A question whose choices are named A, B, C... with the given weights (percent)."""
    n = next(_sequence)
    if weights is None:
        weights = {"single": [100, 0, 0, 0], "multiple": [50, 50, -50, 0], "true_false": [100, 0]}[
            kind
        ]
    names = (
        ["True", "False"]
        if kind == Question.Kind.TRUE_FALSE
        else [chr(ord("A") + i) for i in range(len(weights))]
    )
    return question_create(
        bank=bank,
        data=QuestionInput(
            kind=kind,
            title=title or f"Question {n}",
            text=f"<p>Question {n}: which is right?</p>",
            choices=[
                ChoiceInput(text=name, weight=Decimal(str(w)), feedback=f"Feedback {name}")
                for name, w in zip(names, weights, strict=True)
            ],
            category=category,
            general_feedback=f"General feedback {n}",
            mark=Decimal(mark),
        ),
        actor=None,
    )


def make_exam(
    *,
    questions: int = 5,
    draw: int | None = None,
    assign_to: list[User | Team] | None = None,
    subject: Subject | None = None,
    publish: bool = True,
    **settings: Any,
) -> Exam:
    """A test drawing from a fresh bank of single-choice questions, published and assigned."""
    from certification.services.exams import exam_create

    subject = subject or SubjectFactory()
    bank = BankFactory(subject=subject)
    for _ in range(questions):
        make_question(bank)
    defaults = {
        "title": f"{subject.name} essentials",
        "pass_mark": Decimal(60),
        "time_limit_minutes": 30,
        "max_attempts": 3,
    }
    exam = exam_create(subject=subject, actor=None, **{**defaults, **settings})
    exam_set_sections(exam=exam, sections=[SectionInput(bank, draw or questions)], actor=None)
    if publish:
        exam_publish(exam=exam, actor=None)
    targets = assign_to or []
    teams = [t for t in targets if isinstance(t, Team)]
    reps = [r for r in targets if isinstance(r, User)]
    if teams or reps:
        exam_assign(exam=exam, teams=teams, reps=reps, actor=None)
    return exam


def make_guide(
    *,
    criteria: int = 3,
    critical: tuple[int, ...] = (),
    weights: tuple[int | str, ...] | None = None,
    scale: tuple[int, int] = (1, 4),
    pass_level: int = 3,
    threshold: str = "70",
    name: str | None = None,
    subject: Subject | None = None,
):
    """A guide whose criteria are "C1", "C2"... with judge notes "Notes C1"... (secrets)."""
    from certification.services.guides import CriterionInput, GuideContent, guide_create

    n = next(_sequence)
    weights = weights or tuple(1 for _ in range(criteria))
    points = range(scale[0], scale[1] + 1)
    content = GuideContent(
        criteria=[
            CriterionInput(
                title=f"C{i + 1}",
                rep_description=f"What C{i + 1} looks for",
                judge_notes=f"Notes C{i + 1} for judges only {n}",
                descriptors={p: f"C{i + 1} at {p}" for p in points},
                weight=Decimal(str(weights[i])),
                is_critical=i in critical,
            )
            for i in range(criteria)
        ],
        introduction="How you will be assessed.",
        scale_min=scale[0],
        scale_max=scale[1],
        pass_level=pass_level,
        pass_threshold=Decimal(threshold),
    )
    return guide_create(name=name or f"Guide {n}", content=content, actor=None, subject=subject)


def make_scenario(*, guide=None, subject: Subject | None = None, **values: Any):
    from certification.services.assessments import scenario_create

    n = next(_sequence)
    defaults = {
        "title": f"Discovery call {n}",
        "rep_brief": "Open the call and find the buyer's priorities.",
        "buyer_brief": f"BUYER-SECRET-{n}: budget is 40k, reveal only if asked.",
        "min_judges": 2,
    }
    return scenario_create(
        subject=subject or SubjectFactory(),
        guide=guide or make_guide(),
        actor=None,
        **{**defaults, **values},
    )


def held_certification(rep: User, subject: Subject, level: int, *, now: Any) -> Any:
    """An active certification with a minimal piece of evidence of its level, for tests about
    what certifications earn (tiers), not about how they are earned."""
    from datetime import timedelta

    from certification.models import (
        AssessmentSession,
        Attempt,
        FieldObservation,
        SignOff,
    )
    from certification.services.certifications import certification_issue
    from tests.factories.accounts import UserFactory

    evidence: dict[str, Any] = {}
    other = UserFactory(enablement=True)  # the session's owner, the observer who signed
    if level == 1:
        exam = make_exam(subject=subject, questions=1, publish=False)
        evidence["attempt"] = Attempt.objects.create(
            exam=exam,
            rep=rep,
            number=1,
            status="finished",
            started_at=now,
            deadline=now + timedelta(minutes=30),
            finished_at=now,
            score=Decimal(100),
            passed=True,
        )
    else:
        guide = make_guide(criteria=1)
        version = guide.versions.get()
        if level == 2:
            scenario = make_scenario(subject=subject, guide=guide)
            evidence["session"] = AssessmentSession.objects.create(
                scenario=scenario,
                rep=rep,
                guide_version=version,
                scheduled_at=now,
                owner=other,
                status="released",
                score=Decimal(100),
                passed=True,
                released_at=now,
            )
        else:
            observation = FieldObservation.objects.create(
                rep=rep,
                observer=other,
                subject=subject,
                guide_version=version,
                observed_on=now.date(),
                kind="meeting",
                crm_reference="OPP-T",
                contact_title="CFO",
                status="signed",
            )
            evidence["signoff"] = SignOff.objects.create(
                observation=observation,
                rep=rep,
                subject=subject,
                guide_version=version,
                signed_by=other,
                signed_at=now,
                ratings=[],
                score=Decimal(100),
                passed=True,
            )
    return certification_issue(rep=rep, subject=subject, level=level, now=now, **evidence)
