"""Lifecycle API: validity, offering versions and revocation, for enablement only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import api_token_create
from certification.models import Certification, CertificationValidity, OfferingVersion, Subject
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud():
    return SubjectFactory(name="Acme Cloud", kind=Subject.Kind.OFFERING, current_version="1.0")


@pytest.fixture
def held(org, cloud):
    return held_certification(org.rep_a, cloud, 1, now=timezone.now())


def _revoke_url(certification):
    return reverse("api-v1:manage-certification-revoke", args=[certification.pk])


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "director", "tp_lead"])
def test_only_enablement_reaches_the_lifecycle_api(api_client, org, cloud, held, who):
    api_client.force_authenticate(getattr(org, who))
    for method, url in [
        ("get", reverse("api-v1:manage-subject-validity", args=[cloud.pk])),
        ("get", reverse("api-v1:manage-subject-versions", args=[cloud.pk])),
        ("post", _revoke_url(held)),
    ]:
        assert getattr(api_client, method)(url, {"reason": "x"}).status_code == 404
    held.refresh_from_db()
    assert held.status == Certification.Status.ACTIVE


def test_enablement_revokes_with_a_reason(api_client, org, held):
    api_client.force_authenticate(org.enablement)
    response = api_client.post(_revoke_url(held), {"reason": ""}, format="json")
    assert response.status_code == 400
    assert "reason" in str(response.json())
    held.refresh_from_db()
    assert held.status == Certification.Status.ACTIVE
    response = api_client.post(_revoke_url(held), {"reason": "Cheated"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["revoked_reason"]) == ("revoked", "Cheated")
    assert AuditEvent.objects.filter(action="certification.revoked").count() == 1


def test_a_read_only_token_cannot_revoke(api_client, org, held):
    _token, raw = api_token_create(user=org.enablement, name="reader", scopes=["read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api_client.post(_revoke_url(held), {"reason": "x"}, format="json").status_code == 403
    held.refresh_from_db()
    assert held.status == Certification.Status.ACTIVE


def test_validity_read_and_set(api_client, org, cloud):
    api_client.force_authenticate(org.enablement)
    url = reverse("api-v1:manage-subject-validity", args=[cloud.pk])
    assert api_client.get(url).json() == {
        "level_1_days": None,
        "level_2_days": None,
        "level_3_days": None,
    }
    body = {"level_1_days": 365, "level_2_days": None, "level_3_days": None}
    response = api_client.put(url, body, format="json")
    assert (response.status_code, response.json()) == (200, body)
    bad = api_client.put(url, {**body, "level_2_days": -1}, format="json")
    assert bad.status_code == 400
    assert list(CertificationValidity.objects.values_list("level", "days")) == [(1, 365)]


def test_publishing_a_version(api_client, org, cloud, held, django_assert_max_num_queries):
    api_client.force_authenticate(org.enablement)
    url = reverse("api-v1:manage-subject-versions", args=[cloud.pk])
    refused = api_client.post(
        url, {"version": "2.0", "relevel": [], "grace_days": 30}, format="json"
    )
    assert refused.status_code == 400
    assert not OfferingVersion.objects.exists()
    response = api_client.post(
        url, {"version": "2.0", "relevel": [1], "grace_days": 30}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["affected_count"], response.json()["previous_version"]) == (1, "1.0")
    with django_assert_max_num_queries(4):
        listed = api_client.get(url).json()
    assert [row["version"] for row in listed["results"]] == ["2.0"]
