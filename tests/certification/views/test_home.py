"""The home page shows one panel per role the person holds, and nothing for the others."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db
HOME = reverse("certification:home")


def _panels(response):
    return set(re.findall(r'data-panel="([a-z]+)"', response.content.decode()))


@pytest.mark.parametrize(
    ("viewer", "panels"),
    [
        ("rep_a", {"rep"}),
        ("manager_a", {"manager"}),
        ("enablement", {"enablement"}),
        ("tp_lead", {"teleprospecting"}),
        ("admin", {"admin"}),
        ("no_role", set()),
    ],
)
def test_each_role_sees_its_own_panel(client, org, viewer, panels):
    client.force_login(getattr(org, viewer))
    response = client.get(HOME)
    assert response.status_code == 200
    assert _panels(response) == panels


def test_a_person_with_several_roles_sees_each_panel(client, org):
    player_coach = UserFactory(rep=True, manager=True, enablement=True, team=org.alpha)
    client.force_login(player_coach)
    assert _panels(client.get(HOME)) == {"rep", "manager", "enablement"}


def test_no_role_explains_what_to_do(client, org):
    client.force_login(org.no_role)
    assert "Your account has no role yet" in client.get(HOME).content.decode()


def test_rep_panel_names_team_and_managers(client, org):
    client.force_login(org.rep_a1)
    page = client.get(HOME).content.decode()
    assert "Alpha-1" in page
    assert "Manager Alpha-1, Manager Alpha, Director North" in page


def test_manager_panel_counts_the_whole_subtree(client, org):
    client.force_login(org.director)
    page = client.get(HOME).content.decode()
    assert re.search(r">North</a></td>\s*<td class=\"num\">3</td>", page)


def test_navigation_fits_the_roles(client, org):
    client.force_login(org.rep_a)
    page = client.get(HOME).content.decode()
    assert reverse("accounts:people") not in page
    assert "/admin/" not in page
    client.force_login(org.admin)
    page = client.get(HOME).content.decode()
    assert reverse("accounts:people") in page
    assert "/admin/" in page


@pytest.mark.parametrize("viewer", ["rep_a", "director", "enablement", "admin"])
def test_home_query_count_does_not_grow_with_the_organisation(
    client, org, viewer, django_assert_max_num_queries
):
    client.force_login(getattr(org, viewer))
    with django_assert_max_num_queries(11) as small:  # 10, and the navigation's unread count
        client.get(HOME)
    UserFactory.create_batch(30, rep=True, team=org.alpha1)
    UserFactory.create_batch(30, rep=True, team=org.gamma)
    with django_assert_max_num_queries(len(small)):
        client.get(HOME)


def test_security_headers_on_pages(client, org):
    client.force_login(org.rep_a)
    response = client.get(HOME)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
