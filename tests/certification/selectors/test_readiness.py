# ruff: noqa: ARG005 - each case names what it needs of the organisation and the world
"""Readiness figures, checked against values worked out by hand on a small organisation that
has expired, lapsed and revoked certifications and a rep who moved team."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.selectors import forget_managed_team_paths
from certification.models import Subject
from certification.selectors.readiness import (
    BadCursorError,
    ReportFilters,
    count_reps,
    decode_cursor,
    readiness_headline,
    readiness_page,
    readiness_rows,
    rep_readiness,
    report_reps,
)
from tests.certification.conftest import require
from tests.factories.accounts import UserFactory
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db


def _figures(headline):
    return {row.offering.name: (row.in_scope, row.ready) for row in headline.offerings}


def test_enablement_headline_matches_the_hand_count(org, world):
    headline = readiness_headline(viewer=org.enablement, filters=ReportFilters(), now=world.now)

    assert headline.reps == 4  # the deactivated rep is not counted
    assert _figures(headline) == {"Acme Cloud": (4, 3), "Acme Secure": (2, 1)}
    assert headline.offerings[0].percent == 75
    assert headline.tiers == {"gold": 1, "silver": 1, "bronze": 0, "none": 2}
    # rep_c's Cloud L1 in 20 days; rep_b's Secure L1 in 45. The lapsed one does not count.
    assert headline.expiring == {30: 1, 60: 2, 90: 2}
    assert headline.inactive == 1


def test_a_manager_sees_only_their_subtree_and_the_moved_rep_counts_where_they_are_now(org, world):
    alpha = readiness_headline(viewer=org.manager_a, filters=ReportFilters(), now=world.now)
    beta = readiness_headline(viewer=org.manager_b, filters=ReportFilters(), now=world.now)

    assert alpha.reps == 1
    assert _figures(alpha) == {"Acme Cloud": (1, 1), "Acme Secure": (1, 0)}
    assert beta.reps == 2
    assert _figures(beta) == {"Acme Cloud": (2, 1), "Acme Secure": (1, 1)}
    assert beta.expiring == {30: 0, 60: 1, 90: 1}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            lambda o, w: ReportFilters(offering=w.cloud.pk, ready="yes"),
            {"rep_a", "rep_a1", "rep_c"},
        ),
        (lambda o, w: ReportFilters(offering=w.cloud.pk, ready="no"), {"rep_b"}),
        (lambda o, w: ReportFilters(offering=w.secure.pk), {"rep_a", "rep_b"}),
        (lambda o, w: ReportFilters(offering=w.secure.pk, ready="no"), {"rep_a"}),
        (lambda o, w: ReportFilters(region=o.north.pk), {"rep_a", "rep_a1", "rep_b"}),
        (lambda o, w: ReportFilters(region=o.south.pk), {"rep_c"}),
        (lambda o, w: ReportFilters(team=o.alpha.pk), {"rep_a"}),
        (lambda o, w: ReportFilters(manager=o.manager_b.pk), {"rep_a1", "rep_b"}),
        (lambda o, w: ReportFilters(manager=o.director.pk), {"rep_a", "rep_a1", "rep_b"}),
        (lambda o, w: ReportFilters(tier="gold"), {"rep_a"}),
        (lambda o, w: ReportFilters(tier="none"), {"rep_a1", "rep_c"}),
        (lambda o, w: ReportFilters(segment="Enterprise"), {"rep_a", "rep_b"}),
        # matched exactly, as requirements match segments
        (lambda o, w: ReportFilters(segment="enterprise"), set()),
        (lambda o, w: ReportFilters(expiring=30), {"rep_c"}),
        (lambda o, w: ReportFilters(expiring=60), {"rep_b", "rep_c"}),
        (lambda o, w: ReportFilters(expiring=90, subject=w.secure.pk), {"rep_b"}),
        (lambda o, w: ReportFilters(inactive=True), {"rep_c"}),
        (lambda o, w: ReportFilters(q="alpha-1"), {"rep_a1"}),
    ],
)
def test_every_drilldown_lists_the_reps_behind_its_figure(org, world, filters, expected):
    names = {
        "Rep Alpha": "rep_a",
        "Rep Alpha-1": "rep_a1",
        "Rep Beta": "rep_b",
        "Rep Gamma": "rep_c",
    }

    reps = report_reps(viewer=org.enablement, filters=filters(org, world), now=world.now)

    assert {names[rep.display_name] for rep in reps} == expected


def test_a_manager_filtering_on_another_team_gets_no_one(org, world):
    filters = ReportFilters(team=org.gamma.pk)

    assert count_reps(viewer=org.manager_a, filters=filters, now=world.now) == 0
    headline = readiness_headline(viewer=org.manager_a, filters=filters, now=world.now)
    assert headline.reps == 0
    assert _figures(headline) == {"Acme Cloud": (0, 0), "Acme Secure": (0, 0)}


def test_rows_agree_with_the_database_figures(org, world):
    rows = {
        row.rep.pk: row
        for row in readiness_rows(viewer=org.enablement, filters=ReportFilters(), now=world.now)
    }

    for offering in (world.cloud, world.secure):
        ready_in_db = set(
            report_reps(
                viewer=org.enablement,
                filters=ReportFilters(offering=offering.pk, ready="yes"),
                now=world.now,
            ).values_list("pk", flat=True)
        )
        ready_in_rows = {
            pk
            for pk, row in rows.items()
            for status in row.offerings
            if status.offering == offering and status.ready
        }
        assert ready_in_rows == ready_in_db


def test_a_row_names_what_is_missing_and_the_matrix_cell_holds_the_highest_level(org, world):
    page = readiness_page(viewer=org.enablement, filters=ReportFilters(), now=world.now)
    by_name = {row.rep.display_name: row for row in page.rows}

    beta = by_name["Rep Beta"]
    missing = {s.offering.name: [g.label for g in s.missing] for s in beta.offerings}
    assert missing == {"Acme Cloud": ["Call opening level 1"], "Acme Secure": []}
    alpha = by_name["Rep Alpha"]
    column = [s.pk for s in page.subjects].index(world.cloud.pk)
    assert alpha.cells[column].level == 2
    secure_column = [s.pk for s in page.subjects].index(world.secure.pk)
    assert alpha.cells[secure_column] is None  # lapsed: not held
    assert by_name["Rep Gamma"].cells[column].expires_at is not None


def test_pages_walk_forwards_and_back_by_cursor(org, world):
    first = readiness_page(viewer=org.enablement, filters=ReportFilters(), now=world.now, size=3)
    second = readiness_page(
        viewer=org.enablement,
        filters=ReportFilters(),
        now=world.now,
        size=3,
        cursor=first.next_cursor,
    )
    back = readiness_page(
        viewer=org.enablement,
        filters=ReportFilters(),
        now=world.now,
        size=3,
        cursor=second.previous_cursor,
    )

    assert [r.rep.display_name for r in first.rows] == ["Rep Alpha", "Rep Alpha-1", "Rep Beta"]
    assert first.previous_cursor is None
    assert [r.rep.display_name for r in second.rows] == ["Rep Gamma"]
    assert second.next_cursor is None
    assert [r.rep.display_name for r in back.rows] == ["Rep Alpha", "Rep Alpha-1", "Rep Beta"]
    assert back.previous_cursor is None


@pytest.mark.parametrize("cursor", ["not-base64!", "W10", "WyJhIiwiYiIsMF0"])
def test_a_cursor_it_did_not_make_is_refused(cursor):
    with pytest.raises(BadCursorError):
        decode_cursor(cursor)


def test_the_rep_sees_the_offering_closest_to_ready_first(org, world):
    readiness = rep_readiness(rep=org.rep_b, now=world.now)

    assert [s.offering.name for s in readiness.offerings] == ["Acme Secure", "Acme Cloud"]
    assert readiness.closest.offering.name == "Acme Cloud"
    assert [c.subject.name for c in readiness.expiring] == ["Acme Secure"]


def _grow(team, n, subject):
    now = timezone.now()
    for _ in range(n):
        rep = UserFactory(rep=True, team=team)
        held_certification(rep, subject, 1, now=now)


def test_query_counts_do_not_grow_with_reps_subjects_or_filters(org, world):
    every_filter = ReportFilters(
        region=org.north.pk,
        team=org.beta.pk,
        manager=org.director.pk,
        tier="silver",
        subject=world.secure.pk,
        offering=world.secure.pk,
        segment="Enterprise",
        ready="yes",
        expiring=90,
        q="rep",
    )

    def measure():
        calls = [
            lambda: readiness_headline(
                viewer=org.enablement, filters=ReportFilters(), now=world.now
            ),
            lambda: readiness_headline(viewer=org.director, filters=every_filter, now=world.now),
            lambda: readiness_page(viewer=org.enablement, filters=ReportFilters(), now=world.now),
            lambda: readiness_page(viewer=org.director, filters=every_filter, now=world.now),
        ]
        counts = []
        for call in calls:
            forget_managed_team_paths(org.director)  # as in a request: a fresh user
            with CaptureQueriesContext(connection) as queries:
                call()
            counts.append(len(queries))
        return counts

    small = measure()
    # The headline: offerings, the rep aggregate, readiness (from summaries and live, in one
    # statement), expiries (plus the director's subtree paths, the filtered manager and theirs:
    # 3 more); a page: reps, subjects, requirements with their items and subjects,
    # certifications.
    assert small == [4, 7, 6, 9]
    extra = [SubjectFactory(kind=Subject.Kind.OFFERING) for _ in range(5)]
    for subject in extra:
        require(subject, [(subject, 1), (world.opening, 2)])
    _grow(org.beta, 30, extra[0])
    _grow(org.gamma, 30, world.cloud)
    SubjectFactory.create_batch(20)
    assert measure() == small


def test_a_subject_filter_narrows_what_is_shown_but_not_who_is_ready(org, world):
    # rep_b lacks Call opening L1 for Cloud; filtered on Cloud's own subject nothing shows,
    # yet they are still not ready.
    page = readiness_page(
        viewer=org.enablement,
        filters=ReportFilters(offering=world.cloud.pk, ready="no", subject=world.cloud.pk),
        now=world.now,
    )

    (row,) = page.rows
    (status,) = [s for s in row.offerings if s.offering == world.cloud]
    assert row.rep == org.rep_b
    assert status.missing == []
    assert status.ready is False
