"""``import_deals FILE [--dry-run] [--mapping NAME]``: one line per rejected row, the summary
last, exit status 1 when a row is rejected, and nothing imported then."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from certification.models import CurrencyRate, Deal, DealColumnMapping
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

FILES = Path(__file__).parents[1] / "importers" / "files"
GOOD = FILES / "deals_good.csv"
BAD = FILES / "deals_bad.csv"


@pytest.fixture(autouse=True)
def crm(settings):
    settings.BASE_CURRENCY = "USD"
    CurrencyRate.objects.create(currency="EUR", rate_to_base=Decimal("1.10"))
    UserFactory(rep=True, email="alice@acme.test")
    UserFactory(rep=True, email="bob@acme.test")
    UserFactory(manager=True, email="manager@acme.test")


def _run(*args: str) -> list[str]:
    out = StringIO()
    call_command("import_deals", *args, stdout=out)
    return out.getvalue().splitlines()


def _fails(*args: str) -> list[str]:
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_deals", *args, stdout=out)
    assert exit_.value.code == 1
    return out.getvalue().splitlines()


def test_a_good_file_then_the_same_file_again(capsys):
    assert _run(str(GOOD)) == ["imported 5 deals (5 created, 0 updated), rejected 0 rows"]
    assert Deal.objects.count() == 5
    assert _run(str(GOOD)) == [
        "5 deals were already up to date",
        "imported 5 deals (0 created, 0 updated), rejected 0 rows",
    ]
    assert Deal.objects.count() == 5


def test_a_bad_file_lists_every_row_imports_nothing_and_exits_1():
    lines = _fails(str(BAD))
    assert lines == [
        "row 3 (OPP-2002): unknown rep nobody@acme.test",
        "row 4 (OPP-2003): amount is missing on a won deal",
        "row 5 (OPP-2004): amount -50 is negative",
        "row 6 (OPP-2005): close date “31/01/2026” is not a date (write YYYY-MM-DD)",
        "row 7 (OPP-2006): stage “Negotiation” is unknown (use won, lost or open)",
        "row 8 (OPP-2001): duplicate opportunity id (first at row 2)",
        "row 9 (OPP-2007): currency JPY has no exchange rate (add one first)",
        "row 10 (OPP-2008): unknown rep manager@acme.test",
        "row 11 (OPP-2009): amount “twelve” is not a number",
        "row 12: opportunity id is missing",
        "nothing was imported: fix these rows and import the file again",
        "imported 0 deals (0 created, 0 updated), rejected 10 rows",
    ]
    assert not Deal.objects.exists()


def test_a_dry_run_reports_and_writes_nothing():
    assert _run(str(GOOD), "--dry-run") == [
        "(dry run: nothing was written)",
        "imported 5 deals (5 created, 0 updated), rejected 0 rows",
    ]
    assert not Deal.objects.exists()
    assert _fails(str(BAD), "--dry-run")[-2:] == [
        "(dry run: nothing was written)",
        "imported 0 deals (0 created, 0 updated), rejected 10 rows",
    ]


def test_a_saved_mapping(tmp_path):
    DealColumnMapping.objects.create(
        name="Salesforce",
        columns={
            "opportunity_id": "Opportunity ID",
            "rep_email": "Owner Email",
            "amount": "Amount",
            "close_date": "Close Date",
            "stage": "Stage Name",
        },
    )
    path = tmp_path / "export.csv"
    path.write_text(
        "Opportunity ID,Owner Email,Amount,Close Date,Stage Name\n"
        "006A,alice@acme.test,100,2026-01-01,Closed Won\n"
    )
    with pytest.raises(CommandError, match="no column for rep email, currency, stage"):
        _run(str(path))
    assert _run(str(path), "--mapping", "salesforce")[-1] == (
        "imported 1 deals (1 created, 0 updated), rejected 0 rows"
    )
    with pytest.raises(CommandError, match="No column mapping named 'HubSpot'"):
        _run(str(path), "--mapping", "HubSpot")


def test_files_it_cannot_read(tmp_path, settings):
    with pytest.raises(CommandError, match="Cannot read"):
        _run(str(tmp_path / "missing.csv"))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(GOOD.read_bytes().replace(b"alice", b"al\xefce"))
    with pytest.raises(CommandError, match=r"not UTF-8 .* Nothing was imported\."):
        _run(str(latin1))
    settings.DEALS_IMPORT_MAX_ROWS = 3
    with pytest.raises(CommandError, match=r"The file has 5 rows; the limit is 3\."):
        _run(str(GOOD))
    assert not Deal.objects.exists()
