"""Writes to question banks: banks, questions and their choices."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from certification.importers.base import choice_rules_error
from certification.importers.html import html_to_plain, sanitize_html
from certification.models import Choice, Question, QuestionBank, Subject
from config.errors import ApplicationError, from_validation_error


@dataclass(frozen=True)
class ChoiceInput:
    text: str
    weight: Decimal
    feedback: str = ""


@dataclass(frozen=True)
class QuestionInput:
    """A question as authored in a form or read from an import, before it is stored."""

    kind: str
    title: str
    text: str
    choices: Sequence[ChoiceInput]
    category: str = ""
    general_feedback: str = ""
    mark: Decimal = Decimal(1)


# Banks --------------------------------------------------------------------------------------


@transaction.atomic
def bank_create(
    *, name: str, description: str = "", subject: Subject | None = None, actor: User | None
) -> QuestionBank:
    """Create an empty question bank."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A bank needs a name.", field_errors={"name": ["Required."]})
    if QuestionBank.objects.filter(name__iexact=name).exists():
        raise ApplicationError(
            f"There is already a bank called {name!r}.",
            field_errors={"name": ["This name is taken."]},
        )
    bank = QuestionBank.objects.create(
        name=name, description=description.strip(), subject=subject, created_by=actor
    )
    audit_record(actor=actor, action="bank.created", target=bank)
    return bank


@transaction.atomic
def bank_update(
    *, bank: QuestionBank, name: str, description: str, subject: Subject | None, actor: User | None
) -> QuestionBank:
    """Rename or re-describe a bank."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A bank needs a name.", field_errors={"name": ["Required."]})
    if QuestionBank.objects.filter(name__iexact=name).exclude(pk=bank.pk).exists():
        raise ApplicationError(
            f"There is already a bank called {name!r}.",
            field_errors={"name": ["This name is taken."]},
        )
    bank.name, bank.description, bank.subject = name, description.strip(), subject
    bank.save(update_fields=["name", "description", "subject"])
    audit_record(actor=actor, action="bank.updated", target=bank)
    return bank


# Questions ----------------------------------------------------------------------------------


def normalise_question(data: QuestionInput) -> QuestionInput:
    """Sanitise HTML, trim text, derive a missing title; refuse what makes no question.

    The one rule set for questions typed in a form, sent to the API or read from a file.
    """
    if data.kind not in Question.Kind.values:
        raise ApplicationError(
            f"Unknown question kind {data.kind!r}.", field_errors={"kind": ["Unknown kind."]}
        )
    text = sanitize_html(data.text or "")
    if not html_to_plain(text):
        raise ApplicationError("A question needs text.", field_errors={"text": ["Required."]})
    title = " ".join((data.title or "").split()) or html_to_plain(text)[:80]
    try:
        mark = Decimal(data.mark)
        weights = [Decimal(c.weight) for c in data.choices]
    except (InvalidOperation, TypeError, ValueError):
        raise ApplicationError("Marks and weights must be numbers.") from None
    if mark <= 0:
        raise ApplicationError("The mark must be above 0.", field_errors={"mark": ["Above 0."]})
    choices = [
        ChoiceInput(sanitize_html(c.text or ""), w, sanitize_html(c.feedback or ""))
        for c, w in zip(data.choices, weights, strict=True)
    ]
    if any(not html_to_plain(c.text) for c in choices):
        raise ApplicationError("Every choice needs text.", field_errors={"choices": ["Empty."]})
    if problem := choice_rules_error(data.kind, weights):
        raise ApplicationError(problem, field_errors={"choices": [problem]})
    return QuestionInput(
        kind=data.kind,
        title=title[:255],
        text=text,
        choices=choices,
        category="/".join(part.strip() for part in data.category.split("/") if part.strip()),
        general_feedback=sanitize_html(data.general_feedback or ""),
        mark=mark,
    )


def question_fingerprint(data: QuestionInput) -> str:
    """A digest of everything that makes the question what it is (sanitised input)."""
    content = [
        data.kind,
        data.category,
        data.title,
        data.text,
        data.general_feedback,
        str(data.mark),
        [[c.text, format(c.weight.normalize(), "f"), c.feedback] for c in data.choices],
    ]
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def _duplicate_error(bank: QuestionBank) -> ApplicationError:
    return ApplicationError(
        f"An identical question is already in {bank.name}.", code="duplicate_question"
    )


def _write(question: Question, data: QuestionInput) -> Question:
    question.kind, question.title, question.text = data.kind, data.title, data.text
    question.category, question.general_feedback = data.category, data.general_feedback
    question.mark, question.source_key = data.mark, question_fingerprint(data)
    question.updated_at = timezone.now()
    try:
        question.full_clean(exclude=["bank"])
        with transaction.atomic():
            question.save()
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    except IntegrityError:
        raise _duplicate_error(question.bank) from None
    question.choices.all().delete()
    Choice.objects.bulk_create(
        Choice(question=question, position=i, text=c.text, weight=c.weight, feedback=c.feedback)
        for i, c in enumerate(data.choices)
    )
    return question


@transaction.atomic
def question_create(*, bank: QuestionBank, data: QuestionInput, actor: User | None) -> Question:
    """Add a question with its choices; an identical one in the bank is refused."""
    clean = normalise_question(data)
    if Question.objects.filter(bank=bank, source_key=question_fingerprint(clean)).exists():
        raise _duplicate_error(bank)
    question = _write(Question(bank=bank), clean)
    audit_record(actor=actor, action="question.created", target=question)
    return question


@transaction.atomic
def question_update(*, question: Question, data: QuestionInput, actor: User | None) -> Question:
    """Change a question. Attempts already drawn keep the version they were shown."""
    clean = normalise_question(data)
    _write(question, clean)
    audit_record(actor=actor, action="question.updated", target=question)
    return question


@transaction.atomic
def question_set_active(*, question: Question, is_active: bool, actor: User | None) -> Question:
    """Retire a question from future draws (or bring it back)."""
    if question.is_active != is_active:
        question.is_active = is_active
        question.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="question.activated" if is_active else "question.retired",
            target=question,
        )
    return question
