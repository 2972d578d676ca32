"""Keeping certifications true over time: validity periods, the expiry sweep and new
versions of offerings.

Expiry happens twice: on read (every live read counts a certification past its
``expires_at`` as not held, see ``certification.selectors.certificates``) and in the hourly
sweep below, which turns its status to expired, audits it and recomputes the reps' tiers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q

from accounts.models import AuditEvent, User
from accounts.services import audit_record
from certification.models import (
    Certification,
    CertificationValidity,
    Level,
    OfferingVersion,
    Subject,
)
from certification.services.notifications import (
    notify_certifications_expired,
    notify_offering_version,
)
from certification.services.tiers import tiers_recompute_later
from config.errors import ApplicationError

EXPIRE_BATCH = 500
MAX_VALIDITY_DAYS = 3660
MAX_GRACE_DAYS = 365
# A version as offerings are numbered: 2, 2.0, 2025.1, 3.1.4, optionally with a suffix
# such as 2.0-beta.
VERSION_FORMAT = re.compile(r"^\d+(?:\.\d+){0,3}(?:-[0-9A-Za-z]+(?:\.[0-9A-Za-z]+)*)?$")


def _audit_many(
    *,
    actor: User | None,
    action: str,
    rows: Sequence[Certification],
    changes: Mapping[int, dict[str, object]],
) -> None:
    """One audit event per certification, written in one INSERT."""
    content_type = ContentType.objects.get_for_model(Certification)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                actor_label=actor.email if actor else "",
                action=action,
                target_type=content_type,
                target_id=str(row.pk),
                target_label=str(row)[:255],
                changes=changes.get(row.pk, {}),
            )
            for row in rows
        ]
    )


# Validity ----------------------------------------------------------------------------------


def subject_validity(*, subject: Subject) -> dict[int, int | None]:
    """Days of validity per level of the subject (None: never expires)."""
    days: dict[int, int | None] = dict.fromkeys(Level.values)
    days.update(CertificationValidity.objects.filter(subject=subject).values_list("level", "days"))
    return days


@transaction.atomic
def subject_validity_set(
    *, subject: Subject, days_by_level: Mapping[int, int | None], actor: User | None
) -> dict[int, int | None]:
    """Set how many days a new certification of each level stays valid (None: no expiry).

    Applies to certifications issued from now on; held ones keep their expiry.
    """
    errors: dict[str, list[str]] = {}
    for level, days in days_by_level.items():
        if level not in Level.values:
            errors[f"level_{level}_days"] = ["There is no such level."]
        elif days is not None and not 1 <= days <= MAX_VALIDITY_DAYS:
            errors[f"level_{level}_days"] = [f"1 to {MAX_VALIDITY_DAYS} days, or empty."]
    if errors:
        raise ApplicationError(
            "A validity period is between 1 day and 10 years.", field_errors=errors
        )
    Subject.objects.select_for_update().filter(pk=subject.pk).first()
    before = subject_validity(subject=subject)
    for level, days in days_by_level.items():
        if days is None:
            CertificationValidity.objects.filter(subject=subject, level=level).delete()
        else:
            CertificationValidity.objects.update_or_create(
                subject=subject, level=level, defaults={"days": days}
            )
    after = subject_validity(subject=subject)
    if after != before:
        audit_record(
            actor=actor,
            action="subject.validity_changed",
            target=subject,
            changes={
                f"level_{level}_days": [before[level], after[level]]
                for level in Level.values
                if before[level] != after[level]
            },
        )
    return after


# The expiry sweep ----------------------------------------------------------------------------


def certifications_expire_due(*, now: datetime, batch_size: int = EXPIRE_BATCH) -> int:
    """Mark the active certifications past their expiry as expired, audited, in batches, and
    recompute their reps' tiers; returns how many expired. Running it again changes nothing."""
    expired = 0
    while True:
        with transaction.atomic():
            # Each batch commits on its own; rows another sweep holds are left to it.
            batch = list(
                Certification.objects.filter(
                    status=Certification.Status.ACTIVE, expires_at__lte=now
                )
                .select_related("subject")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            Certification.objects.filter(
                pk__in=[row.pk for row in batch], status=Certification.Status.ACTIVE
            ).update(status=Certification.Status.EXPIRED)
            for row in batch:
                row.status = Certification.Status.EXPIRED
            _audit_many(
                actor=None,
                action="certification.expired",
                rows=batch,
                changes={
                    row.pk: {"expires_at": row.expires_at.isoformat() if row.expires_at else None}
                    for row in batch
                },
            )
            # Queued with the batch's commit: a sweep stopped after this batch still leaves
            # these reps' tiers to be recomputed.
            tiers_recompute_later(
                rep_ids={row.rep_id for row in batch}, cause="certifications expired"
            )
            notify_certifications_expired(certifications=batch, now=now)
        expired += len(batch)
        if len(batch) < batch_size:
            break
    return expired


# New offering versions -------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionInput:
    version: str
    relevel: list[int]
    grace_days: int


def _check_version(*, offering: Subject, data: VersionInput) -> None:
    errors: dict[str, list[str]] = {}
    if offering.kind != Subject.Kind.OFFERING:
        raise ApplicationError("Only offerings have versions.", code="not_an_offering")
    if not VERSION_FORMAT.fullmatch(data.version) or len(data.version) > 40:
        errors["version"] = ["Numbers with dots, e.g. 2.0 or 2025.1 (a suffix like -beta is fine)."]
    elif data.version == offering.current_version:
        errors["version"] = [f"{offering.name} is already on {data.version}."]
    elif OfferingVersion.objects.filter(offering=offering, version=data.version).exists():
        errors["version"] = ["This version was published before."]
    if not data.relevel:
        errors["relevel"] = ["Choose at least one level to re-earn."]
    elif any(level not in Level.values for level in data.relevel):
        errors["relevel"] = ["Levels are 1, 2 and 3."]
    if not 0 <= data.grace_days <= MAX_GRACE_DAYS:
        errors["grace_days"] = [f"0 to {MAX_GRACE_DAYS} days."]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ApplicationError(f"The new version cannot be published: {first}", field_errors=errors)


@transaction.atomic
def offering_version_publish(
    *,
    actor: User | None,
    offering: Subject,
    version: str,
    relevel: Iterable[int],
    grace_days: int,
    now: datetime,
) -> OfferingVersion:
    """Publish a new version of an offering: holders of the chosen levels must re-earn them
    within the grace period, so their certifications expire at its end (never later than
    they would have). Returns the release, with how many certifications it affected."""
    data = VersionInput(
        version=version.strip(), relevel=sorted(set(relevel)), grace_days=grace_days
    )
    offering = Subject.objects.select_for_update().get(pk=offering.pk)
    _check_version(offering=offering, data=data)
    grace_ends_at = now + timedelta(days=data.grace_days)
    holders = Certification.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        subject=offering,
        level__in=data.relevel,
        status=Certification.Status.ACTIVE,
    )
    affected_reps = set(holders.values_list("rep_id", flat=True))
    affected = holders.count()
    shortened = list(
        holders.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=grace_ends_at))
        .select_related("subject")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    Certification.objects.filter(pk__in=[row.pk for row in shortened]).update(
        expires_at=grace_ends_at
    )
    _audit_many(
        actor=actor,
        action="certification.expiry_shortened",
        rows=shortened,
        changes={
            row.pk: {
                "expires_at": [
                    row.expires_at.isoformat() if row.expires_at else None,
                    grace_ends_at.isoformat(),
                ],
                "version": data.version,
            }
            for row in shortened
        },
    )
    release = OfferingVersion.objects.create(
        offering=offering,
        version=data.version,
        previous_version=offering.current_version,
        relevel_levels=data.relevel,
        grace_days=data.grace_days,
        grace_ends_at=grace_ends_at,
        affected_count=affected,
        published_by=actor,
        published_at=now,
    )
    audit_record(
        actor=actor,
        action="subject.version_published",
        target=offering,
        changes={
            "version": [offering.current_version, data.version],
            "relevel": data.relevel,
            "grace_days": data.grace_days,
            "affected": affected,
        },
    )
    offering.current_version = data.version
    offering.save(update_fields=["current_version"])
    notify_offering_version(release=release, rep_ids=affected_reps, actor=actor, now=now)
    if data.grace_days == 0 and shortened:
        # No grace: they lapse now, and the tiers follow at once rather than at the sweep.
        tiers_recompute_later(
            rep_ids=[row.rep_id for row in shortened],
            cause=f"{offering.name} {data.version} published",
        )
    return release
