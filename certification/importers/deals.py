"""Read a CRM's deals CSV into rows, and parse the values of a deal. Pure: no database access.

The canonical header is ``opportunity_id,rep_email,amount,currency,close_date,stage``. Case,
surrounding spaces and order do not matter ("Opportunity ID" is ``opportunity_id``), other
columns are ignored, and a saved column mapping names the file's own column for a field. The
file is UTF-8, with or without a byte-order mark, with LF or CRLF line ends.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first deal row 2, and
a quoted cell that spans lines is still one row. ``certification.services.deals`` validates
the rows against the database and imports them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from config.errors import ApplicationError

OPPORTUNITY_ID = "opportunity_id"
REP_EMAIL = "rep_email"
AMOUNT = "amount"
CURRENCY = "currency"
CLOSE_DATE = "close_date"
STAGE = "stage"

CANONICAL = (OPPORTUNITY_ID, REP_EMAIL, AMOUNT, CURRENCY, CLOSE_DATE, STAGE)
OPTIONAL = frozenset({CURRENCY})  # a mapping may leave it out: every deal in the base currency
REQUIRED = tuple(name for name in CANONICAL if name not in OPTIONAL)
LABELS = {
    OPPORTUNITY_ID: "Opportunity id",
    REP_EMAIL: "Rep email",
    AMOUNT: "Amount",
    CURRENCY: "Currency",
    CLOSE_DATE: "Close date",
    STAGE: "Stage",
}

WON, LOST, OPEN = "won", "lost", "open"
_STAGES = {
    "won": WON,
    "closed won": WON,
    "lost": LOST,
    "closed lost": LOST,
    "open": OPEN,
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_HEADER_SEPARATORS = re.compile(r"[\s_-]+")
_PLAIN_AMOUNT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED_AMOUNT = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_SPACES = re.compile(r"[\s\u00a0\u202f]+")
MAX_AMOUNT = Decimal(10) ** 14  # Deal.amount: 16 digits, 2 after the point
MAX_OPPORTUNITY_ID = 100


class DealFileError(ApplicationError):
    """The file as a whole cannot be read: nothing in it is imported."""


class MissingColumnsError(DealFileError):
    """The header lacks columns for some fields: the columns must be mapped first."""

    def __init__(self, message: str, *, missing: Sequence[str], header: Sequence[str]) -> None:
        super().__init__(message, code="missing_columns")
        self.missing = list(missing)
        self.header = list(header)


class CellError(ValueError):
    """A value of a deal cannot be used; the message is the reason shown for its row."""


@dataclass(frozen=True, slots=True)
class DealRow:
    """One deal as written in the file (or the API's list), values untouched but trimmed.

    ``row`` is where it came from: the spreadsheet row number for a file, the list index for
    the API.
    """

    row: int
    opportunity_id: str
    rep_email: str
    amount: str
    currency: str
    close_date: str
    stage: str


# The file -------------------------------------------------------------------------------------


def header_key(name: str) -> str:
    """The header cell as a field name: "  Opportunity ID " is "opportunity_id"."""
    return _HEADER_SEPARATORS.sub("_", name.strip().lower()).strip("_")


def check_size(size: int, *, limit: int, what: str = "The file") -> None:
    """Refuse a file larger than ``limit`` bytes."""
    if size > limit:
        raise DealFileError(
            f"{what} is {_megabytes(size)}; the limit is {_megabytes(limit)}. "
            "Split it and import each part.",
            field_errors={"file": ["Too large."]},
            code="too_large",
        )


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without a byte-order mark); refuse anything else clearly."""
    if data.startswith(_UTF16_BOMS):
        raise DealFileError(
            "The file is UTF-16, not UTF-8. Save it as “CSV UTF-8” and upload it again.",
            field_errors={"file": ["Not UTF-8."]},
            code="not_utf8",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise DealFileError(
            f"The file is not UTF-8 (byte 0x{data[error.start]:02x} on line {line}). "
            "Save it as “CSV UTF-8” and upload it again.",
            field_errors={"file": ["Not UTF-8."]},
            code="not_utf8",
        ) from None


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with its spreadsheet row number, blank records included."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in record]
    except csv.Error as error:
        raise DealFileError(
            f"Row {number + 1} cannot be read as CSV ({error}).", code="not_csv"
        ) from None


def _blank(record: Sequence[str]) -> bool:
    return not any(record)


def read_header(data: bytes) -> list[str]:
    """The file's column names as written (trimmed), from its first non-blank row."""
    for _number, record in _records(decode(data)):
        if not _blank(record):
            return record
    raise DealFileError("The file is empty.", field_errors={"file": ["Empty."]}, code="empty")


def column_positions(header: Sequence[str], mapping: Mapping[str, str] | None) -> dict[str, int]:
    """Where each field is in the header: the mapped column if the mapping names one, else
    the canonical name. Raises MissingColumnsError naming every field not found; only a
    mapping may leave out the currency (every deal is then in the base currency), so a file
    whose currency column has another name is never read as all base currency by mistake."""
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = "semicolons" if ";" in header[0] else "tabs"
        raise DealFileError(
            f"The file's columns are separated by {separator}; save it as CSV with commas.",
            field_errors={"file": ["Not comma-separated."]},
            code="not_csv",
        )
    keys = [header_key(name) for name in header]
    positions: dict[str, int] = {}
    missing: list[str] = []
    for field in CANONICAL:
        wanted = header_key((mapping or {}).get(field) or field)
        found = [i for i, key in enumerate(keys) if key == wanted and key]
        if len(found) > 1:
            names = ", ".join(f"“{header[i]}”" for i in found)
            raise DealFileError(
                f"The header has {len(found)} columns for {LABELS[field].lower()} ({names}); "
                "keep one.",
                code="duplicate_column",
            )
        if found:
            positions[field] = found[0]
        elif field not in OPTIONAL or mapping is None:
            missing.append(field)
    if missing:
        names = ", ".join(LABELS[field].lower() for field in missing)
        raise MissingColumnsError(
            f"The file has no column for {names}. Map its columns to the fields "
            f"(expected header: {','.join(CANONICAL)}).",
            missing=missing,
            header=header,
        )
    return positions


def read_deals(
    data: bytes, *, mapping: Mapping[str, str] | None = None, max_rows: int
) -> list[DealRow]:
    """Every non-blank row of the file as a DealRow, or DealFileError for the whole file."""
    records = _records(decode(data))
    header: list[str] | None = None
    for _number, record in records:
        if not _blank(record):
            header = record
            break
    if header is None:
        raise DealFileError("The file is empty.", field_errors={"file": ["Empty."]}, code="empty")
    positions = column_positions(header, mapping)
    rows: list[DealRow] = []
    count = 0
    for number, record in records:
        if _blank(record):
            continue
        count += 1
        if count <= max_rows:  # past the limit, only count: the message says how many
            rows.append(DealRow(number, *(_cell(record, positions, f) for f in CANONICAL)))
    check_rows(count, limit=max_rows)
    if not rows:
        raise DealFileError(
            "The file has a header but no deals.",
            field_errors={"file": ["No deals."]},
            code="empty",
        )
    return rows


def _cell(record: Sequence[str], positions: Mapping[str, int], field: str) -> str:
    index = positions.get(field)
    return record[index] if index is not None and index < len(record) else ""


def check_rows(count: int, *, limit: int, what: str = "The file") -> None:
    """Refuse more than ``limit`` deals at once."""
    if count > limit:
        raise DealFileError(
            f"{what} has {count:,} rows; the limit is {limit:,}. Split it and import each part.",
            field_errors={"file": ["Too many rows."]},
            code="too_many_rows",
        )


def _megabytes(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.0f} KB"
    mb = size / (1024 * 1024)
    return f"{mb:,.1f} MB" if mb < 10 else f"{mb:,.0f} MB"


# The values -----------------------------------------------------------------------------------


def parse_stage(text: str) -> str:
    """won, lost or open; "Closed Won", "closed-lost" and "OPEN" are accepted too."""
    key = _HEADER_SEPARATORS.sub(" ", text.strip().lower())
    if key not in _STAGES:
        shown = f"“{text}”" if text else "missing"
        raise CellError(f"stage {shown} is unknown (use won, lost or open)")
    return _STAGES[key]


def parse_amount(text: str) -> Decimal | None:
    """A plain decimal ("1200", "1200.50", "1,200.50"); None when blank."""
    compact = _SPACES.sub("", text)
    if not compact:
        return None
    if _GROUPED_AMOUNT.fullmatch(compact):
        compact = compact.replace(",", "")
    if not _PLAIN_AMOUNT.fullmatch(compact):
        raise CellError(f"amount “{text}” is not a number")
    try:
        amount = Decimal(compact)
    except InvalidOperation:  # pragma: no cover - the pattern already refused it
        raise CellError(f"amount “{text}” is not a number") from None
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(f"amount “{text}” has more than 2 decimal places")
    if abs(amount) >= MAX_AMOUNT:
        raise CellError(f"amount “{text}” is too large")
    return amount


def parse_close_date(text: str) -> date:
    """An ISO date, YYYY-MM-DD."""
    if not text:
        raise CellError("close date is missing")
    if not _ISO_DATE.fullmatch(text):
        raise CellError(f"close date “{text}” is not a date (write YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CellError(f"close date “{text}” is not a date (write YYYY-MM-DD)") from None


def parse_currency(text: str, *, default: str) -> str:
    """An ISO 4217 code such as EUR (any case); ``default`` when blank."""
    code = text.strip().upper() or default
    if not _CURRENCY_CODE.fullmatch(code):
        raise CellError(f"currency “{text}” is not a 3-letter code such as EUR")
    return code


# Exports ------------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A cell as a spreadsheet must show it: text starting with = + - @ (or a tab or carriage
    return) gets a leading single quote, so it is never run as a formula. Numbers, dates and
    None pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
