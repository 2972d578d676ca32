"""Session timeouts (OWASP ASVS 3.3): signed out after 30 idle minutes and 12 hours after
signing in, but never while taking a timed test; every autosave counts as activity."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse

from accounts.middleware import SESSION_SEEN, SESSION_STARTED
from certification.services.attempts import attempt_start
from tests.factories.certification import make_exam

pytestmark = pytest.mark.django_db


class Clock:
    """The middleware's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta).total_seconds()


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr("accounts.middleware.time.time", fake)
    return fake


def _signed_in(client) -> bool:
    response = client.get(reverse("accounts:profile"))
    return response.status_code == 200


def test_thirty_idle_minutes_sign_you_out(client, org, clock):
    client.force_login(org.rep_a)
    assert _signed_in(client)
    clock.advance(minutes=29)
    assert _signed_in(client)  # activity: the idle clock starts again
    clock.advance(minutes=31)
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "without activity" in page


def test_twelve_hours_after_signing_in_even_an_active_person_signs_in_again(client, org, clock):
    client.force_login(org.rep_a)
    for _ in range(24):  # a request every 29 minutes for 11.6 hours
        clock.advance(minutes=29)
        assert _signed_in(client)
    clock.advance(minutes=29)  # 12.1 hours after signing in
    assert not _signed_in(client)
    assert "_auth_user_id" not in client.session


def test_activity_is_written_to_the_session_at_most_once_a_minute(client, org, clock):
    client.force_login(org.rep_a)
    client.get(reverse("accounts:profile"))
    first = client.session[SESSION_SEEN]
    clock.advance(seconds=30)
    client.get(reverse("accounts:profile"))
    assert client.session[SESSION_SEEN] == first
    clock.advance(seconds=31)
    client.get(reverse("accounts:profile"))
    assert client.session[SESSION_SEEN] > first


def test_no_timeout_cuts_a_rep_off_in_the_middle_of_a_timed_test(client, org, clock):
    exam = make_exam(questions=3, assign_to=[org.rep_a], time_limit_minutes=600)
    client.force_login(org.rep_a)
    session = client.session
    session[SESSION_STARTED] -= int(timedelta(hours=3).total_seconds())  # signed in at 6am
    session.save()
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.first()
    page = reverse("certification:attempt", args=[attempt.pk])
    # Past the idle timeout: the rep reads for 45 minutes, then saves an answer.
    clock.advance(minutes=45)
    assert client.get(page).status_code == 200
    choice = item.snapshot["choices"][0]["id"]
    saved = client.post(
        reverse("certification:attempt_save", args=[attempt.pk]),
        {"question": [item.question_id], f"q{item.question_id}": [choice]},
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 200
    assert "Saved" in saved.content.decode()
    # 9 h 45 min into the 600-minute test, idle for 9 hours, 12 h 45 min after signing in.
    clock.advance(hours=9)
    assert client.get(page).status_code == 200
    # Once the test's time (and grace) is over, the timeouts apply again.
    clock.advance(hours=3)
    assert not _signed_in(client)


def test_a_finished_test_holds_nothing(client, org, clock):
    exam = make_exam(questions=3, assign_to=[org.rep_a], time_limit_minutes=600)
    client.force_login(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    client.post(reverse("certification:attempt_save", args=[attempt.pk]), {"finish": "1"})
    attempt.refresh_from_db()
    assert not attempt.is_open
    clock.advance(minutes=31)
    assert not _signed_in(client)


def test_token_requests_to_the_api_are_not_affected(org, clock):
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    _token, secret = api_token_create(
        user=org.rep_a, name="laptop", scopes=["read"], actor=org.rep_a
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert api.get("/api/v1/me/").status_code == 200
    clock.advance(hours=13)
    assert api.get("/api/v1/me/").status_code == 200
