"""The demo's readiness reports: customer-ready requirements, a few expiring and lapsed
certifications, a tier history dated when it was earned, three months of readiness snapshots
(weekly, then daily for the last two weeks) and the lead's weekly email.

Run it last (it reads the certifications and tiers the other seeders made). Every step is
idempotent: the picks are made from stable orderings and each change is made once, so a
second run writes the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Min, QuerySet
from django.utils import timezone

from accounts.demo import DOMAIN, NAMED_REP
from accounts.models import User
from accounts.services import audit_record
from certification.models import (
    Certification,
    Deal,
    ReadinessRequirement,
    ReadinessSnapshot,
    ReportSubscription,
    Subject,
    Tier,
    TierChange,
)
from certification.services.readiness import requirement_save, subscription_set
from certification.services.readiness_summaries import readiness_summaries_refresh
from certification.services.snapshots import readiness_snapshots_backfill

ESSENTIALS = "Acme company essentials"
OFFERINGS = ("Acme Cloud", "Acme Analytics", "Acme Secure")
FLAGSHIP = "Acme Cloud"
ENTERPRISE = "Enterprise"
# Days until expiry for six level-1 certifications spread evenly over a stable pool (the
# flagship offering is left out: its new version re-dates its level 1, see demo_lifecycle).
EXPIRING_DAYS = (9, 23, 41, 52, 68, 83)
# (position among the company-essentials certifications, days since it lapsed)
LAPSED = ((5, 6), (22, 17))
HISTORY_WEEKS = 13
DAILY_DAYS = 14


def _demo_certifications() -> QuerySet[Certification]:
    return Certification.objects.filter(rep__email__endswith=f"@{DOMAIN}", level=1).exclude(
        rep__email=NAMED_REP
    )


def _requirements(lead: User) -> int:
    """Every rep: level 1 on each offering and on company essentials; Enterprise reps also
    level 2 on the flagship offering."""
    subjects = {s.name: s for s in Subject.objects.filter(name__in=[ESSENTIALS, *OFFERINGS])}
    essentials = subjects.get(ESSENTIALS)
    if essentials is None:
        return 0
    wanted: list[tuple[Subject, str, list[tuple[Subject, int]]]] = [
        (subjects[name], "", [(subjects[name], 1), (essentials, 1)])
        for name in OFFERINGS
        if name in subjects
    ]
    if FLAGSHIP in subjects:
        wanted.append((subjects[FLAGSHIP], ENTERPRISE, [(subjects[FLAGSHIP], 2)]))
    created = 0
    for offering, segment, items in wanted:
        exists = ReadinessRequirement.objects.filter(
            offering=offering, team__isnull=True, segment=segment, sales_role=""
        ).exists()
        if not exists:
            requirement_save(actor=lead, offering=offering, items=items, segment=segment)
            created += 1
    return created


def _expiries(now: datetime) -> int:
    """Two company-essentials certifications have lapsed; a handful of others expire within
    30, 60 and 90 days."""
    changed = 0
    essentials = list(
        _demo_certifications().filter(subject__name=ESSENTIALS).order_by("rep__email", "pk")
    )
    for position, days_ago in LAPSED:
        if position >= len(essentials):
            continue
        certification = essentials[position]
        if certification.status != Certification.Status.ACTIVE or certification.expires_at:
            continue
        # Company essentials counts for readiness, not for tiers: the tiers stay as they are.
        lapsed = now - timedelta(days=days_ago)
        if lapsed <= certification.issued_at:
            lapsed = certification.issued_at + (now - certification.issued_at) / 2
        certification.expires_at = lapsed
        certification.status = Certification.Status.EXPIRED
        certification.save(update_fields=["expires_at", "status"])
        audit_record(actor=None, action="certification.expired", target=certification, changes={})
        changed += 1
    others = list(
        _demo_certifications()
        .exclude(subject__name__in=[ESSENTIALS, FLAGSHIP])
        .order_by("rep__email", "subject__name", "pk")
    )
    # Evenly spread rather than fixed positions: how many certifications the demo's exams
    # produce depends on row ids, so the pool's size is not fixed.
    for index, days in enumerate(EXPIRING_DAYS):
        position = (2 * index + 1) * len(others) // (2 * len(EXPIRING_DAYS))
        if position >= len(others):
            continue
        certification = others[position]
        if certification.status == Certification.Status.ACTIVE and not certification.expires_at:
            certification.expires_at = now + timedelta(days=days)
            certification.save(update_fields=["expires_at"])
            changed += 1
    return changed


def _tier_history() -> int:
    """Date each rep's first tier (set when the demo was built) to when its facts came
    together: the last certification issued before it, or the first won deal if later."""
    changes = TierChange.objects.filter(rep__email__endswith=f"@{DOMAIN}").order_by(
        "rep_id", "changed_at", "pk"
    )
    first: dict[int, TierChange] = {}
    for change in changes:
        first.setdefault(change.rep_id, change)
    issued: dict[int, list[datetime]] = defaultdict(list)
    for rep_id, issued_at in Certification.objects.filter(rep_id__in=first).values_list(
        "rep_id", "issued_at"
    ):
        issued[rep_id].append(issued_at)
    first_won = dict(
        Deal.objects.filter(rep_id__in=first, stage=Deal.Stage.WON)
        .values("rep_id")
        .annotate(first=Min("close_date"))
        .order_by()
        .values_list("rep_id", "first")
    )
    moved = 0
    for rep_id, change in first.items():
        # Seeding recomputes tiers as it issues certifications (causes like "level 1 on ...
        # issued"); an override is enablement's act of today and keeps its date.
        if change.cause == "override set" or change.new_tier == Tier.NONE:
            continue
        before = [at for at in issued[rep_id] if at <= change.changed_at]
        if not before:
            continue
        earned = max(before)
        won_on = first_won.get(rep_id)
        if change.new_tier != Tier.BRONZE and won_on is not None:
            earned = max(earned, timezone.make_aware(datetime.combine(won_on, time(12))))
        if earned < change.changed_at:
            TierChange.objects.filter(pk=change.pk).update(changed_at=earned)
            moved += 1
    return moved


def _joined(now: datetime) -> int:
    """The demo organisation has been around for a year: its people joined before any of the
    history, so past snapshots count them."""
    start = now - timedelta(days=365)
    return User.objects.filter(email__endswith=f"@{DOMAIN}", date_joined__gt=start).update(
        date_joined=start
    )


def snapshot_days(today: date) -> list[date]:
    """Weekly for the last 13 weeks, daily for the last two."""
    weekly = {today - timedelta(weeks=weeks) for weeks in range(HISTORY_WEEKS + 1)}
    daily = {today - timedelta(days=days) for days in range(DAILY_DAYS)}
    return sorted(weekly | daily)


def seed() -> dict[str, Any]:
    """Requirements, expiries, dated tier history, snapshots and the lead's weekly email."""
    lead = User.objects.filter(email="lead@demo.test").first()
    if lead is None:
        raise RuntimeError("seed the demo organisation first (accounts.demo.seed)")
    now = timezone.now()
    requirements = _requirements(lead)
    expiries = _expiries(now)
    tiers_dated = _tier_history()
    joined = _joined(now)
    written = readiness_snapshots_backfill(days=snapshot_days(timezone.localdate(now)), now=now)
    if not ReportSubscription.objects.filter(user=lead).exists():
        subscription_set(user=lead, is_active=True, weekday=1)
    return {
        "requirements_added": requirements,
        "expiries_set": expiries,
        "tier_changes_dated": tiers_dated,
        "people_joined_backdated": joined,
        "snapshot_rows_written": written,
        "snapshots": ReadinessSnapshot.objects.count(),
    }


def seed_summaries() -> dict[str, Any]:
    """Summarise every rep's readiness, as the refresh task would within a minute."""
    result = readiness_summaries_refresh()
    return {"readiness_summaries": result.refreshed}
