"""The levels 2 and 3 API lists: each reads in a fixed number of queries however many rows
there are, and the growing ones are paged by cursor like the project's other lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification.models import AssessmentSession, Criterion, GuideVersion
from certification.services.assessments import (
    RatingInput,
    scorecard_save,
    session_release,
    session_schedule,
)
from certification.services.signoffs import delegation_create
from tests.factories.certification import make_guide, make_scenario

pytestmark = pytest.mark.django_db


def _schedule(org, *, criteria=3):
    return session_schedule(
        scenario=make_scenario(guide=make_guide(criteria=criteria)),
        rep=org.rep_a,
        scheduled_at=timezone.now() + timedelta(days=2),
        judges=[org.manager_b, org.manager_c],
        owner=org.enablement,
        actor=org.enablement,
        role_player=org.rep_c,
    )


def _released(org, *, criteria=3):
    session = _schedule(org, criteria=criteria)
    for judge, rating in ((org.manager_b, 4), (org.manager_c, 3)):
        scorecard_save(
            session=session,
            judge=judge,
            ratings={
                c.pk: RatingInput(rating, "Be specific")
                for c in session.guide_version.criteria.all()
            },
            overall_comment="Overall",
            submit=True,
        )
    return session_release(session=session, actor=org.enablement)


def _sessions(org, n, *, criteria=3):
    """n sessions for rep_a judged by manager_b and manager_c: every other one released."""
    return [
        _released(org, criteria=criteria) if i % 2 else _schedule(org, criteria=criteria)
        for i in range(n)
    ]


def _guides(org, n, *, criteria=3):
    """n guides, each with a second version (the list must show the newest)."""
    guides = []
    for _ in range(n):
        guide = make_guide(criteria=criteria)
        version = GuideVersion.objects.create(guide=guide, number=2, created_by=org.enablement)
        Criterion.objects.bulk_create(
            Criterion(
                version=version,
                position=i,
                title=f"V2 C{i + 1}",
                rep_description="Second version",
                judge_notes="V2 notes",
                descriptors={str(p): f"at {p}" for p in range(1, 5)},
            )
            for i in range(criteria)
        )
        guides.append(guide)
    return guides


def _scenarios(org, n):
    return [make_scenario() for _ in range(n)]


def _delegations(org, n):
    return [
        delegation_create(
            delegate=org.manager_c, rep=org.rep_a, team=None, expires_at=None, actor=org.enablement
        )
        for _ in range(n)
    ]


def _calibration(org, n):
    return _sessions(org, 2 * n)


# (url name, who asks, what makes rows)
LISTS = [
    ("api-v1:assessment-mine", "rep_a", _sessions),
    ("api-v1:assessment-judging", "manager_b", _sessions),
    ("api-v1:assessment-judging", "rep_c", _sessions),  # the role-player
    ("api-v1:assessment-judging", "enablement", _sessions),  # the owner
    ("api-v1:manage-guide-list", "enablement", _guides),
    ("api-v1:manage-scenario-list", "enablement", _scenarios),
    ("api-v1:manage-delegation-list", "enablement", _delegations),
    ("api-v1:manage-calibration", "enablement", _calibration),
]

PAGED = [row for row in LISTS if row[0] != "api-v1:manage-calibration"]


def _count(api_client, url, **params):
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


@pytest.mark.parametrize(("name", "who", "make"), LISTS)
def test_lists_read_in_a_fixed_number_of_queries(
    api_client, org, name, who, make, django_assert_max_num_queries
):
    api_client.force_authenticate(getattr(org, who))
    url = reverse(name)
    make(org, 1)
    small, _ = _count(api_client, url)
    make(org, 8)
    with django_assert_max_num_queries(small):
        response = api_client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "who", "make"), PAGED)
def test_lists_are_paged_by_cursor(api_client, org, name, who, make):
    api_client.force_authenticate(getattr(org, who))
    url = reverse(name)
    make(org, 3)
    _queries, first = _count(api_client, url, page_size=2)
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == 2
    assert first["next"]
    second = api_client.get(first["next"]).json()
    assert second["results"]
    ids = [row.get("id", row.get("version_id")) for row in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 3


def test_the_guide_list_shows_each_guides_current_version(api_client, org):
    guides = _guides(org, 2, criteria=2)
    api_client.force_authenticate(org.enablement)
    rows = api_client.get(reverse("api-v1:manage-guide-list")).json()["results"]
    assert [(r["name"], r["version"]) for r in rows] == [(g.name, 2) for g in guides]
    assert {c["title"] for r in rows for c in r["criteria"]} == {"V2 C1", "V2 C2"}
    assert all(c["judge_notes"] is not None for r in rows for c in r["criteria"])


def test_session_lists_are_newest_first_and_keep_their_rules(api_client, org):
    sessions = _sessions(org, 3)
    cancelled = _schedule(org)
    AssessmentSession.objects.filter(pk=cancelled.pk).update(
        status=AssessmentSession.Status.CANCELLED
    )
    newest_first = [s.pk for s in reversed(sessions)]
    api_client.force_authenticate(org.rep_a)
    mine = api_client.get(reverse("api-v1:assessment-mine")).json()["results"]
    assert [r["id"] for r in mine] == newest_first
    assert {r["buyer_brief"] for r in mine} == {None}
    api_client.force_authenticate(org.manager_b)
    judging = api_client.get(reverse("api-v1:assessment-judging")).json()["results"]
    assert [r["id"] for r in judging] == newest_first
    assert all(r["buyer_brief"] for r in judging)
