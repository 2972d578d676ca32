"""GET /api/v1/me/, /teams/ and /users/: scoped by the same selectors as the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories.accounts import UserFactory
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db


def _names(response):
    return {row.get("display_name") or row.get("name") for row in response.json()["results"]}


def test_me_describes_the_signed_in_person(api_client, org):
    api_client.force_authenticate(org.manager_a)
    body = api_client.get(reverse("api-v1:me")).json()
    assert body["email"] == org.manager_a.email
    assert body["team"] == {"id": org.alpha.pk, "name": "Alpha", "kind": "team"}
    assert body["roles"] == ["manager"]
    assert body["time_zone"] == "UTC"
    assert body["work_days"] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("rep_a", {"Rep Alpha"}),
        ("manager_a", {"Manager Alpha", "Rep Alpha", "Manager Alpha-1", "Rep Alpha-1"}),
        ("manager_c", {"Manager Gamma", "Rep Gamma"}),
        ("tp_lead", {"TP Lead"}),
    ],
)
def test_user_list_is_scoped(api_client, org, viewer, expected):
    api_client.force_authenticate(getattr(org, viewer))
    response = api_client.get(reverse("api-v1:user-list"))
    assert response.status_code == 200
    assert _names(response) == expected


def test_enablement_and_admin_see_everyone(api_client, org):
    api_client.force_authenticate(org.enablement)
    assert len(_names(api_client.get(reverse("api-v1:user-list")))) == 13  # active people
    api_client.force_authenticate(org.admin)
    assert "Former Rep" in _names(api_client.get(reverse("api-v1:user-list")))


def test_user_detail_is_404_outside_scope(api_client, org):
    api_client.force_authenticate(org.manager_a)
    assert api_client.get(reverse("api-v1:user-detail", args=[org.rep_a1.pk])).status_code == 200
    assert api_client.get(reverse("api-v1:user-detail", args=[org.rep_b.pk])).status_code == 404
    api_client.force_authenticate(org.rep_a)
    assert api_client.get(reverse("api-v1:user-detail", args=[org.rep_a1.pk])).status_code == 404


def test_user_list_filters(api_client, org):
    api_client.force_authenticate(org.enablement)
    url = reverse("api-v1:user-list")
    assert _names(api_client.get(url, {"team": org.alpha.pk, "role": "rep"})) == {
        "Rep Alpha",
        "Rep Alpha-1",
    }
    assert _names(api_client.get(url, {"q": "beta"})) == {"Manager Beta", "Rep Beta"}
    assert _names(api_client.get(url, {"role": "teleprospecting_lead"})) == {"TP Lead"}


@pytest.mark.parametrize("params", [{"team": "abc"}, {"role": "wizard"}])
def test_user_list_refuses_bad_filters(api_client, org, params):
    api_client.force_authenticate(org.enablement)
    response = api_client.get(reverse("api-v1:user-list"), params)
    assert response.status_code == 400
    assert next(iter(params)) in response.json()


def test_team_filter_outside_scope_returns_nobody(api_client, org):
    api_client.force_authenticate(org.manager_a)
    response = api_client.get(reverse("api-v1:user-list"), {"team": org.gamma.pk})
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("rep_b", {"Beta"}),
        ("manager_a", {"Alpha", "Alpha-1"}),
        ("no_role", set()),
        ("tp_lead", {"North", "South", "Alpha", "Alpha-1", "Beta", "Gamma"}),
    ],
)
def test_team_list_is_scoped(api_client, org, viewer, expected):
    api_client.force_authenticate(getattr(org, viewer))
    assert _names(api_client.get(reverse("api-v1:team-list"))) == expected


def test_team_detail(api_client, org):
    api_client.force_authenticate(org.manager_a)
    body = api_client.get(reverse("api-v1:team-detail", args=[org.alpha1.pk])).json()
    assert body["parent"]["name"] == "Alpha"
    assert body["manager"]["email"] == org.manager_a1.email
    assert api_client.get(reverse("api-v1:team-detail", args=[org.beta.pk])).status_code == 404


@pytest.mark.parametrize("name", ["me", "team-list", "user-list", "auth-token-list"])
def test_anonymous_is_refused(api_client, org, name):
    assert api_client.get(reverse(f"api-v1:{name}")).status_code in {401, 403}


def test_user_list_pages_by_cursor(api_client, org):
    UserFactory.create_batch(60, rep=True, team=org.beta)
    api_client.force_authenticate(org.enablement)
    first = api_client.get(reverse("api-v1:user-list")).json()
    assert len(first["results"]) == 50
    second = api_client.get(first["next"]).json()
    assert len(second["results"]) == 13 + 60 - 50
    assert second["next"] is None
    seen = {row["id"] for row in first["results"]} | {row["id"] for row in second["results"]}
    assert len(seen) == 73


@pytest.mark.parametrize(
    ("name", "viewer"), [("user-list", "director"), ("team-list", "manager_a")]
)
def test_list_query_count_does_not_grow(
    api_client, org, django_assert_max_num_queries, name, viewer
):
    api_client.force_authenticate(getattr(org, viewer))
    url = reverse(f"api-v1:{name}")
    with django_assert_max_num_queries(4) as small:
        api_client.get(url)
    UserFactory.create_batch(25, rep=True, team=org.beta)
    from tests.factories.accounts import TeamFactory

    TeamFactory.create_batch(5, parent=org.alpha)
    with django_assert_max_num_queries(len(small)):
        response = api_client.get(url)
    assert len(response.json()["results"]) > 3


@pytest.mark.parametrize("value", ["²", "-1", "1.5", "99999999999999999999"])
def test_odd_team_ids_are_a_400_not_a_500(api_client, org, value):
    api_client.force_authenticate(org.enablement)
    response = api_client.get(reverse("api-v1:user-list"), {"team": value})
    assert response.status_code == 400
    assert "team" in response.json()


def test_team_list_shows_a_manager_only_to_those_who_may_see_them(api_client, org):
    api_client.force_authenticate(org.tp_lead)
    teams = {t["name"]: t for t in api_client.get(reverse("api-v1:team-list")).json()["results"]}
    assert teams["Alpha"]["manager"] is None  # the directory hides managers from this role
    api_client.force_authenticate(org.director)
    teams = {t["name"]: t for t in api_client.get(reverse("api-v1:team-list")).json()["results"]}
    assert teams["Alpha"]["manager"]["email"] == org.manager_a.email


@pytest.mark.parametrize("value", ["0", "-3", "null", "1.5"])
def test_a_bad_page_size_is_a_400_naming_it(api_client, org, value):
    # DRF would quietly fall back to 50, so a typo looked like a short page.
    api_client.force_authenticate(org.enablement)
    response = api_client.get(reverse("api-v1:user-list"), {"page_size": value})
    assert response.status_code == 400
    assert response.json() == {"page_size": ["A whole number, 1 or more."]}
    assert_matches_schema(response, "get", "/api/v1/users/")


def test_an_empty_page_size_is_the_default(api_client, org):
    # As every query parameter: `?page_size=` is no page size (allowEmptyValue in the schema).
    UserFactory.create_batch(60, rep=True, team=org.beta)
    api_client.force_authenticate(org.enablement)
    response = api_client.get(reverse("api-v1:user-list"), {"page_size": ""})
    assert len(response.json()["results"]) == 50


def test_a_page_size_above_the_most_is_not_refused(api_client, org):
    UserFactory.create_batch(3, rep=True, team=org.beta)
    api_client.force_authenticate(org.enablement)
    response = api_client.get(reverse("api-v1:user-list"), {"page_size": "1000000"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 16


def test_me_matches_the_schema(api_client, org):
    # Working hours are wall-clock times ("09:00:00"), not RFC 3339 times with an offset.
    api_client.force_authenticate(org.manager_a)
    response = api_client.get(reverse("api-v1:me"))
    assert response.json()["work_start"] == "09:00:00"
    assert_matches_schema(response, "get", "/api/v1/me/")
