"""The demo's teleprospecting support: weekly periods, requests, allocations and usage, built
through the services, idempotent, and never over capacity."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from certification.demo_support import seed
from certification.models import SupportPeriod, SupportRequest, SupportUsage
from tests.factories.accounts import UserFactory
from tests.factories.support import set_tier

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        sorted(SupportPeriod.objects.values_list("starts_on", "capacity_hours", "allocated_at")),
        sorted(
            SupportRequest.objects.values_list(
                "period__starts_on", "rep__email", "status", "hours_allocated", "reason"
            )
        ),
        sorted(SupportUsage.objects.values_list("idempotency_key", "hours", "meetings_set")),
    )


def test_the_demo_builds_weeks_of_support_once(org):
    UserFactory(email="tp@demo.test", teleprospecting_lead=True)
    for rep, tier in ((org.rep_a, "gold"), (org.rep_b, "silver"), (org.rep_c, "silver")):
        set_tier(rep, tier)
    set_tier(org.rep_a1, "bronze")
    summary = seed()
    assert summary["periods"] == 5  # three past weeks, this week, next week
    assert summary["allocations"] == 4
    assert summary["usage_records"] > 0
    first = _snapshot()
    again = seed()
    assert (again["requests"], again["allocations"], again["usage_records"]) == (0, 0, 0)
    assert _snapshot() == first
    assert not SupportRequest.objects.filter(rep=org.rep_a1).exists()
    for period in SupportPeriod.objects.all():
        allocated = period.requests.filter(status="allocated").aggregate(
            total=Sum("hours_allocated")
        )
        assert (allocated["total"] or 0) <= period.capacity_hours
    today = timezone.localdate()
    current = SupportPeriod.objects.get(starts_on__lte=today, ends_on__gte=today)
    assert current.allocated_at is not None
    assert current.starts_on == today - timedelta(days=today.weekday())


def test_the_demo_still_opens_periods_when_nobody_is_eligible(org):
    UserFactory(email="tp@demo.test", teleprospecting_lead=True)
    set_tier(org.rep_a, "bronze")
    summary = seed()
    assert summary["periods"] == 5
    assert not SupportRequest.objects.exists()
