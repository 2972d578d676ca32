"""Writes to the catalog: the subjects reps are certified on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from accounts.services import audit_record
from certification.models import Subject
from config.errors import ApplicationError, from_validation_error


def _save(subject: Subject) -> Subject:
    if Subject.objects.filter(name__iexact=subject.name.strip()).exclude(pk=subject.pk).exists():
        raise ApplicationError(
            f"There is already a subject called {subject.name!r}.",
            field_errors={"name": ["This name is taken."]},
        )
    try:
        subject.full_clean()
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    subject.save()
    return subject


@transaction.atomic
def subject_create(
    *,
    name: str,
    kind: str,
    description: str = "",
    current_version: str = "",
    actor: User | None,
) -> Subject:
    """Add a subject (company knowledge, an offering with its version, or a selling skill)."""
    if kind != Subject.Kind.OFFERING and current_version.strip():
        raise ApplicationError(
            "Only offerings have versions.", field_errors={"current_version": ["Leave empty."]}
        )
    subject = _save(
        Subject(
            name=name.strip(),
            kind=kind,
            description=description.strip(),
            current_version=current_version.strip(),
        )
    )
    audit_record(
        actor=actor,
        action="subject.created",
        target=subject,
        changes={"kind": kind, "version": subject.current_version},
    )
    return subject


@transaction.atomic
def subject_update(
    *,
    subject: Subject,
    name: str,
    description: str,
    is_active: bool,
    actor: User | None,
) -> Subject:
    """Rename, describe, retire or reactivate a subject (versions change through a new release)."""
    before = {"name": subject.name, "is_active": subject.is_active}
    subject.name = name.strip()
    subject.description = description.strip()
    subject.is_active = is_active
    _save(subject)
    after = {"name": subject.name, "is_active": subject.is_active}
    if before != after:
        audit_record(
            actor=actor,
            action="subject.updated",
            target=subject,
            changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
        )
    return subject
