"""GET /api/v1/certifications/{id}/credential/: the holder's signed OB 3.0 credential."""

from __future__ import annotations

import jwt
import pytest
from django.utils import timezone

from certification.models import Certification
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db


def _url(certification):
    return f"/api/v1/certifications/{certification.pk}/credential/"


@pytest.fixture
def held(org):
    return held_certification(org.rep_a, SubjectFactory(), 3, now=timezone.now())


def test_holder_gets_the_jwt_and_the_decoded_credential(api_client, held, client):
    api_client.force_authenticate(held.rep)
    response = api_client.get(_url(held))
    assert response.status_code == 200
    body = response.json()
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    claims = jwt.decode(body["jwt"], key=jwt.PyJWK(keys[0]), algorithms=["ES256"])
    assert claims["credentialSubject"] == body["credential"]["credentialSubject"]
    assert body["credential"]["type"] == ["VerifiableCredential", "AchievementCredential"]


def test_list_names_the_public_id(api_client, held):
    api_client.force_authenticate(held.rep)
    (row,) = api_client.get("/api/v1/certifications/").json()
    assert row["public_id"] == str(held.public_id)


def test_others_get_404_and_anonymous_401(api_client, held, org):
    for other in (org.rep_b, org.manager_a, org.enablement):
        api_client.force_authenticate(other)
        assert api_client.get(_url(held)).status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get(_url(held)).status_code in (401, 403)


@pytest.mark.parametrize(
    ("status", "code"),
    [(Certification.Status.REVOKED, "certification_revoked"), ("lapsed", "certification_expired")],
)
def test_inactive_certification_is_409(api_client, held, status, code):
    now = timezone.now()
    if status == "lapsed":
        Certification.objects.filter(pk=held.pk).update(expires_at=now)
    else:
        Certification.objects.filter(pk=held.pk).update(status=status, revoked_at=now)
    api_client.force_authenticate(held.rep)
    response = api_client.get(_url(held))
    assert response.status_code == 409
    assert response.json()["code"] == code


def test_query_count(api_client, held, django_assert_max_num_queries):
    api_client.force_authenticate(held.rep)
    with django_assert_max_num_queries(3):
        assert api_client.get(_url(held)).status_code == 200
