"""Security headers on every kind of response (ASVS 14.4), and the production cookie and
transport settings (ASVS 3.4): CSP with nonces and no 'unsafe-inline', frame-ancestors 'none',
HSTS of at least six months, Referrer-Policy, nosniff, __Host- cookies."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.config.test_settings import GOOD_PRODUCTION, _run
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db

SIX_MONTHS = 60 * 60 * 24 * 182


@pytest.fixture
def production_headers(settings):
    """The transport settings production uses (config/settings/production.py)."""
    settings.SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = False  # the test client asks over "HTTPS" itself


@pytest.fixture
def certified(org):
    return held_certification(
        org.rep_a, SubjectFactory(), 1, now=timezone.now() - timedelta(days=1)
    )


def _kinds(org, certified):
    """(who, method, path) for each kind of response the app gives."""
    return {
        "sign-in page": (None, reverse("accounts:login")),
        "signed-in page": (org.rep_a, reverse("certification:home")),
        "form page": (org.enablement, reverse("certification:manage_subjects")),
        "report page": (org.enablement, reverse("certification:report_readiness")),
        "redirect to sign in": (None, reverse("certification:home")),
        "not found page": (org.rep_a, "/no-such-page/"),
        "someone else's object": (
            org.rep_b,
            reverse("certification:certificate_download", args=[certified.pk]),
        ),
        "PDF download": (
            org.rep_a,
            reverse("certification:certificate_download", args=[certified.pk]),
        ),
        "public verification page": (
            None,
            reverse("certification:verify", args=[certified.public_id]),
        ),
        "key set (JSON)": (None, reverse("certification:jwks")),
        "API JSON": (org.rep_a, "/api/v1/me/"),
        "API refused": (None, "/api/v1/me/"),
        "API docs": (org.enablement, "/api/docs/"),
        "health check": (None, "/healthz"),
    }


def _csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def test_every_kind_of_response_carries_the_security_headers(
    client, org, certified, production_headers
):
    seen = {}
    for kind, (who, path) in _kinds(org, certified).items():
        client.logout()
        if who is not None:
            client.force_login(who)
        response = client.get(path, secure=True)
        seen[kind] = response.status_code
        assert response["X-Content-Type-Options"] == "nosniff", kind
        assert response["Referrer-Policy"] == "same-origin", kind
        if kind == "health check":
            continue  # answered before the middleware stack, to load balancers over plain HTTP
        hsts = response["Strict-Transport-Security"]
        assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= SIX_MONTHS, kind
        assert response["X-Frame-Options"] == "DENY", kind
        csp = _csp_directives(response["Content-Security-Policy"])
        assert csp["frame-ancestors"] == ["'none'"], kind
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], kind
        assert "'unsafe-eval'" not in response["Content-Security-Policy"], kind
        assert csp["object-src"] == ["'none'"], kind
        scripts = csp["script-src"]
        assert "'self'" in scripts, kind
        nonce = next((s for s in scripts if s.startswith("'nonce-")), None)
        if response.get("Content-Type", "").startswith("text/html") and response.status_code == 200:
            # Every inline script the page carries is allowed by this response's nonce.
            body = response.content.decode()
            for tag in re.findall(r"<script\b[^>]*>", body):
                if "src=" not in tag:  # an inline script runs only with this response's nonce
                    assert nonce is not None, (kind, tag)
                    assert f'nonce="{nonce[7:-1]}"' in tag, (kind, tag)
            assert not re.search(r"\son[a-z]+\s*=", body), kind  # no inline event handlers
            assert "style=" not in body, kind  # no inline styles (style-src 'self')
    # The kinds answered as they should: the walk is not of error pages only.
    assert seen["signed-in page"] == 200
    assert seen["PDF download"] == 200
    assert seen["public verification page"] == 200
    assert seen["someone else's object"] == 404
    assert seen["redirect to sign in"] == 302
    assert seen["API refused"] in {401, 403}


def test_a_page_that_uses_a_nonce_gets_a_new_one_each_time(client, settings):
    from django.http import HttpResponse
    from django.template import engines

    template = engines["django"].from_string('<script nonce="{{ csp_nonce }}">1</script>')

    def page(request):
        return HttpResponse(template.render({}, request))

    from django.middleware.csp import ContentSecurityPolicyMiddleware
    from django.test import RequestFactory

    nonces = set()
    for _ in range(3):
        request = RequestFactory().get("/")
        response = ContentSecurityPolicyMiddleware(page)(request)
        script_src = _csp_directives(response["Content-Security-Policy"])["script-src"]
        [nonce] = [s for s in script_src if s.startswith("'nonce-")]
        assert f'nonce="{nonce[7:-1]}"' in response.content.decode()
        nonces.add(nonce)
    assert len(nonces) == 3


def test_production_cookies_and_transport_settings():
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'hsts': s.SECURE_HSTS_SECONDS, 'subdomains': s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        "'redirect': s.SECURE_SSL_REDIRECT, 'session': s.SESSION_COOKIE_NAME,"
        "'csrf': s.CSRF_COOKIE_NAME, 'secure': [s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE],"
        "'httponly': [s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY],"
        "'samesite': [s.SESSION_COOKIE_SAMESITE, s.CSRF_COOKIE_SAMESITE],"
        "'idle': s.SESSION_IDLE_TIMEOUT.total_seconds(),"
        "'absolute': s.SESSION_ABSOLUTE_TIMEOUT.total_seconds()}))"
    )
    result = _run(["manage.py", "shell", "-v0", "-c", code], GOOD_PRODUCTION)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["hsts"] >= SIX_MONTHS
    assert values["subdomains"] is True
    assert values["redirect"] is True
    assert values["session"].startswith("__Host-")
    assert values["csrf"].startswith("__Host-")
    assert values["secure"] == [True, True]
    assert values["httponly"] == [True, True]
    assert values["samesite"] == ["Lax", "Lax"]
    assert values["idle"] == 30 * 60
    assert values["absolute"] == 12 * 60 * 60
