"""Readiness reports: the report and its drill-downs, trends, exports, requirements, and the
manager's and rep's readiness pages."""

from django.urls import path

from certification.views import exports, reports, trends

urlpatterns: list = [
    path("reports/readiness/", reports.readiness_report, name="report_readiness"),
    path("reports/readiness/matrix/", reports.readiness_matrix, name="report_matrix"),
    path("reports/readiness/gaps/", reports.readiness_gaps, name="report_gaps"),
    path("reports/readiness/trends/", trends.readiness_trends, name="report_trends"),
    path("reports/requirements/", reports.requirement_list, name="report_requirements"),
    path("reports/requirements/new/", reports.requirement_edit, name="report_requirement_new"),
    path(
        "reports/requirements/<int:requirement_id>/",
        reports.requirement_edit,
        name="report_requirement_edit",
    ),
    path(
        "reports/requirements/<int:requirement_id>/delete/",
        reports.requirement_delete,
        name="report_requirement_delete",
    ),
    path("reports/subscription/", reports.subscription_update, name="report_subscription"),
    path("team/", reports.team_readiness, name="team_readiness"),
    path("readiness/", reports.my_readiness, name="my_readiness"),
    # Exports
    path("reports/export/", exports.export_start, name="report_export"),
    path("reports/exports/", exports.export_list, name="report_exports"),
    path("reports/exports/<int:job_id>/", exports.export_job, name="report_export_job"),
    path(
        "reports/exports/<int:job_id>/progress/",
        exports.export_progress,
        name="report_export_progress",
    ),
    path(
        "reports/exports/<int:job_id>/download/",
        exports.export_download,
        name="report_export_download",
    ),
]
