"""``/api/v1/reports/readiness/`` (cursor paged), its summary, and the requirements API:
the page's figures and scoping, validation, token scopes and flat query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.services import api_token_create
from certification.models import ReadinessRequirement
from tests.factories.accounts import UserFactory
from tests.factories.certification import held_certification

pytestmark = pytest.mark.django_db

REPORT = "api-v1:report-readiness"
SUMMARY = "api-v1:report-readiness-summary"
REQUIREMENTS = "api-v1:report-requirement-list"


def _as(api_client, person):
    api_client.force_authenticate(person)
    return api_client


@pytest.mark.parametrize("name", [REPORT, SUMMARY, REQUIREMENTS])
@pytest.mark.parametrize(
    ("who", "status"),
    [("enablement", 200), ("manager_b", 200), ("rep_a", 404), ("tp_lead", 404), ("admin", 404)],
)
def test_who_may_read(api_client, org, world, name, who, status):
    assert _as(api_client, getattr(org, who)).get(reverse(name)).status_code == status


def test_anonymous_is_refused(api_client, world):
    assert api_client.get(reverse(REPORT)).status_code in {401, 403}


def test_the_summary_matches_the_hand_count_and_a_manager_gets_their_subtree(
    api_client, org, world
):
    whole = _as(api_client, org.enablement).get(reverse(SUMMARY)).json()
    beta = _as(api_client, org.manager_b).get(reverse(SUMMARY)).json()

    assert whole["reps"] == 4
    assert [(o["offering"]["name"], o["in_scope"], o["ready"]) for o in whole["offerings"]] == [
        ("Acme Cloud", 4, 3),
        ("Acme Secure", 2, 1),
    ]
    assert whole["expiring"] == {"30": 1, "60": 2, "90": 2}
    assert whole["tiers"] == {"gold": 1, "silver": 1, "bronze": 0, "none": 2}
    assert beta["reps"] == 2


def test_rows_page_by_cursor_with_filters(api_client, org, world):
    client = _as(api_client, org.enablement)
    first = client.get(reverse(REPORT), {"page_size": 2, "region": org.north.pk}).json()
    second = client.get(first["next"]).json()

    assert [r["display_name"] for r in first["results"]] == ["Rep Alpha", "Rep Alpha-1"]
    assert [r["display_name"] for r in second["results"]] == ["Rep Beta"]
    assert second["next"] is None
    assert f"region={org.north.pk}" in second["previous"]
    beta = second["results"][0]
    cloud = next(o for o in beta["offerings"] if o["offering"]["name"] == "Acme Cloud")
    assert cloud["ready"] is False
    assert cloud["missing"] == [
        {"subject": {"id": world.opening.pk, "name": "Call opening"}, "level": 1}
    ]
    assert {c["subject"] for c in beta["certifications"]} == {world.cloud.pk, world.secure.pk}
    assert beta["tier"] == "silver"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ready": "no"}, "ready"),
        ({"team": 999999}, "team"),
        ({"tier": "platinum"}, "tier"),
        ({"cursor": "garbage"}, "cursor"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": "many"}, "page_size"),
        ({"expiring": 45}, "expiring"),
        ({"inactive": "-58800"}, "inactive"),  # the page's checkbox form took it as "on"
        ({"q": "a\x00b"}, "q"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(api_client, org, world, params, field):
    response = _as(api_client, org.enablement).get(reverse(REPORT), params)

    assert response.status_code == 400
    assert field in response.json()


def test_a_manager_asking_for_another_team_gets_a_400_not_its_reps(api_client, org, world):
    response = _as(api_client, org.manager_a).get(reverse(REPORT), {"team": org.gamma.pk})

    assert response.status_code == 400
    assert "Rep Gamma" not in response.content.decode()


def test_query_counts_do_not_grow(api_client, org, world, django_assert_max_num_queries):
    client = _as(api_client, org.enablement)
    for name in (REPORT, SUMMARY):
        with django_assert_max_num_queries(16):
            client.get(reverse(name), {"region": org.north.pk})
    for _ in range(20):
        rep = UserFactory(rep=True, team=org.beta)
        held_certification(rep, world.cloud, 1, now=world.now)
    for name in (REPORT, SUMMARY):
        with django_assert_max_num_queries(16):
            assert client.get(reverse(name), {"region": org.north.pk}).status_code == 200


def test_enablement_creates_changes_and_deletes_a_requirement(api_client, org, world):
    client = _as(api_client, org.enablement)
    created = client.post(
        reverse(REQUIREMENTS),
        {
            "offering": world.secure.pk,
            "team": org.gamma.pk,
            "items": [{"subject": world.secure.pk, "level": 2}],
        },
        format="json",
    )
    assert created.status_code == 201
    url = reverse("api-v1:report-requirement-detail", args=[created.json()["id"]])
    changed = client.put(
        url,
        {
            "offering": world.secure.pk,
            "team": org.gamma.pk,
            "items": [{"subject": world.opening.pk, "level": 3}],
        },
        format="json",
    )
    assert changed.json()["items"] == [{"subject": world.opening.pk, "level": 3}]
    assert client.delete(url).status_code == 204
    assert not ReadinessRequirement.objects.filter(pk=created.json()["id"]).exists()


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [{"subject": 0, "level": 1}]},
        {"items": [{"subject": "SELF", "level": 4}]},
        {"offering": "OPENING"},
        {"segment": "x" * 61},
    ],
)
def test_bad_requirements_are_refused_and_nothing_is_written(api_client, org, world, body):
    client = _as(api_client, org.enablement)
    before = ReadinessRequirement.objects.count()
    data = {
        "offering": world.secure.pk,
        "items": [{"subject": world.secure.pk, "level": 1}],
        **body,
    }
    if data["offering"] == "OPENING":
        data["offering"] = world.opening.pk
    for item in data["items"]:
        if item["subject"] == "SELF":
            item["subject"] = world.secure.pk

    response = client.post(reverse(REQUIREMENTS), data, format="json")

    assert response.status_code == 400
    assert ReadinessRequirement.objects.count() == before


def test_managers_and_read_only_tokens_cannot_write_requirements(api_client, org, world):
    body = {"offering": world.secure.pk, "items": [{"subject": world.secure.pk, "level": 2}]}
    assert (
        _as(api_client, org.manager_a).post(reverse(REQUIREMENTS), body, format="json").status_code
        == 404
    )
    api_client.force_authenticate(None)
    _token, raw = api_token_create(user=org.enablement, name="reader", scopes=["read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api_client.get(reverse(REQUIREMENTS)).status_code == 200
    assert api_client.post(reverse(REQUIREMENTS), body, format="json").status_code == 403
    assert ReadinessRequirement.objects.count() == 3


def test_a_manager_lists_only_the_requirements_that_can_apply_to_their_reps(api_client, org, world):
    teams = [
        (r["team"] or {}).get("name")
        for r in _as(api_client, org.manager_b).get(reverse(REQUIREMENTS)).json()
    ]

    assert "Alpha" not in teams
    assert None in teams
