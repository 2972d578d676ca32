"""The notification centre, its unread count in the navigation, the preferences pages (signed
in and by signed link) and the notifications API: own notifications only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification.models import Notification, NotificationKind, NotificationPreference
from certification.services.notifications import notify, preferences_token

pytestmark = pytest.mark.django_db


def _notify(recipient, key="event-1", link="/certifications/"):
    return notify(
        recipient=recipient,
        kind=NotificationKind.CERTIFICATION_ISSUED,
        event_key=key,
        title=f"Certified {key}",
        body="Well done.",
        link=link,
        now=timezone.now(),
    )


def test_the_centre_lists_only_my_notifications(client, org):
    _notify(org.rep_a, key="mine")
    _notify(org.rep_b, key="theirs")
    client.force_login(org.rep_a)
    page = client.get(reverse("certification:notifications")).content.decode()
    assert "Certified mine" in page
    assert "Certified theirs" not in page


def test_reading_someone_elses_notification_is_not_found(client, org):
    theirs = _notify(org.rep_b)
    client.force_login(org.rep_a)
    response = client.post(reverse("certification:notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, org):
    mine = _notify(org.rep_a)
    client.force_login(org.rep_a)
    response = client.post(
        reverse("certification:notification_read", args=[mine.pk]), {"follow": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/certifications/"
    mine.refresh_from_db()
    assert mine.read_at is not None


@pytest.mark.parametrize(
    "link", ["//evil.example/phish", "https://evil.example/", "/\\evil.example"]
)
def test_a_link_that_leaves_the_app_is_never_followed(client, org, link):
    mine = _notify(org.rep_a, link=link)
    client.force_login(org.rep_a)
    response = client.post(
        reverse("certification:notification_read", args=[mine.pk]), {"follow": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("certification:notifications")


def test_the_centre_needs_sign_in(client):
    response = client.get(reverse("certification:notifications"))
    assert response.status_code == 302


def _home_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("certification:notifications"))
    return len(queries), response.content.decode()


def test_the_unread_count_in_the_navigation_costs_the_same_for_any_number(client, org):
    client.force_login(org.rep_a)
    _notify(org.rep_a, key="one")
    one, page = _home_queries(client)
    assert '1<span class="visually-hidden"> unread' in page
    for number in range(2, 8):
        _notify(org.rep_a, key=f"more-{number}")
    many, page = _home_queries(client)
    assert '7<span class="visually-hidden"> unread' in page
    assert many == one


def test_the_signed_in_preferences_page_saves_my_choice(client, org):
    client.force_login(org.rep_a)
    url = reverse("certification:notification_preferences")
    assert client.get(url).status_code == 200
    client.post(url, {"email": [NotificationKind.TIER_CHANGED]})
    assert NotificationPreference.objects.get(
        user=org.rep_a, kind=NotificationKind.TIER_CHANGED
    ).email
    assert not NotificationPreference.objects.get(
        user=org.rep_a, kind=NotificationKind.CERTIFICATION_ISSUED
    ).email


def test_the_signed_link_opens_the_preferences_without_sign_in(client, org):
    url = reverse(
        "certification:notification_preferences_token",
        kwargs={"token": preferences_token(user=org.rep_a)},
    )
    assert client.get(url).status_code == 200
    client.post(url, {"email": []})
    assert NotificationPreference.objects.filter(user=org.rep_a, email=False).count() == len(
        NotificationKind.values
    )


def test_a_tampered_link_is_refused_and_changes_nothing(client, org):
    token = preferences_token(user=org.rep_a)
    url = reverse(
        "certification:notification_preferences_token", kwargs={"token": token[:-3] + "abc"}
    )
    assert client.get(url).status_code == 400
    response = client.post(url, {"email": []})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_an_expired_link_is_refused(client, org, monkeypatch):
    from django.core import signing

    long_ago = timezone.now().timestamp() - timedelta(days=31).total_seconds()
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: long_ago)
        token = preferences_token(user=org.rep_a)
    url = reverse("certification:notification_preferences_token", kwargs={"token": token})
    assert client.post(url, {"email": []}).status_code == 400
    assert not NotificationPreference.objects.exists()


# API -------------------------------------------------------------------------------------------


def test_the_api_lists_only_my_notifications(api_client, org, django_assert_max_num_queries):
    for number in range(5):
        _notify(org.rep_a, key=f"mine-{number}")
    _notify(org.rep_b, key="theirs")
    api_client.force_authenticate(org.rep_a)
    with django_assert_max_num_queries(4):
        response = api_client.get("/api/v1/notifications/")
    assert response.status_code == 200
    titles = [row["title"] for row in response.json()["results"]]
    assert len(titles) == 5
    assert "Certified theirs" not in titles


def test_the_api_marks_my_notification_read_and_refuses_others(api_client, org):
    mine, theirs = _notify(org.rep_a, key="mine"), _notify(org.rep_b, key="theirs")
    api_client.force_authenticate(org.rep_a)
    assert api_client.post(f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    response = api_client.post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_the_api_needs_authentication(api_client):
    assert api_client.get("/api/v1/notifications/").status_code in {401, 403}
