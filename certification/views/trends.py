"""The readiness trends page: how readiness per offering, the tier distribution, expiries and
inactivity moved, drawn from the nightly snapshots as server-side SVG charts, each with its
numbers as a table.

Enablement may chart the organisation or any team; a manager the teams they lead (every team
under them included). A team outside that answers 404, as does the page for anyone else.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import rules as account_rules
from accounts.decorators import rule_required
from accounts.models import User
from certification.forms_trends import TrendFilterForm
from certification.models import Tier
from certification.selectors.readiness import INACTIVE_DAYS, ReportFilters
from certification.selectors.trends import TrendPoint, TrendSeries, trend_series
from certification.views.charts import line_chart, stacked_bars
from config.errors import NotFoundError

reads_trends = account_rules.is_enablement | account_rules.is_manager

TIER_CATEGORIES = [
    (Tier.GOLD.value, str(Tier.GOLD.label)),
    (Tier.SILVER.value, str(Tier.SILVER.label)),
    (Tier.BRONZE.value, str(Tier.BRONZE.label)),
    (Tier.NONE.value, "No tier"),
]
MAX_COLUMNS = 31  # tier columns drawn at most; the table below has every day


def _day(point: TrendPoint) -> str:
    return f"{point.taken_on.day} {point.taken_on:%b}"


def _spread(points: list[TrendPoint], most: int) -> list[TrendPoint]:
    """At most ``most`` points, evenly spread, the first and the last kept."""
    if len(points) <= most:
        return points
    last = len(points) - 1
    return [points[i] for i in sorted({round(i * last / (most - 1)) for i in range(most)})]


def trend_charts(series: TrendSeries) -> dict[str, dict[str, Any]]:
    """The page's three charts from the slice's series."""
    empty = "No snapshot in this period yet: they are taken every night."
    readiness = line_chart(
        "Customer ready, per offering",
        [
            (trend.name, [(p.taken_on, p.percent) for p in trend.points])
            for trend in series.offerings
        ],
        y_max=100,
        unit="%",
        describe=" ready",
        empty_message=empty,
    )
    tiers = stacked_bars(
        "Tier distribution",
        TIER_CATEGORIES,
        [
            (
                _day(point),
                {
                    Tier.GOLD.value: point.gold,
                    Tier.SILVER.value: point.silver,
                    Tier.BRONZE.value: point.bronze,
                    Tier.NONE.value: point.no_tier,
                },
            )
            for point in _spread(series.overall, MAX_COLUMNS)
        ],
        empty_message=empty,
    )
    attention = line_chart(
        "Expiring certifications and inactive reps",
        [
            (
                "Certifications expiring within 30 days",
                [(p.taken_on, p.expiring_30) for p in series.overall],
            ),
            (
                f"Reps with no activity for {INACTIVE_DAYS} days",
                [(p.taken_on, p.inactive) for p in series.overall],
            ),
        ],
        y_max=None,
        unit="",
        empty_message=empty,
    )
    return {"readiness": readiness, "tiers": tiers, "attention": attention}


def trend_rows(series: TrendSeries) -> list[dict[str, Any]]:
    """One row per day: the overall figures and each offering's share ready."""
    by_day: dict[Any, dict[int, TrendPoint]] = {}
    for trend in series.offerings:
        for point in trend.points:
            by_day.setdefault(point.taken_on, {})[trend.offering_id] = point
    days = sorted({p.taken_on for p in series.overall} | set(by_day))
    overall = {point.taken_on: point for point in series.overall}
    return [
        {
            "day": day,
            "overall": overall.get(day),
            "offerings": [by_day.get(day, {}).get(trend.offering_id) for trend in series.offerings],
        }
        for day in reversed(days)
    ]


@rule_required(reads_trends)
def readiness_trends(request: HttpRequest) -> HttpResponse:
    """Charts of the slice's snapshots over the chosen period, with the numbers."""
    viewer: User = request.user  # type: ignore[assignment]
    form = TrendFilterForm(request.GET or None, viewer=viewer)
    if form.scope_refused:
        raise Http404
    choice = form.choice()
    team, offering = choice["team"], choice["offering"]
    try:
        series = trend_series(
            viewer=viewer,
            team_id=team.pk if team is not None else None,
            offering_id=offering.pk if offering is not None else None,
            days=choice["days"],
        )
    except NotFoundError as error:
        raise Http404 from error
    filters = ReportFilters(
        region=team.pk if team is not None and team.parent_id is None else None,
        team=team.pk if team is not None and team.parent_id is not None else None,
        offering=offering.pk if offering is not None else None,
    )
    query = filters.as_query()
    return render(
        request,
        "certification/reports/trends.html",
        {
            "tab": "trends",
            "form": form,
            "series": series,
            "charts": trend_charts(series),
            "rows": trend_rows(series),
            "days": choice["days"],
            "query": urlencode(query),
            "export_fields": [*query.items(), ("days", str(choice["days"]))],
            "inactive_days": INACTIVE_DAYS,
        },
    )
