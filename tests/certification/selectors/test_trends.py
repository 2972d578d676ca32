"""Trend series and the trends table: who may read which slice, sums over a manager's teams,
the period and offering filters, and the table rows an export writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Team
from certification.models import ReadinessSnapshot, Subject
from certification.selectors.readiness import ReportFilters
from certification.selectors.trends import (
    TABLE_HEADERS,
    WHOLE_ORGANISATION,
    trend_series,
    trend_table,
    trend_table_size,
)
from config.errors import NotFoundError
from tests.factories.certification import SubjectFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def snap(team: Team | None, offering: Subject | None, days_ago: int, **values: int) -> None:
    ReadinessSnapshot.objects.create(
        taken_on=TODAY - timedelta(days=days_ago), team=team, offering=offering, **values
    )


@pytest.fixture
def snapshots(org):
    """Each slice has an overall row and a row for one offering, 40 and 10 days ago."""
    offering = SubjectFactory(name="Acme Cloud")
    slices = [None, org.north, org.alpha, org.alpha1, org.beta, org.south, org.gamma]
    for n, team in enumerate(slices, start=1):
        for days_ago, ready in ((40, 1), (10, 3)):
            snap(team, None, days_ago, reps=10 * n, gold=n, silver=2, bronze=ready, inactive=n)
            no_tier = 10 * n - n - 2 - ready
            ReadinessSnapshot.objects.filter(
                team=team, offering=None, taken_on=TODAY - timedelta(days=days_ago)
            ).update(no_tier=no_tier)
            snap(team, offering, days_ago, reps=10 * n, in_scope=4, ready=ready)
    return offering


def test_enablement_sees_the_whole_organisation_by_default(org, snapshots):
    series = trend_series(viewer=org.enablement, days=90)
    assert series.label == WHOLE_ORGANISATION
    assert [p.reps for p in series.overall] == [10, 10]
    assert [p.taken_on for p in series.overall] == [
        TODAY - timedelta(days=40),
        TODAY - timedelta(days=10),
    ]
    (cloud,) = series.offerings
    assert cloud.name == "Acme Cloud"
    assert [p.percent for p in cloud.points] == [25, 75]


def test_enablement_may_chart_any_team(org, snapshots):
    series = trend_series(viewer=org.enablement, team_id=org.gamma.pk)
    assert series.label == "Gamma"
    assert [p.reps for p in series.overall] == [70, 70]


def test_a_manager_sees_their_team_by_default_and_any_team_under_it(org, snapshots):
    assert trend_series(viewer=org.manager_a).label == "Alpha"
    assert [p.reps for p in trend_series(viewer=org.manager_a).overall] == [30, 30]
    below = trend_series(viewer=org.manager_a, team_id=org.alpha1.pk)
    assert [p.reps for p in below.overall] == [40, 40]


def test_manager_cannot_chart_another_team(org, snapshots):
    with pytest.raises(NotFoundError):
        trend_series(viewer=org.manager_a, team_id=org.beta.pk)
    with pytest.raises(NotFoundError):
        trend_series(viewer=org.manager_a1, team_id=org.alpha.pk)  # above their own


@pytest.mark.parametrize("who", ["rep_a", "tp_lead", "admin", "no_role"])
def test_no_one_else_reads_trends(org, snapshots, who):
    with pytest.raises(NotFoundError):
        trend_series(viewer=getattr(org, who))


def test_a_manager_of_two_teams_sees_them_summed(org, snapshots):
    Team.objects.filter(pk=org.gamma.pk).update(manager=org.manager_b)
    series = trend_series(viewer=org.manager_b)
    assert series.label == "Beta and Gamma"
    assert [p.reps for p in series.overall] == [50 + 70, 50 + 70]
    (cloud,) = series.offerings
    assert [(p.in_scope, p.ready, p.percent) for p in cloud.points] == [(8, 2, 25), (8, 6, 75)]


def test_a_manager_without_a_team_sees_nothing(org, snapshots):
    org.manager_c.managed_teams.update(manager=None)
    series = trend_series(viewer=org.manager_c)
    assert series.empty


def test_the_period_and_offering_narrow_the_series(org, snapshots):
    assert len(trend_series(viewer=org.enablement, days=30).overall) == 1
    other = SubjectFactory(name="Other")
    snap(None, other, 10, in_scope=2, ready=1)
    assert [t.name for t in trend_series(viewer=org.enablement).offerings] == [
        "Acme Cloud",
        "Other",
    ]
    narrowed = trend_series(viewer=org.enablement, offering_id=other.pk)
    assert [t.name for t in narrowed.offerings] == ["Other"]
    assert len(narrowed.overall) == 2  # the overall figures stay


def test_the_series_is_one_query(org, snapshots, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        trend_series(viewer=org.enablement, days=365)


# The table ---------------------------------------------------------------------------------


def test_the_table_has_one_row_per_day_and_offering_overall_first(org, snapshots):
    headers, rows = trend_table(viewer=org.enablement, filters=ReportFilters())
    rows = list(rows)
    assert headers == TABLE_HEADERS
    assert len(rows) == 4
    overall, cloud = rows[0], rows[1]
    assert overall == [
        TODAY - timedelta(days=40),
        WHOLE_ORGANISATION,
        "All offerings",
        10,
        "",
        "",
        "",
        1,
        2,
        1,
        6,
        0,
        1,
    ]
    assert cloud == [
        TODAY - timedelta(days=40),
        WHOLE_ORGANISATION,
        "Acme Cloud",
        10,
        4,
        1,
        25,
        "",
        "",
        "",
        "",
        "",
        "",
    ]
    assert all(len(row) == len(headers) for row in rows)
    assert trend_table_size(viewer=org.enablement, filters=ReportFilters()) == 4


def test_the_table_follows_the_filters(org, snapshots):
    _headers, rows = trend_table(viewer=org.enablement, filters=ReportFilters(team=org.beta.pk))
    assert {row[1] for row in rows} == {"Beta"}
    _headers, rows = trend_table(
        viewer=org.enablement, filters=ReportFilters(region=org.south.pk), days=30
    )
    assert [(row[1], row[2]) for row in rows] == [
        ("South", "All offerings"),
        ("South", "Acme Cloud"),
    ]
    _headers, rows = trend_table(
        viewer=org.enablement, filters=ReportFilters(manager=org.manager_a.pk)
    )
    assert {row[1] for row in rows} == {"Alpha"}


def test_the_table_of_a_slice_outside_the_viewers_is_empty(org, snapshots):
    outside = ReportFilters(team=org.beta.pk)
    assert list(trend_table(viewer=org.manager_a, filters=outside)[1]) == []
    assert trend_table_size(viewer=org.manager_a, filters=outside) == 0
    mismatch = ReportFilters(region=org.south.pk, team=org.alpha.pk)
    assert list(trend_table(viewer=org.enablement, filters=mismatch)[1]) == []
    assert list(trend_table(viewer=org.rep_a, filters=ReportFilters())[1]) == []
    _headers, mine = trend_table(viewer=org.manager_a, filters=ReportFilters())
    assert {row[1] for row in mine} == {"Alpha"}
