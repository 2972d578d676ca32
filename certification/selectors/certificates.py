"""Reads about certifications."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from certification.models import Certification


def certifications_of(*, rep: User) -> QuerySet[Certification]:
    """The rep's certifications, active first, each with its subject and evidence."""
    return (
        Certification.objects.filter(rep=rep)
        .select_related("subject", "attempt__exam", "session__scenario", "signoff")
        .order_by("status", "subject__name", "level", "-issued_at")
    )
