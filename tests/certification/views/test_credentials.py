"""The holder's downloads (PDF certificate, VC-JWT), the public verification page and the JWKS."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
import pytest
from django.urls import reverse
from django.utils import timezone

from certification.models import Certification
from certification.services.certificate_pdf import latin1
from tests.factories.accounts import UserFactory
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db


@pytest.fixture
def held():
    rep = UserFactory(rep=True, display_name="Amélie Durand")
    subject = SubjectFactory(name="Acme Secure")
    return held_certification(rep, subject, 2, now=timezone.now() - timedelta(days=2))


def _pdf(certification):
    return reverse("certification:certificate_download", args=[certification.pk])


def _jwt(certification):
    return reverse("certification:credential_download", args=[certification.pk])


def _verify(certification):
    return reverse("certification:verify", args=[certification.public_id])


def test_holder_downloads_the_pdf_certificate(client, held):
    client.force_login(held.rep)
    response = client.get(_pdf(held))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    body = response.content
    assert body.startswith(b"%PDF")
    assert "Amélie Durand".encode("latin-1") in body
    assert str(held.public_id).encode() in body
    assert _verify(held).encode() in body


@pytest.mark.parametrize(
    ("name", "drawn"),
    [
        ("Zoë Ł. Øster", "Zoë L. Øster"),
        ("Tomasz Nowak 🚀", "Tomasz Nowak"),
        ("Youssef — Ñandú", "Youssef - Ñandú"),
        ("Đorđe Šimić", "Dorde Simic"),
        ("Łukasz 👩🏽‍💼 Wróbel", "Lukasz Wróbel"),
    ],
)
def test_names_outside_latin1_never_break_the_pdf(client, held, name, drawn):
    assert latin1(name) == drawn
    held.rep.display_name = name
    held.rep.save(update_fields=["display_name"])
    client.force_login(held.rep)
    response = client.get(_pdf(held))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert drawn.encode("latin-1") in response.content


def test_names_in_other_scripts_keep_their_place(held):
    assert latin1("يوسف") == "????"


def test_holder_downloads_the_vc_jwt(client, held):
    client.force_login(held.rep)
    response = client.get(_jwt(held))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert jwt.get_unverified_header(response.content.decode())["typ"] == "vc+jwt"


@pytest.mark.parametrize("url", [_pdf, _jwt])
def test_others_get_404_and_anonymous_is_sent_to_sign_in(client, held, org, url):
    for other in (org.rep_b, org.manager_a, org.enablement, org.admin):
        client.force_login(other)
        assert client.get(url(held)).status_code == 404
    client.logout()
    response = client.get(url(held))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("url", [_pdf, _jwt])
def test_revoked_certification_is_not_downloadable(client, held, url):
    Certification.objects.filter(pk=held.pk).update(
        status=Certification.Status.REVOKED, revoked_at=timezone.now()
    )
    client.force_login(held.rep)
    response = client.get(url(held), follow=True)
    assert response.redirect_chain[-1][0] == reverse("certification:my_certifications")
    assert "this one is revoked" in response.content.decode()


def test_certifications_page_links_downloads_for_active_ones_only(client, held):
    client.force_login(held.rep)
    page = client.get(reverse("certification:my_certifications")).content.decode()
    assert _pdf(held) in page
    assert _jwt(held) in page
    assert _verify(held) in page
    Certification.objects.filter(pk=held.pk).update(status=Certification.Status.EXPIRED)
    page = client.get(reverse("certification:my_certifications")).content.decode()
    assert _pdf(held) not in page
    assert _verify(held) in page


def test_verification_page_is_public_and_shows_no_scores(client, held):
    response = client.get(_verify(held))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Amélie Durand" in page
    assert "Acme Secure" in page
    assert "Level 2 · application" in page
    assert "Active" in page
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in response["Cache-Control"]
    assert "100" not in page.replace(str(held.public_id), "")  # the score is nowhere
    assert "<script" not in page


def test_revocation_shows_at_once_without_the_reason(client, held):
    revoked_at = timezone.now()
    Certification.objects.filter(pk=held.pk).update(
        status=Certification.Status.REVOKED,
        revoked_at=revoked_at,
        revoked_reason="Shared the test answers",
    )
    page = client.get(_verify(held)).content.decode()
    assert "Revoked" in page
    assert f'revoked on <time datetime="{revoked_at.isoformat()}' in page
    assert "Shared the test answers" not in page
    status = client.get(reverse("certification:verify_status", args=[held.public_id])).json()
    assert status["status"] == "revoked"


def test_lapsed_certification_reads_expired_before_the_sweep(client, held):
    Certification.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    page = client.get(_verify(held)).content.decode()
    assert "Expired" in page
    assert "no longer current" in page
    status = client.get(reverse("certification:verify_status", args=[held.public_id])).json()
    assert status["status"] == "expired"


def test_unknown_or_malformed_ids_are_404(client, held):
    assert client.get(reverse("certification:verify", args=[uuid.uuid4()])).status_code == 404
    assert client.get(f"/verify/{held.pk}/").status_code == 404


def test_verification_page_queries_are_constant(client, django_assert_num_queries):
    subject = SubjectFactory()
    certs = [
        held_certification(UserFactory(rep=True), subject, level, now=timezone.now())
        for level in (1, 2, 3)
    ]
    for certification in certs:
        with django_assert_num_queries(1):
            assert client.get(_verify(certification)).status_code == 200


def test_jwks_is_public_and_cacheable(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    assert "max-age=3600" in response["Cache-Control"]
    (key,) = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in key  # never the private part
