"""``/api/v1/reports/exports/``: start an export job (202), follow it, download its file.
Enablement and managers (their subtree) only; starting needs the ``write`` scope; a job is
its owner's alone."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from accounts.services import api_token_create
from certification.models import ExportJob
from certification.selectors.readiness import ReportFilters
from certification.services.exports import export_run, export_start
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

START = reverse("api-v1:report-export-list")


def _detail(job_id: int) -> str:
    return reverse("api-v1:report-export-detail", args=[job_id])


def _download(job_id: int) -> str:
    return reverse("api-v1:report-export-download", args=[job_id])


@pytest.fixture
def lead(api_client, org):
    api_client.force_authenticate(org.enablement)
    return api_client


@pytest.fixture
def done_job(org, world):
    job = export_start(owner=org.enablement, table="gaps", format="csv", filters=ReportFilters())
    return export_run(job_id=job.pk)


def test_a_lead_starts_an_export_follows_it_and_downloads_the_file(
    lead, org, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(
            START,
            {"table": "matrix", "format": "xlsx", "filters": {"region": org.north.pk}},
            format="json",
        )

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["filters"] == {"region": str(org.north.pk)}
    assert body["total_rows"] == 3
    assert body["download_url"] is None
    assert response["Location"] == body["url"]
    assert body["url"].endswith(_detail(body["id"]))

    status = lead.get(_detail(body["id"])).json()
    assert status["status"] == "done"
    assert (status["percent"], status["done_rows"]) == (100, 3)
    assert status["download_url"].endswith(_download(body["id"]))

    download = lead.get(_download(body["id"]), HTTP_ACCEPT="application/octet-stream")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{status["filename"]}"'
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [
        "Rep Alpha",
        "Rep Alpha-1",
        "Rep Beta",
    ]


def test_a_manager_exports_only_their_subtree(
    api_client, org, world, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(org.manager_b)

    with django_capture_on_commit_callbacks(execute=True):
        job_id = api_client.post(START, {"table": "matrix", "format": "csv"}, format="json").json()[
            "id"
        ]

    download = api_client.get(_download(job_id))
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert [row[0] for row in csv.reader(io.StringIO(text))][1:] == ["Rep Alpha-1", "Rep Beta"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"table": "salaries", "format": "csv"}, "table"),
        ({"table": "matrix", "format": "pdf"}, "format"),
        ({"table": "matrix", "format": "csv", "filters": {"tier": "platinum"}}, "filters"),
        ({"table": "matrix", "format": "csv", "filters": {"ready": "yes"}}, "filters"),
        ({"table": "trends", "format": "csv", "days": 7}, "days"),
    ],
)
def test_bad_input_is_refused(lead, org, body, field):
    response = lead.post(START, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not ExportJob.objects.exists()


def test_a_team_the_manager_may_not_see_is_refused(api_client, org):
    api_client.force_authenticate(org.manager_b)

    response = api_client.post(
        START,
        {"table": "matrix", "format": "csv", "filters": {"team": org.gamma.pk}},
        format="json",
    )

    assert response.status_code == 400
    assert "team" in response.json()["filters"]


@pytest.mark.parametrize("who", ["rep_a", "tp_lead", "admin", "no_role"])
def test_people_who_may_not_read_the_report_get_404(api_client, org, done_job, who):
    api_client.force_authenticate(getattr(org, who))

    assert api_client.post(START, {"table": "matrix", "format": "csv"}).status_code == 404
    assert api_client.get(_detail(done_job.pk)).status_code == 404
    assert api_client.get(_download(done_job.pk)).status_code == 404


@pytest.mark.parametrize("who", ["other_lead", "manager_b"])
def test_someone_elses_job_is_404(api_client, org, done_job, who):
    api_client.force_authenticate(
        UserFactory(enablement=True) if who == "other_lead" else org.manager_b
    )

    assert api_client.get(_detail(done_job.pk)).status_code == 404
    assert api_client.get(_download(done_job.pk)).status_code == 404


def test_anonymous_is_refused(api_client, done_job):
    assert api_client.post(START, {"table": "matrix", "format": "csv"}).status_code == 401
    assert api_client.get(_detail(done_job.pk)).status_code == 401
    assert api_client.get(_download(done_job.pk)).status_code == 401


def test_a_read_only_token_follows_jobs_but_cannot_start_one(api_client, org, done_job):
    _token, raw = api_token_create(user=org.enablement, name="reader", scopes=["read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")

    assert api_client.get(_detail(done_job.pk)).status_code == 200
    assert api_client.get(_download(done_job.pk)).status_code == 200
    assert api_client.post(START, {"table": "matrix", "format": "csv"}).status_code == 403

    _token, raw = api_token_create(user=org.enablement, name="writer", scopes=["write"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api_client.post(START, {"table": "matrix", "format": "csv"}).status_code == 202


def test_a_job_not_done_has_no_download(lead, org, world):
    job = export_start(owner=org.enablement, table="gaps", format="csv", filters=ReportFilters())

    response = lead.get(_download(job.pk))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert lead.get(_detail(job.pk)).json()["download_url"] is None


def test_the_status_takes_a_fixed_number_of_queries(lead, done_job, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert lead.get(_detail(done_job.pk)).status_code == 200
    with django_assert_max_num_queries(1):
        assert lead.get(_download(done_job.pk)).status_code == 200
