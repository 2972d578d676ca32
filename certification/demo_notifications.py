"""The demo's notification history: the warnings the daily tasks would have sent about the
demo's expiring and lapsed certifications, and a history that looks lived in (what is more
than two weeks old was read; what was due by an hour ago was emailed).

Run it last: the other seeders' services recorded the events themselves (certifications
issued, tiers changed, feedback released, tests assigned, sessions scheduled, the new
offering version). Idempotent: each event is told once, and marking read or emailed only
touches rows not yet marked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts.demo import DOMAIN
from certification.models import Certification, Notification
from certification.services.notifications import (
    notify_certifications_expired,
    notify_expiring_certifications,
)

READ_AFTER = timedelta(days=14)
EMAILED_BEFORE = timedelta(hours=1)
LAPSED_WITHIN = timedelta(days=60)


def seed() -> dict[str, Any]:
    now = timezone.now()
    warnings = notify_expiring_certifications(now=now)
    lapsed = list(
        Certification.objects.filter(
            rep__email__endswith=f"@{DOMAIN}",
            status=Certification.Status.EXPIRED,
            expires_at__gte=now - LAPSED_WITHIN,
            expires_at__lte=now,
        )
        # Superseded by a recertification: that is told as the new certificate.
        .exclude(
            Exists(
                Certification.objects.filter(
                    rep=OuterRef("rep"),
                    subject=OuterRef("subject"),
                    level=OuterRef("level"),
                    status=Certification.Status.ACTIVE,
                )
            )
        )
        .select_related("subject")
        .order_by("pk")
    )
    expired = notify_certifications_expired(certifications=lapsed, now=now)
    demo = Notification.objects.filter(recipient__email__endswith=f"@{DOMAIN}")
    read = demo.filter(read_at__isnull=True, created_at__lte=now - READ_AFTER).update(
        read_at=F("created_at") + timedelta(days=1)
    )
    emailed = demo.filter(
        emailed_at__isnull=True,
        email_due_at__isnull=False,
        email_due_at__lte=now - EMAILED_BEFORE,
    ).update(emailed_at=F("email_due_at"))
    return {
        "expiry_warnings": warnings,
        "expired_told": expired,
        "marked_read": read,
        "marked_emailed": emailed,
        "notifications": demo.count(),
    }
