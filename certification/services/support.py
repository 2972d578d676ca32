"""Teleprospecting support: the lead's periods, reps' requests, the allocation and usage.

The allocation (``support_allocate``) hands out a period's capacity in half hours:

1. A request is weighed by the rep's tier in force when the allocation runs; a tier the
   period's weights do not name makes it ineligible, with the reason.
2. Eligible requests are queued by tier weight (heaviest first: gold before silver), then by
   outcome score (``selectors.support``: meetings and pipeline per hour of earlier support,
   relative to the other requesters; 1/2 without a history), then by the time of asking.
3. Tiers of equal weight form one group; groups are served in turn. A group whose requests
   all fit in what is left gets them in full. Otherwise it shares what is left in proportion
   to each request's outcome factor (1/2 + score: 0.5 to 1.5, so the best outcome weighs
   three times the worst), never more than a request asked (water-filling), in half hours,
   odd half hours going down the queue. A share under one hour is not worth scheduling: the
   lowest such request goes to the waiting list and the group shares again. A lighter group
   gets hours only when every heavier request got all it asked.
4. Requests left without hours form the waiting list, in queue order.

Whatever the input, the hours allocated never exceed the capacity, and running the allocation
twice on the same facts gives the same answer (exact fractions, a total order, the period
row locked). Once a period has started, its allocated requests are commitments: a new run
keeps them as they are (a rep whose tier dropped keeps this period's hours) and shares only
what is left among new, waiting and pending requests. The next period reads tiers afresh, so
a rep who dropped below an eligible tier gets none there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from itertools import groupby
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from certification.models import SupportPeriod, SupportRequest, SupportUsage, Tier
from certification.selectors.support import (
    NEUTRAL_SCORE,
    OutcomeRates,
    hours_text,
    not_eligible_reason,
    outcome_history,
    outcome_scores,
    period_current,
    periods_open_for_requests,
    score_display,
    tier_name,
    tiers_of,
)
from certification.services.notifications import notify_support_decisions
from config.errors import ApplicationError, ConflictError, NotFoundError

Status = SupportRequest.Status

MAX_REQUEST_HOURS = Decimal(40)
MAX_CAPACITY_HOURS = Decimal(10000)
MAX_USAGE_HOURS = Decimal(1000)
MAX_WEIGHT = 100
MAX_PURPOSE = 2000
MAX_KEY = 100
MAX_MEETINGS = 100_000  # per usage record; far above any real week
WEIGHABLE_TIERS = (Tier.BRONZE.value, Tier.SILVER.value, Tier.GOLD.value)
ZERO = Decimal(0)
UNITS_PER_HOUR = 2  # the allocation hands out half hours
MIN_SHARE_UNITS = 2  # one hour: a smaller slice is not worth scheduling a teleprospector for


def _today(now: datetime) -> date:
    return timezone.localdate(now)


def _units(hours: Decimal) -> int:
    return math.floor(hours * UNITS_PER_HOUR)


def _hours(units: int) -> Decimal:
    return (Decimal(units) / UNITS_PER_HOUR).quantize(Decimal("0.01"))


# Periods ----------------------------------------------------------------------------------------


def _clean_weights(tier_weights: Mapping[str, Any]) -> dict[str, int]:
    if not isinstance(tier_weights, Mapping) or not tier_weights:
        raise ApplicationError(
            "Name at least one eligible tier with its weight.",
            field_errors={"tier_weights": ["At least one tier."]},
        )
    cleaned: dict[str, int] = {}
    for tier, weight in tier_weights.items():
        if tier not in WEIGHABLE_TIERS:
            raise ApplicationError(
                f"Only bronze, silver and gold can be eligible, not {tier!r}.",
                field_errors={"tier_weights": ["Bronze, silver or gold."]},
            )
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= MAX_WEIGHT:
            raise ApplicationError(
                f"A tier's weight is a whole number from 1 to {MAX_WEIGHT}.",
                field_errors={"tier_weights": [f"{Tier(tier).label}: 1 to {MAX_WEIGHT}."]},
            )
        cleaned[tier] = weight
    return dict(sorted(cleaned.items(), key=lambda kv: -Tier.rank(kv[0])))


def _check_period(
    *, starts_on: date, ends_on: date, capacity_hours: Decimal, exclude: int | None
) -> None:
    if ends_on < starts_on:
        raise ApplicationError(
            "A period ends on or after the day it starts.",
            field_errors={"ends_on": ["On or after the start."]},
        )
    if (ends_on - starts_on).days > 366:
        raise ApplicationError(
            "A period lasts at most a year.", field_errors={"ends_on": ["At most a year."]}
        )
    if not ZERO <= capacity_hours <= MAX_CAPACITY_HOURS:
        raise ApplicationError(
            f"Capacity is from 0 to {MAX_CAPACITY_HOURS} hours.",
            field_errors={"capacity_hours": [f"0 to {MAX_CAPACITY_HOURS}."]},
        )
    others = SupportPeriod.objects.filter(starts_on__lte=ends_on, ends_on__gte=starts_on)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    overlapping = others.order_by("starts_on").first()
    if overlapping is not None:
        raise ApplicationError(
            f"The period overlaps {overlapping.starts_on:%-d %b %Y} to "
            f"{overlapping.ends_on:%-d %b %Y}.",
            field_errors={"starts_on": ["Overlaps another period."]},
        )


@transaction.atomic
def period_create(
    *,
    starts_on: date,
    ends_on: date,
    capacity_hours: Decimal,
    tier_weights: Mapping[str, Any] | None = None,
    actor: User | None,
    now: datetime | None = None,
) -> SupportPeriod:
    """Open a period with its capacity and the eligible tiers' weights (gold 2, silver 1 by
    default); audited."""
    now = now or timezone.now()
    weights = _clean_weights(tier_weights if tier_weights is not None else {"gold": 2, "silver": 1})
    _check_period(starts_on=starts_on, ends_on=ends_on, capacity_hours=capacity_hours, exclude=None)
    period = SupportPeriod.objects.create(
        starts_on=starts_on,
        ends_on=ends_on,
        capacity_hours=capacity_hours,
        tier_weights=weights,
        created_by=actor,
        created_at=now,
    )
    audit_record(
        actor=actor,
        action="support_period.created",
        target=period,
        changes={"capacity_hours": str(capacity_hours), "tier_weights": weights},
    )
    return period


@transaction.atomic
def period_update(
    *,
    period: SupportPeriod,
    starts_on: date,
    ends_on: date,
    capacity_hours: Decimal,
    tier_weights: Mapping[str, Any],
    actor: User | None,
    now: datetime | None = None,
) -> SupportPeriod:
    """Change a period's dates, capacity or weights; audited.

    Before the period starts, an allocation already made is run again at once, so it always
    fits the capacity. Once it has started, the start stays, and the capacity cannot drop
    below the hours already allocated (commitments); new weights apply to the next run.
    """
    now = now or timezone.now()
    today = _today(now)
    locked = SupportPeriod.objects.select_for_update().get(pk=period.pk)
    if locked.ends_on < today:
        raise ConflictError("This period has ended; it is kept as it was.", code="period_ended")
    weights = _clean_weights(tier_weights)
    _check_period(
        starts_on=starts_on, ends_on=ends_on, capacity_hours=capacity_hours, exclude=locked.pk
    )
    started = locked.starts_on <= today
    if started:
        if starts_on != locked.starts_on:
            raise ApplicationError(
                "The period has started: its start stays.",
                field_errors={"starts_on": ["The period has started."]},
            )
        if ends_on < today:
            raise ApplicationError(
                "A running period cannot end before today.",
                field_errors={"ends_on": ["Today or later."]},
            )
        committed = _allocated_hours(locked)
        if _units(capacity_hours) < _units(committed):
            raise ApplicationError(
                f"{hours_text(committed)} h are already allocated in this running period; "
                "the capacity cannot drop below that.",
                field_errors={"capacity_hours": [f"At least {hours_text(committed)}."]},
            )
    before = _period_snapshot(locked)
    locked.starts_on, locked.ends_on = starts_on, ends_on
    locked.capacity_hours, locked.tier_weights = capacity_hours, weights
    locked.save(update_fields=["starts_on", "ends_on", "capacity_hours", "tier_weights"])
    after = _period_snapshot(locked)
    if after != before:
        audit_record(
            actor=actor,
            action="support_period.updated",
            target=locked,
            changes={"from": before, "to": after},
        )
        if locked.allocated_at is not None and not started:
            support_allocate(period=locked, actor=actor, now=now)
    return locked


def _period_snapshot(period: SupportPeriod) -> dict[str, Any]:
    return {
        "starts_on": period.starts_on.isoformat(),
        "ends_on": period.ends_on.isoformat(),
        "capacity_hours": str(Decimal(period.capacity_hours).quantize(Decimal("0.01"))),
        "tier_weights": dict(period.tier_weights),
    }


def _allocated_hours(period: SupportPeriod) -> Decimal:
    total = SupportRequest.objects.filter(period=period, status=Status.ALLOCATED).aggregate(
        total=Sum("hours_allocated")
    )["total"]
    return total or ZERO


# Requests ---------------------------------------------------------------------------------------


def _clean_hours(value: Any, *, field: str, maximum: Decimal) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ApplicationError("Hours are a number.", field_errors={field: ["A number."]}) from None
    if not hours.is_finite() or hours <= 0 or hours > maximum:
        raise ApplicationError(
            f"Ask for more than 0 and at most {hours_text(maximum)} hours.",
            field_errors={field: [f"More than 0, at most {hours_text(maximum)}."]},
        )
    if hours * UNITS_PER_HOUR != (hours * UNITS_PER_HOUR).to_integral_value():
        raise ApplicationError(
            "Support is booked in half hours: ask for 1, 1.5, 2 hours and so on.",
            field_errors={field: ["In half hours."]},
        )
    return hours


@transaction.atomic
def support_request_create(
    *,
    rep: User,
    period: SupportPeriod,
    purpose: str,
    hours_requested: Any,
    now: datetime | None = None,
) -> SupportRequest:
    """A rep of an eligible tier asks for support in the current or next period, once."""
    now = now or timezone.now()
    today = _today(now)
    if not (rep.is_active and rep.is_rep):
        raise NotFoundError("Only active reps ask for support.")
    locked = SupportPeriod.objects.select_for_update().get(pk=period.pk)
    if locked.ends_on < today:
        raise ApplicationError(
            "That period has ended.", field_errors={"period": ["The period has ended."]}
        )
    if locked.pk not in {p.pk for p in periods_open_for_requests(today=today)}:
        raise ApplicationError(
            "You can ask for support in the current period or the next one.",
            field_errors={"period": ["The current or the next period."]},
        )
    tier = tiers_of([rep.pk])[rep.pk]
    if tier not in locked.tier_weights:
        raise ApplicationError(not_eligible_reason(tier, locked.tier_weights), code="not_eligible")
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > MAX_PURPOSE:
        raise ApplicationError(
            "Say what the support is for (an account list, a campaign, an event).",
            field_errors={"purpose": [f"Required, at most {MAX_PURPOSE} characters."]},
        )
    hours = _clean_hours(hours_requested, field="hours_requested", maximum=MAX_REQUEST_HOURS)
    existing = SupportRequest.objects.select_for_update().filter(period=locked, rep=rep).first()
    if existing is not None and existing.status != Status.WITHDRAWN:
        raise ConflictError(
            "You have already asked for support in this period; withdraw it to ask again.",
            code="already_requested",
        )
    request = existing or SupportRequest(period=locked, rep=rep)
    request.purpose, request.hours_requested = purpose, hours
    request.status, request.created_at = Status.PENDING, now
    request.tier_at_allocation, request.hours_allocated = "", ZERO
    request.waiting_position = None
    request.reason = (
        "Asked after the allocation ran; the next run considers it."
        if locked.allocated_at is not None
        else ""
    )
    request.save()
    return request


@transaction.atomic
def support_request_withdraw(
    *, support_request: SupportRequest, rep: User, now: datetime | None = None
) -> SupportRequest:
    """The rep withdraws their request before the period ends; allocated hours go back to the
    capacity (for the next run) unless some were used already."""
    now = now or timezone.now()
    period = SupportPeriod.objects.select_for_update().get(pk=support_request.period_id)
    request = SupportRequest.objects.select_for_update().get(pk=support_request.pk)
    if request.rep_id != rep.pk:
        raise NotFoundError("No such request.")
    if request.status == Status.WITHDRAWN:
        return request
    if period.ends_on < _today(now):
        raise ConflictError("That period has ended.", code="period_ended")
    if (
        request.status == Status.ALLOCATED
        and SupportUsage.objects.filter(period=period, rep=rep).exists()
    ):
        raise ConflictError(
            "Support has already been used this period; ask the teleprospecting lead.",
            code="support_used",
        )
    position = request.waiting_position
    request.status, request.hours_allocated, request.waiting_position = Status.WITHDRAWN, ZERO, None
    request.reason = f"Withdrawn by the rep on {_today(now):%-d %b %Y}."
    request.save(update_fields=["status", "hours_allocated", "waiting_position", "reason"])
    if position is not None:
        # Keep the waiting list numbered 1, 2, 3... for those behind.
        behind = list(
            SupportRequest.objects.filter(
                period=period, status=Status.WAITING, waiting_position__gt=position
            ).order_by("waiting_position")
        )
        for other in behind:
            other.waiting_position = (other.waiting_position or 1) - 1
            other.reason = _waiting_reason_renumbered(other.reason, other.waiting_position)
        SupportRequest.objects.bulk_update(behind, ["waiting_position", "reason"])
    return request


def _waiting_reason_renumbered(reason: str, position: int) -> str:
    head, _sep, tail = reason.partition(": ")
    if head.startswith("Waiting list #") and tail:
        return f"Waiting list #{position}: {tail}"
    return reason


# The allocation: pure -----------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An eligible request as the allocation weighs it."""

    key: int
    weight: int  # the tier's weight in the period
    score: Fraction  # 0 to 1; 1/2 without a history
    units: int  # half hours asked for
    asked_at: datetime

    @property
    def factor(self) -> Fraction:
        return Fraction(1, 2) + self.score

    def queue_key(self) -> tuple[int, Fraction, datetime, int]:
        return (-self.weight, -self.score, self.asked_at, self.key)


@dataclass(frozen=True)
class Decision:
    units: int  # half hours allocated; 0 means the waiting list
    shared: bool  # its group did not all fit and shared what was left
    group_units: int  # half hours the group had to share
    group_size: int
    after_heavier: bool  # heavier groups took capacity before this one


def allocate_units(candidates: Sequence[Candidate], capacity_units: int) -> dict[int, Decision]:
    """Split ``capacity_units`` half hours among the candidates (see the module docstring).
    Pure: the same candidates always get the same answer, and the total never exceeds the
    capacity."""
    queue = sorted(candidates, key=Candidate.queue_key)
    remaining = max(0, capacity_units)
    decisions: dict[int, Decision] = {}
    heavier_served = False
    for _weight, members in groupby(queue, key=lambda c: c.weight):
        group = list(members)
        available = remaining
        if sum(c.units for c in group) <= available:
            shares = {c.key: c.units for c in group}
            shared = False
        else:
            shares = _share(group, available)
            shared = True
        for c in group:
            decisions[c.key] = Decision(
                units=shares.get(c.key, 0),
                shared=shared,
                group_units=available,
                group_size=len(group),
                after_heavier=heavier_served,
            )
        given = sum(shares.values())
        remaining = 0 if shared else remaining - given
        heavier_served = heavier_served or given > 0
    return decisions


def _share(group: list[Candidate], available: int) -> dict[int, int]:
    """Share ``available`` among the group by outcome factor; drop the lowest request whose
    share is under the minimum and share again."""
    active = list(group)
    while active:
        shares = _water_fill(active, available)
        short = [c for c in active if shares[c.key] < min(MIN_SHARE_UNITS, c.units)]
        if not short:
            return shares
        active.remove(short[-1])  # the lowest in the queue
    return {}


def _water_fill(active: list[Candidate], available: int) -> dict[int, int]:
    """Shares in proportion to the factors, none above what it asked; whole half hours, the odd
    ones going down the queue."""
    shares: dict[int, int] = {}
    rest = list(active)
    budget = available
    while rest:
        total = sum(c.factor for c in rest)
        capped = [c for c in rest if c.units * total <= budget * c.factor]
        if not capped:
            break
        for c in capped:
            shares[c.key] = c.units
            budget -= c.units
        rest = [c for c in rest if c.key not in shares]
    if rest:
        total = sum(c.factor for c in rest)
        floors = {c.key: math.floor(budget * c.factor / total) for c in rest}
        odd = budget - sum(floors.values())
        for c in rest:  # queue order
            if odd <= 0:
                break
            if floors[c.key] < c.units:
                floors[c.key] += 1
                odd -= 1
        shares.update(floors)
    return shares


# The allocation: the service ------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationResult:
    period: SupportPeriod
    capacity: Decimal
    allocated: Decimal
    allocated_count: int
    waiting_count: int
    ineligible_count: int


@transaction.atomic
def support_allocate(
    *, period: SupportPeriod, actor: User | None = None, now: datetime | None = None
) -> AllocationResult:
    """Allocate the period's capacity among its requests, with a reason per decision and a
    waiting list; safe to run again (same facts, same answer), under the period's row lock."""
    now = now or timezone.now()
    today = _today(now)
    locked = SupportPeriod.objects.select_for_update().get(pk=period.pk)
    if locked.ends_on < today:
        raise ConflictError(
            "This period has ended; its allocation is kept as it was.", code="period_ended"
        )
    # Hours allocated by a run on or after the period's first day are commitments, kept when
    # it runs again (a rep whose tier drops keeps them). A run before the first day is a
    # preview: the run on the first day (after the nightly tier recompute) decides afresh.
    committing = (
        locked.starts_on <= today
        and locked.allocated_at is not None
        and _today(locked.allocated_at) >= locked.starts_on
    )
    requests = list(
        SupportRequest.objects.select_for_update(of=("self",))
        .filter(period=locked)
        .exclude(status=Status.WITHDRAWN)
        .select_related("rep")
        .order_by("created_at", "pk")
    )
    committed = [r for r in requests if committing and r.status == Status.ALLOCATED]
    committed_ids = {r.pk for r in committed}
    open_requests = [r for r in requests if r.pk not in committed_ids]
    capacity_units = _units(locked.capacity_hours) - sum(
        _units(r.hours_allocated) for r in committed
    )

    weights: dict[str, int] = dict(locked.tier_weights)
    rep_ids = [r.rep_id for r in requests]
    tiers = tiers_of(rep_ids)
    history = outcome_history(rep_ids=rep_ids, before=locked.starts_on)
    scores = outcome_scores(history, rep_ids)

    candidates, ineligible = [], []
    for r in open_requests:
        tier = tiers[r.rep_id]
        r.tier_at_allocation = tier
        if not (r.rep.is_active and r.rep.is_rep):
            ineligible.append((r, "No longer an active rep."))
        elif tier not in weights:
            ineligible.append((r, not_eligible_reason(tier, weights)))
        else:
            candidates.append(
                Candidate(
                    key=r.pk,
                    weight=weights[tier],
                    score=scores.get(r.rep_id, NEUTRAL_SCORE),
                    units=_units(r.hours_requested),
                    asked_at=r.created_at,
                )
            )
    decisions = allocate_units(candidates, capacity_units)

    by_pk = {r.pk: r for r in open_requests}
    waiting_position = 0
    for c in sorted(candidates, key=Candidate.queue_key):
        r = by_pk[c.key]
        decision = decisions[c.key]
        context = _ReasonContext(
            tier=r.tier_at_allocation,
            weights=weights,
            score=scores.get(r.rep_id, NEUTRAL_SCORE),
            history=history.get(r.rep_id),
            committed=bool(committed),
        )
        if decision.units > 0:
            r.status, r.hours_allocated, r.waiting_position = (
                Status.ALLOCATED,
                _hours(decision.units),
                None,
            )
            r.reason = _allocated_reason(context, r, decision)
        else:
            waiting_position += 1
            r.status, r.hours_allocated, r.waiting_position = Status.WAITING, ZERO, waiting_position
            r.reason = _waiting_reason(context, decision, waiting_position)
    for r, reason in ineligible:
        r.status, r.hours_allocated, r.waiting_position, r.reason = (
            Status.INELIGIBLE,
            ZERO,
            None,
            reason,
        )
    SupportRequest.objects.bulk_update(
        open_requests,
        ["status", "hours_allocated", "waiting_position", "reason", "tier_at_allocation"],
    )
    locked.allocated_at = now
    locked.save(update_fields=["allocated_at"])
    if locked.starts_on <= today:
        # From the first day the allocation commits: reps are told what it decided (a
        # preview before then may still change, so it tells nobody).
        notify_support_decisions(period=locked, requests=open_requests, now=now)
    allocated = sum((r.hours_allocated for r in requests if r.status == Status.ALLOCATED), ZERO)
    result = AllocationResult(
        period=locked,
        capacity=locked.capacity_hours,
        allocated=allocated,
        allocated_count=sum(r.status == Status.ALLOCATED for r in requests),
        waiting_count=waiting_position,
        ineligible_count=len(ineligible),
    )
    audit_record(
        actor=actor,
        action="support.allocated",
        target=locked,
        changes={
            "capacity_hours": str(result.capacity),
            "allocated_hours": str(result.allocated),
            "allocated": result.allocated_count,
            "waiting": result.waiting_count,
            "ineligible": result.ineligible_count,
            "kept_from_earlier_run": len(committed),
        },
    )
    return result


@dataclass(frozen=True)
class _ReasonContext:
    tier: str
    weights: Mapping[str, int]
    score: Fraction
    history: OutcomeRates | None
    committed: bool


def _outcome_phrase(context: _ReasonContext) -> str:
    if context.history is None:
        return f"no earlier outcomes (neutral score {score_display(NEUTRAL_SCORE)})"
    return f"{context.history.describe()} (score {score_display(context.score)})"


def _allocated_reason(context: _ReasonContext, request: SupportRequest, decision: Decision) -> str:
    weight = context.weights[context.tier]
    head = f"{tier_name(context.tier)} (weight {weight}), {_outcome_phrase(context)}"
    asked = hours_text(request.hours_requested)
    given = f"{hours_text(_hours(decision.units))} h of {asked} requested"
    if not decision.shared:
        return f"{head}: {given}."
    left = hours_text(_hours(decision.group_units))
    tier = tier_name(context.tier).lower()
    pool = (
        f"the {left} h left for {decision.group_size} {tier} requests were shared by outcomes"
        if decision.group_size > 1
        else f"the only {tier} request got the {left} h left"
    )
    if _hours(decision.units) >= request.hours_requested:
        return f"{head}: {given} ({pool}; this request asked for less than its share)."
    return f"{head}: {given}; {pool}."


def _waiting_reason(context: _ReasonContext, decision: Decision, position: int) -> str:
    tier = tier_name(context.tier).lower()
    if decision.group_units <= 0:
        cause = (
            "the capacity went to heavier tiers"
            if decision.after_heavier
            else "no capacity is left this period"
        )
        if context.committed and not decision.after_heavier:
            cause = "the capacity is committed to requests allocated earlier this period"
    else:
        cause = (
            f"the {hours_text(_hours(decision.group_units))} h left for {tier} requests went to "
            "better outcomes and earlier requests; a share under 1 h is not scheduled"
        )
    return f"Waiting list #{position}: {cause}; {_outcome_phrase(context)}."


def support_allocate_starting(*, on: date, now: datetime | None = None) -> int:
    """Allocate every period that starts on this day (by beat, early that morning, after the
    nightly tier recompute); returns how many were allocated."""
    count = 0
    for period in SupportPeriod.objects.filter(starts_on=on).order_by("pk"):
        support_allocate(period=period, now=now)
        count += 1
    return count


# Usage ------------------------------------------------------------------------------------------


def _clean_key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise ApplicationError(
            "Send an idempotency key (at most 100 characters) with every usage record.",
            field_errors={"idempotency_key": [f"Required, at most {MAX_KEY} characters."]},
        )
    return key


def _clean_outcomes(hours: Any, meetings_set: Any, pipeline_amount: Any) -> tuple[Decimal, Decimal]:
    try:
        used = Decimal(str(hours))
        pipeline = Decimal(str(pipeline_amount))
    except (InvalidOperation, ValueError):
        raise ApplicationError("Hours and pipeline are numbers.") from None
    if not used.is_finite() or not ZERO <= used <= MAX_USAGE_HOURS:
        raise ApplicationError(
            f"Hours are from 0 to {MAX_USAGE_HOURS}.",
            field_errors={"hours": [f"0 to {MAX_USAGE_HOURS}."]},
        )
    if not pipeline.is_finite() or pipeline < 0 or pipeline >= Decimal("1e14"):
        raise ApplicationError(
            "Pipeline is 0 or more.", field_errors={"pipeline_amount": ["0 or more."]}
        )
    if (
        isinstance(meetings_set, bool)
        or not isinstance(meetings_set, int)
        or not 0 <= meetings_set <= MAX_MEETINGS
    ):
        raise ApplicationError(
            f"Meetings set is a whole number from 0 to {MAX_MEETINGS}.",
            field_errors={"meetings_set": [f"0 to {MAX_MEETINGS}."]},
        )
    if not (used or meetings_set or pipeline):
        raise ApplicationError("Nothing to record: hours, meetings and pipeline are all 0.")
    return used.quantize(Decimal("0.01")), pipeline.quantize(Decimal("0.01"))


@dataclass(frozen=True)
class UsageResult:
    usage: SupportUsage
    created: bool


@transaction.atomic
def support_usage_record(
    *,
    actor: User,
    rep: User,
    hours: Any,
    meetings_set: int,
    pipeline_amount: Any,
    idempotency_key: str,
    period: SupportPeriod | None = None,
    now: datetime | None = None,
) -> UsageResult:
    """The teleprospecting lead (or their dialer) records hours used and outcomes. The client's
    key makes it idempotent: the same record again returns the first; the same key with
    different content is refused."""
    now = now or timezone.now()
    today = _today(now)
    if not (actor.is_active and actor.is_teleprospecting_lead):
        raise NotFoundError("Only the teleprospecting lead records support usage.")
    if not (rep.is_active and rep.is_rep):
        raise NotFoundError("No such rep.")
    key = _clean_key(idempotency_key)
    if period is None:
        # A retry of a record sent without a period is the same record, whatever day it is.
        earlier = SupportUsage.objects.filter(idempotency_key=key).first()
        period = earlier.period if earlier is not None else period_current(today=today)
        if period is None:
            raise ApplicationError(
                "No support period is open today; name the period.",
                field_errors={"period": ["No period is open today."]},
            )
    if period.starts_on > today:
        raise ApplicationError(
            "This period has not started; record usage once it has.",
            field_errors={"period": ["Not started yet."]},
        )
    used, pipeline = _clean_outcomes(hours, meetings_set, pipeline_amount)
    values = {
        "period_id": period.pk,
        "rep_id": rep.pk,
        "hours": used,
        "meetings_set": meetings_set,
        "pipeline_amount": pipeline,
    }
    existing = SupportUsage.objects.filter(idempotency_key=key).first()
    if existing is None:
        try:
            with transaction.atomic():
                created = SupportUsage.objects.create(
                    idempotency_key=key, recorded_by=actor, recorded_at=now, **values
                )
        except IntegrityError:
            # The same key arrived twice at once: the other one won; compare with it.
            existing = SupportUsage.objects.get(idempotency_key=key)
        else:
            return UsageResult(usage=created, created=True)
    if any(getattr(existing, name) != value for name, value in values.items()):
        raise ConflictError(
            "This idempotency key was already used for a different usage record.",
            code="idempotency_key_reused",
        )
    return UsageResult(usage=existing, created=False)
