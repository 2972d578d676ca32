"""Export pages: start an export from the report (small: a download at once; large: a job
page with htmx-polled progress and a download), my exports, and who sees what: anonymous
people go to sign-in, anyone who may not read the report gets 404, and a job is its owner's
alone."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from certification.models import ExportJob, ReadinessSnapshot
from certification.selectors.readiness import ReportFilters
from certification.services.exports import export_run, export_start
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("certification:report_export")
EXPORTS = reverse("certification:report_exports")


def _job_urls(job_id: int) -> list[str]:
    return [
        reverse(f"certification:{name}", args=[job_id])
        for name in ("report_export_job", "report_export_progress", "report_export_download")
    ]


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def done_job(org, world):
    job = export_start(owner=org.enablement, table="gaps", format="csv", filters=ReportFilters())
    return export_run(job_id=job.pk)


# Permissions ------------------------------------------------------------------------------------


def test_anonymous_people_go_to_sign_in(client, done_job):
    for url in [EXPORTS, *_job_urls(done_job.pk)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert reverse("accounts:login") in response["Location"]
    response = client.post(EXPORT, {"table": "matrix", "format": "csv"})
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("person", ["rep_a", "tp_lead", "admin", "no_role"])
def test_people_who_may_not_read_the_report_get_404(client, org, done_job, person):
    client.force_login(getattr(org, person))

    assert client.post(EXPORT, {"table": "matrix", "format": "csv"}).status_code == 404
    for url in [EXPORTS, *_job_urls(done_job.pk)]:
        assert client.get(url).status_code == 404, url
    assert not ExportJob.objects.exclude(pk=done_job.pk).exists()


@pytest.mark.parametrize("person", ["other_lead", "manager_a"])
def test_a_job_is_seen_only_by_the_person_who_started_it(client, org, done_job, person):
    other = UserFactory(enablement=True) if person == "other_lead" else getattr(org, person)
    client.force_login(other)

    for url in _job_urls(done_job.pk):
        assert client.get(url).status_code == 404, url
    assert done_job.filename not in client.get(EXPORTS).content.decode()


def test_starting_an_export_needs_a_post(client, org):
    client.force_login(org.enablement)

    assert client.get(EXPORT).status_code == 405


# Small exports download at once -----------------------------------------------------------------


def test_a_small_csv_export_streams_with_the_report_filters(client, org, world):
    client.force_login(org.enablement)

    response = client.post(
        EXPORT, {"table": "matrix", "format": "csv", "region": org.north.pk, "q": "alpha"}
    )

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    stamp = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="readiness-matrix-{stamp}.csv"'
    )
    assert [row[0] for row in _rows(response)[1:]] == ["Rep Alpha", "Rep Alpha-1"]
    assert not ExportJob.objects.exists()


def test_a_small_xlsx_export_downloads_a_workbook(client, org, world):
    client.force_login(org.enablement)

    response = client.post(EXPORT, {"table": "gaps", "format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert ".xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["Rep Alpha", "Rep Beta"]


def test_a_manager_exports_only_their_subtree(client, org, world):
    client.force_login(org.manager_b)

    response = client.post(EXPORT, {"table": "matrix", "format": "csv"})

    assert [row[0] for row in _rows(response)[1:]] == ["Rep Alpha-1", "Rep Beta"]


def test_the_trends_export_keeps_the_period_chosen_on_the_page(client, org, world):
    today = timezone.localdate()
    ReadinessSnapshot.objects.create(taken_on=today, reps=4)
    ReadinessSnapshot.objects.create(taken_on=today - timedelta(days=200), reps=3)
    client.force_login(org.enablement)

    last_month = client.post(EXPORT, {"table": "trends", "format": "csv", "days": "30"})
    every_day = client.post(EXPORT, {"table": "trends", "format": "csv", "days": "7000"})

    assert [row[3] for row in _rows(last_month)[1:]] == ["4"]
    assert [row[3] for row in _rows(every_day)[1:]] == ["3", "4"]


def test_a_filter_outside_what_the_viewer_may_see_is_refused(client, org, world):
    client.force_login(org.manager_b)

    response = client.post(EXPORT, {"table": "matrix", "format": "csv", "team": org.gamma.pk})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("certification:report_matrix"))
    assert not ExportJob.objects.exists()


def test_an_unknown_table_is_refused_with_a_message(client, org, world):
    client.force_login(org.enablement)

    response = client.post(EXPORT, {"table": "salaries", "format": "csv"}, follow=True)

    assert "Choose one of" in response.content.decode()


# Large exports run as jobs ----------------------------------------------------------------------


def test_a_large_export_runs_in_the_background_with_progress_and_a_download(
    client, org, world, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_INLINE_MAX_ROWS = 0  # every export is large
    client.force_login(org.enablement)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(EXPORT, {"table": "matrix", "format": "xlsx", "tier": "gold"})
        job = ExportJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("certification:report_export_job", args=[job.pk])
        queued = client.get(response["Location"]).content.decode()
        # While it waits, the progress polls itself; no inline script or style anywhere.
        assert 'hx-trigger="every 1s"' in queued
        assert 'hx-swap="outerHTML"' in queued
        assert re.search(r"<progress[^>]*value=\"0\"", queued)
        assert 'aria-live="polite"' in queued
        assert "<script>" not in queued
        assert " style=" not in queued

    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE
    assert job.filters == {"tier": "gold"}
    progress = client.get(reverse("certification:report_export_progress", args=[job.pk]))
    body = progress.content.decode()
    assert "hx-trigger" not in body  # done: the polling stops
    assert 'value="100"' in body
    download = reverse("certification:report_export_download", args=[job.pk])
    assert download in body

    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{job.filename}"'
    assert response["Cache-Control"] == "private, no-store"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["Rep Alpha"]
    assert job.filename in client.get(EXPORTS).content.decode()


def test_a_failed_job_says_so_and_offers_no_download(client, org, world):
    job = export_start(owner=org.enablement, table="gaps", format="csv", filters=ReportFilters())
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.FAILED, error="You may no longer read this report."
    )
    client.force_login(org.enablement)
    job_url, _progress, download = _job_urls(job.pk)

    body = client.get(job_url).content.decode()

    assert "You may no longer read this report." in body
    assert "hx-trigger" not in body
    assert download not in body
    assert client.get(download).status_code == 404


def test_a_file_past_its_retention_is_no_longer_offered(client, org, done_job):
    ExportJob.objects.filter(pk=done_job.pk).update(expires_at=timezone.now())
    client.force_login(org.enablement)
    job_url, _progress, download = _job_urls(done_job.pk)

    assert "Expired" in client.get(job_url).content.decode()
    assert client.get(download).status_code == 404


# Query counts -----------------------------------------------------------------------------------


def test_the_job_pages_take_a_fixed_number_of_queries(
    client, org, done_job, django_assert_max_num_queries
):
    client.force_login(org.enablement)
    job_url, progress, download = _job_urls(done_job.pk)

    # The session, the user, the job (and the navigation's unread count on full pages).
    for url in (job_url, progress, download):
        with django_assert_max_num_queries(4):
            assert client.get(url).status_code == 200


@pytest.mark.parametrize("jobs", [1, 12])
def test_my_exports_takes_the_same_queries_for_one_job_or_many(
    client, org, world, jobs, django_assert_max_num_queries
):
    filters = ReportFilters(team=org.alpha.pk, manager=org.manager_a.pk, subject=world.cloud.pk)
    for _ in range(jobs):
        ExportJob.objects.create(
            owner=org.enablement, table="gaps", format="csv", filters=filters.as_query()
        )
    client.force_login(org.enablement)

    # The session, the user, count and page of jobs, one query per kind of name in the filters,
    # the navigation's unread count.
    with django_assert_max_num_queries(8):
        response = client.get(EXPORTS)

    assert response.status_code == 200
    assert "Team: Alpha · Manager: Manager Alpha · Subject: Acme Cloud" in response.content.decode()
