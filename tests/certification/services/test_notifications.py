"""Notifications: recording once per event, working-hours email scheduling, exactly-once
email, the signed preferences link, opting down, and the events that notify."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail, signing
from django.utils import timezone

from certification.models import (
    Certification,
    Notification,
    NotificationKind,
    Subject,
    TierChange,
)
from certification.services.certifications import certification_revoke
from certification.services.lifecycle import certifications_expire_due, offering_version_publish
from certification.services.notifications import (
    OPTED_DOWN,
    email_due_at,
    email_spread,
    notification_emails_send,
    notification_preferences_set,
    notifications_mark_read,
    notify,
    notify_expiring_certifications,
    notify_tier_changes,
    preferences_token,
    preferences_user_from_token,
)
from tests.factories.accounts import UserFactory
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db

# 18 Nov 2026 is a Wednesday; 20 Nov a Friday.
WEDNESDAY = datetime(2026, 11, 18, tzinfo=UTC)
TOKYO, BERLIN = ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/Berlin")


def _person(time_zone: str, **fields):
    return UserFactory(
        rep=True,
        time_zone=time_zone,
        work_start=time(9, 0),
        work_end=time(17, 30),
        work_days=[1, 2, 3, 4, 5],
        **fields,
    )


def _notify(recipient, *, now, key="event-1", kind=NotificationKind.TIER_CHANGED, **fields):
    return notify(
        recipient=recipient,
        kind=kind,
        event_key=key,
        title="Your tier changed",
        body="Gold now.",
        link="/tier/",
        now=now,
        **fields,
    )


# Scheduling ------------------------------------------------------------------------------------


def test_inside_working_hours_the_email_is_due_now_plus_the_persons_spread(db):
    person = _person("America/New_York")
    now = WEDNESDAY.replace(hour=15)  # 10:00 in New York
    assert email_due_at(user=person, now=now) == now + email_spread(person)
    assert timedelta(0) <= email_spread(person) < timedelta(minutes=15)


def test_after_the_working_day_has_ended_the_email_waits_for_the_next_morning(db):
    person = _person("Asia/Tokyo")
    now = WEDNESDAY.replace(hour=9)  # 18:00 in Tokyo: their day has ended
    due = email_due_at(user=person, now=now)
    local = due.astimezone(ZoneInfo("Asia/Tokyo"))
    assert local.date().isoformat() == "2026-11-19"
    assert local == datetime(2026, 11, 19, 9, 0, tzinfo=TOKYO) + email_spread(person)


def test_before_the_working_day_starts_the_email_waits_for_its_start(db):
    person = _person("Europe/Berlin")
    now = WEDNESDAY.replace(hour=5)  # 06:00 in Berlin
    due = email_due_at(user=person, now=now).astimezone(ZoneInfo("Europe/Berlin"))
    assert due == datetime(2026, 11, 18, 9, 0, tzinfo=BERLIN) + email_spread(person)


def test_on_a_friday_evening_the_email_waits_for_monday(db):
    person = _person("Europe/Berlin")
    now = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # Friday 19:00 in Berlin
    due = email_due_at(user=person, now=now).astimezone(ZoneInfo("Europe/Berlin"))
    assert due.isoweekday() == 1
    assert due == datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN) + email_spread(person)


def test_the_same_instant_schedules_each_time_zone_in_its_own_day(db):
    now = WEDNESDAY.replace(hour=14)  # 09:00 New York, 23:00 Tokyo
    new_york, tokyo = _person("America/New_York"), _person("Asia/Tokyo")
    assert email_due_at(user=new_york, now=now) == now + email_spread(new_york)
    assert email_due_at(user=tokyo, now=now).astimezone(ZoneInfo("Asia/Tokyo")).day == 19


# Recording ----------------------------------------------------------------------------------


def test_notify_is_idempotent_per_recipient_kind_and_event(db):
    person = _person("UTC")
    now = WEDNESDAY.replace(hour=10)
    first = _notify(person, now=now)
    again = _notify(person, now=now + timedelta(hours=1))
    assert first.pk == again.pk
    assert Notification.objects.count() == 1
    assert _notify(person, now=now, key="event-2").pk != first.pk


def test_mark_read_touches_only_the_persons_own_notifications(db):
    mine, theirs = _person("UTC"), _person("UTC")
    now = WEDNESDAY.replace(hour=10)
    own = _notify(mine, now=now)
    other = _notify(theirs, now=now)
    assert notifications_mark_read(user=mine, now=now, notification_ids=[own.pk, other.pk]) == 1
    other.refresh_from_db()
    assert other.read_at is None


# Email ---------------------------------------------------------------------------------------


def test_each_email_is_sent_once_even_when_the_task_runs_twice(org):
    now = WEDNESDAY.replace(hour=10)
    _notify(org.rep_a, now=now)
    _notify(org.rep_b, now=now, key="event-2")
    later = now + timedelta(minutes=20)
    assert notification_emails_send(now=later) == 2
    assert notification_emails_send(now=later) == 0  # the duplicated run finds nothing
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_an_email_is_not_sent_before_it_is_due(org):
    now = WEDNESDAY.replace(hour=20)  # after hours in UTC
    _notify(org.rep_a, now=now)
    assert notification_emails_send(now=now + timedelta(hours=1)) == 0
    assert mail.outbox == []


def test_a_refused_send_is_released_for_the_next_run(org, monkeypatch):
    now = WEDNESDAY.replace(hour=10)
    _notify(org.rep_a, now=now)

    def refuse(self, fail_silently=False):
        raise OSError("SMTP down")

    with monkeypatch.context() as patched:
        patched.setattr("django.core.mail.EmailMessage.send", refuse)
        assert notification_emails_send(now=now + timedelta(hours=1)) == 0
    assert notification_emails_send(now=now + timedelta(hours=1)) == 1
    assert len(mail.outbox) == 1


def test_the_email_is_plain_text_in_the_nearest_managers_name_with_a_preferences_link(org):
    now = WEDNESDAY.replace(hour=10)
    _notify(org.rep_a, now=now)
    notification_emails_send(now=now + timedelta(hours=1))
    [message] = mail.outbox
    assert message.from_email == "Manager Alpha via RepReady <repready@localhost>"
    assert message.reply_to == [org.manager_a.email]
    assert message.to == [org.rep_a.email]
    assert message.content_subtype == "plain"
    assert "/tier/" in message.body
    link = next(line for line in message.body.splitlines() if "/notifications/preferences/" in line)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert preferences_user_from_token(token) == org.rep_a
    assert Notification.objects.get().sender == org.manager_a


def test_without_a_manager_the_email_is_sent_in_the_enablement_leads_name(org):
    loner = _person("UTC")
    now = WEDNESDAY.replace(hour=10)
    _notify(loner, now=now)
    notification_emails_send(now=now + timedelta(hours=1))
    [message] = mail.outbox
    assert message.from_email.startswith("Enablement Lead via RepReady")
    assert message.reply_to == [org.enablement.email]


# Preferences ---------------------------------------------------------------------------------


def test_a_tampered_preferences_token_names_nobody(db):
    person = _person("UTC")
    token = preferences_token(user=person)
    assert preferences_user_from_token(token) == person
    assert preferences_user_from_token(token[:-2] + "xx") is None
    assert preferences_user_from_token("not-a-token") is None


def test_an_expired_preferences_token_names_nobody(db, monkeypatch):
    person = _person("UTC")
    long_ago = timezone.now().timestamp() - timedelta(days=31).total_seconds()
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: long_ago)
        token = preferences_token(user=person)
    assert preferences_user_from_token(token) is None


def test_opting_down_stops_the_email_but_keeps_the_notification_in_the_app(org):
    now = WEDNESDAY.replace(hour=10)
    notification_preferences_set(user=org.rep_a, email_kinds=[NotificationKind.TIER_CHANGED])
    cloud = SubjectFactory(name="Acme Cloud")
    held_certification(org.rep_a, cloud, 1, now=now)
    issued = Notification.objects.get(
        recipient=org.rep_a, kind=NotificationKind.CERTIFICATION_ISSUED
    )
    assert issued.email_due_at is None
    assert issued.email_skipped == OPTED_DOWN
    notification_emails_send(now=now + timedelta(days=2))
    assert [m for m in mail.outbox if m.to == [org.rep_a.email]] == []


def test_opting_down_cancels_an_email_already_scheduled(org):
    now = WEDNESDAY.replace(hour=20)
    pending = _notify(org.rep_a, now=now)
    assert pending.email_due_at is not None
    notification_preferences_set(user=org.rep_a, email_kinds=[])
    pending.refresh_from_db()
    assert pending.email_due_at is None
    assert notification_emails_send(now=now + timedelta(days=1)) == 0


# Events ---------------------------------------------------------------------------------------


@pytest.fixture
def cloud():
    return SubjectFactory(name="Acme Cloud", kind=Subject.Kind.OFFERING, current_version="1.0")


def test_issuing_and_revoking_a_certification_notify_the_rep(org, cloud):
    now = WEDNESDAY.replace(hour=10)
    certification = held_certification(org.rep_a, cloud, 1, now=now)
    certification_revoke(
        certification=certification, reason="Cheated", actor=org.enablement, now=now
    )
    kinds = set(Notification.objects.filter(recipient=org.rep_a).values_list("kind", flat=True))
    assert {NotificationKind.CERTIFICATION_ISSUED, NotificationKind.CERTIFICATION_REVOKED} <= kinds
    revoked = Notification.objects.get(kind=NotificationKind.CERTIFICATION_REVOKED)
    assert "Cheated" in revoked.body
    assert revoked.sender == org.enablement


def test_the_expiry_sweep_notifies_each_holder_once_in_a_fixed_number_of_queries(
    org, cloud, django_assert_max_num_queries
):
    now = WEDNESDAY.replace(hour=10)
    for rep in (org.rep_a, org.rep_b, org.rep_c):
        held = held_certification(rep, cloud, 1, now=now - timedelta(days=400))
        Certification.objects.filter(pk=held.pk).update(expires_at=now - timedelta(hours=1))
    with django_assert_max_num_queries(15):
        assert certifications_expire_due(now=now) == 3
    certifications_expire_due(now=now)
    assert Notification.objects.filter(kind=NotificationKind.CERTIFICATION_EXPIRED).count() == 3


@pytest.mark.parametrize(("days_left", "warning"), [(25, 30), (6, 7), (0.5, 1)])
def test_the_daily_scan_warns_at_the_nearest_threshold_once(org, cloud, days_left, warning):
    now = WEDNESDAY.replace(hour=10)
    held = held_certification(org.rep_a, cloud, 1, now=now - timedelta(days=100))
    Certification.objects.filter(pk=held.pk).update(expires_at=now + timedelta(days=days_left))
    notify_expiring_certifications(now=now)
    notify_expiring_certifications(now=now + timedelta(hours=2))  # a second run adds nothing
    [warning_row] = Notification.objects.filter(kind=NotificationKind.CERTIFICATION_EXPIRING)
    assert warning_row.event_key == f"cert:{held.pk}:expiring:{warning}"


def test_a_certification_far_from_expiry_is_not_warned(org, cloud):
    now = WEDNESDAY.replace(hour=10)
    held = held_certification(org.rep_a, cloud, 1, now=now)
    Certification.objects.filter(pk=held.pk).update(expires_at=now + timedelta(days=45))
    assert notify_expiring_certifications(now=now) == 0


def test_only_real_tier_changes_notify(org):
    now = WEDNESDAY.replace(hour=10)
    real = TierChange.objects.create(rep=org.rep_a, old_tier="none", new_tier="bronze")
    same = TierChange.objects.create(rep=org.rep_b, old_tier="bronze", new_tier="bronze")
    notify_tier_changes(changes=[real, same], now=now)
    assert list(Notification.objects.values_list("recipient", flat=True)) == [org.rep_a.pk]


def test_a_new_offering_version_notifies_only_the_holders(org, cloud):
    now = WEDNESDAY.replace(hour=10)
    held_certification(org.rep_a, cloud, 1, now=now)
    held_certification(org.rep_b, cloud, 2, now=now)
    offering_version_publish(
        actor=org.enablement, offering=cloud, version="2.0", relevel=[1], grace_days=30, now=now
    )
    told = Notification.objects.filter(kind=NotificationKind.OFFERING_VERSION)
    assert list(told.values_list("recipient", flat=True)) == [org.rep_a.pk]
