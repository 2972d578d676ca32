"""GET /api/v1/support/entitlements/ and POST /api/v1/support/usage/: who may ask about whom,
the support token scope, idempotency, and flat query counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.services import api_token_create
from certification.models import SupportUsage
from certification.services.support import support_allocate, support_request_create
from tests.factories.accounts import UserFactory
from tests.factories.support import make_period, set_tier

pytestmark = pytest.mark.django_db

ENTITLEMENTS = reverse("api-v1:support-entitlements")
USAGE = reverse("api-v1:support-usage")


@pytest.fixture
def week(org):
    """The period containing today (started yesterday), with rep_a gold and allocated 6 h."""
    today = timezone.localdate()
    period = make_period(today - timedelta(days=1), capacity=20)
    set_tier(org.rep_a, "gold")
    support_request_create(
        rep=org.rep_a,
        period=period,
        purpose="Call the renewals",
        hours_requested=6,
        now=timezone.now() - timedelta(days=2),
    )
    support_allocate(period=period, now=timezone.now() - timedelta(days=2))
    return period


def _token(api_client, user, scopes):
    _token, raw = api_token_create(user=user, name="dialer", scopes=scopes)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return api_client


def _ask(api_client, email):
    return api_client.get(ENTITLEMENTS, {"rep": email})


def _body(**values):
    return {
        "rep": "",
        "hours": "2.5",
        "meetings_set": 3,
        "pipeline_amount": "24000",
        "idempotency_key": "dialer-call-batch-1",
    } | values


# Entitlements: who may ask about whom -----------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "target", "status"),
    [
        ("rep_a", "rep_a", 200),
        ("rep_a", "rep_b", 404),  # another rep: as if they did not exist
        ("manager_a", "rep_a1", 200),  # in the subtree
        ("manager_a", "rep_b", 404),
        ("director", "rep_b", 200),
        ("enablement", "rep_c", 200),
        ("tp_lead", "rep_c", 200),
        ("admin", "rep_a", 404),
        ("no_role", "rep_a", 404),
        ("tp_lead", "inactive_rep", 404),
        ("tp_lead", "manager_a", 404),  # not a rep
    ],
)
def test_who_may_read_whose_entitlement(api_client, org, week, viewer, target, status):
    api_client.force_authenticate(getattr(org, viewer))
    assert _ask(api_client, getattr(org, target).email).status_code == status


def test_anonymous_is_refused(api_client, org, week):
    assert _ask(api_client, org.rep_a.email).status_code in {401, 403}
    assert api_client.post(USAGE, _body(rep=org.rep_a.email)).status_code in {401, 403}


def test_the_rep_is_required_and_found_by_email_case_insensitively(api_client, org, week):
    api_client.force_authenticate(org.tp_lead)
    assert api_client.get(ENTITLEMENTS).status_code == 400
    assert _ask(api_client, "  ").json() == {"rep": ["The rep's email is required."]}
    assert _ask(api_client, "nobody@example.test").status_code == 404
    assert _ask(api_client, org.rep_a.email.upper()).status_code == 200


def test_an_entitlement_says_why_and_how_much_is_left(api_client, org, week):
    SupportUsage.objects.create(
        period=week, rep=org.rep_a, hours=Decimal("1.5"), idempotency_key="used"
    )
    api_client.force_authenticate(org.rep_a)
    body = _ask(api_client, org.rep_a.email).json()
    assert body["eligible"] is True
    assert body["why"] == "6 h allocated for this period as gold."
    assert body["tier"] == "gold"
    assert body["request_status"] == "allocated"
    assert (body["hours_allocated"], body["hours_used"], body["hours_remaining"]) == (
        "6.00",
        "1.50",
        "4.50",
    )
    assert body["period"]["id"] == week.pk
    assert body["rep"]["email"] == org.rep_a.email


def test_an_ineligible_rep_is_told_why(api_client, org, week):
    set_tier(org.rep_b, "bronze")
    api_client.force_authenticate(org.rep_b)
    body = _ask(api_client, org.rep_b.email).json()
    assert body["eligible"] is False
    assert body["why"].startswith("Bronze is not eligible this period")
    assert body["hours_remaining"] == "0.00"
    assert body["request_status"] is None


def test_no_open_period_is_not_eligible(api_client, org):
    api_client.force_authenticate(org.rep_a)
    body = _ask(api_client, org.rep_a.email).json()
    assert (body["eligible"], body["why"], body["period"]) == (
        False,
        "No support period is open today.",
        None,
    )


# Tokens: the support scope ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        (["support"], 200),
        (["read", "support"], 200),
        (["read"], 403),
        (["read", "write"], 403),
    ],
)
def test_a_token_needs_the_support_scope_to_read_entitlements(
    api_client, org, week, scopes, status
):
    response = _ask(_token(api_client, org.rep_a, scopes), org.rep_a.email)
    assert response.status_code == status
    if status == 403:
        assert response.json()["detail"] == "This API token lacks the 'support' scope."


@pytest.mark.parametrize(
    ("scopes", "status"), [(["support"], 201), (["write"], 403), (["read", "write"], 403)]
)
def test_a_token_needs_the_support_scope_to_record_usage(api_client, org, week, scopes, status):
    client = _token(api_client, org.tp_lead, scopes)
    assert client.post(USAGE, _body(rep=org.rep_a.email)).status_code == status


def test_a_support_only_token_reaches_nothing_else_but_who_am_i(api_client, org, week):
    client = _token(api_client, org.rep_a, ["support"])
    assert client.get(reverse("api-v1:me")).status_code == 200  # any token may ask that
    assert client.get(reverse("api-v1:exam-list")).status_code == 403
    assert client.get(reverse("api-v1:user-list")).status_code == 403


def test_a_support_token_still_follows_its_owners_role(api_client, org, week):
    client = _token(api_client, org.rep_a, ["support"])
    assert _ask(client, org.rep_b.email).status_code == 404
    assert client.post(USAGE, _body(rep=org.rep_a.email)).status_code == 404


def test_a_token_created_without_scopes_reads_and_writes_but_not_support(org):
    token, _raw = api_token_create(user=org.tp_lead, name="script")
    assert token.scopes == ["read", "write"]


# Usage ------------------------------------------------------------------------------------------


def test_usage_is_created_once_per_key(api_client, org, week):
    api_client.force_authenticate(org.tp_lead)
    first = api_client.post(USAGE, _body(rep=org.rep_a.email))
    assert first.status_code == 201
    assert first.json()["period"] == week.pk
    again = api_client.post(USAGE, _body(rep=org.rep_a.email.upper(), hours="2.50"))
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    changed = api_client.post(USAGE, _body(rep=org.rep_a.email, meetings_set=4))
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_key_reused"
    assert SupportUsage.objects.count() == 1
    entitlement = _ask(api_client, org.rep_a.email).json()
    assert entitlement["hours_used"] == "2.50"
    assert entitlement["hours_remaining"] == "3.50"


@pytest.mark.parametrize("viewer", ["rep_a", "manager_a", "enablement", "admin"])
def test_only_the_teleprospecting_lead_records_usage(api_client, org, week, viewer):
    api_client.force_authenticate(getattr(org, viewer))
    assert api_client.post(USAGE, _body(rep=org.rep_a.email)).status_code == 404
    assert not SupportUsage.objects.exists()


@pytest.mark.parametrize(
    ("values", "status"),
    [
        ({"hours": "-1"}, 400),
        ({"meetings_set": -2}, 400),
        ({"meetings_set": 10**12}, 400),
        ({"meetings_set": 10**20}, 400),
        ({"idempotency_key": ""}, 400),
        ({"hours": "0", "meetings_set": 0, "pipeline_amount": "0"}, 400),
        ({"rep": "nobody@example.test"}, 404),
        ({"period": 999_999}, 404),
    ],
)
def test_bad_usage_is_refused(api_client, org, week, values, status):
    api_client.force_authenticate(org.tp_lead)
    assert api_client.post(USAGE, _body(rep=org.rep_a.email) | values).status_code == status


def test_usage_without_an_open_period_names_one(api_client, org):
    api_client.force_authenticate(org.tp_lead)
    response = api_client.post(USAGE, _body(rep=org.rep_a.email))
    assert response.status_code == 400
    assert "period" in response.json()["errors"]


# Cost -------------------------------------------------------------------------------------------


def test_entitlement_query_count_is_flat(api_client, org, week, django_assert_max_num_queries):
    api_client.force_authenticate(org.director)
    with django_assert_max_num_queries(10) as small:
        _ask(api_client, org.rep_a.email)
    for rep in UserFactory.create_batch(20, rep=True, team=org.alpha):
        SupportUsage.objects.create(period=week, rep=rep, hours=1, idempotency_key=f"k{rep.pk}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        _ask(api_client, org.rep_a.email)


def test_a_retry_after_the_period_ended_is_the_same_record(api_client, org, week, monkeypatch):
    api_client.force_authenticate(org.tp_lead)
    first = api_client.post(USAGE, _body(rep=org.rep_a.email))
    assert first.status_code == 201
    later = timezone.now() + timedelta(days=60)  # no period is open any more
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    retry = api_client.post(USAGE, _body(rep=org.rep_a.email))
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert SupportUsage.objects.count() == 1


@pytest.mark.parametrize("email", ["rep\x00@example.test", "not an email"])
def test_a_rep_that_is_no_email_is_a_400_not_a_500(api_client, org, week, email):
    # PostgreSQL cannot compare text holding a NUL (was a 500); the schema says format: email.
    api_client.force_authenticate(org.tp_lead)
    response = _ask(api_client, email)
    assert response.status_code == 400
    assert "rep" in response.json()
