"""Importing deals: every bad row reported and nothing imported, upserts that make a second
import change nothing, conversion into the base currency, recomputing only the reps whose
deals changed, limits, and a query count that does not grow with the rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from accounts.models import AuditEvent, User
from certification.importers.deals import DealRow
from certification.models import CurrencyRate, Deal, DealColumnMapping, RepTier
from certification.services.deals import (
    currency_rate_set,
    deal_mapping_save,
    deals_import,
    deals_import_file,
)
from config.errors import ApplicationError
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parents[1] / "importers" / "files"
GOOD = (FILES / "deals_good.csv").read_bytes()
BAD = (FILES / "deals_bad.csv").read_bytes()
HEADER = "opportunity_id,rep_email,amount,currency,close_date,stage"


@dataclass
class Crm:
    alice: User
    bob: User
    manager: User


@pytest.fixture
def crm(settings) -> Crm:
    settings.BASE_CURRENCY = "USD"
    CurrencyRate.objects.create(currency="EUR", rate_to_base=Decimal("1.10"))
    return Crm(
        alice=UserFactory(rep=True, email="alice@acme.test"),
        bob=UserFactory(rep=True, email="bob@acme.test"),
        manager=UserFactory(manager=True, email="manager@acme.test"),
    )


def _import(data: bytes, **kwargs):
    return deals_import_file(data=data, dry_run=kwargs.pop("dry_run", False), actor=None, **kwargs)


def _csv(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def _state() -> list[tuple]:
    return list(
        Deal.objects.order_by("opportunity_id").values_list(
            "opportunity_id",
            "rep_id",
            "amount",
            "currency",
            "amount_base",
            "close_date",
            "stage",
            "imported_at",
            "updated_at",
        )
    )


def test_a_good_file_creates_every_deal_converted_into_the_base_currency(crm):
    result = _import(GOOD)
    assert (result.created, result.updated, result.unchanged, result.rejected) == (5, 0, 0, [])
    assert result.summary == "imported 5 deals (5 created, 0 updated), rejected 0 rows"
    deals = {deal.opportunity_id: deal for deal in Deal.objects.all()}
    euro = deals["OPP-1002"]
    assert (euro.rep, euro.stage, euro.currency) == (crm.bob, "won", "EUR")
    assert (euro.amount, euro.amount_base) == (Decimal("8500.50"), Decimal("9350.55"))
    assert deals["OPP-1001"].amount_base == Decimal(12000)
    assert (deals["OPP-1003"].amount, deals["OPP-1003"].amount_base) == (None, None)
    assert deals["OPP-1003"].stage == "open"
    assert (deals["OPP-1004"].currency, deals["OPP-1004"].stage) == ("USD", "lost")
    assert deals["OPP-1001"].close_date == date(2026, 1, 15)
    # A cell a spreadsheet would run is stored as the text it is.
    assert '=HYPERLINK("http://evil.test","Open")' in deals
    event = AuditEvent.objects.get(action="deals.imported")
    assert event.changes == {"source": "file", "created": 5, "updated": 0, "unchanged": 0}


def test_the_same_file_twice_changes_nothing(crm, django_capture_on_commit_callbacks):
    _import(GOOD)
    before = _state()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = _import(GOOD)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert again.summary == "imported 5 deals (0 created, 0 updated), rejected 0 rows"
    assert _state() == before
    assert callbacks == []  # no recompute
    assert AuditEvent.objects.filter(action="deals.imported").count() == 1


def test_every_bad_row_is_reported_with_its_row_and_reason_and_nothing_is_imported(crm):
    result = _import(BAD)
    assert [(e.row, e.opportunity_id, e.reason) for e in result.rejected] == [
        (3, "OPP-2002", "unknown rep nobody@acme.test"),
        (4, "OPP-2003", "amount is missing on a won deal"),
        (5, "OPP-2004", "amount -50 is negative"),
        (6, "OPP-2005", "close date “31/01/2026” is not a date (write YYYY-MM-DD)"),
        (7, "OPP-2006", "stage “Negotiation” is unknown (use won, lost or open)"),
        (8, "OPP-2001", "duplicate opportunity id (first at row 2)"),
        (9, "OPP-2007", "currency JPY has no exchange rate (add one first)"),
        (10, "OPP-2008", "unknown rep manager@acme.test"),  # not a rep
        (11, "OPP-2009", "amount “twelve” is not a number"),
        (12, "", "opportunity id is missing"),
    ]
    assert result.summary == "imported 0 deals (0 created, 0 updated), rejected 10 rows"
    assert not Deal.objects.exists()  # not even row 2, which is fine
    assert not AuditEvent.objects.filter(action="deals.imported").exists()


def test_a_row_with_several_problems_lists_them_all(crm):
    [error] = _import(_csv("OPP-1,x@y.test,-3,XYZ,2026-13-01,maybe")).rejected
    assert error.reason == (
        "unknown rep x@y.test; stage “maybe” is unknown (use won, lost or open); "
        "amount -3 is negative; currency XYZ has no exchange rate (add one first); "
        "close date “2026-13-01” is not a date (write YYYY-MM-DD)"
    )


@pytest.mark.parametrize("stage", ["open", "lost"])
def test_open_and_lost_deals_may_have_no_amount_but_never_a_negative_one(crm, stage):
    assert _import(_csv(f"OPP-1,alice@acme.test,,USD,2026-01-01,{stage}")).created == 1
    [error] = _import(_csv(f"OPP-2,alice@acme.test,-1,USD,2026-01-01,{stage}")).rejected
    assert error.reason == "amount -1 is negative"


def test_a_won_deal_of_zero_is_fine(crm):
    assert _import(_csv("OPP-1,alice@acme.test,0,USD,2026-01-01,won")).created == 1


def test_reps_are_matched_by_email_in_any_case(crm):
    result = _import(_csv("OPP-1,ALICE@Acme.Test,5,USD,2026-01-01,won"))
    assert Deal.objects.get().rep == crm.alice
    assert result.rep_ids == [crm.alice.pk]


def test_a_changed_row_updates_its_deal_and_only_its_rep_is_recomputed(
    crm, django_capture_on_commit_callbacks
):
    _import(GOOD)
    before = {row[0]: row for row in _state()}
    changed = GOOD.replace(b"OPP-1004,bob@acme.test,3000", b"OPP-1004,bob@acme.test,3500")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = _import(changed)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    assert result.rep_ids == [crm.bob.pk]
    assert len(callbacks) == 1
    # The Celery task ran (eagerly, after commit) for Bob only.
    assert list(RepTier.objects.values_list("rep_id", flat=True)) == [crm.bob.pk]
    deal = Deal.objects.get(opportunity_id="OPP-1004")
    assert deal.amount == Decimal(3500)
    assert deal.imported_at == before["OPP-1004"][7]
    assert deal.updated_at > before["OPP-1004"][8]
    untouched = Deal.objects.get(opportunity_id="OPP-1001")
    assert untouched.updated_at == before["OPP-1001"][8]


def test_a_deal_moved_to_another_rep_recomputes_both(crm, django_capture_on_commit_callbacks):
    _import(_csv("OPP-1,alice@acme.test,5,USD,2026-01-01,won"))
    with django_capture_on_commit_callbacks(execute=True):
        result = _import(_csv("OPP-1,bob@acme.test,5,USD,2026-01-01,won"))
    assert result.updated == 1
    assert result.rep_ids == sorted([crm.alice.pk, crm.bob.pk])
    assert set(RepTier.objects.values_list("rep_id", flat=True)) == {crm.alice.pk, crm.bob.pk}


def test_new_deals_recompute_their_reps_after_commit(crm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _import(_csv("OPP-1,alice@acme.test,5,USD,2026-01-01,won"))
        assert not RepTier.objects.exists()  # nothing before the commit
    assert len(callbacks) == 1


def test_a_dry_run_counts_and_writes_nothing(crm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = _import(GOOD, dry_run=True)
    assert (result.dry_run, result.created, result.updated) == (True, 5, 0)
    assert not Deal.objects.exists()
    assert callbacks == []
    _import(GOOD)
    changed = GOOD.replace(b"12000", b"13000")
    result = _import(changed, dry_run=True)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    assert Deal.objects.get(opportunity_id="OPP-1001").amount == Decimal(12000)


def test_a_rate_change_converts_again_at_the_next_import(crm):
    _import(GOOD)
    currency_rate_set(currency="EUR", rate_to_base=Decimal("1.2"), actor=None)
    result = _import(GOOD)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 4)
    assert Deal.objects.get(opportunity_id="OPP-1002").amount_base == Decimal("10200.60")


def test_the_row_and_size_limits(crm, settings):
    settings.DEALS_IMPORT_MAX_ROWS = 4
    with pytest.raises(ApplicationError) as error:
        _import(GOOD)
    assert error.value.message.startswith("The file has 5 rows; the limit is 4.")
    rows = [
        DealRow(i, f"OPP-{i}", "alice@acme.test", "1", "", "2026-01-01", "won") for i in range(5)
    ]
    with pytest.raises(ApplicationError, match=r"The import has 5 rows; the limit is 4\."):
        deals_import(rows, dry_run=False, actor=None)
    settings.DEALS_IMPORT_MAX_ROWS = 5
    settings.DEALS_IMPORT_MAX_BYTES = 100
    with pytest.raises(ApplicationError) as error:
        _import(GOOD)
    assert error.value.message.startswith(f"The file is {len(GOOD)} bytes; the limit is 100 bytes.")
    assert not Deal.objects.exists()


def test_the_query_count_does_not_grow_with_the_rows(crm, django_assert_max_num_queries):
    reps = [UserFactory(rep=True, email=f"rep{i}@acme.test") for i in range(30)]
    lines = [f"OPP-{i},{reps[i % 30].email},{i},EUR,2026-01-01,won" for i in range(900)]
    # validation: reps, rates; existing deals; one INSERT; audit; its content type; savepoint
    with django_assert_max_num_queries(10):
        assert _import(_csv(*lines)).created == 900
    updated = [line.replace(",EUR,", ",USD,") for line in lines]
    with django_assert_max_num_queries(10):
        assert _import(_csv(*updated)).updated == 900


def test_an_import_with_a_saved_mapping(crm):
    mapping = deal_mapping_save(
        name="Salesforce opportunities",
        columns={
            "opportunity_id": "Opportunity ID",
            "rep_email": "Owner Email",
            "amount": "Amount",
            "currency": "Currency Code",
            "close_date": "Close Date",
            "stage": "Stage Name",
        },
        actor=crm.manager,
    )
    data = (
        b"Account,Opportunity ID,Owner Email,Amount,Currency Code,Close Date,Stage Name\n"
        b"Acme,006A1,alice@acme.test,100,EUR,2026-01-05,Closed Won\n"
    )
    result = _import(data, mapping=mapping.columns)
    assert result.created == 1
    assert Deal.objects.get().amount_base == Decimal("110.00")


def test_saving_a_mapping_checks_it_and_replaces_one_of_the_same_name(crm):
    columns = {
        "opportunity_id": "Id",
        "rep_email": "Owner",
        "amount": "Amount",
        "close_date": "Closed",
        "stage": "Stage",
    }
    first = deal_mapping_save(name="CRM", columns=columns, actor=None)
    second = deal_mapping_save(name=" crm ", columns={**columns, "amount": "Value"}, actor=None)
    assert first.pk == second.pk
    assert DealColumnMapping.objects.get().columns["amount"] == "Value"
    with pytest.raises(ApplicationError, match="Choose a column for rep email"):
        deal_mapping_save(name="X", columns={**columns, "rep_email": ""}, actor=None)
    with pytest.raises(ApplicationError, match="chosen for both amount and stage"):
        deal_mapping_save(name="X", columns={**columns, "stage": "Amount"}, actor=None)
    with pytest.raises(ApplicationError, match="Unknown fields: owner"):
        deal_mapping_save(name="X", columns={**columns, "owner": "Owner"}, actor=None)
    with pytest.raises(ApplicationError, match="Name the mapping"):
        deal_mapping_save(name=" ", columns=columns, actor=None)


def test_currency_rates(crm):
    rate = currency_rate_set(currency=" gbp ", rate_to_base=Decimal("1.27"), actor=crm.manager)
    assert (rate.currency, rate.rate_to_base) == ("GBP", Decimal("1.27"))
    currency_rate_set(currency="GBP", rate_to_base=Decimal("1.25"), actor=crm.manager)
    assert CurrencyRate.objects.get(currency="GBP").rate_to_base == Decimal("1.25")
    events = AuditEvent.objects.filter(action="currency_rate.set").order_by("pk")
    assert [e.changes["to"] for e in events] == ["1.27", "1.25"]
    currency_rate_set(currency="GBP", rate_to_base=Decimal("1.25"), actor=crm.manager)
    assert events.count() == 2  # unchanged: not audited again
    for currency, rate, message in [
        ("USD", "1", "USD is the base currency"),
        ("EURO", "1", "3-letter code"),
        ("CHF", "0", "positive number"),
        ("CHF", "-1", "positive number"),
        ("CHF", "1.123456789", "at most 8 decimal places"),
    ]:
        with pytest.raises(ApplicationError, match=message):
            currency_rate_set(currency=currency, rate_to_base=Decimal(rate), actor=None)
