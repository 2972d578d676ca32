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
