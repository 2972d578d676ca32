"""The support pages: a rep's /support/ and the teleprospecting lead's /teleprospecting/.
Anonymous people are sent to sign in; other roles get 404; forms call the services; the
pages cost the same number of queries however many requests and reps there are."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from certification.models import SupportPeriod, SupportRequest, SupportUsage
from certification.services.support import support_allocate, support_request_create
from tests.factories.accounts import UserFactory
from tests.factories.support import make_period, record_history, set_tier

pytestmark = pytest.mark.django_db

SUPPORT = reverse("certification:support")
PERIODS = reverse("certification:tp_periods")
OUTCOMES = reverse("certification:tp_outcomes")
NEW_PERIOD = reverse("certification:tp_period_new")


@pytest.fixture
def weeks(org):
    """Last week, this week (containing today) and next week; this week allocated."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    last = make_period(monday - timedelta(days=7))
    week = make_period(monday)
    upcoming = make_period(monday + timedelta(days=7))
    set_tier(org.rep_a, "gold")
    support_request_create(
        rep=org.rep_a,
        period=week,
        purpose="Call the renewals",
        hours_requested=6,
        now=timezone.now() - timedelta(days=today.weekday() + 1),
    )
    support_allocate(period=week, now=timezone.now() - timedelta(days=today.weekday() + 1))
    return last, week, upcoming


def _lead_urls(period: SupportPeriod) -> list[str]:
    return [
        PERIODS,
        OUTCOMES,
        NEW_PERIOD,
        reverse("certification:tp_period", args=[period.pk]),
        reverse("certification:tp_period_edit", args=[period.pk]),
    ]


def _login_redirect(response):
    return response.status_code == 302 and reverse("accounts:login") in response["Location"]


# Permissions ----------------------------------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(client, weeks):
    _last, week, _next = weeks
    for url in [SUPPORT, *_lead_urls(week)]:
        assert _login_redirect(client.get(url)), url
    allocate = reverse("certification:tp_allocate", args=[week.pk])
    assert _login_redirect(client.post(allocate))


@pytest.mark.parametrize("person", ["manager_a", "enablement", "tp_lead", "admin", "no_role"])
def test_the_rep_page_is_for_reps(client, org, weeks, person):
    client.force_login(getattr(org, person))
    assert client.get(SUPPORT).status_code == 404


@pytest.mark.parametrize("person", ["rep_a", "manager_a", "enablement", "admin", "no_role"])
def test_the_lead_pages_are_for_the_teleprospecting_lead(client, org, weeks, person):
    _last, week, _next = weeks
    client.force_login(getattr(org, person))
    for url in _lead_urls(week):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("certification:tp_allocate", args=[week.pk])).status_code == 404


def test_a_rep_cannot_withdraw_someone_elses_request(client, org, weeks):
    request = SupportRequest.objects.get(rep=org.rep_a)
    client.force_login(org.rep_b)
    url = reverse("certification:support_withdraw", args=[request.pk])
    assert client.post(url).status_code == 404
    request.refresh_from_db()
    assert request.status == SupportRequest.Status.ALLOCATED


def test_the_navigation_links_fit_the_roles(client, org, weeks):
    client.force_login(org.rep_a)
    page = client.get(reverse("certification:home")).content.decode()
    assert f'href="{SUPPORT}"' in page
    assert f'href="{PERIODS}"' not in page
    client.force_login(org.tp_lead)
    page = client.get(reverse("certification:home")).content.decode()
    assert f'href="{PERIODS}"' in page
    assert f'href="{SUPPORT}"' not in page


# The rep ----------------------------------------------------------------------------------------


def test_the_rep_sees_this_periods_support_and_history(client, org, weeks):
    client.force_login(org.rep_a)
    page = client.get(SUPPORT).content.decode()
    assert "6 h allocated for this period as gold." in page
    assert "Call the renewals" in page
    assert re.search(r'<span class="figure">6&nbsp;h</span> allocated', page)
    assert 'aria-current="page">Support' in page


def test_an_eligible_rep_asks_for_next_week(client, org, weeks):
    _last, _week, upcoming = weeks
    client.force_login(org.rep_a)
    response = client.post(
        SUPPORT,
        {"period": upcoming.pk, "hours_requested": "4.5", "purpose": "Follow up the summit"},
    )
    assert response.status_code == 302
    made = SupportRequest.objects.get(rep=org.rep_a, period=upcoming)
    assert (made.hours_requested, made.status) == (Decimal("4.5"), "pending")


def test_a_refused_request_is_shown_on_its_field(client, org, weeks):
    _last, _week, upcoming = weeks
    client.force_login(org.rep_a)
    response = client.post(
        SUPPORT, {"period": upcoming.pk, "hours_requested": "41", "purpose": "Calls"}
    )
    assert response.status_code == 200
    assert "field--invalid" in response.content.decode()
    assert not SupportRequest.objects.filter(period=upcoming).exists()


def test_an_ineligible_rep_is_told_why_and_gets_no_form(client, org, weeks):
    set_tier(org.rep_b, "bronze")
    client.force_login(org.rep_b)
    page = client.get(SUPPORT).content.decode()
    assert "Bronze is not eligible this period" in page
    assert 'name="purpose"' not in page
    _last, _week, upcoming = weeks
    client.post(SUPPORT, {"period": upcoming.pk, "hours_requested": "4", "purpose": "Calls"})
    assert not SupportRequest.objects.filter(rep=org.rep_b).exists()


def test_a_rep_withdraws_their_request(client, org, weeks):
    request = SupportRequest.objects.get(rep=org.rep_a)
    client.force_login(org.rep_a)
    response = client.post(reverse("certification:support_withdraw", args=[request.pk]))
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == SupportRequest.Status.WITHDRAWN


def test_the_rep_page_query_count_is_flat(client, org, weeks, django_assert_max_num_queries):
    client.force_login(org.rep_a)
    with django_assert_max_num_queries(20) as small:
        client.get(SUPPORT)
    for weeks_ago in range(2, 8):
        earlier = make_period(weeks[0].starts_on - timedelta(weeks=weeks_ago - 1))
        SupportRequest.objects.create(
            period=earlier, rep=org.rep_a, purpose="Calls", hours_requested=4
        )
        SupportUsage.objects.create(
            period=earlier, rep=org.rep_a, hours=2, idempotency_key=f"k{weeks_ago}"
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(SUPPORT)


# The teleprospecting lead -----------------------------------------------------------------------


def test_the_lead_opens_a_period(client, org, weeks):
    _last, _week, upcoming = weeks
    client.force_login(org.tp_lead)
    assert client.get(NEW_PERIOD).status_code == 200
    starts = upcoming.ends_on + timedelta(days=1)
    response = client.post(
        NEW_PERIOD,
        {
            "starts_on": starts.isoformat(),
            "ends_on": (starts + timedelta(days=6)).isoformat(),
            "capacity_hours": "45",
            "weight_gold": "3",
            "weight_silver": "",
            "weight_bronze": "1",
        },
    )
    period = SupportPeriod.objects.get(starts_on=starts)
    assert response["Location"] == reverse("certification:tp_period", args=[period.pk])
    assert period.tier_weights == {"gold": 3, "bronze": 1}
    assert period.capacity_hours == Decimal(45)


def test_an_overlapping_period_is_refused_on_the_form(client, org, weeks):
    _last, week, _next = weeks
    client.force_login(org.tp_lead)
    response = client.post(
        NEW_PERIOD,
        {
            "starts_on": week.starts_on.isoformat(),
            "ends_on": week.ends_on.isoformat(),
            "capacity_hours": "10",
            "weight_gold": "2",
        },
    )
    assert response.status_code == 200
    assert "Overlaps another period." in response.content.decode()


def test_the_lead_edits_a_period(client, org, weeks):
    _last, _week, upcoming = weeks
    client.force_login(org.tp_lead)
    url = reverse("certification:tp_period_edit", args=[upcoming.pk])
    assert 'value="60"' not in client.get(url).content.decode()
    client.post(
        url,
        {
            "starts_on": upcoming.starts_on.isoformat(),
            "ends_on": upcoming.ends_on.isoformat(),
            "capacity_hours": "60",
            "weight_gold": "2",
            "weight_silver": "2",
        },
    )
    upcoming.refresh_from_db()
    assert upcoming.capacity_hours == Decimal(60)
    assert upcoming.tier_weights == {"gold": 2, "silver": 2}


def test_the_board_shows_each_request_with_its_reason_and_the_waiting_list(client, org, weeks):
    _last, _week, upcoming = weeks
    for rep in (org.rep_b, org.rep_c):
        set_tier(rep, "silver")
    ask = timezone.now()
    for rep, hours in ((org.rep_a, 20), (org.rep_b, 8), (org.rep_c, 8)):
        support_request_create(
            rep=rep, period=upcoming, purpose="Calls", hours_requested=hours, now=ask
        )
    client.force_login(org.tp_lead)
    response = client.post(reverse("certification:tp_allocate", args=[upcoming.pk]))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    gold = "Gold (weight 2), no earlier outcomes (neutral score 0.50): 20 h of 20 requested."
    assert gold in page
    assert "Waiting list #1: the capacity went to heavier tiers" in page
    assert "Waiting list #2" in page
    assert page.count('data-status="waiting"') == 2


def test_the_lead_records_usage_once_per_form(client, org, weeks):
    _last, week, _next = weeks
    url = reverse("certification:tp_period", args=[week.pk])
    client.force_login(org.tp_lead)
    page = client.get(url).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    form = {
        "rep": org.rep_a.pk,
        "hours": "2",
        "meetings_set": "1",
        "pipeline_amount": "12000",
        "idempotency_key": key,
    }
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # the same form sent twice
    assert SupportUsage.objects.get().hours == Decimal(2)
    assert "Rep Alpha" in client.get(OUTCOMES).content.decode()


def test_usage_for_someone_who_did_not_ask_is_not_offered(client, org, weeks):
    _last, week, _next = weeks
    client.force_login(org.tp_lead)
    url = reverse("certification:tp_period", args=[week.pk])
    response = client.post(
        url,
        {
            "rep": org.rep_b.pk,
            "hours": "2",
            "meetings_set": "1",
            "pipeline_amount": "0",
            "idempotency_key": "x",
        },
    )
    assert response.status_code == 200
    assert not SupportUsage.objects.exists()


def test_the_lead_home_panel_shows_the_current_period(client, org, weeks):
    client.force_login(org.tp_lead)
    page = client.get(reverse("certification:home")).content.decode()
    assert re.search(r'<span class="figure">20 h</span> capacity', page)
    assert re.search(r'<span class="figure">6 h</span> allocated', page)
    assert re.search(r'<span class="figure">0</span> waiting', page)


def _crowd(week, last, lead, count):
    for _ in range(count):
        rep = UserFactory(rep=True)
        set_tier(rep, "silver")
        SupportRequest.objects.create(
            period=week, rep=rep, purpose="Calls", hours_requested=4, status="waiting"
        )
        record_history(lead=lead, rep=rep, period=last, hours=3, meetings=2)
        SupportUsage.objects.create(period=week, rep=rep, hours=1, idempotency_key=f"w{rep.pk}")


@pytest.mark.parametrize("page", ["periods", "board", "outcomes", "edit"])
def test_the_lead_pages_query_count_is_flat(
    client, org, weeks, page, django_assert_max_num_queries
):
    last, week, _next = weeks
    url = {
        "periods": PERIODS,
        "board": reverse("certification:tp_period", args=[week.pk]),
        "outcomes": OUTCOMES,
        "edit": reverse("certification:tp_period_edit", args=[week.pk]),
    }[page]
    client.force_login(org.tp_lead)
    _crowd(week, last, org.tp_lead, 2)
    with django_assert_max_num_queries(20) as small:
        assert client.get(url).status_code == 200
    _crowd(week, last, org.tp_lead, 15)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)
