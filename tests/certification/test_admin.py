"""The certification admin: every model's list and detail open for a superuser, evidence and
service-written rows are read-only, and people without the superuser flag are kept out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import User
from certification.models import Notification, NotificationKind
from certification.services.notifications import notify

pytestmark = pytest.mark.django_db

CERTIFICATION_MODELS = [
    model for model in admin.site._registry if model._meta.app_label == "certification"
]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root@example.test", "root-password-123")


@pytest.mark.parametrize("model", CERTIFICATION_MODELS, ids=lambda m: m._meta.model_name)
def test_every_certification_changelist_opens_for_a_superuser(client, superuser, model):
    client.force_login(superuser)
    url = reverse(f"admin:certification_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200


def test_a_notification_is_read_only_in_the_admin(client, superuser, org):
    told = notify(
        recipient=org.rep_a,
        kind=NotificationKind.TIER_CHANGED,
        event_key="admin-test",
        title="Your tier is now Gold",
        body="Well done.",
        now=datetime(2030, 1, 7, 10, tzinfo=UTC),
    )
    client.force_login(superuser)
    change = reverse("admin:certification_notification_change", args=[told.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert "Your tier is now Gold" in page.content.decode()
    client.post(change, {"title": "Edited"})
    told.refresh_from_db()
    assert told.title == "Your tier is now Gold"
    delete = reverse("admin:certification_notification_delete", args=[told.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Notification.objects.filter(pk=told.pk).exists()


def test_the_admin_role_without_superuser_does_not_see_certification_data(client, org):
    client.force_login(org.admin)
    url = reverse("admin:certification_notification_changelist")
    assert client.get(url).status_code in {302, 403}
