"""Reads for teleprospecting support: periods, tiers in force, earlier outcomes and their
scores, entitlements, the lead's allocation board and the outcomes per rep.

The outcome score is shared by the allocation (``services.support``) and the board, so the
board shows the figure the allocation weighed:

- a rep's history is every ``SupportUsage`` of theirs in periods that ended before the period
  being allocated starts: hours used, meetings set, pipeline created;
- among the reps asking in that period who have a history (at least some hours used), each
  rate (meetings per hour, pipeline per hour) is divided by the best such rate, and the score
  is the mean of the two: 0 (nothing came of the hours) to 1 (the best on both). A measure
  nobody produced (no pipeline recorded at all, say) is left out rather than counted as 0;
- a rep with no history scores 1/2, the neutral middle: a newcomer is neither rewarded nor
  punished for outcomes nobody has measured yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf

from accounts.models import User
from accounts.selectors import reps_visible_to
from certification.models import RepTier, SupportPeriod, SupportRequest, SupportUsage, Tier
from config.errors import NotFoundError

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    Viewer = User | AnonymousUser

NEUTRAL_SCORE = Fraction(1, 2)
ZERO = Decimal(0)
Status = SupportRequest.Status


# Periods and tiers ------------------------------------------------------------------------------


def period_current(*, today: date) -> SupportPeriod | None:
    """The period that contains today, if any."""
    return SupportPeriod.objects.filter(starts_on__lte=today, ends_on__gte=today).first()


def period_next(*, today: date) -> SupportPeriod | None:
    """The first period that starts after today, if any."""
    return SupportPeriod.objects.filter(starts_on__gt=today).order_by("starts_on").first()


def periods_open_for_requests(*, today: date) -> list[SupportPeriod]:
    """The periods a rep may ask in: the current one and the next."""
    return [p for p in (period_current(today=today), period_next(today=today)) if p is not None]


def tiers_of(rep_ids: Iterable[int]) -> dict[int, str]:
    """Each rep's tier in force; a rep without a tier row has none."""
    ids = list(rep_ids)
    found = dict(RepTier.objects.filter(rep_id__in=ids).values_list("rep_id", "tier"))
    return {pk: found.get(pk, Tier.NONE) for pk in ids}


def tier_name(tier: str) -> str:
    """The tier as a sentence begins with it."""
    return "No tier" if tier == Tier.NONE else Tier(tier).label


def eligible_tiers_text(weights: Mapping[str, int]) -> str:
    """'Gold (weight 2), Silver (weight 1)': the heaviest first."""
    ordered = sorted(weights.items(), key=lambda kv: (-kv[1], -Tier.rank(kv[0])))
    return ", ".join(f"{Tier(t).label} (weight {w})" for t, w in ordered) or "none"


def not_eligible_reason(tier: str, weights: Mapping[str, int]) -> str:
    """Why a tier gets no support in a period with these weights."""
    eligible = eligible_tiers_text(weights)
    if tier == Tier.NONE:
        return f"Without a tier, a rep is not eligible this period (eligible: {eligible})."
    return f"{tier_name(tier)} is not eligible this period (eligible: {eligible})."


# Earlier outcomes and the score ----------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeRates:
    """A rep's support used in earlier periods and what it produced."""

    hours: Decimal
    meetings: int
    pipeline: Decimal

    @property
    def meetings_per_hour(self) -> Fraction:
        return Fraction(self.meetings) / Fraction(self.hours) if self.hours else Fraction(0)

    @property
    def pipeline_per_hour(self) -> Fraction:
        return Fraction(self.pipeline) / Fraction(self.hours) if self.hours else Fraction(0)

    def describe(self) -> str:
        """'3.2 meetings and 12,500 USD pipeline per hour over 14 h in earlier periods'."""
        meetings = Decimal(self.meetings_per_hour.numerator) / self.meetings_per_hour.denominator
        pipeline = Decimal(self.pipeline_per_hour.numerator) / self.pipeline_per_hour.denominator
        return (
            f"{meetings.quantize(Decimal('0.1'), ROUND_HALF_UP)} meetings and "
            f"{pipeline:,.0f} {settings.BASE_CURRENCY} pipeline per hour over "
            f"{hours_text(self.hours)} h in earlier periods"
        )


def outcome_history(*, rep_ids: Iterable[int], before: date) -> dict[int, OutcomeRates]:
    """The reps' usage in periods that ended before this day, in one query. Reps without any
    hours used are left out: they have no history."""
    rows = (
        SupportUsage.objects.filter(rep_id__in=list(rep_ids), period__ends_on__lt=before)
        .values("rep_id")
        .annotate(hours=Sum("hours"), meetings=Sum("meetings_set"), pipeline=Sum("pipeline_amount"))
        .order_by()
    )
    return {
        row["rep_id"]: OutcomeRates(
            hours=row["hours"] or ZERO,
            meetings=row["meetings"] or 0,
            pipeline=row["pipeline"] or ZERO,
        )
        for row in rows
        if row["hours"]
    }


def outcome_scores(
    history: Mapping[int, OutcomeRates], rep_ids: Iterable[int]
) -> dict[int, Fraction]:
    """Each rep's score from 0 to 1 relative to the others with a history (see the module
    docstring); 1/2 without a history. Exact fractions: the allocation is deterministic."""
    ids = list(rep_ids)
    known = [history[pk] for pk in ids if pk in history]
    best_meetings = max((r.meetings_per_hour for r in known), default=Fraction(0))
    best_pipeline = max((r.pipeline_per_hour for r in known), default=Fraction(0))
    scores = {}
    for pk in ids:
        rates = history.get(pk)
        if rates is None:
            scores[pk] = NEUTRAL_SCORE
            continue
        # A measure nobody produced (no pipeline recorded at all, say) is left out of the mean.
        parts = [
            rate / best
            for rate, best in (
                (rates.meetings_per_hour, best_meetings),
                (rates.pipeline_per_hour, best_pipeline),
            )
            if best
        ]
        scores[pk] = sum(parts, Fraction(0)) / len(parts) if parts else Fraction(0)
    return scores


def score_display(score: Fraction) -> Decimal:
    """The score to two places, as pages and reasons show it."""
    return (Decimal(score.numerator) / score.denominator).quantize(Decimal("0.01"), ROUND_HALF_UP)


def hours_text(value: Decimal) -> str:
    """6.00 -> '6', 4.50 -> '4.5'."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# Entitlement ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entitlement:
    """What a dialer or CRM asks: is this rep entitled to support now, and how much is left."""

    rep: User
    period: SupportPeriod | None
    tier: str
    eligible: bool
    why: str
    hours_allocated: Decimal
    hours_used: Decimal
    request: SupportRequest | None

    @property
    def hours_remaining(self) -> Decimal:
        return max(ZERO, self.hours_allocated - self.hours_used)


def entitlement(*, rep: User, today: date) -> Entitlement:
    """The rep's entitlement in the period containing today.

    Eligible means: allocated hours in this period (kept even if the rep's tier has dropped
    since), or a tier this period's weights name (a request may then be made or be waiting).
    """
    tier = tiers_of([rep.pk])[rep.pk]
    period = period_current(today=today)
    if period is None:
        return Entitlement(
            rep,
            None,
            tier,
            eligible=False,
            why="No support period is open today.",
            hours_allocated=ZERO,
            hours_used=ZERO,
            request=None,
        )
    request = (
        SupportRequest.objects.filter(period=period, rep=rep)
        .exclude(status=Status.WITHDRAWN)
        .first()
    )
    used = SupportUsage.objects.filter(period=period, rep=rep).aggregate(total=Sum("hours"))

    def answer(*, eligible: bool, why: str, allocated: Decimal = ZERO) -> Entitlement:
        return Entitlement(
            rep,
            period,
            tier,
            eligible=eligible,
            why=why,
            hours_allocated=allocated,
            hours_used=used["total"] or ZERO,
            request=request,
        )

    weights = period.tier_weights
    if request is not None and request.status == Status.ALLOCATED:
        why = (
            f"{hours_text(request.hours_allocated)} h allocated for this period as "
            f"{tier_name(request.tier_at_allocation or tier).lower()}."
        )
        if tier not in weights:
            now = "without a tier" if tier == Tier.NONE else tier_name(tier).lower()
            why += f" Kept for this period; now {now}, so none next period."
        return answer(eligible=True, why=why, allocated=request.hours_allocated)
    if tier not in weights:
        return answer(eligible=False, why=not_eligible_reason(tier, weights))
    why = f"{tier_name(tier)} is eligible this period (weight {weights[tier]}). "
    if request is None:
        why += "No support requested yet."
    elif request.status == Status.WAITING:
        why += f"On the waiting list (#{request.waiting_position}); no hours allocated yet."
    elif request.status == Status.INELIGIBLE:
        why += "The last allocation found the request ineligible; the next run reconsiders it."
    else:
        why += "The request waits for the allocation."
    return answer(eligible=True, why=why)


def support_reps_visible_to(user: Viewer) -> QuerySet[User]:
    """The reps whose support this user may read: every active rep for the teleprospecting
    lead, otherwise the reps whose records they may see (themself, their teams, everyone)."""
    if isinstance(user, User) and user.is_active and user.is_teleprospecting_lead:
        return User.objects.filter(is_rep=True, is_active=True).select_related("team")
    return reps_visible_to(user)


def support_rep_get(*, viewer: Viewer, email: str) -> User:
    """The rep with this email if the viewer may read their support; else not found."""
    rep = support_reps_visible_to(viewer).filter(email__iexact=email.strip()).first()
    if rep is None:
        raise NotFoundError("No such rep.")
    return rep


# The rep's page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestOptions:
    """Where the rep may ask now: open periods not asked in yet, split by whether the rep's
    tier is eligible there."""

    tier: str
    askable: list[SupportPeriod]
    not_askable: list[SupportPeriod]


def request_options(*, rep: User, today: date) -> RequestOptions:
    """The current and next periods the rep has not asked in, eligible or not by tier."""
    tier = tiers_of([rep.pk])[rep.pk]
    open_periods = periods_open_for_requests(today=today)
    asked = set(
        SupportRequest.objects.filter(rep=rep, period__in=open_periods)
        .exclude(status=Status.WITHDRAWN)
        .values_list("period_id", flat=True)
    )
    fresh = [p for p in open_periods if p.pk not in asked]
    return RequestOptions(
        tier=tier,
        askable=[p for p in fresh if tier in p.tier_weights],
        not_askable=[p for p in fresh if tier not in p.tier_weights],
    )


def support_request_get_for_rep(*, request_id: int, rep: User) -> SupportRequest:
    """One of the rep's own requests; anyone else's is not found."""
    found = SupportRequest.objects.filter(pk=request_id, rep=rep).first()
    if found is None:
        raise NotFoundError("No such request.")
    return found


def _used_in_period() -> Subquery:
    return Subquery(
        SupportUsage.objects.filter(period=OuterRef("period"), rep=OuterRef("rep"))
        .values("rep")
        .annotate(total=Sum("hours"))
        .values("total")[:1],
        output_field=DecimalField(max_digits=8, decimal_places=2),
    )


def support_requests_of(*, rep: User) -> QuerySet[SupportRequest]:
    """The rep's requests, newest period first, each with the hours used in its period."""
    return (
        SupportRequest.objects.filter(rep=rep)
        .select_related("period")
        .annotate(hours_used=Coalesce(_used_in_period(), Value(ZERO)))
        .order_by("-period__starts_on")
    )


# The lead's pages --------------------------------------------------------------------------------


def periods_with_figures() -> QuerySet[SupportPeriod]:
    """Every period, newest first, with hours allocated, requests, waiting and hours used."""
    used = Subquery(
        SupportUsage.objects.filter(period=OuterRef("pk"))
        .values("period")
        .annotate(total=Sum("hours"))
        .values("total")[:1],
        output_field=DecimalField(max_digits=10, decimal_places=2),
    )
    return SupportPeriod.objects.annotate(
        hours_allocated=Coalesce(
            Sum("requests__hours_allocated", filter=Q(requests__status=Status.ALLOCATED)),
            Value(ZERO),
            output_field=DecimalField(max_digits=10, decimal_places=2),
        ),
        request_count=Count("requests", filter=~Q(requests__status=Status.WITHDRAWN)),
        waiting_count=Count("requests", filter=Q(requests__status=Status.WAITING)),
        hours_used=Coalesce(used, Value(ZERO)),
    ).order_by("-starts_on")


def period_latest() -> SupportPeriod | None:
    """The period that ends last, to suggest the next one's dates."""
    return SupportPeriod.objects.order_by("-ends_on").first()


def period_with_figures(*, period_id: int) -> SupportPeriod:
    """One period with its figures; not found otherwise."""
    period = periods_with_figures().filter(pk=period_id).first()
    if period is None:
        raise NotFoundError("No such period.")
    return period


@dataclass(frozen=True)
class BoardRow:
    request: SupportRequest
    tier: str  # at allocation, else in force now
    score: Decimal
    history: OutcomeRates | None

    @property
    def tier_label(self) -> str:
        return tier_name(self.tier)


def allocation_board(*, period: SupportPeriod) -> list[BoardRow]:
    """The period's requests as the allocation ranks them: allocated, waiting (in order),
    pending, ineligible, withdrawn; each with the tier and the outcome score it is weighed by."""
    requests = list(
        SupportRequest.objects.filter(period=period)
        .select_related("rep__team")
        .annotate(hours_used=Coalesce(_used_in_period(), Value(ZERO)))
    )
    rep_ids = [r.rep_id for r in requests]
    tiers = tiers_of(rep_ids)
    history = outcome_history(rep_ids=rep_ids, before=period.starts_on)
    active = [r.rep_id for r in requests if r.status != Status.WITHDRAWN]
    scores = outcome_scores(history, active)
    rank = {
        Status.ALLOCATED: 0,
        Status.WAITING: 1,
        Status.PENDING: 2,
        Status.INELIGIBLE: 3,
        Status.WITHDRAWN: 4,
    }
    rows = [
        BoardRow(
            request=r,
            tier=r.tier_at_allocation or tiers[r.rep_id],
            score=score_display(scores.get(r.rep_id, NEUTRAL_SCORE)),
            history=history.get(r.rep_id),
        )
        for r in requests
    ]
    rows.sort(
        key=lambda row: (
            rank[Status(row.request.status)],
            row.request.waiting_position or 0,
            -row.request.hours_allocated,
            row.request.created_at,
            row.request.pk,
        )
    )
    return rows


def usages_of_period(*, period: SupportPeriod) -> QuerySet[SupportUsage]:
    """Usage recorded in the period, newest first."""
    return (
        SupportUsage.objects.filter(period=period)
        .select_related("rep", "recorded_by")
        .order_by("-recorded_at", "-pk")
    )


def requesting_reps(*, period: SupportPeriod) -> QuerySet[User]:
    """The active reps who asked in this period (withdrawn included: usage may predate it)."""
    return User.objects.filter(
        support_requests__period=period, is_active=True, is_rep=True
    ).order_by("display_name", "pk")


def support_outcomes_by_rep() -> QuerySet[User]:
    """Every rep who used support: hours, meetings, pipeline and both per hour, across every
    period, aggregated in the database; the best meetings per hour first."""
    hours = Sum("support_usages__hours")
    per_hour = DecimalField(max_digits=18, decimal_places=4)
    return (
        User.objects.filter(support_usages__isnull=False)
        .annotate(
            hours_used=hours,
            meetings=Sum("support_usages__meetings_set"),
            pipeline=Sum("support_usages__pipeline_amount"),
            periods=Count("support_usages__period", distinct=True),
        )
        .annotate(
            meetings_per_hour=ExpressionWrapper(
                Cast("meetings", per_hour) / NullIf(F("hours_used"), ZERO), output_field=per_hour
            ),
            pipeline_per_hour=ExpressionWrapper(
                F("pipeline") / NullIf(F("hours_used"), ZERO), output_field=per_hour
            ),
        )
        .select_related("team")
        .order_by(F("meetings_per_hour").desc(nulls_last=True), "display_name", "pk")
    )


@dataclass(frozen=True)
class SupportOverview:
    """The lead's home panel: the current period at a glance."""

    period: SupportPeriod | None
    capacity: Decimal
    allocated: Decimal
    waiting: int
    pending: int


def support_overview(*, today: date) -> SupportOverview:
    """The current period's capacity, hours allocated and requests waiting, in two queries."""
    current = period_current(today=today)
    if current is None:
        return SupportOverview(None, ZERO, ZERO, 0, 0)
    figures = SupportRequest.objects.filter(period=current).aggregate(
        allocated=Sum("hours_allocated", filter=Q(status=Status.ALLOCATED)),
        waiting=Count("pk", filter=Q(status=Status.WAITING)),
        pending=Count("pk", filter=Q(status=Status.PENDING)),
    )
    return SupportOverview(
        current,
        current.capacity_hours,
        figures["allocated"] or ZERO,
        figures["waiting"],
        figures["pending"],
    )
