"""Exports of the readiness report's tables: start one (a small table downloads at once, a
large one becomes a background job), the person's own exports, a job's page with its progress
(polled with htmx) and the download.

Whoever may read the report may export it (enablement: everyone; a manager: their subtree);
anyone else gets 404. A job is seen only by the person who started it: anyone else, other
enablement leads included, gets 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from accounts.decorators import rule_required
from accounts.models import User
from certification.forms_reports import ReportFilterForm
from certification.models import ExportJob
from certification.selectors.exports import (
    export_downloadable,
    export_filter_labels,
    export_job_get,
    export_jobs_of,
    export_state,
)
from certification.selectors.trends import PERIODS
from certification.services.exports import (
    CONTENT_TYPES,
    InlineExport,
    can_export,
    export_request,
)
from certification.views.authoring import _paginate
from config.errors import ApplicationError, NotFoundError

REPORT_PAGES = {
    ExportJob.Table.SUMMARY.value: "report_readiness",
    ExportJob.Table.MATRIX.value: "report_matrix",
    ExportJob.Table.GAPS.value: "report_gaps",
    ExportJob.Table.TRENDS.value: "report_trends",
}


def _viewer(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _days(value: str) -> int | None:
    """The trends page's period, if it is one of its choices (else every snapshot)."""
    return int(value) if value.isdigit() and int(value) in PERIODS else None


def _report_link(table: str) -> str:
    """The report page a table comes from."""
    try:
        return reverse(f"certification:{REPORT_PAGES.get(table, 'report_readiness')}")
    except NoReverseMatch:  # a table whose page is not there (yet)
        return reverse("certification:report_readiness")


def _back_to_report(table: str, filters: QueryDict) -> HttpResponse:
    query = filters.urlencode()
    return redirect(_report_link(table) + (f"?{query}" if query else ""))


def _inline_response(export: InlineExport) -> HttpResponseBase:
    response: HttpResponseBase
    if export.lines is not None:
        response = StreamingHttpResponse(export.lines, content_type=export.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=export.filename
        )
    else:
        response = FileResponse(
            export.file,
            as_attachment=True,
            filename=export.filename,
            content_type=export.content_type,
        )
    return _private(response)


def _private(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@rule_required(can_export)
@require_POST
def export_start(request: HttpRequest) -> HttpResponseBase:
    """Export a report table with the report's filters: a small one downloads at once, a
    large one runs in the background and its page shows the progress."""
    viewer = _viewer(request)
    table = request.POST.get("table", "")
    format_ = request.POST.get("format", "")
    data = request.POST.copy()
    days = _days(data.pop("days", [""])[-1]) if table == ExportJob.Table.TRENDS else None
    for key in ("csrfmiddlewaretoken", "table", "format"):
        data.pop(key, None)
    form = ReportFilterForm(data, viewer=viewer)
    if not form.is_valid():
        messages.error(request, "These filters cannot be exported: check them and try again.")
        return _back_to_report(table, data)
    try:
        result = export_request(
            owner=viewer, table=table, format=format_, filters=form.to_filters(), days=days
        )
    except NotFoundError as error:
        raise Http404 from error
    except ApplicationError as error:
        messages.error(request, error.message)
        return _back_to_report(table, data)
    if isinstance(result, InlineExport):
        return _inline_response(result)
    messages.info(
        request,
        f"{result.total_rows} rows: the export runs in the background. "
        "It will be listed under My exports when it is ready.",
    )
    return redirect("certification:report_export_job", result.pk)


@rule_required(can_export)
def export_list(request: HttpRequest) -> HttpResponse:
    """The person's own exports, newest first."""
    viewer = _viewer(request)
    page, query = _paginate(request, export_jobs_of(owner=viewer))  # type: ignore[arg-type]
    now = timezone.now()
    jobs = list(page.object_list)
    labels = export_filter_labels(jobs)
    rows = [
        {
            "job": job,
            "state": export_state(job, now),
            "downloadable": export_downloadable(job, now),
            "filters": labels[job.pk],
        }
        for job in jobs
    ]
    return render(
        request,
        "certification/reports/export_list.html",
        {"tab": "exports", "page": page, "query": query, "rows": rows},
    )


def _job_context(job: ExportJob) -> dict[str, object]:
    now = timezone.now()
    state = export_state(job, now)
    return {
        "job": job,
        "state": state,
        "state_label": ExportJob.Status(state).label,
        "downloadable": export_downloadable(job, now),
        "polling": state in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING),
    }


def _own_job(request: HttpRequest, job_id: int) -> ExportJob:
    try:
        return export_job_get(owner=_viewer(request), job_id=job_id)
    except NotFoundError as error:
        raise Http404 from error


@rule_required(can_export)
def export_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """One export: what it holds, its progress while it runs, its download when done."""
    job = _own_job(request, job_id)
    context = _job_context(job)
    context["filters"] = export_filter_labels([job])[job.pk]
    context["tab"] = "exports"
    context["report_url"] = _report_link(job.table)
    return render(request, "certification/reports/export_job.html", context)


@rule_required(can_export)
def export_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's progress, for the job page to poll; once it is over, the polling stops."""
    job = _own_job(request, job_id)
    return render(request, "certification/reports/export_progress.html", _job_context(job))


@rule_required(can_export)
def export_download(request: HttpRequest, job_id: int) -> HttpResponseBase:
    """The finished export's file, under a name made of the table and the day."""
    job = _own_job(request, job_id)
    if not export_downloadable(job, timezone.now()):
        raise Http404
    response = FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.filename,
        content_type=CONTENT_TYPES[job.format],
    )
    return _private(response)
