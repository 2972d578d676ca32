"""The demo's teleprospecting support: three past weekly periods and the current one (60 h a
week, or 5 h per eligible rep when fewer than twelve are silver or gold, so the demo still
shows scarcity) with requests from the silver and gold reps, usage and outcomes in the past
weeks, and each week's allocation; plus next week, open for requests.

Run it after the tiers seeder (it reads the reps' tiers). Everything goes through the
services, with the clock set to when each thing would have happened; a second run adds
nothing.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import User
from certification.models import RepTier, SupportPeriod, SupportRequest, SupportUsage, Tier
from certification.services.support import (
    period_create,
    support_allocate,
    support_request_create,
    support_usage_record,
)
from certification.services.tiers import all_rep_ids, tiers_recompute
from config.errors import ApplicationError

CAPACITY = Decimal(60)
HOURS_PER_ELIGIBLE_REP = Decimal(5)
PAST_WEEKS = 3
MAX_REPS = 14
PURPOSES = (
    "Call the open opportunities' second-line contacts in my territory before the quarter ends.",
    "Follow up the visitors of our booth at the regional cloud summit.",
    "Book discovery meetings with the IT directors on my named-account list.",
    "Re-engage the accounts that went quiet after last year's renewal.",
    "Invite my top prospects to the customer round table next month.",
)


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _eligible_reps() -> list[User]:
    if not RepTier.objects.exists():
        tiers_recompute(rep_ids=all_rep_ids(), cause="demo data")
    return list(
        User.objects.filter(
            is_rep=True, is_active=True, tier__tier__in=[Tier.GOLD, Tier.SILVER]
        ).order_by("email")[:MAX_REPS]
    )


def _period(starts_on: date, lead: User | None, capacity: Decimal) -> SupportPeriod | None:
    found = SupportPeriod.objects.filter(starts_on=starts_on).first()
    if found is not None:
        return found
    try:
        return period_create(
            starts_on=starts_on,
            ends_on=starts_on + timedelta(days=6),
            capacity_hours=capacity,
            actor=lead,
            now=_at(starts_on - timedelta(days=7), 9),
        )
    except ApplicationError:
        return None  # someone opened an overlapping period by hand: leave theirs alone


def _requests(period: SupportPeriod, reps: list[User], *, share: float) -> int:
    made = 0
    for rep in reps:
        rng = random.Random(f"support-request:{period.starts_on}:{rep.email}")
        if rng.random() > share or SupportRequest.objects.filter(period=period, rep=rep).exists():
            continue
        try:
            support_request_create(
                rep=rep,
                period=period,
                purpose=rng.choice(PURPOSES),
                hours_requested=Decimal(rng.choice((4, 6, 8, 10, 12, 16))),
                now=_at(period.starts_on - timedelta(days=2), 9 + rng.randrange(8)),
            )
        except ApplicationError:
            continue
        made += 1
    return made


def _half_hours(hours: Decimal) -> Decimal:
    return (hours * 2).to_integral_value() / 2


def _usage(period: SupportPeriod, lead: User, *, today: date) -> int:
    """Two records per allocated request: the first half of the week once it has started, the
    rest once it has ended (stable keys, so a later run adds the second without a duplicate)."""
    recorded = 0
    allocated = SupportRequest.objects.filter(
        period=period, status=SupportRequest.Status.ALLOCATED
    ).select_related("rep")
    for request in allocated:
        rep = request.rep
        talent = random.Random(f"support-talent:{rep.email}")
        meetings_per_hour = talent.uniform(0.3, 2.2)
        pipeline_per_meeting = talent.randrange(4_000, 40_000, 500)
        rng = random.Random(f"support-usage:{period.starts_on}:{rep.email}")
        total = _half_hours(request.hours_allocated * rng.choice((8, 9, 10)) / 10)
        first = _half_hours(total * 2 / 5)
        parts = [
            ("part1", first, period.starts_on + timedelta(days=2)),
            ("part2", total - first, period.ends_on),
        ]
        for name, hours, day in parts:
            if hours <= 0 or day > today:
                continue
            meetings = round(float(hours) * meetings_per_hour * rng.uniform(0.7, 1.3))
            result = support_usage_record(
                actor=lead,
                rep=rep,
                period=period,
                hours=hours,
                meetings_set=meetings,
                pipeline_amount=Decimal(meetings * pipeline_per_meeting),
                idempotency_key=f"demo:{period.starts_on}:{rep.email}:{name}",
                now=_at(day, 17),
            )
            recorded += int(result.created)
    return recorded


def seed() -> dict[str, Any]:
    lead = User.objects.filter(email="tp@demo.test").first()
    if lead is None:
        raise RuntimeError("seed the demo organisation first (accounts.demo.seed)")
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    reps = _eligible_reps()
    capacity = min(CAPACITY, max(HOURS_PER_ELIGIBLE_REP * len(reps), HOURS_PER_ELIGIBLE_REP * 2))
    requests = usages = allocations = 0
    for weeks_ago in range(PAST_WEEKS, -1, -1):
        period = _period(monday - timedelta(weeks=weeks_ago), lead, capacity)
        if period is None:
            continue
        requests += _requests(period, reps, share=0.8)
        if period.allocated_at is None:
            support_allocate(
                period=period, actor=lead, now=_at(period.starts_on - timedelta(days=1), 18)
            )
            allocations += 1
        usages += _usage(period, lead, today=today)
    # Next week, open for requests on /support/.
    upcoming = _period(monday + timedelta(weeks=1), lead, capacity)
    return {
        "periods": SupportPeriod.objects.count(),
        "requests": requests,
        "allocations": allocations,
        "usage_records": usages,
        "upcoming_period": int(upcoming is not None),
        "usage_total": SupportUsage.objects.count(),
    }
