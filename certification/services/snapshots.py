"""Readiness snapshots: the headline figures of one day, per team subtree and offering, kept
so that trends can be drawn.

Each day has one row for the whole organisation and one per team (every rep under the team
counts, sub-teams included), each overall (no offering: reps, tiers, expiries, inactivity)
and per offering with requirements (reps in scope, reps customer ready). The figures are the
live report's own expressions (``certification.selectors.readiness``), aggregated by the
database per team in two queries; team totals roll up into their ancestors in Python, a loop
over teams, never over reps.

Today is counted live (certification status, the tier in force). A past day (a backfill)
reads the dates instead: certifications held at the end of that day, the tier of the last
change on or before it, activity in the window ending that day, reps who had joined by then.
Teams, requirements and who is an active rep have no history: a backfill uses today's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import Exact
from django.utils import timezone

from accounts.models import Team, User
from certification.models import Certification, ReadinessSnapshot, Subject, Tier, TierChange
from certification.selectors.readiness import (
    INACTIVE_DAYS,
    active_since,
    held_q,
    in_scope,
    lacks_an_item,
    offerings_with_requirements,
)
from config.errors import ApplicationError

EXPIRING_DAYS = 30
TIERS = (Tier.GOLD, Tier.SILVER, Tier.BRONZE)
FIGURES = ReadinessSnapshot.FIGURES

Key = tuple[int | None, int | None]  # (team, offering); None is the whole org / overall


@dataclass
class _Counts:
    """One team's (or the org's) figures, before they become snapshot rows."""

    reps: int = 0
    inactive: int = 0
    expiring: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    scope: dict[int, int] = field(default_factory=dict)
    ready: dict[int, int] = field(default_factory=dict)

    def add(self, other: _Counts) -> None:
        self.reps += other.reps
        self.inactive += other.inactive
        self.expiring += other.expiring
        for tier, count in other.tiers.items():
            self.tiers[tier] = self.tiers.get(tier, 0) + count
        for offering, count in other.scope.items():
            self.scope[offering] = self.scope.get(offering, 0) + count
        for offering, count in other.ready.items():
            self.ready[offering] = self.ready.get(offering, 0) + count


@dataclass(frozen=True)
class _Moment:
    """The instant a day's figures are counted at, and whether from history."""

    at: datetime
    history: bool


def _moment(day: date, now: datetime) -> _Moment:
    today = timezone.localdate(now)
    if day > today:
        raise ApplicationError(f"{day:%-d %b %Y} has not happened yet: no snapshot of it.")
    if day == today:
        return _Moment(now, history=False)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return _Moment(end - timedelta(microseconds=1), history=True)


def _reps(moment: _Moment) -> QuerySet[User]:
    reps = User.objects.filter(is_rep=True, is_active=True)
    if moment.history:
        reps = reps.filter(date_joined__lte=moment.at)
    return reps


def _tier_is(tier: str, moment: _Moment) -> Q:
    if not moment.history:
        return Q(tier__tier=tier)
    # The tier in force at the end of the day: the last change on or before it.
    then = Subquery(
        TierChange.objects.filter(rep=OuterRef("pk"), changed_at__lte=moment.at)
        .order_by("-changed_at", "-pk")
        .values("new_tier")[:1]
    )
    return Q(Exact(then, tier))


def _per_team(moment: _Moment, offerings: Sequence[Subject]) -> dict[int | None, _Counts]:
    """Every figure per rep's team (None: reps without a team), in two queries."""
    since = moment.at - timedelta(days=INACTIVE_DAYS)
    until = moment.at if moment.history else None
    aggregates: dict[str, Any] = {
        "reps": Count("pk"),
        "inactive": Count("pk", filter=~active_since(since, until=until)),
    }
    for tier in TIERS:
        aggregates[f"tier_{tier}"] = Count("pk", filter=_tier_is(tier, moment))
    for offering in offerings:
        scope = Q(in_scope(offering.pk))
        aggregates[f"scope_{offering.pk}"] = Count("pk", filter=scope)
        aggregates[f"ready_{offering.pk}"] = Count(
            "pk",
            filter=scope & ~Q(lacks_an_item(offering.pk, moment.at, history=moment.history)),
        )
    reps = _reps(moment)
    counts: dict[int | None, _Counts] = {}
    for raw in reps.order_by().values("team_id").annotate(**aggregates):
        row: dict[str, Any] = dict(raw)
        counts[row["team_id"]] = _Counts(
            reps=row["reps"],
            inactive=row["inactive"],
            tiers={tier.value: row[f"tier_{tier}"] for tier in TIERS},
            scope={o.pk: row[f"scope_{o.pk}"] for o in offerings},
            ready={o.pk: row[f"ready_{o.pk}"] for o in offerings},
        )
    expiring = (
        Certification.objects.filter(
            held_q(moment.at, history=moment.history),
            rep__in=reps.order_by().values("pk"),
            expires_at__lte=moment.at + timedelta(days=EXPIRING_DAYS),
        )
        .values("rep__team_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for team_id, n in expiring.values_list("rep__team_id", "n"):
        counts.setdefault(team_id, _Counts()).expiring = n
    return counts


def _roll_up(
    per_team: dict[int | None, _Counts], teams: Sequence[tuple[int, str]]
) -> dict[int | None, _Counts]:
    """Each team's subtree totals (and the org's, under None), from the per-team figures."""
    by_path = {path: pk for pk, path in teams}
    path_of = dict(teams)
    totals: dict[int | None, _Counts] = {pk: _Counts() for pk, _path in teams}
    totals[None] = _Counts()
    for team_id, counts in per_team.items():
        totals[None].add(counts)
        if team_id is None or team_id not in path_of:
            continue
        for path in _ancestor_paths(path_of[team_id]):
            if path in by_path:
                totals[by_path[path]].add(counts)
    return totals


def _ancestor_paths(path: str) -> list[str]:
    """The path itself and every prefix of it that is a team above: "1/7/" -> "1/", "1/7/"."""
    return [path[: i + 1] for i, char in enumerate(path) if char == "/"]


def _figures(counts: _Counts, offering: int | None) -> dict[str, int]:
    if offering is not None:
        values = dict.fromkeys(FIGURES, 0)
        values["reps"] = counts.reps
        values["in_scope"] = counts.scope.get(offering, 0)
        values["ready"] = counts.ready.get(offering, 0)
        return values
    tiers = {tier.value: counts.tiers.get(tier.value, 0) for tier in TIERS}
    return {
        "reps": counts.reps,
        "in_scope": 0,
        "ready": 0,
        **tiers,
        "no_tier": counts.reps - sum(tiers.values()),
        "expiring_30": counts.expiring,
        "inactive": counts.inactive,
    }


@transaction.atomic
def _write(day: date, wanted: dict[Key, dict[str, int]]) -> int:
    """Upsert the day's rows on their unique key: update what changed, create what is
    missing, drop rows of teams or offerings no longer counted. Returns rows written."""
    existing = {
        (row.team_id, row.offering_id): row
        for row in ReadinessSnapshot.objects.select_for_update().filter(taken_on=day)
    }
    changed, created = [], []
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            created.append(
                ReadinessSnapshot(taken_on=day, team_id=key[0], offering_id=key[1], **values)
            )
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    if changed:
        ReadinessSnapshot.objects.bulk_update(changed, list(FIGURES), batch_size=500)
    if created:
        # A run at the same moment may have inserted the same rows: theirs stand, they count
        # the same thing.
        ReadinessSnapshot.objects.bulk_create(created, batch_size=500, ignore_conflicts=True)
    stale = [row.pk for key, row in existing.items() if key not in wanted]
    if stale:
        ReadinessSnapshot.objects.filter(pk__in=stale).delete()
    return len(changed) + len(created)


def _take(
    day: date, now: datetime, teams: Sequence[tuple[int, str]], offerings: Sequence[Subject]
) -> int:
    totals = _roll_up(_per_team(_moment(day, now), offerings), teams)
    wanted: dict[Key, dict[str, int]] = {}
    for team_id, counts in totals.items():
        wanted[(team_id, None)] = _figures(counts, None)
        for offering in offerings:
            wanted[(team_id, offering.pk)] = _figures(counts, offering.pk)
    return _write(day, wanted)


def _teams() -> list[tuple[int, str]]:
    return list(Team.objects.order_by("path").values_list("pk", "path"))


def readiness_snapshot_take(*, day: date, now: datetime | None = None) -> int:
    """Count the day's headline figures per team subtree and offering and upsert them; safe to
    run twice. Returns how many rows were created or changed."""
    now = now or timezone.now()
    return _take(day, now, _teams(), offerings_with_requirements())


def readiness_snapshots_backfill(*, days: Iterable[date], now: datetime | None = None) -> int:
    """Take the snapshot of each of these days (past days from history). Returns rows written."""
    now = now or timezone.now()
    teams, offerings = _teams(), offerings_with_requirements()
    return sum(_take(day, now, teams, offerings) for day in sorted(set(days)))
