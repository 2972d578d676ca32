"""Tiers: the rule in force, one evaluation function, recomputation and overrides.

``tier_evaluate`` is pure: given a rep's facts (certifications held, won deals) and the rule,
it returns the tier, the reasons and exactly what the next tier still needs. Recomputation
locks the reps' tier rows first and reads their facts after, so two recomputes of one rep at
once queue on the lock and the second writes what the first did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from certification.models import (
    Certification,
    Deal,
    RepTier,
    Subject,
    Tier,
    TierChange,
    TierOverride,
    TierRule,
)
from certification.services.notifications import notify_tier_changes
from config.celery import enqueue_task_on_commit
from config.errors import ApplicationError, NotFoundError

RECOMPUTE_BATCH = settings.TIERS_RECOMPUTE_BATCH  # reps per transaction, and per task sent
RECOMPUTE_TASK = "certification.recompute_tiers"  # interactive: some reps' facts changed
# The recompute of every rep is sent as tasks of this many reps on the bulk queue, so every
# worker process consuming it takes a share.
RECOMPUTE_ALL_BATCH = settings.TIERS_RECOMPUTE_ALL_BATCH
RECOMPUTE_BULK_TASK = "certification.recompute_tiers_bulk"

# The rule ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedSubject:
    id: int
    name: str


@dataclass(frozen=True)
class RuleView:
    """The tier rule as evaluation needs it, read once per recompute."""

    offerings: tuple[NamedSubject, ...]  # every active offering: bronze needs level 1 on each
    silver_level2: tuple[NamedSubject, ...]
    gold_threshold: Decimal
    gold_window_days: int
    gold_level3: NamedSubject | None
    currency: str = field(default_factory=lambda: settings.BASE_CURRENCY)


def tier_rule() -> TierRule:
    """The rule in force (created with the defaults on first use)."""
    rule, _created = TierRule.objects.get_or_create(pk=1)
    return rule


def rule_view() -> RuleView:
    rule = tier_rule()
    offerings = Subject.objects.filter(kind=Subject.Kind.OFFERING, is_active=True).order_by("name")
    return RuleView(
        offerings=tuple(NamedSubject(s.pk, s.name) for s in offerings),
        silver_level2=tuple(
            NamedSubject(s.pk, s.name)
            for s in rule.silver_level2_subjects.filter(is_active=True).order_by("name")
        ),
        gold_threshold=rule.gold_revenue_threshold,
        gold_window_days=rule.gold_window_days,
        gold_level3=NamedSubject(rule.gold_level3_subject.pk, rule.gold_level3_subject.name)
        if rule.gold_level3_subject and rule.gold_level3_subject.is_active
        else None,
    )


@transaction.atomic
def tier_rule_update(
    *,
    actor: User,
    silver_level2_subjects: Sequence[Subject],
    gold_revenue_threshold: Decimal,
    gold_window_days: int,
    gold_level3_subject: Subject | None,
) -> TierRule:
    """Change the rule, audit it, and recompute every rep after commit."""
    if gold_revenue_threshold < 0:
        raise ApplicationError(
            "The revenue threshold cannot be negative.",
            field_errors={"gold_revenue_threshold": ["0 or more."]},
        )
    if not 1 <= gold_window_days <= 3660:
        raise ApplicationError(
            "The revenue window is between 1 day and 10 years.",
            field_errors={"gold_window_days": ["1 to 3660."]},
        )
    if any(s.kind != Subject.Kind.OFFERING for s in silver_level2_subjects):
        raise ApplicationError(
            "Silver names offerings.",
            field_errors={"silver_level2_subjects": ["Offerings only."]},
        )
    rule = TierRule.objects.select_for_update().get(pk=tier_rule().pk)
    before = _rule_snapshot(rule)
    rule.gold_revenue_threshold = gold_revenue_threshold
    rule.gold_window_days = gold_window_days
    rule.gold_level3_subject = gold_level3_subject
    rule.updated_at, rule.updated_by = timezone.now(), actor
    rule.save()
    rule.silver_level2_subjects.set(silver_level2_subjects)
    after = _rule_snapshot(rule)
    if after != before:
        audit_record(
            actor=actor,
            action="tier_rule.updated",
            target=rule,
            changes={"from": before, "to": after},
        )
        tiers_recompute_all_later(cause="tier rule changed")
    return rule


def _rule_snapshot(rule: TierRule) -> dict[str, object]:
    return {
        "silver_level2_subjects": sorted(
            rule.silver_level2_subjects.values_list("name", flat=True)
        ),
        "gold_revenue_threshold": str(rule.gold_revenue_threshold),
        "gold_window_days": rule.gold_window_days,
        "gold_level3_subject": rule.gold_level3_subject.name if rule.gold_level3_subject else None,
    }


# Evaluation -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierFacts:
    """What a rep holds on a day: active, unexpired certifications and won deals to date."""

    held: frozenset[tuple[int, int]]  # (subject id, level)
    won_deals: int = 0
    first_won_on: date | None = None
    window_revenue: Decimal = Decimal(0)  # won in the rule's trailing window, base currency


@dataclass(frozen=True)
class TierEvaluation:
    tier: str
    reasons: list[str]
    next_tier: str | None
    missing: list[str]  # what the next tier still needs, item by item


def _window_label(days: int) -> str:
    return "12 months" if days in (365, 366) else f"{days} days"


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.0f} {currency}"


def window_start(today: date, days: int) -> date:
    """The first day of a trailing window of ``days`` days that ends today (included)."""
    return today - timedelta(days=days - 1)


def tier_evaluate(facts: TierFacts, rule: RuleView) -> TierEvaluation:
    """The tier these facts earn under the rule, why, and what the next tier needs."""

    def lacking(subjects: Iterable[NamedSubject], level: int) -> list[str]:
        return [f"level {level} on {s.name}" for s in subjects if (s.id, level) not in facts.held]

    steps: list[tuple[str, list[str], list[str]]] = []  # (tier, reasons if met, missing)
    bronze_missing = lacking(rule.offerings, 1)
    if not rule.offerings:
        bronze_missing = ["an active offering to be certified on (enablement defines them)"]
    names = ", ".join(s.name for s in rule.offerings)
    steps.append((Tier.BRONZE, [f"level 1 on every active offering ({names})"], bronze_missing))

    silver_missing = [] if facts.won_deals else ["a first closed-won deal"]
    silver_missing += lacking(rule.silver_level2, 2)
    silver_reasons = (
        [f"first closed-won deal on {facts.first_won_on:%-d %b %Y}"] if facts.first_won_on else []
    )
    if rule.silver_level2:
        silver_reasons.append("level 2 on " + ", ".join(s.name for s in rule.silver_level2))
    steps.append((Tier.SILVER, silver_reasons, silver_missing))

    window = _window_label(rule.gold_window_days)
    gold_missing = []
    short = rule.gold_threshold - facts.window_revenue
    if short > 0:
        gold_missing.append(f"{_money(short, rule.currency)} more revenue in the last {window}")
    if rule.gold_level3 is not None:
        gold_missing += lacking([rule.gold_level3], 3)
    gold_reasons = [
        (
            f"{_money(facts.window_revenue, rule.currency)} won in the last {window} "
            f"(threshold {_money(rule.gold_threshold, rule.currency)})"
        )
    ]
    if rule.gold_level3 is not None:
        gold_reasons.append(f"level 3 on {rule.gold_level3.name}")
    steps.append((Tier.GOLD, gold_reasons, gold_missing))

    tier: str = Tier.NONE
    reasons: list[str] = []
    for name, met, missing in steps:
        if missing:
            return TierEvaluation(tier=tier, reasons=reasons, next_tier=name, missing=missing)
        tier, reasons = name, [*reasons, *met]
    return TierEvaluation(tier=tier, reasons=reasons, next_tier=None, missing=[])


def tier_facts(*, rep_ids: Sequence[int], rule: RuleView, now: datetime) -> dict[int, TierFacts]:
    """Every rep's facts in three queries, whatever their number."""
    today = timezone.localdate(now)
    held: dict[int, set[tuple[int, int]]] = {pk: set() for pk in rep_ids}
    certified = Certification.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        rep_id__in=rep_ids,
        status=Certification.Status.ACTIVE,
    ).values_list("rep_id", "subject_id", "level")
    for rep_id, subject_id, level in certified:
        held[rep_id].add((subject_id, level))
    start = window_start(today, rule.gold_window_days)
    deals: dict[int, dict[str, Any]] = {
        row["rep_id"]: dict(row)
        for row in Deal.objects.filter(
            rep_id__in=rep_ids, stage=Deal.Stage.WON, close_date__lte=today
        )
        .values("rep_id")
        .annotate(
            won=Count("pk"),
            first=Min("close_date"),
            revenue=Sum("amount_base", filter=Q(close_date__gte=start)),
        )
        .order_by()
    }
    facts = {}
    for pk in rep_ids:
        row = deals.get(pk, {})
        facts[pk] = TierFacts(
            held=frozenset(held[pk]),
            won_deals=row.get("won", 0),
            first_won_on=row.get("first"),
            window_revenue=row.get("revenue") or Decimal(0),
        )
    return facts


# Recomputation ----------------------------------------------------------------------------------


def tiers_recompute(*, rep_ids: Iterable[int], cause: str, now: datetime | None = None) -> int:
    """Recompute these reps' tiers in batches, each in its own transaction; store every change
    with its reasons. Returns how many reps changed tier."""
    now = now or timezone.now()
    ids = sorted(set(rep_ids))
    changed = 0
    for start in range(0, len(ids), RECOMPUTE_BATCH):
        changed += _recompute_batch(ids[start : start + RECOMPUTE_BATCH], cause, now)
    return changed


@transaction.atomic
def _recompute_batch(ids: list[int], cause: str, now: datetime) -> int:
    reps = list(
        User.objects.filter(pk__in=ids, is_rep=True).order_by("pk").values_list("pk", flat=True)
    )
    # Rows created in key order too: two batches inserting the same new rows wait for each
    # other in the same order.
    RepTier.objects.bulk_create([RepTier(rep_id=pk) for pk in reps], ignore_conflicts=True)
    # Lock in a fixed order (no deadlock between two batches), then read the facts.
    rows = {
        row.rep_id: row
        for row in RepTier.objects.select_for_update().filter(rep_id__in=reps).order_by("rep_id")
    }
    rule = rule_view()  # read after the lock: a rule saved meanwhile is the one applied
    facts = tier_facts(rep_ids=reps, rule=rule, now=now)
    overrides = _active_overrides(reps, timezone.localdate(now))
    changes, updated = [], []
    for pk in reps:
        row = rows[pk]
        evaluation = tier_evaluate(facts[pk], rule)
        override = overrides.get(pk)
        effective = override.tier if override else evaluation.tier
        reasons = evaluation.reasons
        if override:
            reasons = [
                (
                    f"set to {override.get_tier_display()} by enablement until "
                    f"{override.ends_on:%-d %b %Y}: {override.reason}"
                ),
                *reasons,
            ]
        if effective != row.tier:
            changes.append(
                TierChange(
                    rep_id=pk,
                    old_tier=row.tier,
                    new_tier=effective,
                    reasons=reasons,
                    cause=cause[:100],
                    changed_at=now,
                )
            )
        row.tier, row.computed = effective, evaluation.tier
        row.reasons, row.missing, row.computed_at = reasons, evaluation.missing, now
        updated.append(row)
    RepTier.objects.bulk_update(
        updated, ["tier", "computed", "reasons", "missing", "computed_at"], batch_size=500
    )
    TierChange.objects.bulk_create(changes)
    notify_tier_changes(changes=changes, now=now)
    return len(changes)


def _active_overrides(rep_ids: Sequence[int], today: date) -> dict[int, TierOverride]:
    active = TierOverride.objects.filter(
        rep_id__in=rep_ids, ended_at__isnull=True, ends_on__gte=today
    ).order_by("rep_id", "-created_at")
    found: dict[int, TierOverride] = {}
    for override in active:
        found.setdefault(override.rep_id, override)  # the newest one wins
    return found


def tiers_recompute_later(*, rep_ids: Iterable[int], cause: str, bulk: bool = False) -> int:
    """Recompute these reps by Celery once the current transaction commits: tasks of
    ``RECOMPUTE_BATCH`` reps on the interactive queue, or with ``bulk`` of
    ``RECOMPUTE_ALL_BATCH`` on the bulk queue. Returns how many tasks."""
    task, size = (
        (RECOMPUTE_BULK_TASK, RECOMPUTE_ALL_BATCH) if bulk else (RECOMPUTE_TASK, RECOMPUTE_BATCH)
    )
    ids = sorted(set(rep_ids))
    for start in range(0, len(ids), size):
        enqueue_task_on_commit(task, rep_ids=ids[start : start + size], cause=cause)
    return -(-len(ids) // size)


@transaction.atomic
def tiers_recompute_all(*, cause: str) -> int:
    """Recompute every active rep, shared out: one bulk task per ``RECOMPUTE_ALL_BATCH`` reps
    (each ``tiers_recompute``), all sent as this commits, so the worker processes on the bulk
    queue run them side by side. Each is safe to run twice; a second fan-out (this task
    delivered again) recomputes once more and changes nothing. Returns how many tasks."""
    return tiers_recompute_later(rep_ids=all_rep_ids(), cause=cause, bulk=True)


def tiers_recompute_all_later(*, cause: str) -> None:
    enqueue_task_on_commit("certification.recompute_all_tiers", cause=cause)


def all_rep_ids() -> list[int]:
    return list(User.objects.filter(is_rep=True, is_active=True).values_list("pk", flat=True))


# Overrides --------------------------------------------------------------------------------------


@transaction.atomic
def tier_override_set(
    *, rep: User, tier: str, reason: str, ends_on: date, actor: User, now: datetime | None = None
) -> TierOverride:
    """Enablement sets a rep's tier until an end date, with a reason; audited."""
    now = now or timezone.now()
    if not rep.is_rep:
        raise NotFoundError("No such rep.")
    if tier not in Tier.values:
        raise ApplicationError("Choose a tier.", field_errors={"tier": ["Unknown tier."]})
    if not reason.strip():
        raise ApplicationError("Say why.", field_errors={"reason": ["Required."]})
    if ends_on < timezone.localdate(now):
        raise ApplicationError(
            "The end date is in the past.", field_errors={"ends_on": ["Today or later."]}
        )
    # One override at a time: a new one replaces the one running, which ends now (audited),
    # so ending the new one never brings an older one back. Two set at once queue on the
    # rep's row (FOR NO KEY UPDATE: a recompute holding the rep's tier row still inserts
    # its tier change, whose foreign key only takes KEY SHARE on it, so no deadlock).
    User.objects.select_for_update(no_key=True).filter(pk=rep.pk).first()
    for running in TierOverride.objects.select_for_update().filter(
        rep=rep, ended_at__isnull=True, ends_on__gte=timezone.localdate(now)
    ):
        running.ended_at = now
        running.save(update_fields=["ended_at"])
        audit_record(
            actor=actor,
            action="tier.override_ended",
            target=rep,
            changes={**_override_summary(running), "replaced": True},
        )
    override = TierOverride.objects.create(
        rep=rep, tier=tier, reason=reason.strip(), ends_on=ends_on, created_by=actor, created_at=now
    )
    audit_record(
        actor=actor,
        action="tier.overridden",
        target=rep,
        changes={"tier": tier, "ends_on": ends_on.isoformat(), "reason": override.reason},
    )
    tiers_recompute(rep_ids=[rep.pk], cause="override set", now=now)
    return override


@transaction.atomic
def tier_override_end(*, override: TierOverride, actor: User, now: datetime | None = None) -> None:
    """End an override early; the computed tier applies again."""
    now = now or timezone.now()
    locked = TierOverride.objects.select_for_update().get(pk=override.pk)
    if locked.ended_at is not None:
        return
    locked.ended_at = now
    locked.save(update_fields=["ended_at"])
    audit_record(
        actor=actor,
        action="tier.override_ended",
        target=locked.rep,
        changes={**_override_summary(locked), "ended_at": now.isoformat()},
    )
    tiers_recompute(rep_ids=[locked.rep_id], cause="override ended", now=now)


def _override_summary(override: TierOverride) -> dict[str, object]:
    """What an ended override had set, for the audit trail."""
    return {
        "override": override.pk,
        "tier": override.tier,
        "ends_on": override.ends_on.isoformat(),
        "reason": override.reason,
    }
