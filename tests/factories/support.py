"""Helpers for teleprospecting support: tiers, periods relative to a day, earlier outcomes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from certification.models import RepTier, SupportPeriod
from certification.services.support import period_create, support_usage_record


def at(day: date, hour: int = 12) -> datetime:
    """An aware moment on the day."""
    return timezone.make_aware(datetime.combine(day, time(hour)))


def set_tier(rep: User, tier: str) -> None:
    """Put the rep in a tier (as a recompute or an override would)."""
    RepTier.objects.update_or_create(rep=rep, defaults={"tier": tier, "computed": tier})


def make_period(
    starts_on: date,
    *,
    capacity: int | str | Decimal = 20,
    weights: dict[str, int] | None = None,
    days: int = 7,
) -> SupportPeriod:
    return period_create(
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=days - 1),
        capacity_hours=Decimal(capacity),
        tier_weights=weights,
        actor=None,
        now=at(starts_on - timedelta(days=30)),
    )


def record_history(
    *,
    lead: User,
    rep: User,
    period: SupportPeriod,
    hours: int | str,
    meetings: int,
    pipeline: int | str = 0,
    key: str | None = None,
) -> None:
    """Usage in an earlier period: what the allocation weighs."""
    support_usage_record(
        actor=lead,
        rep=rep,
        period=period,
        hours=Decimal(hours),
        meetings_set=meetings,
        pipeline_amount=Decimal(pipeline),
        idempotency_key=key or f"history:{period.pk}:{rep.pk}:{hours}:{meetings}:{pipeline}",
        now=at(period.ends_on),
    )
