"""Exports of the readiness report's tables as CSV or XLSX.

A small table downloads at once (``export_inline``): CSV is streamed line by line, XLSX is
written in constant memory to an anonymous temporary file and sent from there. A large one
becomes an ``ExportJob`` (``export_start``) that a Celery task runs (``export_run``) under
its owner's permissions as they are at run time, reporting progress as it goes; the file is
stored under a random name, kept ``EXPORT_RETENTION_HOURS`` and then purged
(``exports_purge_expired``). Only the owner ever sees a job or its file.

Every text cell is neutralised against formula injection, in both formats: a spreadsheet
must never run what a rep typed into their name.
"""

from __future__ import annotations

import csv
import logging
import secrets
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.rules import is_enablement, is_manager
from certification.importers.deals import FORMULA_PREFIXES, neutralise
from certification.models import ExportJob
from certification.selectors.readiness import ReportFilters
from certification.selectors.report_tables import report_table, table_size
from config.celery import enqueue_task_on_commit
from config.errors import ApplicationError, ConflictError, NotFoundError

logger = logging.getLogger(__name__)

__all__ = [
    "FORMULA_PREFIXES",
    "InlineExport",
    "can_export",
    "csv_lines",
    "export_filename",
    "export_inline",
    "export_request",
    "export_run",
    "export_start",
    "exports_purge_expired",
    "exports_resend_stuck",
    "neutralise",
    "xlsx_write",
]

# Who may export: whoever may read the report (a manager's export holds their subtree only).
can_export = is_enablement | is_manager

PROGRESS_EVERY = 500
CONTENT_TYPES: dict[str, str] = {
    ExportJob.Format.CSV.value: "text/csv; charset=utf-8",
    ExportJob.Format.XLSX.value: (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
}
SHEET_NAMES: dict[str, str] = {
    ExportJob.Table.SUMMARY.value: "Summary",
    ExportJob.Table.MATRIX.value: "Matrix",
    ExportJob.Table.GAPS.value: "Gaps",
    ExportJob.Table.TRENDS.value: "Trends",
}
FAILED_MESSAGE = "The export could not be produced. Try again, or narrow the filters."
# At most this many of one person's exports may wait or run at once.
MAX_ACTIVE_JOBS = 3
# A job still queued this long was probably never sent (a broker outage): send it again.
RESEND_AFTER = timedelta(minutes=10)
RESEND_BATCH = 500

Progress = Callable[[int], None]


# Writers ----------------------------------------------------------------------------------------


class _Echo:
    """A file that hands back what is written to it, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    return neutralise(value)


def _counting(rows: Iterable[list[Any]], progress: Progress | None) -> Iterator[list[Any]]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
    if progress is not None:
        progress(done)


def csv_lines(
    headers: list[str], rows: Iterable[list[Any]], progress: Progress | None = None
) -> Iterator[bytes]:
    """The table as UTF-8 CSV lines (with a byte-order mark, for spreadsheets), one at a
    time: rows are read only as the lines are consumed."""
    writer = csv.writer(_Echo())
    yield ("\ufeff" + writer.writerow([_csv_cell(h) for h in headers])).encode()
    for row in _counting(rows, progress):
        yield writer.writerow([_csv_cell(value) for value in row]).encode()


def xlsx_write(
    target: str | IO[bytes],
    headers: list[str],
    rows: Iterable[list[Any]],
    *,
    sheet: str = "Report",
    progress: Progress | None = None,
) -> int:
    """Write the table as an XLSX workbook to ``target``, in constant memory: each row is
    flushed to disk once the next begins. Text is written as text, never as a formula.
    Returns how many rows were written."""
    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    try:
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        formats = {
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        }
        worksheet.freeze_panes(1, 0)
        for col, header in enumerate(headers):
            worksheet.write_string(0, col, str(neutralise(str(header))), bold)
        written = 0
        for written, row in enumerate(_counting(rows, progress), start=1):
            for col, value in enumerate(row):
                _xlsx_cell(worksheet, (written, col), value, formats)
    finally:
        workbook.close()
    return written


def _xlsx_cell(worksheet: Any, at: tuple[int, int], value: Any, formats: dict[str, Any]) -> None:
    row, col = at
    if value is None or value == "":
        return
    if isinstance(value, bool):
        worksheet.write_boolean(row, col, value)
    elif isinstance(value, int | float | Decimal):
        worksheet.write_number(row, col, float(value))
    elif isinstance(value, datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        worksheet.write_datetime(row, col, local.replace(tzinfo=None), formats["datetime"])
    elif isinstance(value, date):
        worksheet.write_datetime(row, col, value, formats["date"])
    else:
        worksheet.write_string(row, col, str(neutralise(str(value))))


# Starting an export -----------------------------------------------------------------------------


def export_filename(table: str, format: str, on: date) -> str:  # noqa: A002
    """The name a download is offered under: ``readiness-matrix-2026-11-22.xlsx``."""
    return f"readiness-{table}-{on.isoformat()}.{format}"


def _check(owner: User, table: str, format: str) -> None:  # noqa: A002
    if not can_export(owner):
        raise NotFoundError("There is no such report.")
    problems: dict[str, list[str]] = {}
    if table not in ExportJob.Table.values:
        problems["table"] = [f"Choose one of: {', '.join(ExportJob.Table.values)}."]
    if format not in ExportJob.Format.values:
        problems["format"] = [f"Choose one of: {', '.join(ExportJob.Format.values)}."]
    if problems:
        raise ApplicationError(next(iter(problems.values()))[0], field_errors=problems)


@dataclass
class InlineExport:
    """A small export, produced for the response itself."""

    filename: str
    content_type: str
    lines: Iterator[bytes] | None = None  # CSV
    file: IO[bytes] | None = None  # XLSX, an anonymous temporary file at its start


def export_inline(
    *,
    viewer: User,
    table: str,
    format: str,  # noqa: A002
    filters: ReportFilters,
    days: int | None = None,
    now: datetime | None = None,
) -> InlineExport:
    """The table as a download for this response: CSV lines to stream, or an XLSX written in
    constant memory to a temporary file (gone once the response closes it). ``days`` is the
    trends table's period."""
    _check(viewer, table, format)
    now = now or timezone.now()
    headers, rows = report_table(table=table, viewer=viewer, filters=filters, now=now, days=days)
    export = InlineExport(
        filename=export_filename(table, format, timezone.localdate(now)),
        content_type=CONTENT_TYPES[format],
    )
    if format == ExportJob.Format.CSV:
        export.lines = csv_lines(headers, rows)
        return export
    target = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    try:
        xlsx_write(target, headers, rows, sheet=SHEET_NAMES[table])
    except BaseException:
        target.close()
        raise
    target.seek(0)
    export.file = target
    return export


@transaction.atomic
def export_start(
    *,
    owner: User,
    table: str,
    format: str,  # noqa: A002
    filters: ReportFilters,
    days: int | None = None,
    now: datetime | None = None,
    total_rows: int | None = None,
) -> ExportJob:
    """Queue an export of the table with these filters for its owner; it runs after commit."""
    _check(owner, table, format)
    now = now or timezone.now()
    active = ExportJob.objects.filter(
        owner=owner,
        status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING],
        created_at__gte=now - _stale_after(),
    )
    if active.count() >= MAX_ACTIVE_JOBS:
        raise ConflictError(
            f"You already have {MAX_ACTIVE_JOBS} exports under way: wait for one to finish.",
            code="too_many_exports",
        )
    if total_rows is None:
        total_rows = table_size(table=table, viewer=owner, filters=filters, now=now, days=days)
    saved = filters.as_query()
    if days is not None and table == ExportJob.Table.TRENDS:
        saved["days"] = str(days)
    job = ExportJob.objects.create(
        owner=owner,
        table=table,
        format=format,
        filters=saved,
        total_rows=total_rows,
        filename=export_filename(table, format, timezone.localdate(now)),
        created_at=now,
    )
    enqueue_task_on_commit("certification.run_export", job.pk)
    return job


def export_request(
    *,
    owner: User,
    table: str,
    format: str,  # noqa: A002
    filters: ReportFilters,
    days: int | None = None,
    now: datetime | None = None,
) -> InlineExport | ExportJob:
    """A download at once when the table is small (``EXPORT_INLINE_MAX_ROWS`` rows at most),
    otherwise a background job."""
    _check(owner, table, format)
    now = now or timezone.now()
    size = table_size(table=table, viewer=owner, filters=filters, now=now, days=days)
    spec: dict[str, Any] = {"table": table, "format": format, "filters": filters, "days": days}
    if size <= settings.EXPORT_INLINE_MAX_ROWS:
        return export_inline(viewer=owner, now=now, **spec)
    return export_start(owner=owner, now=now, total_rows=size, **spec)


# Running a job ----------------------------------------------------------------------------------


class _TakenOverError(ApplicationError):
    """Another worker took the job over: its outcome is that worker's to record."""

    def __init__(self) -> None:
        super().__init__("The export was taken over by another worker.")


def _stale_after() -> timedelta:
    """A job still "running" this long after it started has lost its worker."""
    return timedelta(seconds=settings.EXPORT_TIME_LIMIT + 60)


def _claim(job_id: int, now: datetime) -> ExportJob | None:
    """Mark the job running and return it, or None when it is not (or no longer) to run:
    finished, failed, expired, or running in another worker."""
    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update().select_related("owner").filter(pk=job_id).first()
        )
        if job is None:
            return None
        runnable = job.status == ExportJob.Status.QUEUED or (
            job.status == ExportJob.Status.RUNNING
            and job.started_at is not None
            and job.started_at < now - _stale_after()
        )
        if not runnable:
            return None
        job.status = ExportJob.Status.RUNNING
        job.started_at = now
        job.done_rows = 0
        job.error = ""
        job.save(update_fields=["status", "started_at", "done_rows", "error"])
        return job


def _write_job(job: ExportJob, target: IO[bytes], now: datetime) -> int:
    """Write the job's table to ``target``; returns how many rows it holds."""
    if not can_export(job.owner):
        raise ApplicationError("You may no longer read this report.")
    filters = ReportFilters.from_query(job.filters)
    days = job.filters.get("days")
    headers, rows = report_table(
        table=job.table,
        viewer=job.owner,
        filters=filters,
        now=now,
        days=int(days) if days else None,
    )
    written = 0

    def progress(done: int) -> None:
        nonlocal written
        written = done
        # Its own short transaction (autocommit), so the page sees it while the job runs.
        _this_run(job).update(done_rows=done)

    if job.format == ExportJob.Format.CSV:
        for line in csv_lines(headers, rows, progress):
            target.write(line)
    else:
        xlsx_write(target, headers, rows, sheet=SHEET_NAMES[job.table], progress=progress)
    return written


def _this_run(job: ExportJob) -> QuerySet[ExportJob]:
    """The job, as long as this run still holds it (not taken over by another worker)."""
    return ExportJob.objects.filter(
        pk=job.pk, status=ExportJob.Status.RUNNING, started_at=job.started_at
    )


def _finish(job: ExportJob, stored: str, written: int) -> None:
    finished = timezone.now()
    updated = _this_run(job).update(
        status=ExportJob.Status.DONE,
        file=stored,
        done_rows=written,
        total_rows=written,
        finished_at=finished,
        expires_at=finished + timedelta(hours=settings.EXPORT_RETENTION_HOURS),
    )
    if not updated:  # taken over meanwhile by a worker that thought this one lost
        raise _TakenOverError


def export_run(*, job_id: int, now: datetime | None = None) -> ExportJob | None:
    """Produce a queued job's file under its owner's permissions as they are now; safe to run
    twice (a finished, failed or running job is left alone). On failure the job says so and
    no file is kept."""
    now = now or timezone.now()
    job = _claim(job_id, now)
    if job is None:
        return ExportJob.objects.filter(pk=job_id).first()
    stored = ""
    try:
        with tempfile.TemporaryFile() as target:
            written = _write_job(job, target, now)
            target.seek(0)
            name = job.file.field.generate_filename(
                job, f"{secrets.token_urlsafe(24)}.{job.format}"
            )
            stored = default_storage.save(name, File(target), max_length=job.file.field.max_length)
        _finish(job, stored, written)
    except Exception as error:
        if stored:
            default_storage.delete(stored)
        message = error.message if isinstance(error, ApplicationError) else FAILED_MESSAGE
        if not isinstance(error, ApplicationError):
            logger.exception("export %s failed", job.pk)
        _this_run(job).update(
            status=ExportJob.Status.FAILED,
            error=message,
            file="",
            finished_at=timezone.now(),
        )
    return ExportJob.objects.get(pk=job.pk)


# Retention --------------------------------------------------------------------------------------


def exports_purge_expired(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their retention and mark them expired; returns how
    many. Each job is taken under its row lock, so a download never finds a half-purged job."""
    now = now or timezone.now()
    purged = 0
    due = ExportJob.objects.filter(status=ExportJob.Status.DONE, expires_at__lte=now)
    for job_id in due.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            job = (
                ExportJob.objects.select_for_update(skip_locked=True)
                .filter(pk=job_id, status=ExportJob.Status.DONE, expires_at__lte=now)
                .first()
            )
            if job is None:
                continue
            if job.file.name:
                job.file.storage.delete(job.file.name)
            job.file = ""
            job.status = ExportJob.Status.EXPIRED
            job.save(update_fields=["file", "status"])
            purged += 1
    return purged


def exports_resend_stuck(*, now: datetime | None = None) -> int:
    """Send again the jobs still queued after ``RESEND_AFTER`` (their message was lost, to a
    broker outage say; running a job twice is harmless) and those still "running" long after
    their worker must have died (killed mid-job: its message, given back at once, found the
    job running and left it), and give up on those queued or running for longer than the
    retention. Returns how many were sent again."""
    now = now or timezone.now()
    given_up = now - timedelta(hours=settings.EXPORT_RETENTION_HOURS)
    ExportJob.objects.filter(status=ExportJob.Status.QUEUED, created_at__lt=given_up).update(
        status=ExportJob.Status.FAILED,
        error="The export never started: start it again.",
        finished_at=now,
    )
    ExportJob.objects.filter(status=ExportJob.Status.RUNNING, started_at__lt=given_up).update(
        status=ExportJob.Status.FAILED,
        error="The export stopped before it finished: start it again.",
        finished_at=now,
    )
    lost = Q(status=ExportJob.Status.QUEUED, created_at__lt=now - RESEND_AFTER)
    abandoned = Q(status=ExportJob.Status.RUNNING, started_at__lt=now - _stale_after())
    stuck = list(
        ExportJob.objects.filter(lost | abandoned)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:RESEND_BATCH]
    )
    for job_id in stuck:
        enqueue_task_on_commit("certification.run_export", job_id)
    return len(stuck)
