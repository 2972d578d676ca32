"""Writes to assessment guides. Editing a version that has been used makes a new version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction

from accounts.models import User
from accounts.services import audit_record
from certification.models import Criterion, Guide, GuideVersion, Subject
from config.errors import ApplicationError

MAX_SCALE_POINTS = 10


@dataclass(frozen=True)
class CriterionInput:
    title: str
    rep_description: str
    descriptors: dict[int, str]  # a descriptor for every point of the scale
    weight: Decimal = Decimal(1)
    judge_notes: str = ""
    is_critical: bool = False


@dataclass(frozen=True)
class GuideContent:
    """Everything a version holds."""

    criteria: Sequence[CriterionInput]
    introduction: str = ""
    scale_min: int = 1
    scale_max: int = 4
    pass_level: int = 3
    pass_threshold: Decimal = Decimal(70)


def _check(content: GuideContent) -> None:
    _check_scale(content)
    _check_criteria(content)


def _check_scale(content: GuideContent) -> None:
    if not 0 <= content.scale_min < content.scale_max:
        raise ApplicationError(
            "The scale needs a lowest point below its highest.",
            field_errors={"scale_max": ["Above the lowest point."]},
        )
    if content.scale_max - content.scale_min + 1 > MAX_SCALE_POINTS:
        raise ApplicationError(
            f"A scale has at most {MAX_SCALE_POINTS} points.",
            field_errors={"scale_max": ["Too many points."]},
        )
    if not content.scale_min <= content.pass_level <= content.scale_max:
        raise ApplicationError(
            "The pass level must be a point of the scale.",
            field_errors={"pass_level": ["On the scale."]},
        )
    try:
        threshold = Decimal(content.pass_threshold)
    except (InvalidOperation, TypeError, ValueError):
        raise ApplicationError("The pass threshold must be a number.") from None
    if not 0 <= threshold <= 100:
        raise ApplicationError(
            "The pass threshold is a percentage from 0 to 100.",
            field_errors={"pass_threshold": ["0 to 100."]},
        )


def _check_criteria(content: GuideContent) -> None:
    if not content.criteria:
        raise ApplicationError(
            "A guide needs at least one criterion.", field_errors={"criteria": ["Add a criterion."]}
        )
    points = range(content.scale_min, content.scale_max + 1)
    titles = set()
    for number, criterion in enumerate(content.criteria, start=1):
        where = f"Criterion {number}"
        title = criterion.title.strip()
        if not title or not criterion.rep_description.strip():
            raise ApplicationError(
                f"{where} needs a title and a description for the rep.",
                field_errors={"criteria": [f"{where}: title and description."]},
            )
        if title.lower() in titles:
            raise ApplicationError(
                f"Two criteria are called {title!r}.",
                field_errors={"criteria": ["Repeated title."]},
            )
        titles.add(title.lower())
        if Decimal(criterion.weight) <= 0:
            raise ApplicationError(
                f"{where} needs a weight above 0.",
                field_errors={"criteria": [f"{where}: weight above 0."]},
            )
        missing = [p for p in points if not (criterion.descriptors.get(p) or "").strip()]
        if missing:
            raise ApplicationError(
                f"{where} ({title}) needs a descriptor for every point of the scale; "
                f"missing: {', '.join(map(str, missing))}.",
                field_errors={"criteria": [f"{where}: describe every point."]},
            )


def _write_version(
    guide: Guide, number: int, content: GuideContent, actor: User | None
) -> GuideVersion:
    version = GuideVersion.objects.create(
        guide=guide,
        number=number,
        introduction=content.introduction.strip(),
        scale_min=content.scale_min,
        scale_max=content.scale_max,
        pass_level=content.pass_level,
        pass_threshold=Decimal(content.pass_threshold),
        created_by=actor,
    )
    _write_criteria(version, content)
    return version


def _write_criteria(version: GuideVersion, content: GuideContent) -> None:
    points = range(content.scale_min, content.scale_max + 1)
    Criterion.objects.bulk_create(
        Criterion(
            version=version,
            position=i,
            title=c.title.strip(),
            rep_description=c.rep_description.strip(),
            judge_notes=c.judge_notes.strip(),
            weight=Decimal(c.weight),
            is_critical=c.is_critical,
            descriptors={str(p): c.descriptors[p].strip() for p in points},
        )
        for i, c in enumerate(content.criteria)
    )


def guide_version_in_use(version: GuideVersion) -> bool:
    """A session or an observation has used this version, so it must not change."""
    return version.sessions.exists() or version.observations.exists()


def lock_guide(guide: Guide) -> Guide:
    """Lock the guide's row until the transaction ends: ``guide_update`` takes the same lock,
    so a version read after this cannot be edited in place at the same moment."""
    return Guide.objects.select_for_update().get(pk=guide.pk)


def current_version(guide: Guide) -> GuideVersion:
    """The guide's newest version."""
    return guide.versions.order_by("-number").first()  # type: ignore[return-value]


@transaction.atomic
def guide_create(
    *, name: str, content: GuideContent, actor: User | None, subject: Subject | None = None
) -> Guide:
    """Create a guide and its first version."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A guide needs a name.", field_errors={"name": ["Required."]})
    if Guide.objects.filter(name__iexact=name).exists():
        raise ApplicationError(
            f"There is already a guide called {name!r}.",
            field_errors={"name": ["This name is taken."]},
        )
    _check(content)
    guide = Guide.objects.create(name=name, subject=subject, created_by=actor)
    _write_version(guide, 1, content, actor)
    audit_record(
        actor=actor,
        action="guide.created",
        target=guide,
        changes={"criteria": len(content.criteria)},
    )
    return guide


@transaction.atomic
def guide_update(*, guide: Guide, content: GuideContent, actor: User | None) -> GuideVersion:
    """Change the guide's content. A version already used is kept as it was and a new version
    takes the change, so scores keep the version they were given with."""
    _check(content)
    Guide.objects.select_for_update().get(pk=guide.pk)  # one editor at a time
    version = current_version(guide)
    if guide_version_in_use(version):
        new = _write_version(guide, version.number + 1, content, actor)
        audit_record(
            actor=actor,
            action="guide.versioned",
            target=guide,
            changes={"from": version.number, "to": new.number},
        )
        return new
    version.introduction = content.introduction.strip()
    version.scale_min, version.scale_max = content.scale_min, content.scale_max
    version.pass_level, version.pass_threshold = content.pass_level, Decimal(content.pass_threshold)
    version.save()
    version.criteria.all().delete()
    _write_criteria(version, content)
    audit_record(
        actor=actor, action="guide.updated", target=guide, changes={"version": version.number}
    )
    return version


@transaction.atomic
def guide_rename(*, guide: Guide, name: str, subject: Subject | None, actor: User | None) -> Guide:
    """Rename a guide or change its subject (its versions are untouched)."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A guide needs a name.", field_errors={"name": ["Required."]})
    if Guide.objects.filter(name__iexact=name).exclude(pk=guide.pk).exists():
        raise ApplicationError(
            f"There is already a guide called {name!r}.",
            field_errors={"name": ["This name is taken."]},
        )
    guide.name, guide.subject = name, subject
    guide.save(update_fields=["name", "subject"])
    audit_record(actor=actor, action="guide.renamed", target=guide)
    return guide
