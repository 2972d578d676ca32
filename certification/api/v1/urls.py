from django.urls import path

from certification.api.v1 import views, views_manage

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
    # Enablement
    path("manage/subjects/", views_manage.SubjectListApi.as_view(), name="manage-subject-list"),
    path(
        "manage/subjects/<int:subject_id>/",
        views_manage.SubjectDetailApi.as_view(),
        name="manage-subject-detail",
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
]
