"""Fixtures for readiness: a small organisation whose figures are worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.services import user_set_team
from certification.models import Certification, ReadinessRequirement, RequiredCertification, Subject
from tests.factories.certification import SubjectFactory, held_certification
from tests.factories.support import set_tier


@dataclass
class Fixture:
    cloud: Subject
    secure: Subject
    opening: Subject
    now: datetime


def require(offering, items, **slice_):
    requirement = ReadinessRequirement.objects.create(offering=offering, **slice_)
    for subject, level in items:
        RequiredCertification.objects.create(requirement=requirement, subject=subject, level=level)
    return requirement


@pytest.fixture
def world(org) -> Fixture:
    """Requirements:
    - Cloud, every rep: Cloud L1 and Call opening L1.
    - Cloud, team Alpha and below: Cloud L2 as well.
    - Secure, segment Enterprise: Secure L1.

    rep_a (Alpha, Enterprise): Cloud L1+L2, opening L1, Secure L1 lapsed -> ready on Cloud only.
    rep_a1 (was Alpha-1, moved to Beta): Cloud L1, opening L1 -> ready on Cloud (L2 no longer
      applies after the move).
    rep_b (Beta, Enterprise): Cloud L1, opening L1 revoked, Secure L1 (expires in 45 days)
      -> ready on Secure only.
    rep_c (Gamma): Cloud L1 (expires in 20 days), opening L1, everything 120 days old (inactive)
      -> ready on Cloud.
    """
    now = timezone.now()
    cloud = SubjectFactory(name="Acme Cloud", kind=Subject.Kind.OFFERING)
    secure = SubjectFactory(name="Acme Secure", kind=Subject.Kind.OFFERING)
    opening = SubjectFactory(name="Call opening", kind=Subject.Kind.SKILL)
    require(cloud, [(cloud, 1), (opening, 1)])
    require(cloud, [(cloud, 2)], team=org.alpha)
    require(secure, [(secure, 1)], segment="Enterprise")
    for rep in (org.rep_a, org.rep_b):
        rep.segment = "Enterprise"
        rep.save(update_fields=["segment"])

    held_certification(org.rep_a, cloud, 1, now=now)
    held_certification(org.rep_a, cloud, 2, now=now)
    held_certification(org.rep_a, opening, 1, now=now)
    lapsed = held_certification(org.rep_a, secure, 1, now=now - timedelta(days=400))
    Certification.objects.filter(pk=lapsed.pk).update(expires_at=now - timedelta(days=35))
    # An older, expired opening certificate is history, not a holding.
    old = held_certification(org.rep_c, opening, 1, now=now - timedelta(days=300))
    Certification.objects.filter(pk=old.pk).update(status=Certification.Status.EXPIRED)

    held_certification(org.rep_a1, cloud, 1, now=now)
    held_certification(org.rep_a1, opening, 1, now=now)
    user_set_team(user=org.rep_a1, team=org.beta, actor=None)

    held_certification(org.rep_b, cloud, 1, now=now)
    revoked = held_certification(org.rep_b, opening, 1, now=now)
    Certification.objects.filter(pk=revoked.pk).update(
        status=Certification.Status.REVOKED, revoked_at=now, revoked_reason="test"
    )
    secure_b = held_certification(org.rep_b, secure, 1, now=now)
    Certification.objects.filter(pk=secure_b.pk).update(expires_at=now + timedelta(days=45))

    long_ago = now - timedelta(days=120)
    cloud_c = held_certification(org.rep_c, cloud, 1, now=long_ago)
    Certification.objects.filter(pk=cloud_c.pk).update(expires_at=now + timedelta(days=20))
    held_certification(org.rep_c, opening, 1, now=long_ago)

    set_tier(org.rep_a, "gold")
    set_tier(org.rep_b, "silver")
    return Fixture(cloud=cloud, secure=secure, opening=opening, now=now)
