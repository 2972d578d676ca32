"""Enablement's deal pages: who may use them, the upload with its preview, column mapping and
rejected rows, the export that neutralises formulas, exchange rates, and query counts."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from certification.models import CurrencyRate, Deal, DealColumnMapping
from certification.services.deals import deals_import_file
from tests.conftest import Org
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parents[1] / "importers" / "files"
GOOD = (FILES / "deals_good.csv").read_bytes()
BAD = (FILES / "deals_bad.csv").read_bytes()
SALESFORCE = (
    b"Account Name,Opportunity ID,Owner Email,Amount,Currency Code,Close Date,Stage Name\r\n"
    b"Acme,006A1,alice@acme.test,100,EUR,2026-01-05,Closed Won\r\n"
    b"Globex,006A2,bob@acme.test,,USD,2026-02-05,Open\r\n"
)
OTHER_ROLES = ["rep_a", "manager_a", "director", "admin", "tp_lead", "no_role"]
IMPORT = "certification:manage_deal_import"


@pytest.fixture
def rate(org: Org, settings) -> CurrencyRate:
    settings.BASE_CURRENCY = "USD"
    UserFactory(rep=True, email="alice@acme.test", display_name="Alice Archer")
    UserFactory(rep=True, email="bob@acme.test", display_name="Bob Byrne")
    UserFactory(manager=True, email="manager@acme.test")
    return CurrencyRate.objects.create(currency="EUR", rate_to_base=Decimal("1.10"))


@pytest.fixture
def lead(client, org: Org, rate):
    client.force_login(org.enablement)
    return client


def _pages(rate: CurrencyRate) -> list[str]:
    return [
        reverse("certification:manage_deals"),
        reverse(IMPORT),
        reverse("certification:manage_deal_export"),
        reverse("certification:manage_deal_rates"),
        reverse("certification:manage_deal_rate_edit", args=[rate.pk]),
    ]


def _upload(client, content: bytes, name: str = "deals.csv", mapping: str = ""):
    return client.post(
        reverse(IMPORT),
        {"action": "upload", "file": SimpleUploadedFile(name, content), "mapping": mapping},
    )


def _post(client, action: str, token: str, **data):
    return client.post(reverse(IMPORT), {"action": action, "token": token, **data})


def _token(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "the page offers no next step"
    return match[1]


def _cache_keys() -> list[str]:
    return list(cache._cache)  # LocMemCache, as the test settings configure


def _export(client, query: dict | None = None) -> tuple[str, list[list[str]]]:
    response = client.get(reverse("certification:manage_deal_export"), query or {})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return text, list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


# Who may use the pages --------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, rate):
    for url in _pages(rate):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    response = _upload(client, GOOD)
    assert response["Location"].startswith(reverse("accounts:login"))
    assert not Deal.objects.exists()


@pytest.mark.parametrize("viewer", OTHER_ROLES)
def test_other_roles_get_404_and_change_nothing(client, org, rate, viewer):
    client.force_login(getattr(org, viewer))
    for url in _pages(rate):
        assert client.get(url).status_code == 404
        assert client.post(url, {"currency": "GBP", "rate_to_base": "9"}).status_code == 404
    assert _upload(client, GOOD).status_code == 404
    assert not Deal.objects.exists()
    assert not CurrencyRate.objects.filter(currency="GBP").exists()
    rate.refresh_from_db()
    assert rate.rate_to_base == Decimal("1.10")


def test_enablement_opens_every_page_without_inline_scripts_or_styles(lead, rate):
    for url in _pages(rate):
        response = lead.get(url)
        assert response.status_code == 200
        if url.endswith(".csv"):
            continue
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        page = response.content.decode()
        assert "<script>" not in page
        assert ' style="' not in page


def test_the_home_panel_links_to_the_deals(lead):
    page = lead.get(reverse("certification:home")).content.decode()
    assert reverse("certification:manage_deals") in page


# The list ---------------------------------------------------------------------------------------


def test_the_list_keeps_its_query_count_and_filters(lead, django_assert_num_queries):
    deals_import_file(data=GOOD, dry_run=False, actor=None)
    url = reverse("certification:manage_deals")
    # session, user, count, page, the unread count in the navigation
    with django_assert_num_queries(5) as few:
        lead.get(url)
    many = [f"OPP-{i},alice@acme.test,{i},USD,2026-01-01,won" for i in range(120)]
    deals_import_file(
        data=(
            "opportunity_id,rep_email,amount,currency,close_date,stage\n" + "\n".join(many)
        ).encode(),
        dry_run=False,
        actor=None,
    )
    with django_assert_num_queries(len(few.captured_queries)):
        response = lead.get(url)
    assert response.context["page"].paginator.count == 125
    page = lead.get(url, {"q": "byrne"}).content.decode()
    assert "OPP-1002" in page
    assert "OPP-1001" not in page
    page = lead.get(url, {"stage": "open"}).content.decode()
    assert "OPP-1003" in page
    assert "OPP-1004" not in page


# Upload -----------------------------------------------------------------------------------------


def test_upload_previews_then_imports_then_changes_nothing_again(lead, org):
    preview = _upload(lead, GOOD, name="q4-pipeline-secret.csv")
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "Preview of q4-pipeline-secret.csv" in page
    assert re.search(r'<span class="figure">5</span> new deals', page)
    assert "Import 5 deals" in page
    assert not Deal.objects.exists()
    [key] = _cache_keys()
    token = _token(preview)
    assert f":{org.enablement.pk}:{token}" in key
    assert "secret" not in key

    response = _post(lead, "confirm", token)
    assert response["Location"] == reverse("certification:manage_deals")
    assert Deal.objects.count() == 5
    assert _cache_keys() == []
    messages = [str(m) for m in lead.get(response["Location"]).context["messages"]]
    assert messages == [
        "Imported 5 deals from q4-pipeline-secret.csv: 5 created, 0 updated, 0 already up to date."
    ]
    assert "expired or is not yours" in _post(lead, "confirm", token).content.decode()

    again = _upload(lead, GOOD).content.decode()
    assert "Nothing to change" in again
    assert 'name="token"' not in again
    assert _cache_keys() == []


def test_a_file_with_bad_rows_lists_each_and_imports_nothing(lead):
    response = _upload(lead, BAD)
    page = response.content.decode()
    assert "10 rows of deals.csv rejected" in page
    assert "Nothing was imported." in page
    assert '<td class="num">3</td><td>OPP-2002</td><td>Unknown rep nobody@acme.test</td>' in page
    assert "Duplicate opportunity id (first at row 2)" in page
    assert "Currency JPY has no exchange rate" in page
    assert not Deal.objects.exists()
    assert _cache_keys() == []


def test_unmapped_columns_are_mapped_saved_and_the_mapping_reused(lead):
    response = _upload(lead, SALESFORCE, name="salesforce.csv")
    page = response.content.decode()
    assert "Map the columns of salesforce.csv" in page
    assert "no column for rep email, currency, stage" in page
    # The columns that match a field are chosen already.
    assert re.search(r'<option value="Opportunity ID" selected>', page)
    token = _token(response)
    choices = {
        "opportunity_id": "Opportunity ID",
        "rep_email": "Owner Email",
        "amount": "Amount",
        "currency": "Currency Code",
        "close_date": "Close Date",
        "stage": "Stage Name",
    }
    # A column chosen twice is refused on the field.
    twice = _post(lead, "map", token, **{**choices, "stage": "Amount"}).content.decode()
    assert "chosen for both amount and stage" in twice
    preview = _post(lead, "map", token, **choices, save_as="Salesforce opportunities")
    assert "Import 2 deals" in preview.content.decode()
    mapping = DealColumnMapping.objects.get()
    assert (mapping.name, mapping.columns) == ("Salesforce opportunities", choices)
    assert _post(lead, "confirm", _token(preview)).status_code == 302
    assert Deal.objects.get(opportunity_id="006A1").amount_base == Decimal("110.00")

    # Next time, choosing the saved mapping goes straight to the preview.
    reused = _upload(lead, SALESFORCE.replace(b",100,", b",120,"), mapping=str(mapping.pk))
    assert re.search(r'<span class="figure">1</span> to update', reused.content.decode())


def test_a_mapping_may_leave_out_the_currency(lead):
    data = b"Id,Owner,Value,Closed,Stage\n1,alice@acme.test,10,2026-01-01,won\n"
    token = _token(_upload(lead, data))
    choices = {"opportunity_id": "Id", "rep_email": "Owner", "amount": "Value", "currency": ""}
    preview = _post(lead, "map", token, **choices, close_date="Closed", stage="Stage")
    assert _post(lead, "confirm", _token(preview)).status_code == 302
    assert Deal.objects.get().currency == "USD"


def test_cancelling_drops_the_file(lead):
    token = _token(_upload(lead, GOOD))
    response = _post(lead, "cancel", token)
    assert response["Location"] == reverse(IMPORT)
    assert _cache_keys() == []
    assert not Deal.objects.exists()


def test_a_token_is_only_good_for_its_uploader(client, org, rate):
    client.force_login(org.enablement)
    token = _token(_upload(client, GOOD))
    client.force_login(UserFactory(enablement=True))
    assert "expired or is not yours" in _post(client, "confirm", token).content.decode()
    assert "expired or is not yours" in _post(client, "map", token).content.decode()
    assert not Deal.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (GOOD.replace(b"alice", b"al\xefce"), "The file is not UTF-8 (byte 0xef on line 2)"),
        (b"", "The file is empty."),
        (b"opportunity_id,rep_email,amount,currency,close_date,stage\n", "header but no deals"),
    ],
)
def test_files_that_cannot_be_read_say_why(lead, content, message):
    response = _upload(lead, content)
    page = response.content.decode()
    assert "Nothing was imported." in page or "The submitted file is empty." in page
    if content:
        assert message in page
    assert not Deal.objects.exists()
    assert _cache_keys() == []


def test_bom_crlf_and_any_header_order_upload_fine(lead):
    data = (
        b"\xef\xbb\xbf"
        b"Stage,Close Date,Currency,Amount,Rep Email,Opportunity ID,Notes\r\n"
        b"won,2026-01-01,eur,10,ALICE@acme.test,OPP-9,hello\r\n"
    )
    preview = _upload(lead, data)
    assert _post(lead, "confirm", _token(preview)).status_code == 302
    assert Deal.objects.get().amount_base == Decimal("11.00")


def test_the_size_and_row_limits(lead, settings):
    settings.DEALS_IMPORT_MAX_ROWS = 4
    page = _upload(lead, GOOD).content.decode()
    assert "The file has 5 rows; the limit is 4." in page
    settings.DEALS_IMPORT_MAX_BYTES = 1024 * 1024
    big = GOOD + b"x" * (1024 * 1024)
    page = _upload(lead, big).content.decode()
    assert "The file is larger than the 1 MB limit." in page
    assert not Deal.objects.exists()
    assert _cache_keys() == []


def test_the_import_page_still_checks_the_csrf_token(org, rate):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.enablement)
    url = reverse(IMPORT)
    data = {"action": "upload", "file": SimpleUploadedFile("d.csv", GOOD)}
    assert client.post(url, data).status_code == 403
    client.get(url)
    data["file"] = SimpleUploadedFile("d.csv", GOOD)
    response = client.post(url, data, headers={"X-CSRFToken": client.cookies["csrftoken"].value})
    assert "Import 5 deals" in response.content.decode()


# Export -----------------------------------------------------------------------------------------


def test_the_export_neutralises_formulas_and_the_stored_text_stays(lead):
    deals_import_file(data=GOOD, dry_run=False, actor=None)
    formula = '=HYPERLINK("http://evil.test","Open")'
    plus_lines = "opportunity_id,rep_email,amount,currency,close_date,stage\n"
    plus_lines += (
        "+1 555,alice@acme.test,5,USD,2026-01-02,won\n@SUM(A1),bob@acme.test,,USD,2026-01-03,open\n"
    )
    plus_lines += "-OPP,bob@acme.test,,USD,2026-01-04,lost\n"
    deals_import_file(data=plus_lines.encode(), dry_run=False, actor=None)
    text, rows = _export(lead)
    assert text.startswith("\ufeffopportunity_id,rep_email,amount,currency,close_date,stage,")
    assert rows[0] == [
        "opportunity_id",
        "rep_email",
        "amount",
        "currency",
        "close_date",
        "stage",
        "rep_name",
        "amount_usd",
    ]
    ids = {row[0] for row in rows[1:]}
    assert "'" + formula in ids
    assert {"'+1 555", "'@SUM(A1)", "'-OPP"} <= ids
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert Deal.objects.filter(opportunity_id=formula).exists()  # stored as imported
    euro = next(row for row in rows if row[0] == "OPP-1002")
    assert euro == [
        "OPP-1002",
        "bob@acme.test",
        "8500.50",
        "EUR",
        "2026-02-01",
        "won",
        "Bob Byrne",
        "9350.55",
    ]


def test_the_export_follows_the_filters_and_reads_in_a_fixed_number_of_queries(
    lead, django_assert_max_num_queries
):
    deals_import_file(data=GOOD, dry_run=False, actor=None)
    with django_assert_max_num_queries(3):
        _text, rows = _export(lead, {"stage": "won"})
    assert {row[5] for row in rows[1:]} == {"won"}
    assert len(rows) == 1 + 3


# Exchange rates ---------------------------------------------------------------------------------


def test_rates_are_added_and_edited(lead, rate):
    url = reverse("certification:manage_deal_rates")
    response = lead.post(url, {"currency": "gbp", "rate_to_base": "1.27"})
    assert response["Location"] == url
    assert CurrencyRate.objects.get(currency="GBP").rate_to_base == Decimal("1.27")
    page = lead.post(url, {"currency": "USD", "rate_to_base": "1"}).content.decode()
    assert "USD is the base currency" in page
    edit = reverse("certification:manage_deal_rate_edit", args=[rate.pk])
    assert lead.post(edit, {"rate_to_base": "1.2"})["Location"] == url
    rate.refresh_from_db()
    assert rate.rate_to_base == Decimal("1.2")
    assert "greater than or equal" in lead.post(edit, {"rate_to_base": "0"}).content.decode()
    assert lead.get(reverse("certification:manage_deal_rate_edit", args=[99999])).status_code == 404
