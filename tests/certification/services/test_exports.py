# ruff: noqa: ARG005 - each case names what it needs of the organisation and the world
"""Report exports: the tables' rows (checked by hand on the readiness fixture), formula
neutralisation, the CSV and XLSX writers, background jobs (progress, failure, running twice,
retention) and who may export what."""

from __future__ import annotations

import csv
import io
import itertools
import tracemalloc
from datetime import date, timedelta

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import user_set_team
from certification.models import ExportJob, ReadinessSnapshot
from certification.selectors.readiness import ReportFilters
from certification.selectors.report_tables import report_table, table_size
from certification.services import exports
from certification.services.exports import (
    csv_lines,
    export_inline,
    export_request,
    export_run,
    export_start,
    exports_purge_expired,
    exports_resend_stuck,
    neutralise,
    xlsx_write,
)
from certification.tasks import purge_expired_exports, resend_stuck_exports, run_export
from config.errors import ApplicationError, ConflictError, NotFoundError
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

MATRIX = ExportJob.Table.MATRIX
GAPS = ExportJob.Table.GAPS
SUMMARY = ExportJob.Table.SUMMARY
TRENDS = ExportJob.Table.TRENDS


def _csv(export) -> list[list[str]]:
    text = b"".join(export.lines).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _stored_csv(job: ExportJob) -> list[list[str]]:
    with job.file.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))


def _exports_on_disk() -> list[str]:
    """Every file under exports/ in the default storage (in memory in tests)."""
    found: list[str] = []

    def walk(path: str) -> None:
        if not default_storage.exists(path):
            return
        folders, files = default_storage.listdir(path)
        found.extend(f"{path}/{name}" for name in files)
        for folder in folders:
            walk(f"{path}/{folder}")

    walk("exports")
    return found


@pytest.fixture(autouse=True)
def _empty_storage():
    for name in _exports_on_disk():
        default_storage.delete(name)


@pytest.fixture
def run_jobs(django_capture_on_commit_callbacks):
    """Run what is enqueued on commit (Celery is eager in tests) when the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# Neutralising cells -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23 45", "'+33 1 23 45"),
        ("-2", "'-2"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ('=HYPERLINK("http://evil.test","x")', '\'=HYPERLINK("http://evil.test","x")'),
        ("Acme Cloud", "Acme Cloud"),
        ("a=b", "a=b"),
        ("", ""),
        (-5, -5),
        (3.5, 3.5),
        (date(2026, 11, 22), date(2026, 11, 22)),
        (None, None),
    ],
)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote_and_nothing_else_changes(
    value, expected
):
    assert neutralise(value) == expected


def test_csv_and_xlsx_neutralise_text_cells_and_headers_but_keep_numbers_and_dates(tmp_path):
    headers = ["=Name", "Count", "Day"]
    rows = [["=HYPERLINK(1)", -3, date(2026, 1, 2)], ["@x", 4, None]]

    text = b"".join(csv_lines(headers, iter(rows))).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["'=Name", "Count", "Day"],
        ["'=HYPERLINK(1)", "-3", "2026-01-02"],
        ["'@x", "4", ""],
    ]

    path = tmp_path / "out.xlsx"
    xlsx_write(str(path), headers, iter(rows))
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A1"].value == "'=Name"
    assert sheet["A2"].value == "'=HYPERLINK(1)"
    assert sheet["A2"].data_type == "s"  # text, never a formula
    assert sheet["B2"].value == -3
    assert sheet["C2"].value.date() == date(2026, 1, 2)
    assert sheet["C3"].value is None


# The writers stream -----------------------------------------------------------------------------


def test_csv_lines_read_rows_only_as_they_are_consumed():
    endless = ([n, f"rep {n}"] for n in itertools.count())

    first = list(itertools.islice(csv_lines(["n", "name"], endless), 3))

    assert first == ["\ufeffn,name\r\n".encode(), b"0,rep 0\r\n", b"1,rep 1\r\n"]
    assert next(endless) == [2, "rep 2"]  # nothing read ahead


def _peak_while_writing(path, rows: int) -> int:
    data = ([f"Rep {n}", f"rep{n}@example.test", "Team", n, "L2", "L1", "L3"] for n in range(rows))
    tracemalloc.start()
    try:
        xlsx_write(str(path), ["a", "b", "c", "d", "e", "f", "g"], data)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_xlsx_memory_does_not_grow_with_the_number_of_rows(tmp_path):
    small = _peak_while_writing(tmp_path / "small.xlsx", 500)
    large = _peak_while_writing(tmp_path / "large.xlsx", 5_000)

    # Held in memory, ten times the rows take about seven times the memory; flushed row by
    # row, the peak is the writer's buffers either way.
    assert large < small * 1.5
    assert openpyxl.load_workbook(tmp_path / "large.xlsx", read_only=True).active.max_row == 5_001


# The tables -------------------------------------------------------------------------------------


def test_the_matrix_has_one_row_per_rep_with_levels_and_expiry(org, world):
    export = export_inline(
        viewer=org.enablement, table=MATRIX, format="csv", filters=ReportFilters()
    )

    header, *rows = _csv(export)
    assert header == [
        "Rep",
        "Email",
        "Team",
        "Segment",
        "Sales role",
        "Tier",
        "Acme Cloud",
        "Acme Cloud expires",
        "Acme Secure",
        "Acme Secure expires",
        "Call opening",
        "Call opening expires",
    ]
    by_name = {row[0]: row for row in rows}
    assert list(by_name) == ["Rep Alpha", "Rep Alpha-1", "Rep Beta", "Rep Gamma"]
    rep_a = by_name["Rep Alpha"]
    assert rep_a[1:6] == [org.rep_a.email, "Alpha", "Enterprise", "", "Gold"]
    assert rep_a[6] == "L2"  # the highest level held
    assert rep_a[8:10] == ["", ""]  # Secure L1 lapsed: not held
    assert rep_a[10] == "L1"
    rep_c = by_name["Rep Gamma"]
    expires = timezone.localdate(world.now + timedelta(days=20)).isoformat()
    assert rep_c[6:8] == ["L1", expires]
    assert by_name["Rep Alpha-1"][2] == "Beta"  # where the rep is now
    assert export.filename == f"readiness-matrix-{timezone.localdate().isoformat()}.csv"


def test_the_matrix_keeps_the_filters(org, world):
    export = export_inline(
        viewer=org.enablement,
        table=MATRIX,
        format="csv",
        filters=ReportFilters(region=org.north.pk, subject=world.cloud.pk),
    )

    header, *rows = _csv(export)
    assert header[6:] == ["Acme Cloud", "Acme Cloud expires"]
    assert [row[0] for row in rows] == ["Rep Alpha", "Rep Alpha-1", "Rep Beta"]


def test_the_gap_list_has_a_row_per_rep_and_offering_not_ready(org, world):
    export = export_inline(viewer=org.enablement, table=GAPS, format="csv", filters=ReportFilters())

    header, *rows = _csv(export)
    assert header == ["Rep", "Email", "Team", "Tier", "Offering", "Missing", "Next tier needs"]
    assert [row[:6] for row in rows] == [
        ["Rep Alpha", org.rep_a.email, "Alpha", "Gold", "Acme Secure", "Acme Secure level 1"],
        ["Rep Beta", org.rep_b.email, "Beta", "Silver", "Acme Cloud", "Call opening level 1"],
    ]


def test_the_gap_list_shows_the_next_tier_and_every_missing_item(org, world):
    tier = org.rep_b.tier
    tier.missing = ["level 2 in Acme Cloud", "=1+1"]
    tier.save()
    export = export_inline(
        viewer=org.enablement,
        table=GAPS,
        format="csv",
        filters=ReportFilters(offering=world.cloud.pk),
    )

    _header, *rows = _csv(export)
    assert rows == [
        [
            "Rep Beta",
            org.rep_b.email,
            "Beta",
            "Silver",
            "Acme Cloud",
            "Call opening level 1",
            "level 2 in Acme Cloud; =1+1",
        ]
    ]


def test_the_summary_is_one_table_of_the_headline_figures(org, world):
    export = export_inline(
        viewer=org.enablement, table=SUMMARY, format="csv", filters=ReportFilters()
    )

    header, *rows = _csv(export)
    assert header == ["Section", "Item", "Count", "Ready", "Not ready", "% ready"]
    assert rows == [
        ["Reps", "Reps in the report", "4", "", "", ""],
        ["Customer ready", "Acme Cloud", "4", "3", "1", "75"],
        ["Customer ready", "Acme Secure", "2", "1", "1", "50"],
        ["Tier", "Gold", "1", "", "", ""],
        ["Tier", "Silver", "1", "", "", ""],
        ["Tier", "Bronze", "0", "", "", ""],
        ["Tier", "No tier yet", "2", "", "", ""],
        ["Expiring certifications", "Within 30 days", "1", "", "", ""],
        ["Expiring certifications", "Within 60 days", "2", "", "", ""],
        ["Expiring certifications", "Within 90 days", "2", "", "", ""],
        ["Activity", "No activity in 90 days", "1", "", "", ""],
    ]


def test_the_trends_table_is_the_snapshot_series(org, world):
    ReadinessSnapshot.objects.create(taken_on=timezone.localdate(), reps=4, gold=1, no_tier=2)

    export = export_inline(
        viewer=org.enablement, table=TRENDS, format="csv", filters=ReportFilters()
    )

    header, *rows = _csv(export)
    assert header[:4] == ["Date", "Team", "Offering", "Reps"]
    assert len(rows) == 1
    assert rows[0][0] == timezone.localdate().isoformat()
    assert rows[0][3] == "4"


def test_the_trends_table_keeps_the_period_of_the_page(org, world, run_jobs):
    today = timezone.localdate()
    ReadinessSnapshot.objects.create(taken_on=today, reps=4)
    ReadinessSnapshot.objects.create(taken_on=today - timedelta(days=200), reps=3)

    export = export_inline(
        viewer=org.enablement, table=TRENDS, format="csv", filters=ReportFilters(), days=30
    )
    assert [row[3] for row in _csv(export)[1:]] == ["4"]

    with run_jobs():
        job = export_start(
            owner=org.enablement, table=TRENDS, format="csv", filters=ReportFilters(), days=30
        )
    job.refresh_from_db()
    assert job.filters == {"days": "30"}
    assert job.total_rows == 1
    assert [row[3] for row in _stored_csv(job)[1:]] == ["4"]


@pytest.mark.parametrize(
    ("table", "filters"),
    [
        (MATRIX, lambda o, w: ReportFilters()),
        (MATRIX, lambda o, w: ReportFilters(team=o.beta.pk)),
        (GAPS, lambda o, w: ReportFilters()),
        (GAPS, lambda o, w: ReportFilters(subject=w.opening.pk)),
        (GAPS, lambda o, w: ReportFilters(offering=w.secure.pk, ready="no")),
        (SUMMARY, lambda o, w: ReportFilters()),
        (SUMMARY, lambda o, w: ReportFilters(offering=w.cloud.pk)),
        (TRENDS, lambda o, w: ReportFilters()),
    ],
)
@pytest.mark.parametrize("viewer", ["enablement", "manager_b", "director"])
def test_the_size_of_a_table_is_its_number_of_rows(org, world, table, filters, viewer):
    ReadinessSnapshot.objects.create(taken_on=timezone.localdate(), reps=4)
    person = getattr(org, viewer)
    chosen = filters(org, world)

    _headers, rows = report_table(table=table, viewer=person, filters=chosen, now=world.now)

    assert table_size(table=table, viewer=person, filters=chosen, now=world.now) == len(list(rows))


def test_xlsx_export_opens_and_holds_the_right_cells(org, world):
    org.rep_c.display_name = '=HYPERLINK("http://evil.test","click")'
    org.rep_c.save(update_fields=["display_name"])

    export = export_inline(
        viewer=org.enablement, table=MATRIX, format="xlsx", filters=ReportFilters()
    )

    with export.file:
        sheet = openpyxl.load_workbook(export.file).active
    assert export.filename.endswith(".xlsx")
    assert sheet.title == "Matrix"
    assert [cell.value for cell in sheet[1]][:7] == [
        "Rep",
        "Email",
        "Team",
        "Segment",
        "Sales role",
        "Tier",
        "Acme Cloud",
    ]
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert names == [
        '\'=HYPERLINK("http://evil.test","click")',
        "Rep Alpha",
        "Rep Alpha-1",
        "Rep Beta",
    ]
    gamma = next(sheet.iter_rows(min_row=2, max_row=2))
    assert gamma[6].value == "L1"
    assert gamma[7].value.date() == timezone.localdate(world.now + timedelta(days=20))
    assert gamma[7].number_format == "yyyy-mm-dd"


# Who may export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["rep_a", "tp_lead", "admin", "no_role"])
def test_only_people_who_read_the_report_may_export_it(org, person):
    for start in (export_start, export_request):
        with pytest.raises(NotFoundError):
            start(owner=getattr(org, person), table=MATRIX, format="csv", filters=ReportFilters())
    assert not ExportJob.objects.exists()


@pytest.mark.parametrize(
    ("table", "format_", "field"),
    [("everything", "csv", "table"), ("matrix", "pdf", "format")],
)
def test_an_unknown_table_or_format_is_refused(org, table, format_, field):
    with pytest.raises(ApplicationError) as refused:
        export_start(owner=org.enablement, table=table, format=format_, filters=ReportFilters())

    assert field in refused.value.field_errors


def test_a_manager_exports_only_their_subtree(org, world, run_jobs):
    with run_jobs():
        job = export_start(owner=org.manager_b, table=MATRIX, format="csv", filters=ReportFilters())

    job.refresh_from_db()
    assert [row[0] for row in _stored_csv(job)[1:]] == ["Rep Alpha-1", "Rep Beta"]


def test_a_job_runs_with_what_its_owner_may_see_when_it_runs(org, world):
    job = export_start(owner=org.manager_b, table=MATRIX, format="csv", filters=ReportFilters())
    # Before it runs, a rep joins Beta and another leaves it.
    user_set_team(user=org.rep_c, team=org.beta, actor=None)
    user_set_team(user=org.rep_b, team=org.gamma, actor=None)

    job = export_run(job_id=job.pk)

    assert [row[0] for row in _stored_csv(job)[1:]] == ["Rep Alpha-1", "Rep Gamma"]


def test_a_job_whose_owner_may_no_longer_read_the_report_fails(org, world):
    job = export_start(owner=org.manager_b, table=MATRIX, format="csv", filters=ReportFilters())
    org.manager_b.is_manager = False
    org.manager_b.save(update_fields=["is_manager"])

    job = export_run(job_id=job.pk)

    assert job.status == ExportJob.Status.FAILED
    assert job.error == "You may no longer read this report."
    assert not job.file
    assert _exports_on_disk() == []


# Jobs -------------------------------------------------------------------------------------------


def test_a_large_export_runs_as_a_job_to_a_downloadable_file(org, world, settings, run_jobs):
    settings.EXPORT_INLINE_MAX_ROWS = 3
    settings.EXPORT_RETENTION_HOURS = 6

    with run_jobs():
        job = export_request(
            owner=org.enablement, table=MATRIX, format="xlsx", filters=ReportFilters()
        )
        assert isinstance(job, ExportJob)
        assert (job.status, job.total_rows, job.percent) == (ExportJob.Status.QUEUED, 4, 0)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert (job.percent, job.done_rows, job.total_rows) == (100, 4, 4)
    assert job.filename == f"readiness-matrix-{timezone.localdate().isoformat()}.xlsx"
    # Stored under a random name, never one the client chose.
    assert job.file.name.startswith("exports/")
    assert "readiness" not in job.file.name
    assert job.expires_at - job.finished_at == timedelta(hours=6)
    with job.file.open("rb") as handle:
        sheet = openpyxl.load_workbook(handle).active
    assert sheet.max_row == 5


def test_a_small_export_downloads_at_once(org, world):
    export = export_request(
        owner=org.enablement, table=MATRIX, format="csv", filters=ReportFilters()
    )

    assert isinstance(export, exports.InlineExport)
    assert not ExportJob.objects.exists()


def test_a_job_records_its_progress_as_it_goes(org, world, monkeypatch):
    monkeypatch.setattr(exports, "PROGRESS_EVERY", 1)
    job = export_start(owner=org.enablement, table=MATRIX, format="csv", filters=ReportFilters())

    with CaptureQueriesContext(connection) as queries:
        job = export_run(job_id=job.pk)

    progress = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith("UPDATE") and "done_rows" in query["sql"]
    ]
    assert len(progress) >= 4  # one per row, then the job's end
    assert job.status == ExportJob.Status.DONE


def test_a_failing_export_is_marked_failed_and_leaves_no_file(org, world, monkeypatch):
    def breaks_midway(**kwargs):
        def rows():
            yield ["Rep Alpha"]
            yield ["Rep Beta"]
            raise RuntimeError("database went away")

        return ["Rep"], rows()

    monkeypatch.setattr(exports, "report_table", breaks_midway)
    job = export_start(owner=org.enablement, table=MATRIX, format="xlsx", filters=ReportFilters())

    job = export_run(job_id=job.pk)

    assert job.status == ExportJob.Status.FAILED
    assert job.error == exports.FAILED_MESSAGE  # no internals shown
    assert not job.file
    assert job.finished_at is not None
    assert _exports_on_disk() == []


def test_running_a_job_twice_produces_one_file(org, world):
    job = export_start(owner=org.enablement, table=GAPS, format="csv", filters=ReportFilters())

    first = export_run(job_id=job.pk)
    again = export_run(job_id=job.pk)

    assert first.status == again.status == ExportJob.Status.DONE
    assert again.file.name == first.file.name
    assert again.finished_at == first.finished_at
    assert _exports_on_disk() == [first.file.name]


def test_a_job_running_elsewhere_is_left_alone_unless_its_worker_was_lost(org, world):
    job = export_start(owner=org.enablement, table=GAPS, format="csv", filters=ReportFilters())
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, started_at=now)

    assert export_run(job_id=job.pk, now=now).status == ExportJob.Status.RUNNING

    later = now + exports._stale_after() + timedelta(seconds=1)
    assert export_run(job_id=job.pk, now=later).status == ExportJob.Status.DONE


def test_a_missing_job_is_nothing_to_run(db):
    assert export_run(job_id=123456) is None


def test_too_many_exports_under_way_are_refused(org, world):
    for _ in range(exports.MAX_ACTIVE_JOBS):
        export_start(owner=org.enablement, table=GAPS, format="csv", filters=ReportFilters())

    with pytest.raises(ConflictError):
        export_start(owner=org.enablement, table=GAPS, format="csv", filters=ReportFilters())
    # Someone else's are theirs.
    other = UserFactory(enablement=True)
    export_start(owner=other, table=GAPS, format="csv", filters=ReportFilters())


# Retention --------------------------------------------------------------------------------------


def _done_job(owner, *, expires_at):
    job = ExportJob.objects.create(
        owner=owner,
        table=GAPS,
        format="csv",
        status=ExportJob.Status.DONE,
        filename="readiness-gaps-2026-01-01.csv",
        finished_at=expires_at - timedelta(hours=24),
        expires_at=expires_at,
    )
    job.file.save("random.csv", ContentFile(b"Rep\r\n"), save=True)
    return job


def test_purging_deletes_expired_files_and_keeps_the_others(org):
    now = timezone.now()
    old = _done_job(org.enablement, expires_at=now - timedelta(minutes=1))
    fresh = _done_job(org.enablement, expires_at=now + timedelta(hours=1))
    old_name = old.file.name

    assert exports_purge_expired(now=now) == 1
    assert exports_purge_expired(now=now) == 0

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == ExportJob.Status.EXPIRED
    assert not old.file
    assert not default_storage.exists(old_name)
    assert fresh.status == ExportJob.Status.DONE
    assert default_storage.exists(fresh.file.name)


def test_jobs_whose_message_was_lost_are_sent_again_and_old_ones_given_up(
    org, world, settings, run_jobs
):
    settings.EXPORT_RETENTION_HOURS = 24
    now = timezone.now()
    lost = export_start(owner=org.enablement, table=GAPS, format="csv", filters=ReportFilters())
    fresh = export_start(owner=org.enablement, table=GAPS, format="csv", filters=ReportFilters())
    ancient = export_start(owner=org.manager_b, table=GAPS, format="csv", filters=ReportFilters())
    stopped = export_start(owner=org.manager_b, table=GAPS, format="csv", filters=ReportFilters())
    ExportJob.objects.filter(pk=lost.pk).update(created_at=now - timedelta(minutes=11))
    ExportJob.objects.filter(pk=ancient.pk).update(created_at=now - timedelta(hours=25))
    ExportJob.objects.filter(pk=stopped.pk).update(
        status=ExportJob.Status.RUNNING, started_at=now - timedelta(hours=25)
    )

    with run_jobs():
        assert exports_resend_stuck(now=now) == 1

    statuses = dict(ExportJob.objects.values_list("pk", "status"))
    assert statuses == {
        lost.pk: ExportJob.Status.DONE,
        fresh.pk: ExportJob.Status.QUEUED,
        ancient.pk: ExportJob.Status.FAILED,
        stopped.pk: ExportJob.Status.FAILED,
    }


def test_a_job_whose_worker_was_killed_is_run_again_once_it_is_stale(
    org, world, settings, run_jobs
):
    # given a job left "running" by a worker killed mid-job (its message came back at once,
    # found the job running, and was done with)
    now = timezone.now()
    job = export_start(owner=org.enablement, table=GAPS, format="csv", filters=ReportFilters())
    running = ExportJob.objects.filter(pk=job.pk)
    running.update(status=ExportJob.Status.RUNNING, started_at=now - timedelta(minutes=5))
    with run_jobs():
        assert exports_resend_stuck(now=now) == 0  # it may still be running somewhere
    running.update(started_at=now - timedelta(seconds=settings.EXPORT_TIME_LIMIT + 61))

    with run_jobs():
        assert exports_resend_stuck(now=now) == 1

    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE


def test_the_export_tasks_are_safe_to_run_twice_and_the_sweeps_are_scheduled(org, world, settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for task in (run_export, purge_expired_exports, resend_stuck_exports):
        assert task.acks_late
    assert {purge_expired_exports.name, resend_stuck_exports.name} <= scheduled

    job = export_start(owner=org.enablement, table=GAPS, format="csv", filters=ReportFilters())
    assert run_export.apply(args=[job.pk]).get() == ExportJob.Status.DONE
    assert run_export.apply(args=[job.pk]).get() == ExportJob.Status.DONE
    assert run_export.apply(args=[job.pk + 1000]).get() == "no such export"
