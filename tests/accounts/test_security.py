"""Sign-in protection: lockout by account whatever the case, client address, API answers."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import ApiToken
from accounts.security import client_ip
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db


def _fail(client, email, times, **extra):
    for _ in range(times):
        client.post(reverse("accounts:login"), {"username": email, "password": "wrong"}, **extra)


def test_changing_the_email_case_does_not_escape_the_lockout(client, org, settings):
    _fail(client, org.rep_a.email, settings.AXES_FAILURE_LIMIT)
    response = client.post(
        reverse("accounts:login"), {"username": org.rep_a.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_api_lockout_is_json_and_case_insensitive(api_client, org, settings):
    url = reverse("api-v1:auth-token")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post(url, {"email": org.rep_a.email, "password": "wrong"}, format="json")
    response = api_client.post(
        url, {"email": org.rep_a.email.title(), "password": PASSWORD}, format="json"
    )
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert not ApiToken.objects.exists()


def test_a_forged_forwarded_for_header_does_not_reset_the_lockout(client, org, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("accounts:login"),
            {"username": org.rep_a.email, "password": "x"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        )
    response = client.post(
        reverse("accounts:login"),
        {"username": org.rep_a.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 429


def test_a_forged_forwarded_for_header_does_not_escape_the_api_throttle(
    api_client, org, monkeypatch
):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    cache.clear()
    url = reverse("api-v1:auth-token")
    # Invalid input: refused before any password is checked, so only the throttle counts.
    codes = [
        api_client.post(
            url, {"email": "not-an-email"}, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}"
        ).status_code
        for i in range(5)
    ]
    assert codes == [400, 400, 400, 429, 429]


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9, 10.0.0.1", "192.0.2.1"),  # no proxy: the header is the client's
        (1, "203.0.113.9, 10.0.0.1", "10.0.0.1"),  # one proxy: its view of the client
        (2, "203.0.113.9, 10.0.0.1", "203.0.113.9"),
        (3, "10.0.0.1", "10.0.0.1"),  # fewer hops than proxies: the leftmost there is
        (1, "", "192.0.2.1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
