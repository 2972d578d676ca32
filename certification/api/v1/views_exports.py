"""Export jobs of the readiness report's tables: start one, follow it, download its file.

Who may export follows the report pages: enablement (everyone) and managers (their subtree);
anyone else gets 404. Starting a job needs a token with the ``write`` scope. A job is only
ever seen by the person who started it: anyone else, other enablement leads included, gets
404. Through the API every export runs as a job, whatever its size.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from certification.api.permissions import rule
from certification.forms_reports import ReportFilterForm
from certification.models import ExportJob, Tier
from certification.selectors.exports import export_downloadable, export_job_get, export_state
from certification.selectors.readiness import EXPIRY_WINDOWS, ReportFilters
from certification.selectors.trends import PERIODS
from certification.services.exports import CONTENT_TYPES, can_export, export_start
from config.errors import NotFoundError


class ExportFiltersInput(serializers.Serializer):
    """The report's filters, as on ``GET /api/v1/reports/readiness/``; all optional."""

    region = serializers.IntegerField(required=False, help_text="A region's id (its subtree).")
    team = serializers.IntegerField(required=False, help_text="A team's id (its subtree).")
    manager = serializers.IntegerField(
        required=False, help_text="A manager's id (the teams they lead)."
    )
    tier = serializers.ChoiceField(choices=Tier.choices, required=False)
    subject = serializers.IntegerField(required=False, help_text="A subject's id.")
    offering = serializers.IntegerField(required=False, help_text="An offering's id.")
    segment = serializers.CharField(required=False, allow_blank=True, max_length=60)
    sales_role = serializers.CharField(required=False, allow_blank=True, max_length=60)
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Name or email contains."
    )
    ready = serializers.ChoiceField(
        choices=[("yes", "Customer ready"), ("no", "Not ready")],
        required=False,
        help_text="Needs offering.",
    )
    expiring = serializers.ChoiceField(
        choices=list(EXPIRY_WINDOWS),
        required=False,
        help_text="Reps with a certification expiring within this many days.",
    )
    inactive = serializers.BooleanField(
        required=False, default=False, help_text="Reps with no recent activity."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("ready") and attrs.get("offering") is None:
            raise serializers.ValidationError({"ready": ["Choose an offering too."]})
        return attrs


class ExportStartInput(serializers.Serializer):
    table = serializers.ChoiceField(choices=ExportJob.Table.choices)
    format = serializers.ChoiceField(choices=ExportJob.Format.choices)
    filters = ExportFiltersInput(required=False)
    days = serializers.ChoiceField(
        choices=list(PERIODS),
        required=False,
        help_text="The trends table only: the last so many days (every snapshot by default).",
    )


class ExportJobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    table = serializers.CharField()
    format = serializers.CharField()
    filters = serializers.DictField(
        child=serializers.CharField(), help_text="The filters, as query parameters."
    )
    status = serializers.ChoiceField(
        choices=ExportJob.Status.choices,
        help_text="expired once the file is past its retention.",
    )
    percent = serializers.IntegerField(help_text="0 to 100.")
    total_rows = serializers.IntegerField()
    done_rows = serializers.IntegerField()
    filename = serializers.CharField(help_text="The name the file downloads under.")
    error = serializers.CharField(help_text="Why it failed; empty otherwise.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True, help_text="The file is kept until.")
    url = serializers.URLField(help_text="This job.")
    download_url = serializers.URLField(allow_null=True, help_text="Null until the file is ready.")


def _job_body(request: Request, job: ExportJob) -> dict[str, Any]:
    now = timezone.now()
    downloadable = export_downloadable(job, now)
    download = reverse("api-v1:report-export-download", args=[job.pk])
    return {
        "id": job.pk,
        "table": job.table,
        "format": job.format,
        "filters": job.filters,
        "status": export_state(job, now),
        "percent": job.percent,
        "total_rows": job.total_rows,
        "done_rows": job.done_rows,
        "filename": job.filename,
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "expires_at": job.expires_at,
        "url": request.build_absolute_uri(reverse("api-v1:report-export-detail", args=[job.pk])),
        "download_url": request.build_absolute_uri(download) if downloadable else None,
    }


def _filters(owner: User, values: dict[str, Any]) -> ReportFilters:
    """The filters, validated as the report validates them: a team, region or manager the
    owner may not see is refused, not exported as an empty table."""
    form = ReportFilterForm(ReportFilters(**values).as_query(), viewer=owner)
    if not form.is_valid():
        errors = {name: list(problems) for name, problems in form.errors.items()}
        raise serializers.ValidationError({"filters": errors})
    return form.to_filters()


def _own_job(request: Request, job_id: int) -> ExportJob:
    owner: User = request.user  # type: ignore[assignment]
    return export_job_get(owner=owner, job_id=job_id)


class ExportStartApi(APIView):
    """Start exporting a report table with these filters; poll the job for its file."""

    permission_classes = rule(can_export)

    @extend_schema(
        request=ExportStartInput,
        responses={202: ExportJobOutput, 409: OpenApiResponse(description="Too many under way.")},
        summary="Start a report export",
    )
    def post(self, request: Request) -> Response:
        data = ExportStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        owner: User = request.user  # type: ignore[assignment]
        job = export_start(
            owner=owner,
            table=data.validated_data["table"],
            format=data.validated_data["format"],
            filters=_filters(owner, data.validated_data.get("filters") or {}),
            days=data.validated_data.get("days"),
        )
        body = _job_body(request, job)
        return Response(
            ExportJobOutput(body).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": body["url"]},
        )


class ExportJobApi(APIView):
    """An export job of one's own: its status and progress, and its file's URL when done."""

    permission_classes = rule(can_export)

    @extend_schema(
        responses={200: ExportJobOutput, 404: OpenApiResponse(description="No such export.")},
        summary="An export's status",
    )
    def get(self, request: Request, job_id: int) -> Response:
        return Response(ExportJobOutput(_job_body(request, _own_job(request, job_id))).data)


class ExportDownloadApi(APIView):
    """The finished export's file (404 before it is ready and after it expires)."""

    permission_classes = rule(can_export)

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The file is what is asked for, whatever Accept says; errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        responses={
            (200, CONTENT_TYPES[ExportJob.Format.CSV.value]): OpenApiTypes.BINARY,
            (200, CONTENT_TYPES[ExportJob.Format.XLSX.value]): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="No such export, or its file is not available."),
        },
        summary="Download an export's file",
    )
    def get(self, request: Request, job_id: int) -> FileResponse:
        job = _own_job(request, job_id)
        if not export_downloadable(job, timezone.now()):
            raise NotFoundError("This export has no file to download (yet, or any more).")
        response = FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=job.filename,
            content_type=CONTENT_TYPES[job.format],
        )
        response["Cache-Control"] = "private, no-store"
        return response
