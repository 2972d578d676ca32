"""The deals CSV reader: headers in any case and order, BOM and CRLF, spreadsheet row numbers,
clear refusals of files it cannot read, and the value parsers every entry point shares."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from certification.importers.deals import (
    CellError,
    DealFileError,
    DealRow,
    MissingColumnsError,
    check_size,
    column_positions,
    header_key,
    neutralise,
    parse_amount,
    parse_close_date,
    parse_currency,
    parse_stage,
    read_deals,
    read_header,
)

FILES = Path(__file__).parent / "files"
HEADER = "opportunity_id,rep_email,amount,currency,close_date,stage"


def _csv(*lines: str, newline: str = "\n") -> bytes:
    return newline.join(lines).encode() + newline.encode()


def _read(data: bytes, **kwargs) -> list[DealRow]:
    return read_deals(data, max_rows=kwargs.pop("max_rows", 1000), **kwargs)


def test_the_canonical_file_reads_into_rows_numbered_as_a_spreadsheet_shows_them():
    rows = _read((FILES / "deals_good.csv").read_bytes())
    assert [row.row for row in rows] == [2, 3, 4, 5, 6]
    assert rows[1] == DealRow(
        row=3,
        opportunity_id="OPP-1002",
        rep_email="Bob@Acme.test",
        amount="8,500.50",
        currency="eur",
        close_date="2026-02-01",
        stage="Closed Won",
    )
    assert rows[2].amount == ""  # an open deal without an amount
    assert rows[4].opportunity_id == '=HYPERLINK("http://evil.test","Open")'  # text, as written


def test_bom_crlf_case_spaces_order_and_extra_columns_do_not_matter():
    data = b"\xef\xbb\xbf" + _csv(
        " Stage , Account Name,Close Date, AMOUNT ,Opportunity ID,Currency,REP_EMAIL,Notes",
        'Closed Won,Acme Corp,2026-01-15,1200,OPP-1,usd,a@x.test,"two\r\nlines"',
        "open,Globex,2026-02-01,,OPP-2,,b@x.test,",
        newline="\r\n",
    )
    rows = _read(data)
    assert rows == [
        DealRow(2, "OPP-1", "a@x.test", "1200", "usd", "2026-01-15", "Closed Won"),
        DealRow(3, "OPP-2", "b@x.test", "", "", "2026-02-01", "open"),
    ]


def test_a_quoted_cell_over_several_lines_is_one_row_and_blank_rows_keep_their_number():
    data = _csv(
        HEADER + ",notes",
        'OPP-1,a@x.test,10,USD,2026-01-01,won,"first\nsecond\nthird"',
        "",
        ",,,,,",
        "OPP-2,a@x.test,10,USD,2026-01-01,won,",
    )
    assert [(row.row, row.opportunity_id) for row in _read(data)] == [(2, "OPP-1"), (5, "OPP-2")]


def test_short_rows_read_missing_cells_as_blank():
    [row] = _read(_csv(HEADER, "OPP-1,a@x.test"))
    assert (row.amount, row.currency, row.close_date, row.stage) == ("", "", "", "")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("Opportunity ID", "opportunity_id"),
        ("  rep-email ", "rep_email"),
        ("CLOSE_DATE", "close_date"),
        ("close   date", "close_date"),
        ("Stage", "stage"),
    ],
)
def test_header_names_are_read_like_field_names(raw, field):
    assert header_key(raw) == field


def test_a_missing_column_names_the_fields_and_the_files_header():
    data = _csv("Opportunity ID,Owner Email,Amount,Currency Code,Close Date,Stage Name", "x")
    with pytest.raises(MissingColumnsError) as error:
        _read(data)
    assert error.value.missing == ["rep_email", "currency", "stage"]
    assert error.value.header[1] == "Owner Email"
    assert "no column for rep email, currency, stage" in error.value.message
    assert HEADER in error.value.message


def test_a_mapping_names_the_files_columns_and_may_leave_out_the_currency():
    data = _csv(
        "Opportunity ID,Owner Email,Amount,Close Date,Stage Name", "OPP-1,a@x.test,5,2026-01-01,Won"
    )
    mapping = {"rep_email": "owner email", "stage": "Stage Name"}
    [row] = _read(data, mapping=mapping)
    assert (row.rep_email, row.stage, row.currency) == ("a@x.test", "Won", "")
    with pytest.raises(MissingColumnsError):
        _read(data, mapping={"rep_email": "Owner Email", "stage": "Pipeline Stage"})


def test_without_a_mapping_the_currency_column_is_required():
    # A currency column under another name must not read every deal as the base currency.
    data = _csv(
        "opportunity_id,rep_email,amount,close_date,stage", "OPP-1,a@x.test,5,2026-01-01,won"
    )
    with pytest.raises(MissingColumnsError) as error:
        _read(data)
    assert error.value.missing == ["currency"]


def test_two_columns_for_one_field_are_refused():
    with pytest.raises(DealFileError, match=r"2 columns for amount \(“amount”, “Amount”\)"):
        column_positions([*HEADER.split(","), "Amount"], None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\r\n", "The file is empty."),
        (_csv(HEADER), "The file has a header but no deals."),
        (_csv(HEADER, ",,,,,"), "The file has a header but no deals."),
        (
            _csv(HEADER, "OPP-1,a@x.test,5,EUR,2026-01-01,won").replace(b"a@x", b"\xe9@x"),
            "The file is not UTF-8 (byte 0xe9 on line 2). Save it as “CSV UTF-8”",
        ),
        ("opportunity_id".encode("utf-16"), "The file is UTF-16, not UTF-8."),
        (
            _csv(HEADER.replace(",", ";"), "x"),
            "separated by semicolons; save it as CSV with commas",
        ),
        (_csv(HEADER.replace(",", "\t"), "x"), "separated by tabs"),
    ],
)
def test_files_that_cannot_be_read_say_why(data, message):
    with pytest.raises(DealFileError) as error:
        _read(data)
    assert message in error.value.message


def test_the_row_limit_counts_every_row_and_says_so():
    data = _csv(HEADER, *(f"OPP-{i},a@x.test,1,USD,2026-01-01,won" for i in range(5)))
    assert len(_read(data, max_rows=5)) == 5
    with pytest.raises(DealFileError) as error:
        _read(data, max_rows=4)
    assert error.value.message.startswith("The file has 5 rows; the limit is 4.")
    assert error.value.code == "too_many_rows"


def test_the_row_limit_message_groups_thousands():
    from certification.importers.deals import check_rows

    with pytest.raises(DealFileError, match=r"The file has 250,001 rows; the limit is 200,000\."):
        check_rows(250_001, limit=200_000)


def test_the_size_limit_says_both_sizes():
    check_size(20 * 1024 * 1024, limit=20 * 1024 * 1024)
    with pytest.raises(DealFileError, match=r"The file is 21 MB; the limit is 20 MB\."):
        check_size(21 * 1024 * 1024, limit=20 * 1024 * 1024)


def test_read_header_returns_the_columns_as_written():
    assert read_header(b"\xef\xbb\xbf\r\n Opp Id ,Owner\r\nx,y\r\n") == ["Opp Id", "Owner"]


# Values -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("won", "won"),
        ("WON", "won"),
        ("Closed Won", "won"),
        ("closed-won", "won"),
        ("closed_won", "won"),
        (" closed  lost ", "lost"),
        ("Lost", "lost"),
        ("Open", "open"),
    ],
)
def test_stages(text, stage):
    assert parse_stage(text) == stage


@pytest.mark.parametrize("text", ["", "Negotiation", "closedwon", "won!"])
def test_unknown_stages(text):
    with pytest.raises(CellError, match="unknown"):
        parse_stage(text)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1200", Decimal(1200)),
        ("1200.5", Decimal("1200.5")),
        ("1,200.50", Decimal("1200.50")),
        ("1,234,567", Decimal(1234567)),
        (" 12 000 ", Decimal(12000)),
        ("0", Decimal(0)),
        ("-50", Decimal(-50)),  # parsed; the service refuses it
        ("1200.5000", Decimal("1200.5")),
        ("", None),
    ],
)
def test_amounts(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("twelve", "is not a number"),
        ("$1200", "is not a number"),
        ("1.200,50", "is not a number"),
        ("12,00", "is not a number"),
        ("1e5", "is not a number"),
        ("10.005", "more than 2 decimal places"),
        ("100000000000000", "too large"),
    ],
)
def test_bad_amounts(text, reason):
    with pytest.raises(CellError, match=reason):
        parse_amount(text)


def test_dates_are_iso():
    assert parse_close_date("2026-02-28") == date(2026, 2, 28)
    for text in ("31/01/2026", "2026-02-30", "20260131", "2026-1-5", "tomorrow"):
        with pytest.raises(CellError, match="is not a date"):
            parse_close_date(text)
    with pytest.raises(CellError, match="close date is missing"):
        parse_close_date("")


def test_currencies():
    assert parse_currency("eur", default="USD") == "EUR"
    assert parse_currency("", default="USD") == "USD"
    for text in ("EURO", "€", "E1R"):
        with pytest.raises(CellError, match="3-letter code"):
            parse_currency(text, default="USD")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+33 1 23", "'+33 1 23"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("OPP-1", "OPP-1"),
        ("", ""),
        (Decimal("-5.00"), Decimal("-5.00")),
        (None, None),
    ],
)
def test_export_cells_that_a_spreadsheet_would_run_are_neutralised(value, shown):
    assert neutralise(value) == shown
