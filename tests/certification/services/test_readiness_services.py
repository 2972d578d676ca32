"""The weekly readiness email: the recipient's weekday and working hours in their own time
zone, once per week even when the task runs twice, and only the figures they may see."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.core import mail

from certification.models import ReportSubscription
from certification.services.readiness import subscription_set, weekly_reports_send
from config.errors import ApplicationError

pytestmark = pytest.mark.django_db

# Wednesday 25 November 2026
WEDNESDAY_0800_UTC = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def subscribed(org, world):
    org.enablement.time_zone = "Asia/Tokyo"  # 17:00 there at 08:00 UTC
    org.enablement.work_start, org.enablement.work_end = time(9), time(18)
    org.enablement.save()
    org.manager_b.time_zone = "America/New_York"  # 03:00 there at 08:00 UTC
    org.manager_b.save()
    subscription_set(user=org.enablement, is_active=True, weekday=3)
    subscription_set(user=org.manager_b, is_active=True, weekday=3)
    return org


def test_sent_on_the_weekday_within_working_hours_in_the_recipients_zone(subscribed):
    sent = weekly_reports_send(now=WEDNESDAY_0800_UTC)

    assert sent == 1  # Tokyo is at work; New York is asleep
    (message,) = mail.outbox
    assert message.to == [subscribed.enablement.email]
    assert "Acme Cloud: 3 of 4 customer ready (75%)" in message.body
    assert "/reports/readiness/" in message.body
    assert message.content_subtype == "plain"


def test_the_manager_gets_their_subtree_later_that_day(subscribed):
    weekly_reports_send(now=WEDNESDAY_0800_UTC)
    sent = weekly_reports_send(now=datetime(2026, 11, 25, 15, 0, tzinfo=UTC))  # 10:00 in NY

    assert sent == 1
    message = mail.outbox[-1]
    assert message.to == [subscribed.manager_b.email]
    assert "across the 2 reps you can see" in message.body
    assert "Acme Cloud: 1 of 2 customer ready" in message.body


def test_a_task_that_runs_twice_sends_once(subscribed):
    weekly_reports_send(now=WEDNESDAY_0800_UTC)
    weekly_reports_send(now=WEDNESDAY_0800_UTC)
    weekly_reports_send(now=datetime(2026, 11, 25, 8, 30, tzinfo=UTC))

    assert len(mail.outbox) == 1
    assert ReportSubscription.objects.get(user=subscribed.enablement).last_sent_on.isoformat() == (
        "2026-11-25"
    )


def test_nothing_after_the_working_day_has_ended_or_on_another_day(subscribed):
    # 10:00 UTC is 19:00 in Tokyo, after work; Tuesday is the wrong day.
    assert weekly_reports_send(now=datetime(2026, 11, 25, 10, 0, tzinfo=UTC)) == 0
    assert weekly_reports_send(now=datetime(2026, 11, 24, 8, 0, tzinfo=UTC)) == 0
    # and the week after, it goes again
    assert weekly_reports_send(now=datetime(2026, 12, 2, 8, 0, tzinfo=UTC)) == 1


def test_switched_off_or_lost_the_role_means_no_email(subscribed):
    subscription_set(user=subscribed.enablement, is_active=False, weekday=3)
    subscribed.manager_b.is_manager = False
    subscribed.manager_b.save()

    weekly_reports_send(now=WEDNESDAY_0800_UTC)
    weekly_reports_send(now=datetime(2026, 11, 25, 15, 0, tzinfo=UTC))

    assert mail.outbox == []


def test_only_report_readers_may_subscribe(org):
    with pytest.raises(ApplicationError):
        subscription_set(user=org.rep_a, is_active=True, weekday=1)
    with pytest.raises(ApplicationError):
        subscription_set(user=org.enablement, is_active=True, weekday=8)
    assert not ReportSubscription.objects.exists()
