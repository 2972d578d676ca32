"""The readiness trends page: who may open it (and which teams), the charts' text alternatives
and tables, the export form, and a query count that stays put."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from certification.models import ReadinessRequirement, ReadinessSnapshot, RequiredCertification
from certification.services.snapshots import readiness_snapshots_backfill
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db

URL = reverse("certification:report_trends")
TODAY = timezone.localdate()


@pytest.fixture
def trends(org):
    """Acme Cloud required of every rep; 40 and 10 days ago, and today, snapshots of each slice
    (rep_a passed 20 days ago, rep_b 5 days ago)."""
    cloud = SubjectFactory(name="Acme Cloud")
    requirement = ReadinessRequirement.objects.create(offering=cloud)
    RequiredCertification.objects.create(requirement=requirement, subject=cloud, level=1)
    now = timezone.now()
    for person in (org.rep_a, org.rep_a1, org.rep_b, org.rep_c):
        person.date_joined = now - timedelta(days=200)
        person.save(update_fields=["date_joined"])
    held_certification(org.rep_a, cloud, 1, now=now - timedelta(days=20))
    held_certification(org.rep_b, cloud, 1, now=now - timedelta(days=5))
    readiness_snapshots_backfill(days=[TODAY - timedelta(days=d) for d in (40, 10, 0)], now=now)
    return cloud


def _get(client, person, **params):
    if person is not None:
        client.force_login(person)
    return client.get(URL, params)


def test_anonymous_people_go_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("enablement", 200),
        ("director", 200),
        ("manager_a", 200),
        ("rep_a", 404),
        ("tp_lead", 404),
        ("admin", 404),
        ("no_role", 404),
    ],
)
def test_who_may_read_trends(client, org, trends, who, status):
    assert _get(client, getattr(org, who)).status_code == status


def test_a_manager_reads_their_subtree_and_no_other_team(client, org, trends):
    assert _get(client, org.manager_a, team=org.alpha1.pk).status_code == 200
    assert _get(client, org.manager_a, team=org.beta.pk).status_code == 404
    assert _get(client, org.manager_a, region=org.north.pk).status_code == 404
    assert _get(client, org.manager_a, team=999999).status_code == 404
    assert _get(client, org.manager_a, team="nonsense").status_code == 404


def test_enablement_reads_any_team_and_region(client, org, trends):
    assert _get(client, org.enablement, team=org.beta.pk).status_code == 200
    page = _get(client, org.enablement, region=org.north.pk).content.decode()
    assert "North, " in page


def test_a_managers_page_shows_their_team(client, org, trends):
    page = _get(client, org.manager_a).content.decode()
    assert "Alpha, " in page
    assert "Whole organisation" not in page


def test_the_charts_have_text_alternatives_and_tables(client, org, trends):
    page = _get(client, org.enablement).content.decode()
    # three charts, each an image with a title and a description
    assert page.count('role="img"') == 3
    titles = re.findall(r'<title id="(chart-[^"]+)-title">([^<]+)</title>', page)
    assert {title for _id, title in titles} == {
        "Customer ready, per offering",
        "Tier distribution",
        "Expiring certifications and inactive reps",
    }
    # 4 reps, org-wide: nobody 40 days ago, rep_a 10 days ago, rep_a and rep_b today
    before, after = (TODAY - timedelta(days=40)), TODAY
    summary = (
        f"Acme Cloud: 50% ready on {after.day} {after:%b}, up from 0% on {before.day} {before:%b}."
    )
    assert summary in page
    assert page.count('<details class="chart__data">') == 3
    assert f'<th scope="row">{before.day} {before:%b %Y}</th><td class="num">0%</td>' in page
    assert f'<th scope="row">{after.day} {after:%b %Y}</th><td class="num">50%</td>' in page
    assert "style=" not in page


def test_the_numbers_table_and_export_form(client, org, trends):
    page = _get(client, org.enablement, offering=trends.pk, days=365).content.decode()
    assert '50% <span class="muted">(2 of 4)</span>' in page
    assert 'name="table" value="trends"' in page
    assert f'name="offering" value="{trends.pk}"' in page
    assert 'name="days" value="365"' in page
    assert 'value="xlsx"' in page


def test_without_snapshots_the_page_says_so(client, org):
    page = _get(client, org.enablement).content.decode()
    assert "No snapshot in this period yet" in page
    assert 'role="img"' not in page


def test_the_page_reads_in_a_fixed_number_of_queries(
    client, org, trends, user_factory, django_assert_max_num_queries
):
    client.force_login(org.manager_a)
    with django_assert_max_num_queries(20) as few:
        client.get(URL)
    # more reps, more snapshot days, another offering: the same number of queries
    user_factory.create_batch(12, rep=True, team=org.alpha1)
    other = SubjectFactory(name="Acme Secure")
    requirement = ReadinessRequirement.objects.create(offering=other)
    RequiredCertification.objects.create(requirement=requirement, subject=other, level=1)
    readiness_snapshots_backfill(days=[TODAY - timedelta(days=d) for d in range(1, 30)])
    assert ReadinessSnapshot.objects.count() > 100
    with django_assert_max_num_queries(len(few)):
        client.get(URL)
