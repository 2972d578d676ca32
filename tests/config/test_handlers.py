"""Answers outside any view: a URL no route matches is a JSON 404 under /api/."""

from __future__ import annotations

import pytest

from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/teams/abc/", "/api/v1/teams/-1/", "/api/v2/"])
def test_an_unrouted_api_path_is_a_json_404(client, org, path):
    client.force_login(org.rep_a)
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_an_unrouted_api_path_matches_the_documented_404(client, org):
    client.force_login(org.rep_a)
    assert_matches_schema(client.get("/api/v1/teams/abc/"), "get", "/api/v1/teams/{team_id}/")


def test_pages_keep_their_html_404(client, org):
    client.force_login(org.rep_a)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
