"""The demo's readiness reports: requirements, expiries, and snapshots whose trends move."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuditEvent, User
from certification.demo_reports import snapshot_days
from certification.models import (
    Certification,
    ReadinessRequirement,
    ReadinessSnapshot,
    ReportSubscription,
    TierChange,
)
from certification.selectors.trends import trend_series

pytestmark = pytest.mark.django_db

SNAPSHOT_FIELDS = (
    "pk",
    "taken_on",
    "team_id",
    "offering_id",
    "reps",
    "in_scope",
    "ready",
    "gold",
    "silver",
    "bronze",
    "no_tier",
    "expiring_30",
    "inactive",
)


def _state():
    return (
        sorted(ReadinessSnapshot.objects.values_list(*SNAPSHOT_FIELDS)),
        sorted(Certification.objects.values_list("pk", "status", "expires_at")),
        sorted(TierChange.objects.values_list("pk", "changed_at")),
        ReadinessRequirement.objects.count(),
        AuditEvent.objects.count(),
    )


def test_seed_demo_leaves_trends_that_move_and_seeds_again_to_the_same_rows(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    now = timezone.now()
    today = timezone.localdate(now)
    # Requirements: every offering org-wide, and Acme Cloud level 2 for Enterprise reps.
    assert ReadinessRequirement.objects.filter(segment="").count() == 3
    enterprise = ReadinessRequirement.objects.get(segment="Enterprise")
    assert enterprise.offering.name == "Acme Cloud"
    assert list(enterprise.items.values_list("level", flat=True)) == [2]
    # Expiries within 30, 60 and 90 days, and two lapsed.
    active = Certification.objects.filter(status="active", expires_at__isnull=False)
    for low, high in ((0, 30), (30, 60), (60, 90)):
        window = (now + timedelta(days=low), now + timedelta(days=high))
        assert active.filter(expires_at__range=window).exists()
    assert Certification.objects.filter(status="expired", expires_at__lt=now).count() == 2
    # Snapshots: weekly for 13 weeks, daily for the last two.
    days = sorted(set(ReadinessSnapshot.objects.values_list("taken_on", flat=True)))
    assert days == snapshot_days(today)
    assert days[0] == today - timedelta(weeks=13)
    lead = User.objects.get(email="lead@demo.test")
    series = trend_series(viewer=lead, days=365, today=today)
    assert len(series.overall) == len(days)
    for trend in series.offerings:
        first, last = trend.points[0].percent, trend.points[-1].percent
        assert first is not None
        assert last is not None
        assert first != last, trend.name
    tiers = [(p.gold + p.silver + p.bronze) for p in series.overall]
    # reps earned their tiers over the period, not all on the day the demo was seeded
    assert tiers[0] < tiers[-2] <= tiers[-1]
    manager = User.objects.get(email="manager@demo.test")
    assert trend_series(viewer=manager, today=today).label == "EMEA Enterprise"
    assert ReportSubscription.objects.get(user=lead).weekday == 1
    # Seeding again changes nothing.
    first_state = _state()
    call_command("seed_demo", stdout=StringIO())
    assert _state() == first_state
