"""Reads about certifications.

Expiry on read: a certification past its ``expires_at`` counts as expired everywhere it is
read live (tiers, readiness, the rep's list), even before the hourly sweep
(``certifications_expire_due``) turns its status to expired.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When

from accounts.models import User
from certification.models import Certification, OfferingVersion, Subject


def certifications_of(*, rep: User, now: datetime | None = None) -> QuerySet[Certification]:
    """The rep's certifications, active first, each with its subject and evidence; with ``now``
    each carries ``shown_status``: its status, or expired once past its expiry."""
    rows = (
        Certification.objects.filter(rep=rep)
        .select_related("subject", "attempt__exam", "session__scenario", "signoff")
        .order_by("status", "subject__name", "level", "-issued_at")
    )
    if now is not None:
        rows = rows.annotate(
            shown_status=Case(
                When(
                    status=Certification.Status.ACTIVE,
                    expires_at__lte=now,
                    then=Value(Certification.Status.EXPIRED.value),
                ),
                default=F("status"),
                output_field=CharField(),
            )
        )
    return rows


def renewal_closed_q(now: datetime, prefix: str = "") -> Q:
    """Active certifications new evidence would not replace yet: on the subject's current
    version and not expiring within the renewal window (nor already lapsed)."""
    window_end = now + timedelta(days=settings.CERTIFICATION_RENEWAL_WINDOW_DAYS)
    return (
        Q(**{f"{prefix}status": Certification.Status.ACTIVE})
        & Q(**{f"{prefix}subject_version": F(f"{prefix}subject__current_version")})
        & (
            Q(**{f"{prefix}expires_at__isnull": True})
            | Q(**{f"{prefix}expires_at__gt": window_end})
        )
    )


def offering_versions(*, offering: Subject, limit: int = 20) -> list[OfferingVersion]:
    """The versions published for an offering, newest first, with who published them."""
    return list(
        OfferingVersion.objects.filter(offering=offering)
        .select_related("published_by")
        .order_by("-published_at", "-pk")[:limit]
    )
