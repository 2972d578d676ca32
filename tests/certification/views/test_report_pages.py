"""Readiness pages: who may open each one, what each shows to whom, flat query counts, the
requirement forms with bad input, and the weekly email switch."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from certification.models import ReadinessRequirement, ReportSubscription, RequiredCertification
from tests.certification.conftest import require
from tests.factories.accounts import UserFactory
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db

REPORT_PAGES = ["report_readiness", "report_matrix", "report_gaps", "report_requirements"]
ENABLEMENT_PAGES = ["report_requirement_new"]


def _get(client, person, name, *args, **params):
    if person is not None:
        client.force_login(person)
    return client.get(reverse(f"certification:{name}", args=args), params)


@pytest.mark.parametrize(
    "name", [*REPORT_PAGES, *ENABLEMENT_PAGES, "team_readiness", "my_readiness"]
)
def test_anonymous_people_go_to_sign_in(client, name):
    response = client.get(reverse(f"certification:{name}"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("name", REPORT_PAGES)
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("enablement", 200),
        ("manager_a", 200),
        ("director", 200),
        ("rep_a", 404),
        ("tp_lead", 404),
        ("admin", 404),
        ("no_role", 404),
    ],
)
def test_who_may_read_the_report(client, org, world, name, who, status):
    assert _get(client, getattr(org, who), name).status_code == status


@pytest.mark.parametrize(("who", "status"), [("enablement", 200), ("manager_a", 404)])
def test_only_enablement_edits_requirements(client, org, world, who, status):
    assert _get(client, getattr(org, who), "report_requirement_new").status_code == status
    requirement = ReadinessRequirement.objects.first()
    assert (
        _get(client, getattr(org, who), "report_requirement_edit", requirement.pk).status_code
        == status
    )


@pytest.mark.parametrize(
    ("name", "who", "status"),
    [
        ("team_readiness", "manager_a", 200),
        ("team_readiness", "rep_a", 404),
        ("team_readiness", "enablement", 404),
        ("my_readiness", "rep_a", 200),
        ("my_readiness", "manager_a", 404),
        ("my_readiness", "enablement", 404),
    ],
)
def test_the_team_and_my_readiness_pages_are_for_their_role(client, org, world, name, who, status):
    assert _get(client, getattr(org, who), name).status_code == status


def test_the_summary_shows_the_figures_and_links_each_to_its_reps(client, org, world):
    response = _get(client, org.enablement, "report_readiness")
    html = response.content.decode()

    assert "4 reps" in html
    not_ready = reverse("certification:report_gaps") + f"?offering={world.cloud.pk}&amp;ready=no"
    assert f'href="{not_ready}">1<' in html
    assert reverse("certification:report_gaps") + "?expiring=60" in html
    assert reverse("certification:report_gaps") + "?inactive=1" in html
    # and following the link lists exactly that rep
    followed = client.get(
        reverse("certification:report_gaps"), {"offering": world.cloud.pk, "ready": "no"}
    ).content.decode()
    assert "Rep Beta" in followed
    assert "Rep Alpha<" not in followed
    assert "Rep Gamma" not in followed


def test_a_manager_sees_only_their_subtree_on_every_page(client, org, world):
    for name in ("report_readiness", "report_matrix", "report_gaps"):
        html = _get(client, org.manager_a, name).content.decode()
        assert "Rep Beta" not in html
        assert "Rep Gamma" not in html
        assert "Rep Alpha-1" not in html
    html = _get(client, org.manager_a, "report_matrix").content.decode()
    assert "Rep Alpha" in html


def test_a_manager_cannot_pick_another_team(client, org, world):
    response = _get(client, org.manager_a, "report_gaps", team=org.gamma.pk)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice" in html
    # no figures and no export of the unfiltered subtree in place of the refused slice
    assert "Correct the filters above" in html
    assert "Rep Alpha" not in html
    assert 'name="format"' not in html
    assert "Rep Gamma" not in html


def test_readiness_without_an_offering_is_an_error_on_the_field(client, org, world):
    html = _get(client, org.enablement, "report_gaps", ready="no").content.decode()

    assert "Choose an offering to filter by readiness." in html


def test_the_gap_list_names_what_is_missing(client, org, world):
    html = _get(client, org.enablement, "report_gaps", q="Rep Beta").content.decode()

    assert "Call opening, level 1" in html
    assert "1 missing" in html


def test_the_matrix_pages_by_cursor_and_survives_a_bad_one(client, org, world):
    first = _get(client, org.enablement, "report_matrix", page_size=2).content.decode()
    cursor = re.search(r'cursor=([\w-]+)" rel="next"', first).group(1)
    second = client.get(
        reverse("certification:report_matrix"), {"page_size": 2, "cursor": cursor}
    ).content.decode()
    bad = client.get(reverse("certification:report_matrix"), {"cursor": "nope"})

    assert "Rep Alpha-1" in first
    assert "Rep Gamma" not in first
    assert "Rep Gamma" in second
    assert "Rep Alpha-1" not in second
    assert bad.status_code == 200
    assert "no longer valid" in bad.content.decode()


def _grow(org, world, n):
    offerings = [SubjectFactory(kind="offering") for _ in range(3)]
    for offering in offerings:
        require(offering, [(offering, 1), (world.opening, 1)])
    for i in range(n):
        rep = UserFactory(rep=True, team=org.beta if i % 2 else org.alpha)
        held_certification(rep, offerings[0], 1, now=world.now)


@pytest.mark.parametrize(
    "name",
    ["report_readiness", "report_matrix", "report_gaps", "team_readiness", "my_readiness"],
)
def test_page_query_counts_do_not_grow(client, org, world, name):
    who = {"team_readiness": org.director, "my_readiness": org.rep_a}.get(name, org.enablement)
    client.force_login(who)
    url = reverse(f"certification:{name}")
    params = (
        {"offering": world.cloud.pk, "ready": "no", "region": org.north.pk}
        if name.startswith("report_")
        else {}
    )

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        return len(queries)

    small = count()
    _grow(org, world, 25)  # 3 more offerings with requirements, 25 more reps
    SubjectFactory.create_batch(10)
    assert count() == small


def test_enablement_creates_a_requirement(client, org, world):
    client.force_login(org.enablement)
    response = client.post(
        reverse("certification:report_requirement_new"),
        {
            "offering": world.secure.pk,
            "team": org.gamma.pk,
            "segment": "",
            "sales_role": "",
            "items": [f"{world.secure.pk}:1", f"{world.opening.pk}:2"],
        },
    )

    assert response.status_code == 302
    requirement = ReadinessRequirement.objects.get(offering=world.secure, team=org.gamma)
    assert set(requirement.items.values_list("subject_id", "level")) == {
        (world.secure.pk, 1),
        (world.opening.pk, 2),
    }
    assert AuditEvent.objects.filter(
        action="readiness_requirement.created", actor=org.enablement
    ).exists()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"items": []}, "Choose at least one certification."),
        ({"items": ["999999:1"]}, "Select a valid choice"),
        ({"items": ["{opening}:4"]}, "Select a valid choice"),
        ({"offering": "{opening}"}, "Select a valid choice"),
        ({"segment": "x" * 61}, "at most 60 characters"),
    ],
)
def test_bad_requirement_input_is_refused_and_nothing_is_written(client, org, world, data, error):
    client.force_login(org.enablement)
    before = (ReadinessRequirement.objects.count(), RequiredCertification.objects.count())
    values = {"offering": world.secure.pk, "items": [f"{world.secure.pk}:2"], **data}
    values = {
        key: [v.format(opening=world.opening.pk) for v in value]
        if isinstance(value, list)
        else str(value).format(opening=world.opening.pk)
        for key, value in values.items()
    }

    response = client.post(reverse("certification:report_requirement_new"), values)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert (ReadinessRequirement.objects.count(), RequiredCertification.objects.count()) == before


def test_a_second_requirement_for_the_same_slice_is_refused(client, org, world):
    client.force_login(org.enablement)
    response = client.post(
        reverse("certification:report_requirement_new"),
        {"offering": world.cloud.pk, "items": [f"{world.cloud.pk}:3"]},
    )

    assert response.status_code == 200
    assert "already has a requirement for every rep" in response.content.decode()
    assert ReadinessRequirement.objects.filter(offering=world.cloud).count() == 2


def test_editing_replaces_the_items_and_deleting_removes_the_requirement(client, org, world):
    client.force_login(org.enablement)
    requirement = ReadinessRequirement.objects.get(offering=world.cloud, team=org.alpha)
    client.post(
        reverse("certification:report_requirement_edit", args=[requirement.pk]),
        {"offering": world.cloud.pk, "team": org.alpha.pk, "items": [f"{world.cloud.pk}:3"]},
    )
    assert list(requirement.items.values_list("level", flat=True)) == [3]

    assert (
        client.get(
            reverse("certification:report_requirement_delete", args=[requirement.pk])
        ).status_code
        == 405
    )
    client.post(reverse("certification:report_requirement_delete", args=[requirement.pk]))
    assert not ReadinessRequirement.objects.filter(pk=requirement.pk).exists()
    assert AuditEvent.objects.filter(action="readiness_requirement.deleted").exists()


def test_a_manager_cannot_delete_a_requirement(client, org, world):
    client.force_login(org.manager_a)
    requirement = ReadinessRequirement.objects.first()

    response = client.post(
        reverse("certification:report_requirement_delete", args=[requirement.pk])
    )

    assert response.status_code == 404
    assert ReadinessRequirement.objects.filter(pk=requirement.pk).exists()


def test_the_weekly_email_switch(client, org, world):
    client.force_login(org.enablement)
    client.post(reverse("certification:report_subscription"), {"is_active": "on", "weekday": 3})
    subscription = ReportSubscription.objects.get(user=org.enablement)
    assert (subscription.is_active, subscription.weekday) == (True, 3)

    client.post(reverse("certification:report_subscription"), {"weekday": 3})
    subscription.refresh_from_db()
    assert subscription.is_active is False

    client.force_login(org.rep_a)
    response = client.post(
        reverse("certification:report_subscription"), {"is_active": "on", "weekday": 1}
    )
    assert response.status_code == 404
    assert not ReportSubscription.objects.filter(user=org.rep_a).exists()


def test_the_rep_sees_the_shortest_path(client, org, world):
    html = _get(client, org.rep_b, "my_readiness").content.decode()

    assert "Shortest path: Acme Cloud" in html
    assert "Call opening, level 1" in html
    assert reverse("certification:my_tests") in html
    assert "Acme Secure" in html
    assert "customer ready" in html


def test_the_manager_page_lists_expiries_in_the_subtree_only(client, org, world):
    html = _get(client, org.manager_b, "team_readiness").content.decode()

    assert "Rep Beta, Acme Secure level 1" in html
    assert "Rep Gamma" not in html


def test_a_manager_reads_only_the_requirements_that_can_apply_to_their_reps(client, org, world):
    beta = _get(client, org.manager_b, "report_requirements").content.decode()
    alpha = _get(client, org.manager_a, "report_requirements").content.decode()
    lead = _get(client, org.enablement, "report_requirements").content.decode()

    assert "<td>Alpha</td>" not in beta
    assert "<td>every rep</td>" in beta
    assert "<td>Alpha</td>" in alpha
    assert "<td>Alpha</td>" in lead


def test_the_summary_leaves_the_drilldown_filters_to_the_lists(client, org, world):
    summary = _get(client, org.enablement, "report_readiness").content.decode()
    gaps = _get(client, org.enablement, "report_gaps").content.decode()

    assert 'name="ready"' not in summary
    assert 'name="ready"' in gaps
