"""The readiness report's tables as plain rows, for exports: headers, then one list of cells
per row, produced lazily so a table of any size streams in flat memory.

Each table reads the same selectors as the pages (``certification.selectors.readiness``),
scoped to the viewer: an export holds exactly what its owner may see on the report. Cells
are ``str``, ``int``, ``date`` or ``None``; writers turn them into CSV or XLSX.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from certification.models import Certification, ExportJob, RequiredCertification, Tier
from certification.selectors.readiness import (
    EXPIRY_WINDOWS,
    INACTIVE_DAYS,
    ReportFilters,
    RepRow,
    active_certification_q,
    applies_to,
    count_reps,
    in_scope,
    lacks_an_item,
    offerings_with_requirements,
    readiness_headline,
    readiness_rows,
    report_reps,
    report_subjects,
)
from certification.selectors.trends import trend_table, trend_table_size

Rows = Iterable[list[Any]]
TableResult = tuple[list[str], Rows]

SUMMARY_HEADERS = ["Section", "Item", "Count", "Ready", "Not ready", "% ready"]
# The summary's fixed rows besides one per offering: all reps, four tiers, the expiry
# windows, inactive reps.
_SUMMARY_FIXED_ROWS = 1 + len(Tier) + len(EXPIRY_WINDOWS) + 1


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


def _tier_label(tier: str) -> str:
    return str(Tier(tier).label) if tier in Tier.values else tier


def _team(row: RepRow) -> str:
    rep = row.rep
    return rep.team.name if rep.team_id and rep.team else ""


# Summary ----------------------------------------------------------------------------------------


def summary_table(*, viewer: User, filters: ReportFilters, now: datetime) -> TableResult:
    """The headline figures as one table: customer ready per offering, then the tier
    distribution, expiring certifications and inactive reps (Count only)."""
    headline = readiness_headline(viewer=viewer, filters=filters, now=now)
    blank = [None, None, None]
    rows: list[list[Any]] = [["Reps", "Reps in the report", headline.reps, *blank]]
    rows.extend(
        [
            "Customer ready",
            row.offering.name,
            row.in_scope,
            row.ready,
            row.not_ready,
            row.percent,
        ]
        for row in headline.offerings
    )
    rows.extend(
        ["Tier", str(tier.label), headline.tiers.get(tier.value, 0), *blank]
        for tier in reversed(Tier)
    )
    rows.extend(
        ["Expiring certifications", f"Within {days} days", headline.expiring[days], *blank]
        for days in EXPIRY_WINDOWS
    )
    rows.append(["Activity", f"No activity in {INACTIVE_DAYS} days", headline.inactive, *blank])
    return SUMMARY_HEADERS, rows


# Matrix -----------------------------------------------------------------------------------------


def matrix_table(*, viewer: User, filters: ReportFilters, now: datetime) -> TableResult:
    """One row per rep: who they are, their tier, then per subject the highest active level
    ("L1" to "L3") and when it expires."""
    subjects = report_subjects(filters)
    headers = ["Rep", "Email", "Team", "Segment", "Sales role", "Tier"]
    for subject in subjects:
        headers += [subject.name, f"{subject.name} expires"]

    def rows() -> Iterator[list[Any]]:
        for row in readiness_rows(viewer=viewer, filters=filters, now=now):
            rep = row.rep
            cells: list[Any] = [
                rep.display_name,
                rep.email,
                _team(row),
                rep.segment,
                rep.sales_role,
                _tier_label(row.tier),
            ]
            for cell in row.cells:
                if cell is None:
                    cells += [None, None]
                else:
                    cells += [f"L{cell.level}", _local_date(cell.expires_at)]
            yield cells

    return headers, rows()


# Gaps -------------------------------------------------------------------------------------------

GAPS_HEADERS = ["Rep", "Email", "Team", "Tier", "Offering", "Missing", "Next tier needs"]


def gaps_table(*, viewer: User, filters: ReportFilters, now: datetime) -> TableResult:
    """One row per rep and offering they are not customer ready for: what is missing, and
    what the rep's next tier still needs."""

    def rows() -> Iterator[list[Any]]:
        for row in readiness_rows(viewer=viewer, filters=filters, now=now):
            next_tier = "; ".join(row.next_tier_missing)
            # the offerings with a gap to show (of the filtered subject, when there is one)
            for status in (s for s in row.offerings if s.missing):
                yield [
                    row.rep.display_name,
                    row.rep.email,
                    _team(row),
                    _tier_label(row.tier),
                    status.offering.name,
                    "; ".join(gap.label for gap in status.missing),
                    next_tier,
                ]

    return GAPS_HEADERS, rows()


def _lacks_subject_item(offering: int, subject: int, now: datetime) -> Exists:
    """Like ``lacks_an_item``, but only the items of one subject count (the gap list filtered
    to a subject shows only those)."""
    held = Certification.objects.filter(
        active_certification_q(now),
        rep=OuterRef(OuterRef("pk")),
        subject=OuterRef("subject"),
        level=OuterRef("level"),
    )
    return Exists(
        RequiredCertification.objects.filter(
            applies_to(OuterRef, "requirement__"), requirement__offering=offering, subject=subject
        ).filter(~Exists(held))
    )


def _gaps_size(*, viewer: User, filters: ReportFilters, now: datetime) -> int:
    offerings = offerings_with_requirements(filters.offering)
    if not offerings:
        return 0
    aggregates: dict[str, Count] = {}
    for offering in offerings:
        lacks = (
            lacks_an_item(offering.pk, now)
            if filters.subject is None
            else _lacks_subject_item(offering.pk, filters.subject, now)
        )
        aggregates[f"gaps_{offering.pk}"] = Count("pk", filter=Q(in_scope(offering.pk)) & Q(lacks))
    counts = report_reps(viewer=viewer, filters=filters, now=now).order_by().aggregate(**aggregates)
    return sum(counts.values())


# Trends -----------------------------------------------------------------------------------------


def trends_table(
    *, viewer: User, filters: ReportFilters, now: datetime, days: int | None = None
) -> TableResult:
    """The snapshot series behind the trend charts (``selectors.trends.trend_table``), over
    the last ``days`` days (every snapshot by default)."""
    headers, rows = trend_table(
        viewer=viewer, filters=filters, days=days, today=timezone.localdate(now)
    )
    return list(headers), rows


# Any table --------------------------------------------------------------------------------------

TableFunction = Callable[..., TableResult]

TABLES: dict[str, TableFunction] = {
    ExportJob.Table.SUMMARY: summary_table,
    ExportJob.Table.MATRIX: matrix_table,
    ExportJob.Table.GAPS: gaps_table,
    ExportJob.Table.TRENDS: trends_table,
}


def report_table(
    *,
    table: str,
    viewer: User,
    filters: ReportFilters,
    now: datetime,
    days: int | None = None,
) -> TableResult:
    """The headers and (lazy) rows of one report table; ``KeyError`` for an unknown table.
    ``days`` is the trends table's period (the other tables are as of ``now``)."""
    if table == ExportJob.Table.TRENDS:
        return trends_table(viewer=viewer, filters=filters, now=now, days=days)
    return TABLES[table](viewer=viewer, filters=filters, now=now)


def table_size(
    *,
    table: str,
    viewer: User,
    filters: ReportFilters,
    now: datetime,
    days: int | None = None,
) -> int:
    """How many rows the table holds, cheaply: one count query (one small query for the
    summary)."""
    if table == ExportJob.Table.SUMMARY:
        return len(offerings_with_requirements(filters.offering)) + _SUMMARY_FIXED_ROWS
    if table == ExportJob.Table.MATRIX:
        return count_reps(viewer=viewer, filters=filters, now=now)
    if table == ExportJob.Table.GAPS:
        return _gaps_size(viewer=viewer, filters=filters, now=now)
    if table == ExportJob.Table.TRENDS:
        return trend_table_size(
            viewer=viewer, filters=filters, days=days, today=timezone.localdate(now)
        )
    raise KeyError(table)
