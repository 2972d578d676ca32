from django.urls import path

from certification.api.v1 import (
    views,
    views_assessments,
    views_credentials,
    views_deals,
    views_exports,
    views_lifecycle,
    views_manage,
    views_notifications,
    views_reports,
    views_support,
)

urlpatterns = [
    # Reps
    path("exams/", views.MyExamListApi.as_view(), name="exam-list"),
    path("exams/<int:exam_id>/attempts/", views.AttemptStartApi.as_view(), name="attempt-start"),
    path("attempts/<int:attempt_id>/", views.AttemptDetailApi.as_view(), name="attempt-detail"),
    path(
        "attempts/<int:attempt_id>/answers/<int:question_id>/",
        views.AnswerApi.as_view(),
        name="attempt-answer",
    ),
    path(
        "attempts/<int:attempt_id>/finish/",
        views.AttemptFinishApi.as_view(),
        name="attempt-finish",
    ),
    path("certifications/", views.MyCertificationListApi.as_view(), name="certification-list"),
    path(
        "notifications/",
        views_notifications.NotificationListApi.as_view(),
        name="notification-list",
    ),
    path(
        "notifications/<int:notification_id>/read/",
        views_notifications.NotificationReadApi.as_view(),
        name="notification-read",
    ),
    path(
        "certifications/<int:certification_id>/credential/",
        views_credentials.MyCredentialApi.as_view(),
        name="certification-credential",
    ),
    # Enablement
    path("manage/subjects/", views_manage.SubjectListApi.as_view(), name="manage-subject-list"),
    path(
        "manage/subjects/<int:subject_id>/",
        views_manage.SubjectDetailApi.as_view(),
        name="manage-subject-detail",
    ),
    path(
        "manage/subjects/<int:subject_id>/validity/",
        views_lifecycle.SubjectValidityApi.as_view(),
        name="manage-subject-validity",
    ),
    path(
        "manage/subjects/<int:subject_id>/versions/",
        views_lifecycle.OfferingVersionListApi.as_view(),
        name="manage-subject-versions",
    ),
    path(
        "manage/certifications/<int:certification_id>/revoke/",
        views_lifecycle.CertificationRevokeApi.as_view(),
        name="manage-certification-revoke",
    ),
    path("manage/banks/", views_manage.BankListApi.as_view(), name="manage-bank-list"),
    path(
        "manage/banks/<int:bank_id>/",
        views_manage.BankDetailApi.as_view(),
        name="manage-bank-detail",
    ),
    path(
        "manage/banks/<int:bank_id>/questions/",
        views_manage.BankQuestionListApi.as_view(),
        name="manage-bank-questions",
    ),
    path(
        "manage/banks/<int:bank_id>/import/",
        views_manage.BankImportApi.as_view(),
        name="manage-bank-import",
    ),
    path(
        "manage/questions/<int:question_id>/",
        views_manage.QuestionDetailApi.as_view(),
        name="manage-question-detail",
    ),
    path("manage/exams/", views_manage.ExamListApi.as_view(), name="manage-exam-list"),
    path(
        "manage/exams/<int:exam_id>/",
        views_manage.ExamDetailApi.as_view(),
        name="manage-exam-detail",
    ),
    path(
        "manage/exams/<int:exam_id>/sections/",
        views_manage.ExamSectionsApi.as_view(),
        name="manage-exam-sections",
    ),
    path(
        "manage/exams/<int:exam_id>/publish/",
        views_manage.ExamPublishApi.as_view(),
        name="manage-exam-publish",
    ),
    path(
        "manage/exams/<int:exam_id>/archive/",
        views_manage.ExamArchiveApi.as_view(),
        name="manage-exam-archive",
    ),
    path(
        "manage/exams/<int:exam_id>/assignments/",
        views_manage.ExamAssignmentListApi.as_view(),
        name="manage-exam-assignments",
    ),
    path(
        "manage/assignments/<int:assignment_id>/",
        views_manage.AssignmentDetailApi.as_view(),
        name="manage-assignment-detail",
    ),
    path(
        "manage/exams/<int:exam_id>/results/",
        views_manage.ExamResultListApi.as_view(),
        name="manage-exam-results",
    ),
    path(
        "manage/exams/<int:exam_id>/item-analysis/",
        views_manage.ItemAnalysisApi.as_view(),
        name="manage-exam-items",
    ),
    path(
        "manage/attempts/<int:attempt_id>/",
        views_manage.AttemptReviewApi.as_view(),
        name="manage-attempt-detail",
    ),
    # Deals from the CRM (enablement)
    path("deals/bulk/", views_deals.DealBulkApi.as_view(), name="deal-bulk"),
    path("manage/deals/", views_deals.DealListApi.as_view(), name="manage-deal-list"),
    # Teleprospecting support (a dialer or CRM)
    path(
        "support/entitlements/",
        views_support.EntitlementApi.as_view(),
        name="support-entitlements",
    ),
    path("support/usage/", views_support.UsageRecordApi.as_view(), name="support-usage"),
    # Levels 2 and 3: participants
    path("assessments/mine/", views_assessments.MySessionListApi.as_view(), name="assessment-mine"),
    path(
        "assessments/judging/",
        views_assessments.JudgingSessionListApi.as_view(),
        name="assessment-judging",
    ),
    path(
        "assessments/<int:session_id>/",
        views_assessments.SessionDetailApi.as_view(),
        name="assessment-detail",
    ),
    path(
        "assessments/<int:session_id>/scorecard/",
        views_assessments.ScorecardApi.as_view(),
        name="assessment-scorecard",
    ),
    path(
        "assessments/<int:session_id>/release/",
        views_assessments.SessionReleaseApi.as_view(),
        name="assessment-release",
    ),
    path("observations/", views_assessments.ObservationListApi.as_view(), name="observation-list"),
    path(
        "observations/<int:observation_id>/",
        views_assessments.ObservationDetailApi.as_view(),
        name="observation-detail",
    ),
    path(
        "observations/<int:observation_id>/sign/",
        views_assessments.ObservationSignApi.as_view(),
        name="observation-sign",
    ),
    path("signoffs/", views_assessments.SignOffListApi.as_view(), name="signoff-list"),
    path(
        "signoffs/<int:signoff_id>/",
        views_assessments.SignOffDetailApi.as_view(),
        name="signoff-detail",
    ),
    path(
        "signoffs/<int:signoff_id>/acknowledge/",
        views_assessments.SignOffAcknowledgeApi.as_view(),
        name="signoff-acknowledge",
    ),
    path(
        "signoffs/<int:signoff_id>/correct/",
        views_assessments.SignOffCorrectApi.as_view(),
        name="signoff-correct",
    ),
    path(
        "signoffs/<int:signoff_id>/revoke/",
        views_assessments.SignOffRevokeApi.as_view(),
        name="signoff-revoke",
    ),
    # Levels 2 and 3: enablement
    path("manage/guides/", views_assessments.GuideListApi.as_view(), name="manage-guide-list"),
    path(
        "manage/guides/<int:guide_id>/",
        views_assessments.GuideDetailApi.as_view(),
        name="manage-guide-detail",
    ),
    path(
        "manage/scenarios/",
        views_assessments.ScenarioListApi.as_view(),
        name="manage-scenario-list",
    ),
    path(
        "manage/scenarios/<int:scenario_id>/",
        views_assessments.ScenarioDetailApi.as_view(),
        name="manage-scenario-detail",
    ),
    path(
        "manage/sessions/", views_assessments.SessionListApi.as_view(), name="manage-session-list"
    ),
    path(
        "manage/sessions/<int:session_id>/cancel/",
        views_assessments.SessionCancelApi.as_view(),
        name="manage-session-cancel",
    ),
    path(
        "manage/calibration/", views_assessments.CalibrationApi.as_view(), name="manage-calibration"
    ),
    path(
        "manage/delegations/",
        views_assessments.DelegationListApi.as_view(),
        name="manage-delegation-list",
    ),
    path(
        "manage/delegations/<int:delegation_id>/",
        views_assessments.DelegationDetailApi.as_view(),
        name="manage-delegation-detail",
    ),
    # Readiness reports (enablement; managers for their subtree)
    path("reports/readiness/", views_reports.ReadinessReportApi.as_view(), name="report-readiness"),
    path(
        "reports/readiness/summary/",
        views_reports.ReadinessSummaryApi.as_view(),
        name="report-readiness-summary",
    ),
    path(
        "reports/requirements/",
        views_reports.RequirementListApi.as_view(),
        name="report-requirement-list",
    ),
    path(
        "reports/requirements/<int:requirement_id>/",
        views_reports.RequirementDetailApi.as_view(),
        name="report-requirement-detail",
    ),
    # Readiness report exports (enablement; managers for their subtree)
    path("reports/exports/", views_exports.ExportStartApi.as_view(), name="report-export-list"),
    path(
        "reports/exports/<int:job_id>/",
        views_exports.ExportJobApi.as_view(),
        name="report-export-detail",
    ),
    path(
        "reports/exports/<int:job_id>/download/",
        views_exports.ExportDownloadApi.as_view(),
        name="report-export-download",
    ),
]
