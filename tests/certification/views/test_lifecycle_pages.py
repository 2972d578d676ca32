"""Lifecycle pages: a subject's validity and versions, revoking from the rep's tier page, and
the rep's history. Enablement only (404 for anyone else)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from certification.models import Certification, CertificationValidity, OfferingVersion, Subject
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud():
    return SubjectFactory(name="Acme Cloud", kind=Subject.Kind.OFFERING, current_version="1.0")


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "director", "tp_lead", "no_role"])
def test_only_enablement_reaches_the_lifecycle_pages(client, org, cloud, who):
    held = held_certification(org.rep_a, cloud, 1, now=timezone.now())
    client.force_login(getattr(org, who))
    page = reverse("certification:manage_subject_lifecycle", args=[cloud.pk])
    assert client.get(page).status_code == 404
    revoke = reverse("certification:manage_certification_revoke", args=[held.pk])
    assert client.post(revoke, {"reason": "x"}).status_code == 404
    held.refresh_from_db()
    assert held.status == Certification.Status.ACTIVE


def test_enablement_sets_the_validity_and_publishes_a_version(
    client, org, cloud, django_assert_max_num_queries
):
    held = held_certification(org.rep_a, cloud, 1, now=timezone.now())
    client.force_login(org.enablement)
    page = reverse("certification:manage_subject_lifecycle", args=[cloud.pk])
    with django_assert_max_num_queries(8):
        assert client.get(page).status_code == 200
    response = client.post(page, {"form": "validity", "level_1_days": "365", "level_2_days": ""})
    assert response.status_code == 302
    assert list(CertificationValidity.objects.values_list("level", "days")) == [(1, 365)]
    response = client.post(
        page, {"form": "version", "version": "2.0", "relevel": ["1"], "grace_days": "30"}
    )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.expires_at is not None
    release = OfferingVersion.objects.get()
    assert (release.version, release.affected_count) == ("2.0", 1)
    assert "2.0" in client.get(page).content.decode()


def test_a_bad_version_is_shown_on_the_form_and_nothing_written(client, org, cloud):
    client.force_login(org.enablement)
    page = reverse("certification:manage_subject_lifecycle", args=[cloud.pk])
    response = client.post(
        page, {"form": "version", "version": "new!", "relevel": [], "grace_days": "-3"}
    )
    assert response.status_code == 200
    errors = response.context["version_form"].errors
    assert {"version", "relevel", "grace_days"} <= set(errors)
    assert not OfferingVersion.objects.exists()
    cloud.refresh_from_db()
    assert cloud.current_version == "1.0"


def test_enablement_revokes_from_the_rep_page_with_a_reason(
    client, org, cloud, django_assert_max_num_queries
):
    held = held_certification(org.rep_a, cloud, 1, now=timezone.now())
    client.force_login(org.enablement)
    rep_page = reverse("certification:manage_rep_tier", args=[org.rep_a.pk])
    with django_assert_max_num_queries(15):
        body = client.get(rep_page).content.decode()
    assert reverse("certification:manage_certification_revoke", args=[held.pk]) in body
    revoke = reverse("certification:manage_certification_revoke", args=[held.pk])
    # no reason: nothing written, and the page says why
    response = client.post(revoke, {"reason": " "}, follow=True)
    assert "Say why" in response.content.decode()
    held.refresh_from_db()
    assert held.status == Certification.Status.ACTIVE
    response = client.post(revoke, {"reason": "Shared the answers"})
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.status, held.revoked_reason) == ("revoked", "Shared the answers")
    event = AuditEvent.objects.get(action="certification.revoked")
    assert event.actor == org.enablement


def test_the_manager_sees_the_certifications_without_a_revoke_form(client, org, cloud):
    held = held_certification(org.rep_a, cloud, 1, now=timezone.now())
    client.force_login(org.manager_a)
    body = client.get(reverse("certification:manage_rep_tier", args=[org.rep_a.pk])).content
    assert b"Acme Cloud" in body
    revoke = reverse("certification:manage_certification_revoke", args=[held.pk])
    assert revoke.encode() not in body


def test_the_rep_sees_history_and_a_lapsed_certification_as_expired(client, org, cloud):
    now = timezone.now()
    old = held_certification(org.rep_a, cloud, 1, now=now - timedelta(days=400))
    Certification.objects.filter(pk=old.pk).update(
        status=Certification.Status.EXPIRED, expires_at=now - timedelta(days=35)
    )
    current = held_certification(org.rep_a, cloud, 1, now=now - timedelta(days=30))
    Certification.objects.filter(pk=current.pk).update(expires_at=now - timedelta(minutes=1))
    client.force_login(org.rep_a)
    response = client.get(reverse("certification:my_certifications"))
    rows = {c.pk: c.shown_status for c in response.context["certifications"]}
    assert rows == {old.pk: "expired", current.pk: "expired"}
    assert "badge--ok" not in response.content.decode()
