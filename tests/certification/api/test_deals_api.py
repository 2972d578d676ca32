"""``POST /api/v1/deals/bulk/`` and ``GET /api/v1/manage/deals/``: enablement only, token
scopes, all or nothing with every rejected index, idempotent, limits."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.services import api_token_create
from certification.models import CurrencyRate, Deal
from tests.factories.accounts import UserFactory
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

BULK = "api-v1:deal-bulk"
LIST = "api-v1:manage-deal-list"
OTHER_ROLES = ["rep_a", "manager_a", "director", "admin", "tp_lead", "no_role"]


def _deal(opportunity_id="OPP-1", **extra):
    return {
        "opportunity_id": opportunity_id,
        "rep_email": "alice@acme.test",
        "amount": "1200.50",
        "currency": "EUR",
        "close_date": "2026-01-15",
        "stage": "Closed Won",
        **extra,
    }


@pytest.fixture
def alice(org, settings):
    settings.BASE_CURRENCY = "USD"
    CurrencyRate.objects.create(currency="EUR", rate_to_base=Decimal(2))
    return UserFactory(rep=True, email="alice@acme.test")


@pytest.fixture
def lead(api_client, org, alice):
    api_client.force_authenticate(org.enablement)
    return api_client


def _post(client, deals, query=""):
    return client.post(reverse(BULK) + query, deals, format="json")


def test_enablement_imports_a_list_and_the_same_list_again_changes_nothing(lead, alice):
    deals = [
        _deal(),
        _deal("OPP-2", amount=300, currency=None, stage="open"),
        _deal("OPP-3", amount=None, currency="", stage="lost"),
    ]
    # Keys are read like the CSV header: case and spaces do not matter.
    deals[2]["Rep Email"] = deals[2].pop("rep_email").upper()
    response = _post(lead, deals)
    assert response.status_code == 200
    assert response.json() == {
        "dry_run": False,
        "imported": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    first = Deal.objects.get(opportunity_id="OPP-1")
    assert (first.rep, first.amount_base, first.stage) == (alice, Decimal("2401.00"), "won")
    assert Deal.objects.get(opportunity_id="OPP-2").currency == "USD"
    again = _post(lead, deals).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)


def test_rejected_deals_are_listed_by_index_and_nothing_is_imported(lead):
    deals = [
        _deal(),
        _deal("OPP-2", rep_email="nobody@acme.test"),
        "not a deal",
        _deal("OPP-3", amount=True),
        _deal("OPP-4", close_date="15/01/2026"),
        _deal("OPP-1"),
        _deal("OPP-5", currency="JPY"),
        _deal("OPP-6", amount=-1),
        _deal("OPP-7", amount=None),
        _deal("OPP-8", stage="Negotiation"),
    ]
    response = _post(lead, deals)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "deals_rejected"
    assert body["detail"] == "9 of 10 deals were rejected; nothing was imported."
    assert body["rejected_count"] == 9
    assert [(r["index"], r["opportunity_id"], r["reason"]) for r in body["rejected"]] == [
        (1, "OPP-2", "unknown rep nobody@acme.test"),
        (2, "", "not an object"),
        (3, "OPP-3", "amount must be a string or a number"),
        (4, "OPP-4", "close date “15/01/2026” is not a date (write YYYY-MM-DD)"),
        (5, "OPP-1", "duplicate opportunity id (first at index 0)"),
        (6, "OPP-5", "currency JPY has no exchange rate (add one first)"),
        (7, "OPP-6", "amount -1 is negative"),
        (8, "OPP-7", "amount is missing on a won deal"),
        (9, "OPP-8", "stage “Negotiation” is unknown (use won, lost or open)"),
    ]
    assert not Deal.objects.exists()


def test_a_dry_run_counts_and_writes_nothing(lead):
    body = _post(lead, [_deal()], "?dry_run=true").json()
    assert (body["dry_run"], body["created"]) == (True, 1)
    assert not Deal.objects.exists()


@pytest.mark.parametrize("payload", [{"opportunity_id": "OPP-1"}, "text", 5])
def test_the_body_must_be_a_list(lead, payload):
    response = _post(lead, payload)
    assert response.status_code == 400
    assert not Deal.objects.exists()
    # Documented: the 400 schema is not only the rejected-deals shape.
    assert_matches_schema(response, "post", "/api/v1/deals/bulk/")


def test_only_json_is_accepted(lead):
    response = lead.post(reverse(BULK), {"opportunity_id": "OPP-1"}, format="multipart")
    assert response.status_code == 415


def test_the_size_and_row_limits(lead, settings):
    settings.DEALS_IMPORT_MAX_ROWS = 2
    response = _post(lead, [_deal("A"), _deal("B"), _deal("C")])
    assert response.status_code == 400
    assert response.json()["detail"].startswith("The import has 3 rows; the limit is 2.")
    assert response.json()["code"] == "too_many_rows"
    settings.DEALS_IMPORT_MAX_BYTES = 100
    response = _post(lead, [_deal("A"), _deal("B")])
    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert "the limit is 100 bytes" in response.json()["detail"]
    assert not Deal.objects.exists()


@pytest.mark.parametrize("who", OTHER_ROLES)
def test_other_roles_get_404_and_import_nothing(api_client, org, alice, who):
    api_client.force_authenticate(getattr(org, who))
    assert _post(api_client, [_deal()]).status_code == 404
    assert api_client.get(reverse(LIST)).status_code == 404
    assert not Deal.objects.exists()


def test_anonymous_is_refused(api_client, alice):
    assert _post(api_client, [_deal()]).status_code in {401, 403}
    assert api_client.get(reverse(LIST)).status_code in {401, 403}
    assert not Deal.objects.exists()


def test_a_read_only_token_cannot_import(api_client, org, alice):
    _token, raw = api_token_create(user=org.enablement, name="reader", scopes=["read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api_client.get(reverse(LIST)).status_code == 200
    assert _post(api_client, [_deal()]).status_code == 403
    assert not Deal.objects.exists()
    _token, raw = api_token_create(user=org.enablement, name="crm sync", scopes=["read", "write"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert _post(api_client, [_deal()]).status_code == 200
    assert Deal.objects.count() == 1


def test_the_list_pages_filters_and_keeps_its_query_count(
    lead, alice, django_assert_max_num_queries
):
    bob = UserFactory(rep=True, email="bob@acme.test", display_name="Bob Byrne")
    deals = [_deal(f"OPP-{i}", stage="won" if i % 2 else "open") for i in range(30)]
    deals += [_deal(f"BOB-{i}", rep_email="bob@acme.test") for i in range(5)]
    assert _post(lead, deals).status_code == 200
    with django_assert_max_num_queries(2):
        body = lead.get(reverse(LIST), {"page_size": 20}).json()
    assert len(body["results"]) == 20
    assert body["next"]
    row = body["results"][0]
    assert set(row) == {
        "id",
        "opportunity_id",
        "rep",
        "amount",
        "currency",
        "amount_base",
        "close_date",
        "stage",
        "imported_at",
        "updated_at",
    }
    by_bob = lead.get(reverse(LIST), {"q": "byrne"}).json()["results"]
    assert {r["rep"]["id"] for r in by_bob} == {bob.pk}
    assert len(by_bob) == 5
    open_deals = lead.get(reverse(LIST), {"stage": "open"}).json()["results"]
    assert len(open_deals) == 15
    assert lead.get(reverse(LIST), {"stage": "maybe"}).status_code == 400


def test_the_schema_documents_the_endpoints(lead):
    schema = json.dumps(lead.get(reverse("api-schema"), {"format": "json"}).json())
    assert "/api/v1/deals/bulk/" in schema
    assert "/api/v1/manage/deals/" in schema


@pytest.mark.parametrize("params", [{"q": "al\x00ice"}, {"stage": "won\x00"}])
def test_a_nul_in_a_list_filter_is_a_400_not_a_500(lead, params):
    # PostgreSQL cannot compare text holding a NUL; the filter refuses it first.
    response = lead.get(reverse(LIST), params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


@pytest.mark.parametrize("field", ["opportunity_id", "rep_email", "currency", "stage"])
def test_a_deal_with_a_nul_is_rejected_not_a_500(lead, field):
    deal = _deal()
    deal[field] = f"{deal[field][:2]}\x00{deal[field][2:]}"
    response = _post(lead, [_deal("OPP-0"), deal])
    assert response.status_code == 400
    assert response.json()["rejected"] == [
        {"index": 1, "opportunity_id": "OPP-1", "reason": "a value holds a NUL character"}
    ]
    assert not Deal.objects.exists()
