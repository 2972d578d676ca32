"""Readiness snapshots: figures per team subtree and offering checked against hand-computed
values (a past day from history, today live), idempotency, and a query count that does not
grow with the reps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import Team, User
from certification.models import (
    Certification,
    ReadinessRequirement,
    ReadinessSnapshot,
    RepTier,
    RequiredCertification,
    Subject,
    TierChange,
)
from certification.selectors.readiness import ReportFilters, readiness_headline
from certification.services.certifications import certification_revoke
from certification.services.snapshots import (
    readiness_snapshot_take,
    readiness_snapshots_backfill,
)
from certification.tasks import take_readiness_snapshot
from config.errors import ApplicationError
from tests.factories.accounts import RegionFactory, TeamFactory, UserFactory
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db

FIGURES = (
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


def figures(day: date, team: Team | None, offering: Subject | None = None) -> dict[str, int]:
    row = ReadinessSnapshot.objects.get(taken_on=day, team=team, offering=offering)
    return {name: getattr(row, name) for name in FIGURES}


def requirement(offering: Subject, items: list[tuple[Subject, int]], **slice_: str) -> None:
    req = ReadinessRequirement.objects.create(offering=offering, **slice_)
    for subject, level in items:
        RequiredCertification.objects.create(requirement=req, subject=subject, level=level)


def tier_history(rep: User, now: datetime, *changes: tuple[int, str, str]) -> None:
    """(days ago, old tier, new tier) changes; the last one is the rep's tier now."""
    for days_ago, old, new in changes:
        TierChange.objects.create(
            rep=rep,
            old_tier=old,
            new_tier=new,
            cause="test",
            changed_at=now - timedelta(days=days_ago),
        )
    current = changes[-1][2]
    RepTier.objects.update_or_create(rep=rep, defaults={"tier": current, "computed": current})


@dataclass
class Fixture:
    now: datetime
    today: date
    past: date
    region: Team
    alpha: Team
    beta: Team
    offering: Subject
    enterprise_offering: Subject
    mover: User


@pytest.fixture
def world() -> Fixture:
    """Region R holds teams Alpha and Beta; one rep has no team.

    Offering: every rep needs it and company essentials at level 1. Enterprise offering:
    Enterprise reps need it at level 1. The past day is 20 days ago.

    alpha: a1 (both held 40 days ago; Enterprise, holds the Enterprise offering; essentials
           expires in 15 days), a2 (offering only 5 days ago), mover (nothing, inactive)
    beta:  b1 (both 40 days ago, essentials revoked 10 days ago; Enterprise, lacks it),
           b2 (both 40 days ago, the offering lapsed 3 days ago), late (essentials 5 days ago)
    none:  loner (nothing, inactive)
    """
    now = timezone.now()
    region = RegionFactory(name="R")
    alpha = TeamFactory(name="Alpha", parent=region)
    beta = TeamFactory(name="Beta", parent=region)
    offering = SubjectFactory(name="Offering")
    enterprise_offering = SubjectFactory(name="Enterprise offering")
    essentials = SubjectFactory(name="Essentials", kind=Subject.Kind.COMPANY)
    requirement(offering, [(offering, 1), (essentials, 1)])
    requirement(enterprise_offering, [(enterprise_offering, 1)], segment="Enterprise")

    joined = now - timedelta(days=100)

    def rep(team: Team | None, **extra: str) -> User:
        return UserFactory(rep=True, team=team, date_joined=joined, **extra)

    def hold(person: User, subject: Subject, days_ago: int) -> Certification:
        return held_certification(person, subject, 1, now=now - timedelta(days=days_ago))

    a1, a2, mover = rep(alpha, segment="Enterprise"), rep(alpha), rep(alpha)
    b1, b2, late = rep(beta, segment="Enterprise"), rep(beta), rep(beta)
    rep(None)  # the loner
    hold(a1, offering, 40)
    expiring = hold(a1, essentials, 40)
    Certification.objects.filter(pk=expiring.pk).update(expires_at=now + timedelta(days=15))
    hold(a1, enterprise_offering, 40)
    hold(a2, offering, 5)
    hold(a2, essentials, 40)
    hold(b1, offering, 40)
    certification_revoke(
        certification=hold(b1, essentials, 40),
        reason="Cheated",
        actor=None,
        now=now - timedelta(days=10),
    )
    lapsed = hold(b2, offering, 40)
    Certification.objects.filter(pk=lapsed.pk).update(
        status=Certification.Status.EXPIRED, expires_at=now - timedelta(days=3)
    )
    hold(b2, essentials, 40)
    hold(late, essentials, 5)
    tier_history(a1, now, (30, "none", "bronze"), (2, "bronze", "silver"))
    tier_history(a2, now, (4, "none", "bronze"))
    tier_history(b1, now, (25, "none", "bronze"), (10, "bronze", "none"))
    tier_history(b2, now, (50, "none", "gold"))
    today = timezone.localdate(now)
    return Fixture(
        now=now,
        today=today,
        past=today - timedelta(days=20),
        region=region,
        alpha=alpha,
        beta=beta,
        offering=offering,
        enterprise_offering=enterprise_offering,
        mover=mover,
    )


def _expect(
    reps: int, tiers: tuple[int, int, int, int], expiring: int, inactive: int
) -> dict[str, int]:
    gold, silver, bronze, none = tiers
    return {
        "reps": reps,
        "in_scope": 0,
        "ready": 0,
        "gold": gold,
        "silver": silver,
        "bronze": bronze,
        "no_tier": none,
        "expiring_30": expiring,
        "inactive": inactive,
    }


def _offering(reps: int, in_scope: int, ready: int) -> dict[str, int]:
    return {**dict.fromkeys(FIGURES, 0), "reps": reps, "in_scope": in_scope, "ready": ready}


def test_a_past_day_counts_what_was_held_then(world):
    # when
    readiness_snapshot_take(day=world.past, now=world.now)
    # then: overall rows (reps, tiers gold/silver/bronze/none, expiring, inactive)
    day = world.past
    assert figures(day, world.alpha) == _expect(3, (0, 0, 1, 2), 0, 1)
    assert figures(day, world.beta) == _expect(3, (1, 0, 1, 1), 1, 1)
    assert figures(day, world.region) == _expect(6, (1, 0, 2, 3), 1, 2)
    assert figures(day, None) == _expect(7, (1, 0, 2, 4), 1, 3)
    # per offering: a1, b1 and b2 were ready; a2 had not passed yet, late held essentials only
    assert figures(day, world.alpha, world.offering) == _offering(3, 3, 1)
    assert figures(day, world.beta, world.offering) == _offering(3, 3, 2)
    assert figures(day, world.region, world.offering) == _offering(6, 6, 3)
    assert figures(day, None, world.offering) == _offering(7, 7, 3)
    assert figures(day, world.alpha, world.enterprise_offering) == _offering(3, 1, 1)
    assert figures(day, world.beta, world.enterprise_offering) == _offering(3, 1, 0)
    assert figures(day, None, world.enterprise_offering) == _offering(7, 2, 1)


def test_today_counts_live(world):
    readiness_snapshot_take(day=world.today, now=world.now)
    day = world.today
    assert figures(day, world.alpha) == _expect(3, (0, 1, 1, 1), 1, 1)
    assert figures(day, world.beta) == _expect(3, (1, 0, 0, 2), 0, 0)
    assert figures(day, world.region) == _expect(6, (1, 1, 1, 3), 1, 1)
    assert figures(day, None) == _expect(7, (1, 1, 1, 4), 1, 2)
    # a2 passed since; b1's essentials was revoked and b2's offering lapsed
    assert figures(day, world.alpha, world.offering) == _offering(3, 3, 2)
    assert figures(day, world.beta, world.offering) == _offering(3, 3, 0)
    assert figures(day, None, world.offering) == _offering(7, 7, 2)
    assert figures(day, world.region, world.enterprise_offering) == _offering(6, 2, 1)


@pytest.mark.parametrize("slice_", ["org", "region", "alpha", "beta"])
def test_todays_snapshot_agrees_with_the_live_report(world, slice_):
    readiness_snapshot_take(day=world.today, now=world.now)
    lead = UserFactory(enablement=True)
    team = None if slice_ == "org" else getattr(world, slice_)
    filters = ReportFilters(team=team.pk) if team is not None else ReportFilters()
    headline = readiness_headline(viewer=lead, filters=filters, now=world.now)
    overall = figures(world.today, team)
    assert overall["reps"] == headline.reps
    assert overall["inactive"] == headline.inactive
    assert overall["expiring_30"] == headline.expiring[30]
    assert {
        "gold": overall["gold"],
        "silver": overall["silver"],
        "bronze": overall["bronze"],
        "none": overall["no_tier"],
    } == headline.tiers
    for row in headline.offerings:
        snapshot = figures(world.today, team, row.offering)
        assert (snapshot["in_scope"], snapshot["ready"]) == (row.in_scope, row.ready)


def test_every_team_and_offering_has_a_row_and_rows_add_up(world):
    readiness_snapshot_take(day=world.today, now=world.now)
    rows = ReadinessSnapshot.objects.filter(taken_on=world.today)
    # (org + 3 teams) x (overall + 2 offerings)
    assert rows.count() == 4 * 3
    for row in rows:
        assert row.ready <= row.in_scope
        if row.offering_id is None:
            assert row.gold + row.silver + row.bronze + row.no_tier == row.reps


def test_a_rep_who_moved_stays_in_the_old_teams_snapshot(world):
    # given: tonight's snapshot with the mover in Alpha
    readiness_snapshot_take(day=world.today, now=world.now)
    # when: they move to Beta, and tomorrow night's snapshot is taken
    world.mover.team = world.beta
    world.mover.save(update_fields=["team"])
    tomorrow = world.today + timedelta(days=1)
    readiness_snapshot_take(day=tomorrow, now=world.now + timedelta(days=1))
    # then: yesterday's rows keep them in Alpha, tomorrow's count them in Beta
    assert figures(world.today, world.alpha)["reps"] == 3
    assert figures(world.today, world.beta)["reps"] == 3
    assert figures(tomorrow, world.alpha)["reps"] == 2
    assert figures(tomorrow, world.beta)["reps"] == 4
    assert figures(tomorrow, world.region)["reps"] == 6


def test_a_rep_who_had_not_joined_is_not_counted_on_a_past_day(world):
    UserFactory(rep=True, team=world.alpha, date_joined=world.now - timedelta(days=5))
    readiness_snapshot_take(day=world.past, now=world.now)
    readiness_snapshot_take(day=world.today, now=world.now)
    assert figures(world.past, world.alpha)["reps"] == 3
    assert figures(world.today, world.alpha)["reps"] == 4


def test_taking_it_twice_gives_the_same_rows(world):
    readiness_snapshots_backfill(days=[world.past, world.today], now=world.now)
    first = sorted(
        ReadinessSnapshot.objects.values_list("pk", "taken_on", "team_id", "offering_id", *FIGURES)
    )
    written = readiness_snapshots_backfill(days=[world.past, world.today], now=world.now)
    assert written == 0
    assert (
        sorted(
            ReadinessSnapshot.objects.values_list(
                "pk", "taken_on", "team_id", "offering_id", *FIGURES
            )
        )
        == first
    )


def test_a_second_run_corrects_changed_figures_and_drops_rows_no_longer_counted(world):
    readiness_snapshot_take(day=world.today, now=world.now)
    ReadinessSnapshot.objects.filter(taken_on=world.today, team=None, offering=None).update(reps=99)
    ReadinessRequirement.objects.filter(offering=world.enterprise_offering).delete()
    readiness_snapshot_take(day=world.today, now=world.now)
    assert figures(world.today, None)["reps"] == 7
    assert not ReadinessSnapshot.objects.filter(offering=world.enterprise_offering).exists()
    assert ReadinessSnapshot.objects.filter(taken_on=world.today).count() == 4 * 2


def test_a_day_to_come_is_refused(world):
    with pytest.raises(ApplicationError, match="has not happened yet"):
        readiness_snapshot_take(day=world.today + timedelta(days=1), now=world.now)
    assert not ReadinessSnapshot.objects.exists()


def test_the_nightly_task_takes_todays_snapshot(world):
    written = take_readiness_snapshot.delay().get()
    assert written == 12
    assert figures(timezone.localdate(), None)["reps"] == 7
    assert take_readiness_snapshot.delay(world.past.isoformat()).get() == 12


def _many_reps(count: int, teams: list[Team], offering: Subject, now: datetime) -> None:
    for i in range(count):
        rep = UserFactory(
            rep=True, team=teams[i % len(teams)], date_joined=now - timedelta(days=99)
        )
        if i % 2:
            held_certification(rep, offering, 1, now=now - timedelta(days=i))
        TierChange.objects.create(
            rep=rep, old_tier="none", new_tier="bronze", cause="test", changed_at=now
        )


@pytest.mark.parametrize("count", [5, 30])
def test_the_query_count_does_not_grow_with_the_reps(count, django_assert_max_num_queries):
    now = timezone.now()
    region = RegionFactory()
    teams = [TeamFactory(parent=region), TeamFactory(parent=region)]
    offering = SubjectFactory()
    requirement(offering, [(offering, 1)])
    requirement(SubjectFactory(), [(offering, 1)], segment="Enterprise")
    _many_reps(count, teams, offering, now)
    today = timezone.localdate(now)
    with django_assert_max_num_queries(9):
        readiness_snapshot_take(day=today, now=now)
    with django_assert_max_num_queries(9):
        readiness_snapshot_take(day=today - timedelta(days=3), now=now)
    assert ReadinessSnapshot.objects.get(taken_on=today, team=None, offering=None).reps == count
