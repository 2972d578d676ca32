"""Deals from the CRM: validate every row, then upsert them all or none; the exchange rates
they are converted at, and the saved column mappings of CRM exports.

One import path serves the upload page, ``import_deals`` and ``POST /api/v1/deals/bulk/``.
Every row is checked before anything is written, in a few queries whatever the number of
rows (reps and existing deals are read in chunks, rates at once); one bad row rejects the
import, and every bad row is reported with its reason. A good import upserts on the CRM's
opportunity id in bulk, in one transaction, so the same file twice changes nothing, and the
reps whose deals were created or changed are recomputed by Celery after commit. Imports write
one at a time: two at once end as if run one after the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import astuple, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from certification.importers.deals import (
    CANONICAL,
    LABELS,
    MAX_OPPORTUNITY_ID,
    REQUIRED,
    WON,
    CellError,
    DealRow,
    check_rows,
    check_size,
    header_key,
    parse_amount,
    parse_close_date,
    parse_currency,
    parse_stage,
    read_deals,
)
from certification.models import CurrencyRate, Deal, DealColumnMapping
from certification.services.tiers import tiers_recompute_later
from config.errors import ApplicationError, ConflictError

CHUNK = 1000  # ids per IN (...) lookup: well under every database's parameter limit
WRITE_BATCH = 1000
CENT = Decimal("0.01")
MAX_AMOUNT_BASE = Decimal(10) ** 16  # Deal.amount_base: 18 digits, 2 after the point
MAX_RATE = Decimal(10) ** 10  # CurrencyRate.rate_to_base: 18 digits, 8 after the point
RATE_PLACES = Decimal("0.00000001")
COMPARED = ("rep_id", "amount", "currency", "amount_base", "close_date", "stage")
RECOMPUTE_CAUSE = "deals imported"
# The advisory lock imports queue on (PostgreSQL): any constant no other lock uses.
IMPORT_LOCK_KEY = 0x5245505245414459  # "REPREADY"
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class RowError:
    """A rejected row: where it is (spreadsheet row, or list index for the API) and why."""

    row: int
    opportunity_id: str
    reason: str


@dataclass
class DealImportResult:
    """What an import did or, on a dry run, would do. With any row rejected, nothing is."""

    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    rep_ids: list[int] = field(default_factory=list)  # reps whose deals were created or changed

    @property
    def imported(self) -> int:
        """Deals imported: every one is now as the import says (created, updated or already)."""
        return self.created + self.updated + self.unchanged

    @property
    def summary(self) -> str:
        return (
            f"imported {self.imported} deals ({self.created} created, {self.updated} updated), "
            f"rejected {len(self.rejected)} rows"
        )


@dataclass(frozen=True, slots=True)
class _ValidDeal:
    opportunity_id: str
    rep_id: int
    amount: Decimal | None
    currency: str
    amount_base: Decimal | None
    close_date: date
    stage: str


def _chunks[T](items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# What the rows are checked against ------------------------------------------------------------


def _reps_by_email(emails: Iterable[str]) -> dict[str, int]:
    """Rep ids by lower-cased email, for the emails that belong to a rep."""
    wanted = sorted({email.lower() for email in emails if email})
    found: dict[str, int] = {}
    for chunk in _chunks(wanted):
        found.update(
            User.objects.annotate(email_key=Lower("email"))
            .filter(is_rep=True, email_key__in=chunk)
            .values_list("email_key", "pk")
        )
    return found


def rates_to_base() -> dict[str, Decimal]:
    """Every configured rate, and the base currency at 1 (whatever a row might say)."""
    rates = dict(CurrencyRate.objects.values_list("currency", "rate_to_base"))
    rates[settings.BASE_CURRENCY] = Decimal(1)
    return rates


def _existing_deals(opportunity_ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """(pk, *COMPARED) of the deals already imported, by opportunity id: plain rows, since
    most of a re-imported file is unchanged and needs no model instance."""
    found: dict[str, tuple[Any, ...]] = {}
    for chunk in _chunks(opportunity_ids):
        rows = Deal.objects.filter(opportunity_id__in=chunk).values_list(
            "opportunity_id", "pk", *COMPARED
        )
        found.update((row[0], row[1:]) for row in rows)
    return found


# Validation -------------------------------------------------------------------------------------


def _parsed[V](parse: Callable[[str], V], text: str, reasons: list[str]) -> V | None:
    try:
        return parse(text)
    except CellError as error:
        reasons.append(str(error))
        return None


@dataclass
class _Checker:
    """What rows are checked against, read once for the whole import."""

    reps: dict[str, int]  # lower-cased email -> rep id
    rates: dict[str, Decimal]
    where: str
    base: str = field(default_factory=lambda: settings.BASE_CURRENCY)
    first_seen: dict[str, int] = field(default_factory=dict)

    def opportunity_reason(self, row: DealRow) -> str | None:
        opportunity_id = row.opportunity_id
        if not opportunity_id:
            return "opportunity id is missing"
        if len(opportunity_id) > MAX_OPPORTUNITY_ID:
            return f"opportunity id is longer than {MAX_OPPORTUNITY_ID} characters"
        first = self.first_seen.setdefault(opportunity_id, row.row)
        if first != row.row:
            return f"duplicate opportunity id (first at {self.where} {first})"
        return None

    def rep(self, row: DealRow, reasons: list[str]) -> int | None:
        rep_id = self.reps.get(row.rep_email.lower())
        if not row.rep_email:
            reasons.append("rep email is missing")
        elif rep_id is None:
            reasons.append(f"unknown rep {row.rep_email}")
        return rep_id

    def amount(self, row: DealRow, stage: str | None, reasons: list[str]) -> Decimal | None:
        amount = _parsed(parse_amount, row.amount, reasons)
        if amount is not None and amount < 0:
            reasons.append(f"amount {row.amount} is negative")
        elif stage == WON and amount is None and not row.amount:
            reasons.append("amount is missing on a won deal")
        return amount

    def rate(self, row: DealRow, reasons: list[str]) -> tuple[str | None, Decimal | None]:
        currency = _parsed(
            lambda text: parse_currency(text, default=self.base), row.currency, reasons
        )
        rate = self.rates.get(currency) if currency else None
        if currency and rate is None:
            reasons.append(f"currency {currency} has no exchange rate (add one first)")
        return currency, rate

    def check(self, row: DealRow) -> _ValidDeal | RowError:
        """The deal the row describes, or every reason it cannot be imported."""
        reasons: list[str] = []
        opportunity_reason = self.opportunity_reason(row)
        if opportunity_reason:
            reasons.append(opportunity_reason)
        rep_id = self.rep(row, reasons)
        stage = _parsed(parse_stage, row.stage, reasons)
        amount = self.amount(row, stage, reasons)
        currency, rate = self.rate(row, reasons)
        close_date = _parsed(parse_close_date, row.close_date, reasons)
        amount_base = None
        if amount is not None and rate is not None:
            amount_base = (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
            if abs(amount_base) >= MAX_AMOUNT_BASE:
                reasons.append(f"amount {row.amount} is too large in {self.base}")
        if reasons or rep_id is None or stage is None or currency is None or close_date is None:
            return RowError(row.row, row.opportunity_id, "; ".join(reasons))
        return _ValidDeal(
            opportunity_id=row.opportunity_id,
            rep_id=rep_id,
            amount=amount,
            currency=currency,
            amount_base=amount_base,
            close_date=close_date,
            stage=stage,
        )


def _has_nul(row: DealRow) -> bool:
    return any("\x00" in value for value in astuple(row) if isinstance(value, str))


def _validate(rows: Sequence[DealRow], *, where: str) -> tuple[list[_ValidDeal], list[RowError]]:
    """Check every row; return the good deals, and one error (all its reasons) per bad row."""
    # PostgreSQL cannot compare text holding a NUL: such a row is refused before any lookup.
    clean = [row for row in rows if not _has_nul(row)]
    checker = _Checker(
        reps=_reps_by_email(row.rep_email for row in clean), rates=rates_to_base(), where=where
    )
    valid: list[_ValidDeal] = []
    rejected: list[RowError] = []
    for row in rows:
        checked = (
            RowError(
                row.row, row.opportunity_id.replace("\x00", ""), "a value holds a NUL character"
            )
            if _has_nul(row)
            else checker.check(row)
        )
        if isinstance(checked, RowError):
            rejected.append(checked)
        else:
            valid.append(checked)
    return valid, rejected


# Importing --------------------------------------------------------------------------------------


def deals_import(
    rows: Sequence[DealRow],
    *,
    dry_run: bool,
    actor: User | None,
    source: str = "file",
    where: str = "row",
) -> DealImportResult:
    """Validate every row, then create and update the deals in bulk (all or none).

    ``where`` names a row's position in messages ("row" for a file, "index" for the API);
    ``source`` goes into the audit trail. A rejected row, or a dry run, writes nothing.
    """
    check_rows(len(rows), limit=settings.DEALS_IMPORT_MAX_ROWS, what="The import")
    valid, rejected = _validate(rows, where=where)
    if rejected:
        return DealImportResult(dry_run=dry_run, rejected=rejected)
    if dry_run:
        return _plan(valid, dry_run=True).result
    try:
        with transaction.atomic():
            # One import at a time, each compared with the deals as the one before left them:
            # overlapping files imported at once end as if imported one after the other
            # (never a mix of the two, never a duplicate, never a deadlock between them).
            _one_import_at_a_time()
            plan = _plan(valid, dry_run=False)
            if plan.new or plan.changed:
                _write(plan, actor=actor, source=source)
    except IntegrityError:
        # Only if a deal was written outside an import since it was compared.
        raise ConflictError(
            "Another import changed these deals at the same moment. Nothing was imported; "
            "import again.",
            code="concurrent_import",
        ) from None
    return plan.result


@dataclass
class _Plan:
    result: DealImportResult
    new: list[Deal]
    changed: list[Deal]


def _plan(valid: Sequence[_ValidDeal], *, dry_run: bool) -> _Plan:
    """Compare the valid rows with the deals imported so far: what to create and update."""
    now = timezone.now()
    existing = _existing_deals([deal.opportunity_id for deal in valid])
    result = DealImportResult(dry_run=dry_run)
    new: list[Deal] = []
    changed: list[Deal] = []
    rep_ids: set[int] = set()
    for deal in valid:
        values = tuple(getattr(deal, name) for name in COMPARED)
        current = existing.get(deal.opportunity_id)
        if current is not None and current[1:] == values:
            result.unchanged += 1
            continue
        fields = dict(zip(COMPARED, values, strict=True))
        if current is None:
            new.append(
                Deal(opportunity_id=deal.opportunity_id, imported_at=now, updated_at=now, **fields)
            )
        else:
            changed.append(Deal(pk=current[0], updated_at=now, **fields))
            rep_ids.add(current[1])  # the rep it had: a deal may move to another rep
        rep_ids.add(deal.rep_id)
    result.created, result.updated, result.rep_ids = len(new), len(changed), sorted(rep_ids)
    return _Plan(result, new, changed)


def _one_import_at_a_time() -> None:
    """Wait for the import running now, if any, to commit; hold the turn until this one does.

    A transaction-level advisory lock on PostgreSQL; SQLite lets one writer in at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])


def _write(plan: _Plan, *, actor: User | None, source: str) -> None:
    result = plan.result
    Deal.objects.bulk_create(plan.new, batch_size=WRITE_BATCH)
    _update_by_pk(plan.changed)
    audit_record(
        actor=actor,
        action="deals.imported",
        changes={
            "source": source,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    tiers_recompute_later(rep_ids=result.rep_ids, cause=RECOMPUTE_CAUSE)


def _update_by_pk(changed: Sequence[Deal]) -> None:
    """UPDATE the changed deals by primary key, one statement run for every row.

    ``bulk_update`` would build a CASE WHEN per column and row: about 1 ms a row in Python,
    so a re-import of 100,000 changed deals would take minutes; executemany takes seconds.
    """
    if not changed:
        return
    fields = [cast("Field[Any, Any]", Deal._meta.get_field(n)) for n in (*COMPARED, "updated_at")]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    table = quote(Deal._meta.db_table)
    pk = quote(str(Deal._meta.pk.column))
    # Only the model's own table and column names are interpolated; every value is a parameter.
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(deal, f.attname), connection) for f in fields] + [deal.pk]
        for deal in changed
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def deals_import_file(
    *,
    data: bytes,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool,
    actor: User | None,
    source: str = "file",
) -> DealImportResult:
    """Read a CSV file (within the size and row limits) and import its deals."""
    check_size(len(data), limit=settings.DEALS_IMPORT_MAX_BYTES)
    rows = read_deals(data, mapping=mapping, max_rows=settings.DEALS_IMPORT_MAX_ROWS)
    return deals_import(rows, dry_run=dry_run, actor=actor, source=source)


# Column mappings --------------------------------------------------------------------------------


def deal_mapping_clean(columns: Mapping[str, str]) -> dict[str, str]:
    """The mapping's fields and columns, checked: known fields, every required one, no column
    twice."""
    unknown = sorted(set(columns) - set(CANONICAL))
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(unknown)}.")
    clean = {name: columns[name].strip() for name in CANONICAL if (columns.get(name) or "").strip()}
    missing = [LABELS[name].lower() for name in REQUIRED if name not in clean]
    if missing:
        raise ApplicationError(
            f"Choose a column for {', '.join(missing)}.",
            field_errors={name: ["Choose a column."] for name in REQUIRED if name not in clean},
        )
    seen: dict[str, str] = {}
    for name, column in clean.items():
        other = seen.setdefault(header_key(column), name)
        if other != name:
            raise ApplicationError(
                f"The column “{column}” is chosen for both {LABELS[other].lower()} and "
                f"{LABELS[name].lower()}.",
                field_errors={name: ["Already chosen for another field."]},
            )
    return clean


@transaction.atomic
def deal_mapping_save(
    *, name: str, columns: Mapping[str, str], actor: User | None
) -> DealColumnMapping:
    """Save a CRM export's column names under a name (replacing a mapping of that name)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ApplicationError(
            "Name the mapping (up to 100 characters).", field_errors={"save_as": ["Required."]}
        )
    clean = deal_mapping_clean(columns)
    mapping = DealColumnMapping.objects.filter(name__iexact=name).first()
    if mapping is None:
        mapping = DealColumnMapping.objects.create(name=name, columns=clean, created_by=actor)
    else:
        mapping.columns = clean
        mapping.save(update_fields=["columns"])
    audit_record(actor=actor, action="deal_mapping.saved", target=mapping, changes=clean)
    return mapping


# Exchange rates ---------------------------------------------------------------------------------


@transaction.atomic
def currency_rate_set(*, currency: str, rate_to_base: Decimal, actor: User | None) -> CurrencyRate:
    """Add or change how many base-currency units one unit of a currency is worth. Deals
    already imported keep the base amount of their import; importing them again converts them
    at the new rate."""
    code = currency.strip().upper()
    base = settings.BASE_CURRENCY
    if not _CURRENCY_CODE.fullmatch(code):
        raise ApplicationError(
            "A currency is a 3-letter code such as EUR.",
            field_errors={"currency": ["3 letters."]},
        )
    if code == base:
        raise ApplicationError(
            f"{base} is the base currency: its rate is always 1.",
            field_errors={"currency": ["The base currency needs no rate."]},
        )
    try:
        rate = Decimal(rate_to_base)
    except (InvalidOperation, TypeError, ValueError):
        rate = Decimal(-1)
    if not (0 < rate < MAX_RATE) or rate != rate.quantize(RATE_PLACES):
        raise ApplicationError(
            "The rate is a positive number with at most 8 decimal places.",
            field_errors={"rate_to_base": ["A positive number, up to 8 decimal places."]},
        )
    current = CurrencyRate.objects.select_for_update().filter(currency=code).first()
    before = str(current.rate_to_base) if current else None
    if current is None:
        current = CurrencyRate.objects.create(
            currency=code, rate_to_base=rate, updated_at=timezone.now()
        )
    elif current.rate_to_base != rate:
        current.rate_to_base, current.updated_at = rate, timezone.now()
        current.save(update_fields=["rate_to_base", "updated_at"])
    else:
        return current
    audit_record(
        actor=actor,
        action="currency_rate.set",
        target=current,
        changes={"currency": code, "from": before, "to": str(rate)},
    )
    return current
