"""Reads for readiness trends: the nightly snapshots of a slice (the whole organisation, a team
subtree, or the teams a manager leads) as series over time, and as a table for exports.

Every read is one aggregate query over ``ReadinessSnapshot`` whatever the period, the number
of teams or offerings. Enablement may chart any team or the organisation; a manager the
teams they lead and every team under them (with no team chosen: the teams they lead, summed);
anyone else nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone

from accounts import rules as account_rules
from accounts.models import Team, User
from accounts.selectors import managed_team_paths
from certification.models import ReadinessSnapshot
from certification.selectors.readiness import ReportFilters
from config.errors import NotFoundError

PERIODS = (30, 90, 365)
DEFAULT_DAYS = 90
WHOLE_ORGANISATION = "Whole organisation"
FIGURES = ReadinessSnapshot.FIGURES
TABLE_HEADERS = [
    "Date",
    "Team",
    "Offering",
    "Reps",
    "In scope",
    "Ready",
    "% ready",
    "Gold",
    "Silver",
    "Bronze",
    "No tier",
    "Expiring within 30 days",
    "Inactive",
]


@dataclass(frozen=True)
class TrendPoint:
    """One day's figures of the slice (overall, or for one offering)."""

    taken_on: date
    reps: int = 0
    in_scope: int = 0
    ready: int = 0
    gold: int = 0
    silver: int = 0
    bronze: int = 0
    no_tier: int = 0
    expiring_30: int = 0
    inactive: int = 0

    @property
    def percent(self) -> int | None:
        """Share of the reps in scope who are customer ready, or None if none is in scope."""
        return round(self.ready * 100 / self.in_scope) if self.in_scope else None


@dataclass(frozen=True)
class OfferingTrend:
    offering_id: int
    name: str
    points: list[TrendPoint]


@dataclass(frozen=True)
class TrendScope:
    """Whose snapshots to read: the organisation's (``org``) or these teams' (summed)."""

    teams: tuple[Team, ...] = ()
    org: bool = False

    @property
    def label(self) -> str:
        if self.org:
            return WHOLE_ORGANISATION
        return " and ".join(team.name for team in self.teams) or "No team"

    def condition(self) -> Q:
        if self.org:
            return Q(team__isnull=True)
        return Q(team__in=[team.pk for team in self.teams])


@dataclass(frozen=True)
class TrendSeries:
    """A slice's snapshots over a period: overall points (tiers, expiries, inactivity) and
    one series of points per offering (readiness)."""

    scope: TrendScope
    start: date
    end: date
    overall: list[TrendPoint] = field(default_factory=list)
    offerings: list[OfferingTrend] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.scope.label

    @property
    def empty(self) -> bool:
        return not self.overall and not self.offerings


def trend_teams(viewer: User) -> QuerySet[Team]:
    """The teams whose trends the viewer may read: all for enablement, a manager's subtrees."""
    teams = Team.objects.order_by("path")
    if account_rules.is_enablement(viewer):
        return teams
    condition = Q(pk__in=[])
    for path in managed_team_paths(viewer):
        condition |= Q(path__startswith=path)
    return teams.filter(condition)


def trend_scope(*, viewer: User, team_id: int | None = None) -> TrendScope:
    """The slice the viewer asks for. Raises ``NotFoundError`` for a team they may not see,
    and for anyone who is neither enablement nor a manager."""
    if not (account_rules.is_enablement(viewer) or account_rules.is_manager(viewer)):
        raise NotFoundError("No such report.")
    if team_id is not None:
        team = trend_teams(viewer).filter(pk=team_id).first()
        if team is None:
            raise NotFoundError("No such team.")
        return TrendScope(teams=(team,))
    if account_rules.is_enablement(viewer):
        return TrendScope(org=True)
    paths = managed_team_paths(viewer)
    return TrendScope(teams=tuple(Team.objects.filter(path__in=paths).order_by("name", "pk")))


def _start(end: date, days: int) -> date:
    return end - timedelta(days=max(days, 1) - 1)


def trend_series(
    *,
    viewer: User,
    team_id: int | None = None,
    offering_id: int | None = None,
    days: int = DEFAULT_DAYS,
    today: date | None = None,
) -> TrendSeries:
    """The slice's snapshots of the last ``days`` days, summed over its teams, in one query.
    Raises ``NotFoundError`` as ``trend_scope`` does."""
    scope = trend_scope(viewer=viewer, team_id=team_id)
    end = today or timezone.localdate()
    start = _start(end, days)
    if not scope.org and not scope.teams:
        return TrendSeries(scope=scope, start=start, end=end)
    rows = ReadinessSnapshot.objects.filter(scope.condition(), taken_on__range=(start, end))
    if offering_id is not None:
        rows = rows.filter(Q(offering__isnull=True) | Q(offering=offering_id))
    totals = (
        rows.values("taken_on", "offering_id", "offering__name")
        .annotate(**{f"sum_{name}": Sum(name) for name in FIGURES})
        .order_by("taken_on")
    )
    overall: list[TrendPoint] = []
    offerings: dict[int, OfferingTrend] = {}
    for raw in totals:
        row: dict[str, Any] = dict(raw)
        point = TrendPoint(row["taken_on"], **{name: row[f"sum_{name}"] for name in FIGURES})
        if row["offering_id"] is None:
            overall.append(point)
            continue
        trend = offerings.setdefault(
            row["offering_id"], OfferingTrend(row["offering_id"], row["offering__name"], [])
        )
        trend.points.append(point)
    return TrendSeries(
        scope=scope,
        start=start,
        end=end,
        overall=overall,
        offerings=sorted(offerings.values(), key=lambda t: (t.name, t.offering_id)),
    )


# The table behind the charts (exports) -------------------------------------------------------


def _table_scope(viewer: User, filters: ReportFilters) -> TrendScope | None:
    """The report filters' slice as snapshots hold it (team, else region, else manager), or
    None when it is outside what the viewer may see."""
    try:
        if filters.team is not None:
            scope = trend_scope(viewer=viewer, team_id=filters.team)
            if filters.region is not None:
                region = Team.objects.filter(pk=filters.region).values_list("path", flat=True)
                if not any(scope.teams[0].path.startswith(path) for path in region):
                    return None
            return scope
        if filters.region is not None:
            return trend_scope(viewer=viewer, team_id=filters.region)
        if filters.manager is not None:
            manager = User.objects.filter(pk=filters.manager).first()
            paths = managed_team_paths(manager) if manager is not None else ()
            teams = trend_teams(viewer).filter(path__in=paths).order_by("name", "pk")
            return TrendScope(teams=tuple(teams))
        return trend_scope(viewer=viewer)
    except NotFoundError:
        return None


def _percent(ready: int, in_scope: int) -> int | str:
    return round(ready * 100 / in_scope) if in_scope else ""


def _table_row(row: tuple[Any, ...]) -> list[Any]:
    taken_on, team, offering, reps, in_scope, ready, *more = row
    if offering is None:  # overall: reps, tiers, expiries, inactivity
        return [taken_on, team or WHOLE_ORGANISATION, "All offerings", reps, "", "", "", *more]
    blanks = [""] * len(more)
    return [
        taken_on,
        team or WHOLE_ORGANISATION,
        offering,
        reps,
        in_scope,
        ready,
        _percent(ready, in_scope),
        *blanks,
    ]


def _table_rows(
    viewer: User, filters: ReportFilters, days: int | None, today: date | None
) -> QuerySet[ReadinessSnapshot] | None:
    scope = _table_scope(viewer, filters)
    if scope is None or (not scope.org and not scope.teams):
        return None
    rows = ReadinessSnapshot.objects.filter(scope.condition())
    if days is not None:
        end = today or timezone.localdate()
        rows = rows.filter(taken_on__range=(_start(end, days), end))
    if filters.offering is not None:
        rows = rows.filter(Q(offering__isnull=True) | Q(offering=filters.offering))
    return rows


def trend_table(
    *,
    viewer: User,
    filters: ReportFilters,
    days: int | None = None,
    today: date | None = None,
) -> tuple[list[str], Iterable[list[Any]]]:
    """The headers and rows of the snapshots behind the charts, one row per day, team and
    offering (the overall row first), streamed from the database. ``days`` limits them to
    the last days (every snapshot by default); a slice outside the viewer's has no rows."""
    rows = _table_rows(viewer, filters, days, today)
    if rows is None:
        return list(TABLE_HEADERS), iter(())
    ordered = rows.order_by(
        "taken_on",
        F("team__path").asc(nulls_first=True),
        F("offering__name").asc(nulls_first=True),
        "offering_id",
    ).values_list(
        "taken_on",
        "team__name",
        "offering__name",
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

    def generate() -> Iterator[list[Any]]:
        for row in ordered.iterator(chunk_size=2000):
            yield _table_row(row)

    return list(TABLE_HEADERS), generate()


def trend_table_size(
    *,
    viewer: User,
    filters: ReportFilters,
    days: int | None = None,
    today: date | None = None,
) -> int:
    """How many rows ``trend_table`` yields, in one count query."""
    rows = _table_rows(viewer, filters, days, today)
    return 0 if rows is None else rows.count()
