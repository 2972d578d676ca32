"""The demo's certification lifecycle: validity periods on the offerings, and a new version
of the flagship offering in its grace period, so its level-1 holders must re-earn it.

Run it last. Idempotent: the validity is set to the same days (no change, no audit row) and
the version is published once; a second run writes nothing.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import User
from certification.demo_reports import snapshot_days
from certification.models import OfferingVersion, Subject
from certification.services.lifecycle import offering_version_publish, subject_validity_set
from certification.services.snapshots import readiness_snapshots_backfill

OFFERINGS = ("Acme Cloud", "Acme Analytics", "Acme Secure")
# Days of validity per level for the offerings: level 1 yearly, level 2 every two years,
# level 3 (a real customer interaction) does not expire.
VALIDITY = {1: 365, 2: 730, 3: None}
FLAGSHIP = "Acme Cloud"
NEW_VERSION = "2026.3"
RELEVEL = [1]
GRACE_DAYS = 30


def seed() -> dict[str, Any]:
    """Validity periods for the offerings and one version bump in its grace period."""
    lead = User.objects.filter(email="lead@demo.test").first()
    if lead is None:
        raise RuntimeError("seed the demo organisation first (accounts.demo.seed)")
    offerings = list(Subject.objects.filter(name__in=OFFERINGS, kind=Subject.Kind.OFFERING))
    for offering in offerings:
        subject_validity_set(subject=offering, days_by_level=VALIDITY, actor=lead)
    flagship = next((s for s in offerings if s.name == FLAGSHIP), None)
    release = None
    if flagship is not None:
        release = OfferingVersion.objects.filter(offering=flagship, version=NEW_VERSION).first()
        if release is None:
            now = timezone.now()
            release = offering_version_publish(
                actor=lead,
                offering=flagship,
                version=NEW_VERSION,
                relevel=RELEVEL,
                grace_days=GRACE_DAYS,
                now=now,
            )
            # The expiries moved: take the readiness snapshots again (as demo_reports did), so
            # that seeding again finds the same figures.
            readiness_snapshots_backfill(days=snapshot_days(timezone.localdate(now)), now=now)
    return {
        "offerings_with_validity": len(offerings),
        "version_published": str(release) if release else "",
        "certifications_to_re_earn": release.affected_count if release else 0,
    }
