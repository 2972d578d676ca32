"""Teleprospecting support: periods, requests, the allocation (its invariants, gold first,
better outcomes favoured, the waiting list, reasons, tier drops, idempotence), usage, tasks."""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import close_old_connections, connection

from accounts.models import AuditEvent
from certification.models import SupportPeriod, SupportRequest, SupportUsage
from certification.selectors.support import (
    NEUTRAL_SCORE,
    OutcomeRates,
    entitlement,
    outcome_history,
    outcome_scores,
    support_outcomes_by_rep,
    support_overview,
)
from certification.services.support import (
    MIN_SHARE_UNITS,
    Candidate,
    allocate_units,
    period_create,
    period_update,
    support_allocate,
    support_allocate_starting,
    support_request_create,
    support_request_withdraw,
    support_usage_record,
)
from certification.tasks import allocate_support, allocate_support_starting_today
from config.errors import ApplicationError, ConflictError, NotFoundError
from tests.factories.accounts import UserFactory
from tests.factories.support import at, make_period, record_history, set_tier

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 3, 4)
BEFORE = at(MONDAY - timedelta(days=1))  # Sunday: last week is current, this week is next
DURING = at(MONDAY + timedelta(days=2))  # Wednesday of this week
Status = SupportRequest.Status


@pytest.fixture
def weeks(db):
    """Last week, this week (the one allocated) and next week."""
    return (
        make_period(MONDAY - timedelta(days=7)),
        make_period(MONDAY),
        make_period(MONDAY + timedelta(days=7)),
    )


def _rep(tier: str = "gold", **kwargs):
    rep = UserFactory(rep=True, **kwargs)
    set_tier(rep, tier)
    return rep


def _ask(rep, period, hours=8, *, now=BEFORE, purpose="Call my named accounts"):
    return support_request_create(
        rep=rep, period=period, purpose=purpose, hours_requested=hours, now=now
    )


def _allocate(period, now=BEFORE):
    return support_allocate(period=period, now=now)


def _state(period):
    return {
        r.rep_id: (r.status, r.hours_allocated, r.waiting_position, r.reason, r.tier_at_allocation)
        for r in SupportRequest.objects.filter(period=period)
    }


def _allocated_total(period):
    return sum(
        r.hours_allocated for r in SupportRequest.objects.filter(period=period, status="allocated")
    )


# The allocation rule, pure -------------------------------------------------------------------


T0 = at(MONDAY - timedelta(days=3))


def _candidates(rng: random.Random) -> list[Candidate]:
    return [
        Candidate(
            key=i,
            weight=rng.choice((1, 2, 2, 3)),
            score=Fraction(rng.randrange(0, 11), 10),
            units=rng.randrange(1, 81),
            asked_at=T0 + timedelta(minutes=rng.randrange(50)),
        )
        for i in range(rng.randrange(0, 13))
    ]


def test_allocation_never_exceeds_capacity_whatever_the_requests():
    rng = random.Random(20300304)
    for _ in range(3000):
        candidates = _candidates(rng)
        capacity = rng.randrange(-5, 220)
        given = {key: d.units for key, d in allocate_units(candidates, capacity).items()}
        assert sum(given.values()) <= max(capacity, 0)
        for c in candidates:
            # Never more than asked; never a slice under one hour (unless one asked for less).
            assert 0 <= given[c.key] <= c.units
            assert given[c.key] == 0 or given[c.key] >= min(MIN_SHARE_UNITS, c.units)
        if sum(c.units for c in candidates) <= capacity:
            assert given == {c.key: c.units for c in candidates}


def test_allocation_serves_heavier_tiers_first_and_favours_better_outcomes():
    rng = random.Random(7)
    for _ in range(3000):
        candidates = _candidates(rng)
        given = {
            key: d.units for key, d in allocate_units(candidates, rng.randrange(0, 220)).items()
        }
        for light in candidates:
            if given[light.key]:
                assert all(
                    given[heavy.key] == heavy.units
                    for heavy in candidates
                    if heavy.weight > light.weight
                )
        for a in candidates:
            for b in candidates:
                if a.weight == b.weight and a.units == b.units and a.score > b.score:
                    assert given[a.key] >= given[b.key]


def test_allocation_is_a_function_of_its_input():
    rng = random.Random(3)
    for _ in range(200):
        candidates = _candidates(rng)
        capacity = rng.randrange(0, 220)
        shuffled = candidates[:]
        rng.shuffle(shuffled)
        assert allocate_units(candidates, capacity) == allocate_units(shuffled, capacity)


def test_a_tier_that_does_not_fit_shares_by_outcome_factor():
    # Capacity 10 h (20 half hours) for two gold requests of 10 h: factors 1.5 and 0.5.
    best = Candidate(key=1, weight=2, score=Fraction(1), units=20, asked_at=T0)
    worst = Candidate(key=2, weight=2, score=Fraction(0), units=20, asked_at=T0)
    decisions = allocate_units([worst, best], 20)
    assert (decisions[1].units, decisions[2].units) == (15, 5)  # 7.5 h and 2.5 h
    assert decisions[1].shared


def test_outcome_scores_are_relative_to_the_best_with_a_neutral_middle_for_newcomers():
    history = {
        1: OutcomeRates(hours=Decimal(10), meetings=20, pipeline=Decimal(100_000)),
        2: OutcomeRates(hours=Decimal(10), meetings=5, pipeline=Decimal(50_000)),
        3: OutcomeRates(hours=Decimal(4), meetings=0, pipeline=Decimal(0)),
    }
    scores = outcome_scores(history, [1, 2, 3, 4])
    assert scores[1] == 1
    assert scores[2] == (Fraction(1, 4) + Fraction(1, 2)) / 2
    assert scores[3] == 0
    assert scores[4] == NEUTRAL_SCORE


# The allocation, end to end -------------------------------------------------------------------


def test_gold_is_served_before_silver(org, weeks):
    _last, week, _next = weeks
    period_update(
        period=week,
        starts_on=week.starts_on,
        ends_on=week.ends_on,
        capacity_hours=Decimal(8),
        tier_weights={"gold": 2, "silver": 1},
        actor=None,
        now=BEFORE,
    )
    silver = _rep("silver")
    gold = _rep("gold")
    _ask(silver, week, 8, now=BEFORE - timedelta(hours=5))  # asked first: no matter
    _ask(gold, week, 8)
    _allocate(week)
    state = _state(week)
    assert state[gold.pk][:2] == (Status.ALLOCATED, Decimal(8))
    assert state[silver.pk][:3] == (Status.WAITING, Decimal(0), 1)
    assert state[silver.pk][3].startswith("Waiting list #1: the capacity went to heavier tiers")
    assert state[gold.pk][3].startswith("Gold (weight 2), no earlier outcomes")
    assert state[gold.pk][3].endswith(": 8 h of 8 requested.")


def test_what_gold_leaves_goes_to_silver(org, weeks):
    _last, week, _next = weeks  # 20 h
    gold, silver = _rep("gold"), _rep("silver")
    _ask(gold, week, 16)
    _ask(silver, week, 8)
    _allocate(week)
    state = _state(week)
    assert state[gold.pk][1] == Decimal(16)
    assert state[silver.pk][:2] == (Status.ALLOCATED, Decimal(4))
    assert state[silver.pk][3].endswith(
        ": 4 h of 8 requested; the only silver request got the 4 h left."
    )


def test_better_outcomes_in_earlier_periods_get_more(org, weeks):
    last, week, _next = weeks
    strong, weak = _rep("gold"), _rep("gold")
    record_history(lead=org.tp_lead, rep=strong, period=last, hours=10, meetings=20, pipeline=90000)
    record_history(lead=org.tp_lead, rep=weak, period=last, hours=10, meetings=4, pipeline=10000)
    _ask(weak, week, 20, now=BEFORE - timedelta(hours=1))  # asked first: no matter
    _ask(strong, week, 20)
    _allocate(week)
    state = _state(week)
    strong_hours, weak_hours = state[strong.pk][1], state[weak.pk][1]
    assert strong_hours > weak_hours > 0
    assert strong_hours + weak_hours == Decimal(20)
    assert "2.0 meetings and 9,000 USD pipeline per hour over 10 h" in state[strong.pk][3]
    assert "(score 1.00)" in state[strong.pk][3]


def test_only_earlier_periods_count_as_history(org, weeks):
    last, week, _next = weeks
    rep = _rep("gold")
    record_history(lead=org.tp_lead, rep=rep, period=last, hours=4, meetings=2)
    SupportUsage.objects.create(
        period=week, rep=rep, hours=50, meetings_set=0, idempotency_key="same-week"
    )
    history = outcome_history(rep_ids=[rep.pk], before=week.starts_on)
    assert history[rep.pk] == OutcomeRates(Decimal(4), 2, Decimal(0))


def test_the_waiting_list_follows_tier_then_outcomes(org, weeks):
    last, week, _next = weeks
    period_update(
        period=week,
        starts_on=week.starts_on,
        ends_on=week.ends_on,
        capacity_hours=Decimal(6),
        tier_weights={"gold": 2, "silver": 1},
        actor=None,
        now=BEFORE,
    )
    gold = _rep("gold")
    good, new, poor = _rep("silver"), _rep("silver"), _rep("silver")
    record_history(lead=org.tp_lead, rep=good, period=last, hours=5, meetings=10)
    record_history(lead=org.tp_lead, rep=poor, period=last, hours=5, meetings=1)
    late_gold = _rep("gold")
    for rep in (poor, new, good, gold):
        _ask(rep, week, 6, now=BEFORE - timedelta(hours=3))
    _ask(late_gold, week, 4)
    _allocate(week)
    state = _state(week)
    # The first gold request fills the capacity... shared by two gold requests in fact:
    assert state[gold.pk][0] == state[late_gold.pk][0] == Status.ALLOCATED
    assert state[gold.pk][1] + state[late_gold.pk][1] == Decimal(6)
    waiting = sorted((v[2], rep_id) for rep_id, v in state.items() if v[0] == Status.WAITING)
    assert waiting == [(1, good.pk), (2, new.pk), (3, poor.pk)]


def test_a_rep_who_dropped_below_an_eligible_tier_is_ineligible_with_the_reason(org, weeks):
    _last, week, _next = weeks
    rep = _rep("silver")
    _ask(rep, week)
    set_tier(rep, "bronze")
    result = _allocate(week)
    request = SupportRequest.objects.get(rep=rep)
    assert request.status == Status.INELIGIBLE
    assert request.hours_allocated == 0
    assert request.reason == (
        "Bronze is not eligible this period (eligible: Gold (weight 2), Silver (weight 1))."
    )
    assert result.ineligible_count == 1


def test_a_tier_drop_keeps_this_periods_allocation_but_none_next_period(org, weeks):
    _last, week, next_week = weeks
    rep = _rep("gold")
    _ask(rep, week, 8)
    _allocate(week)  # a preview, the evening before
    _allocate(week, now=at(MONDAY))  # the first day's run commits the hours
    _ask(rep, next_week, 8, now=DURING)  # asked for next week while still gold
    set_tier(rep, "bronze")  # the tier drops mid-week
    # This week: the allocation stands, even when the lead runs it again.
    _allocate(week, now=DURING)
    kept = SupportRequest.objects.get(rep=rep, period=week)
    assert (kept.status, kept.hours_allocated, kept.tier_at_allocation) == (
        Status.ALLOCATED,
        Decimal(8),
        "gold",
    )
    answer = entitlement(rep=rep, today=DURING.date())
    assert answer.eligible
    assert answer.hours_remaining == Decimal(8)
    assert "Kept for this period; now bronze, so none next period." in answer.why
    # Next week: nothing, with the reason, and no new request accepted.
    _allocate(next_week, now=DURING)
    refused = SupportRequest.objects.get(rep=rep, period=next_week)
    assert (refused.status, refused.hours_allocated) == (Status.INELIGIBLE, 0)
    other = UserFactory(rep=True)
    set_tier(other, "bronze")
    with pytest.raises(ApplicationError, match="Bronze is not eligible this period") as error:
        _ask(other, next_week, now=DURING)
    assert error.value.code == "not_eligible"


def test_rerunning_the_allocation_changes_nothing(org, weeks):
    last, week, _next = weeks
    reps = [_rep(random.Random(i).choice(["gold", "silver"])) for i in range(7)]
    for i, rep in enumerate(reps):
        record_history(lead=org.tp_lead, rep=rep, period=last, hours=4 + i, meetings=i * 3)
        _ask(rep, week, 4 + 2 * i, now=BEFORE - timedelta(minutes=i))
    _allocate(week)
    first = _state(week)
    _allocate(week)
    assert _state(week) == first
    assert _allocated_total(week) <= week.capacity_hours
    assert AuditEvent.objects.filter(action="support.allocated").count() == 2


def test_a_running_period_keeps_its_allocations_and_shares_only_what_is_left(org, weeks):
    _last, week, _next = weeks
    first, second = _rep("gold"), _rep("gold")
    _ask(first, week, 16)
    _allocate(week, now=at(MONDAY))  # the first day's run
    assert _state(week)[first.pk][1] == Decimal(16)
    # Mid-week a better-placed request arrives; the first rep's hours are a commitment.
    _ask(second, week, 16, now=DURING)
    result = _allocate(week, now=DURING)
    state = _state(week)
    assert state[first.pk][1] == Decimal(16)
    assert state[second.pk][:2] == (Status.ALLOCATED, Decimal(4))
    assert result.allocated == Decimal(20)


def test_random_periods_never_allocate_more_than_their_capacity(org):
    rng = random.Random(11)
    reps = [UserFactory(rep=True) for _ in range(8)]
    earlier = make_period(date(2029, 1, 1), days=300)
    for rep in reps:
        if rng.random() < 0.7:
            record_history(
                lead=org.tp_lead,
                rep=rep,
                period=earlier,
                hours=rng.randrange(1, 30),
                meetings=rng.randrange(0, 40),
                pipeline=rng.randrange(0, 500_000),
            )
    for week_number in range(20):
        starts = MONDAY + timedelta(weeks=week_number)
        period = make_period(
            starts,
            capacity=Decimal(rng.randrange(0, 121)) / 2 + Decimal("0.25") * rng.randrange(2),
            weights=rng.choice(
                [{"gold": 2, "silver": 1}, {"gold": 1, "silver": 1}, {"gold": 3, "bronze": 1}]
            ),
        )
        for rep in rng.sample(reps, rng.randrange(0, len(reps) + 1)):
            set_tier(rep, rng.choice(list(period.tier_weights)))
            _ask(rep, period, Decimal(rng.randrange(1, 41)) / 2, now=at(starts - timedelta(1)))
            set_tier(rep, rng.choice(["none", "bronze", "silver", "gold"]))
        now = at(starts - timedelta(days=1))
        _allocate(period, now=now)
        first = _state(period)
        assert _allocated_total(period) <= period.capacity_hours
        _allocate(period, now=now)
        assert _state(period) == first


# Periods --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_on": MONDAY - timedelta(days=1)}, "ends_on"),
        ({"capacity_hours": Decimal(-1)}, "capacity_hours"),
        ({"tier_weights": {"platinum": 3}}, "tier_weights"),
        ({"tier_weights": {"gold": 0}}, "tier_weights"),
        ({"tier_weights": {"gold": "2"}}, "tier_weights"),
        ({"tier_weights": {"gold": True}}, "tier_weights"),
        ({"tier_weights": {}}, "tier_weights"),
        ({"starts_on": MONDAY - timedelta(days=3)}, "starts_on"),  # overlaps last week
    ],
)
def test_a_period_is_validated(weeks, change, field):
    values = {
        "starts_on": MONDAY + timedelta(days=14),
        "ends_on": MONDAY + timedelta(days=20),
        "capacity_hours": Decimal(40),
        "tier_weights": {"gold": 2, "silver": 1},
    } | change
    with pytest.raises(ApplicationError) as error:
        period_create(**values, actor=None, now=BEFORE)
    assert field in error.value.field_errors


def test_a_new_period_defaults_to_gold_and_silver_and_is_audited(org):
    period = period_create(
        starts_on=MONDAY,
        ends_on=MONDAY + timedelta(days=6),
        capacity_hours=Decimal(60),
        actor=org.tp_lead,
        now=BEFORE,
    )
    assert period.tier_weights == {"gold": 2, "silver": 1}
    assert AuditEvent.objects.filter(action="support_period.created", actor=org.tp_lead).exists()


def test_lowering_capacity_before_the_start_reruns_the_allocation(org, weeks):
    _last, week, _next = weeks
    rep = _rep("gold")
    _ask(rep, week, 16)
    _allocate(week)
    period_update(
        period=week,
        starts_on=week.starts_on,
        ends_on=week.ends_on,
        capacity_hours=Decimal(5),
        tier_weights=week.tier_weights,
        actor=org.tp_lead,
        now=BEFORE,
    )
    assert _allocated_total(week) == Decimal(5)


def test_a_running_period_keeps_its_start_and_its_commitments(org, weeks):
    _last, week, _next = weeks
    rep = _rep("gold")
    _ask(rep, week, 12)
    _allocate(week)
    values = {
        "period": week,
        "starts_on": week.starts_on,
        "ends_on": week.ends_on,
        "tier_weights": week.tier_weights,
        "actor": None,
        "now": DURING,
    }
    with pytest.raises(ApplicationError, match="cannot drop below that"):
        period_update(**values, capacity_hours=Decimal(10))
    with pytest.raises(ApplicationError, match="its start stays"):
        period_update(
            **values | {"starts_on": week.starts_on + timedelta(days=1)}, capacity_hours=20
        )
    period_update(**values, capacity_hours=Decimal(12))
    assert _allocated_total(week) == Decimal(12)
    with pytest.raises(ConflictError):
        period_update(**values | {"now": at(week.ends_on + timedelta(days=1))}, capacity_hours=30)
    with pytest.raises(ConflictError):
        _allocate(week, now=at(week.ends_on + timedelta(days=1)))


# Requests -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "purpose", "field"),
    [
        (0, "Calls", "hours_requested"),
        (41, "Calls", "hours_requested"),
        (Decimal("2.25"), "Calls", "hours_requested"),
        ("lots", "Calls", "hours_requested"),
        (4, "   ", "purpose"),
        (4, "x" * 2001, "purpose"),
    ],
)
def test_a_request_is_validated(weeks, hours, purpose, field):
    _last, week, _next = weeks
    with pytest.raises(ApplicationError) as error:
        _ask(_rep("gold"), week, hours, purpose=purpose)
    assert field in error.value.field_errors


def test_a_request_is_for_the_current_or_next_period_once(weeks):
    last, week, next_week = weeks
    rep = _rep("gold")
    with pytest.raises(ApplicationError, match="current period or the next one"):
        _ask(rep, next_week, now=BEFORE)  # two weeks ahead
    with pytest.raises(ApplicationError, match="has ended"):
        _ask(rep, last, now=DURING)
    _ask(rep, week)
    with pytest.raises(ConflictError, match="already asked"):
        _ask(rep, week)
    _ask(rep, last, now=BEFORE)  # the current period, on its last day


@pytest.mark.parametrize("tier", ["none", "bronze"])
def test_only_eligible_tiers_may_ask(weeks, tier):
    _last, week, _next = weeks
    rep = UserFactory(rep=True)
    if tier != "none":
        set_tier(rep, tier)
    with pytest.raises(ApplicationError, match="is not eligible this period"):
        _ask(rep, week)
    assert not SupportRequest.objects.exists()


def test_a_non_rep_cannot_ask(org, weeks):
    with pytest.raises(NotFoundError):
        _ask(org.tp_lead, weeks[1])


def test_withdrawing_frees_the_hours_and_moves_the_waiting_list_up(org, weeks):
    _last, week, _next = weeks
    period_update(
        period=week,
        starts_on=week.starts_on,
        ends_on=week.ends_on,
        capacity_hours=Decimal(8),
        tier_weights={"gold": 2, "silver": 1},
        actor=None,
        now=BEFORE,
    )
    gold, first, second = _rep("gold"), _rep("silver"), _rep("silver")
    _ask(gold, week, 8)
    _ask(first, week, 8, now=BEFORE - timedelta(hours=2))
    _ask(second, week, 8, now=BEFORE - timedelta(hours=1))
    _allocate(week)
    support_request_withdraw(
        support_request=SupportRequest.objects.get(rep=first), rep=first, now=BEFORE
    )
    moved = SupportRequest.objects.get(rep=second)
    assert moved.waiting_position == 1
    assert moved.reason.startswith("Waiting list #1:")
    support_request_withdraw(support_request=SupportRequest.objects.get(rep=gold), rep=gold)
    _allocate(week)
    assert _state(week)[second.pk][:2] == (Status.ALLOCATED, Decimal(8))
    # The rep may ask again after withdrawing.
    again = _ask(first, week, 4)
    assert again.status == Status.PENDING
    assert "Asked after the allocation ran" in again.reason


def test_a_request_whose_support_was_used_cannot_be_withdrawn(org, weeks):
    _last, week, _next = weeks
    rep = _rep("gold")
    request = _ask(rep, week, 8)
    _allocate(week)
    support_usage_record(
        actor=org.tp_lead,
        rep=rep,
        period=week,
        hours=2,
        meetings_set=1,
        pipeline_amount=0,
        idempotency_key="k1",
        now=DURING,
    )
    with pytest.raises(ConflictError, match="already been used"):
        support_request_withdraw(support_request=request, rep=rep, now=DURING)
    with pytest.raises(NotFoundError):
        support_request_withdraw(support_request=request, rep=org.rep_b, now=DURING)


# Usage ----------------------------------------------------------------------------------------


def _usage(org, **values):
    return support_usage_record(
        **{
            "actor": org.tp_lead,
            "rep": org.rep_a,
            "hours": Decimal(3),
            "meetings_set": 2,
            "pipeline_amount": Decimal(15000),
            "idempotency_key": "dialer-42",
            "now": DURING,
        }
        | values
    )


def test_usage_is_idempotent_on_the_clients_key(org, weeks):
    first = _usage(org)
    assert first.created
    assert first.usage.period == weeks[1]  # the period containing today
    again = _usage(org, hours="3.00")
    assert (again.created, again.usage.pk) == (False, first.usage.pk)
    with pytest.raises(ConflictError) as error:
        _usage(org, meetings_set=3)
    assert error.value.code == "idempotency_key_reused"
    assert SupportUsage.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"actor": "rep_a"}, NotFoundError),
        ({"actor": "enablement"}, NotFoundError),
        ({"rep": "manager_a"}, NotFoundError),
        ({"rep": "inactive_rep"}, NotFoundError),
        ({"hours": -1}, ApplicationError),
        ({"meetings_set": -1}, ApplicationError),
        ({"pipeline_amount": "-5"}, ApplicationError),
        ({"hours": 0, "meetings_set": 0, "pipeline_amount": 0}, ApplicationError),
        ({"idempotency_key": " "}, ApplicationError),
        ({"now": at(MONDAY + timedelta(days=60))}, ApplicationError),  # no period open
    ],
)
def test_usage_is_validated(org, weeks, values, error):
    resolved = {k: getattr(org, v) if k in {"actor", "rep"} else v for k, v in values.items()}
    with pytest.raises(error):
        _usage(org, **resolved)


def test_usage_of_a_period_not_started_is_refused(org, weeks):
    with pytest.raises(ApplicationError, match="not started"):
        _usage(org, period=weeks[2])


# Tasks ----------------------------------------------------------------------------------------


def test_the_tasks_call_the_allocation(org, weeks, monkeypatch):
    _last, week, _next = weeks
    rep = _rep("gold")
    _ask(rep, week, 6)
    assert allocate_support.delay(week.pk).get().startswith("6.00 of 20.00 h allocated")
    assert allocate_support.delay(999_999).get() == "no such period"
    week.refresh_from_db()
    assert week.allocated_at is not None
    assert support_allocate_starting(on=MONDAY, now=BEFORE) == 1
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(MONDAY))
    assert allocate_support_starting_today.delay().get() == 1
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(MONDAY + timedelta(days=30)))
    assert allocate_support.delay(week.pk).get().startswith("This period has ended")


# Reads ----------------------------------------------------------------------------------------


def test_outcomes_per_rep_add_up_across_periods(org, weeks):
    last, week, _next = weeks
    record_history(lead=org.tp_lead, rep=org.rep_a, period=last, hours=4, meetings=2, pipeline=8000)
    record_history(lead=org.tp_lead, rep=org.rep_a, period=week, hours=6, meetings=8, pipeline=2000)
    record_history(lead=org.tp_lead, rep=org.rep_b, period=week, hours=2, meetings=1)
    rows = {rep.pk: rep for rep in support_outcomes_by_rep()}
    a = rows[org.rep_a.pk]
    assert (a.hours_used, a.meetings, a.pipeline, a.periods) == (10, 10, 10000, 2)
    assert (a.meetings_per_hour, a.pipeline_per_hour) == (1, 1000)
    assert list(rows) == [org.rep_a.pk, org.rep_b.pk]  # best meetings per hour first


def test_the_lead_overview_counts_this_periods_hours_and_waiting_list(org, weeks):
    _last, week, _next = weeks
    gold, silver = _rep("gold"), _rep("silver")
    _ask(gold, week, 20)
    _ask(silver, week, 4)
    _allocate(week)
    overview = support_overview(today=DURING.date())
    assert (overview.period, overview.capacity, overview.allocated, overview.waiting) == (
        week,
        Decimal(20),
        Decimal(20),
        1,
    )
    assert support_overview(today=MONDAY + timedelta(days=60)).period is None


# Concurrency ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocations_agree_and_stay_within_capacity_on_postgresql(org):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    period = make_period(MONDAY, capacity=10)
    for i in range(6):
        _ask(_rep("gold" if i % 2 else "silver"), period, 4, now=BEFORE - timedelta(minutes=i))
    barrier, errors = threading.Barrier(4), []

    def allocate():
        try:
            barrier.wait()
            support_allocate(period=SupportPeriod.objects.get(pk=period.pk), now=BEFORE)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=allocate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _allocated_total(period) == Decimal(10)
    once = _state(period)
    support_allocate(period=period, now=BEFORE)
    assert _state(period) == once


def test_a_measure_nobody_produced_does_not_drag_the_best_down_to_a_newcomer():
    history = {
        1: OutcomeRates(hours=Decimal(5), meetings=10, pipeline=Decimal(0)),
        2: OutcomeRates(hours=Decimal(5), meetings=1, pipeline=Decimal(0)),
    }
    scores = outcome_scores(history, [1, 2, 3])
    assert (scores[1], scores[2], scores[3]) == (1, Fraction(1, 10), NEUTRAL_SCORE)


def test_a_tier_drop_before_the_first_day_counts(org, weeks):
    _last, week, _next = weeks
    rep = _rep("gold")
    _ask(rep, week, 8)
    _allocate(week)  # the evening before: a preview, not a commitment
    set_tier(rep, "none")  # an override ends, a certification lapses, before Monday
    _allocate(week, now=at(MONDAY))
    request = SupportRequest.objects.get(rep=rep, period=week)
    assert (request.status, request.hours_allocated) == (Status.INELIGIBLE, 0)
