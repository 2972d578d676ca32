from django.urls import include, path

from certification.views import authoring, home, taking

app_name = "certification"

urlpatterns = [
    path("", home.home, name="home"),
    # Reps
    path("tests/", taking.my_tests, name="my_tests"),
    path("tests/<int:exam_id>/start/", taking.exam_start, name="exam_start"),
    path("attempts/<int:attempt_id>/", taking.attempt_take, name="attempt"),
    path("attempts/<int:attempt_id>/save/", taking.attempt_save, name="attempt_save"),
    path("attempts/<int:attempt_id>/result/", taking.attempt_result, name="attempt_result"),
    path("certifications/", taking.my_certifications, name="my_certifications"),
    # Enablement: subjects
    path("manage/subjects/", authoring.subject_list, name="manage_subjects"),
    path("manage/subjects/<int:subject_id>/", authoring.subject_edit, name="manage_subject_edit"),
    # Enablement: question banks
    path("manage/banks/", authoring.bank_list, name="manage_banks"),
    path("manage/banks/<int:bank_id>/", authoring.bank_detail, name="manage_bank"),
    path("manage/banks/<int:bank_id>/edit/", authoring.bank_edit, name="manage_bank_edit"),
    path("manage/banks/<int:bank_id>/import/", authoring.bank_import, name="manage_bank_import"),
    path(
        "manage/banks/<int:bank_id>/questions/new/",
        authoring.question_new,
        name="manage_question_new",
    ),
    path("manage/questions/<int:question_id>/", authoring.question_preview, name="manage_question"),
    path(
        "manage/questions/<int:question_id>/edit/",
        authoring.question_edit,
        name="manage_question_edit",
    ),
    path(
        "manage/questions/<int:question_id>/active/",
        authoring.question_toggle,
        name="manage_question_toggle",
    ),
    # Enablement: tests
    path("manage/tests/", authoring.exam_list, name="manage_exams"),
    path("manage/tests/new/", authoring.exam_new, name="manage_exam_new"),
    path("manage/tests/<int:exam_id>/", authoring.exam_detail, name="manage_exam"),
    path("manage/tests/<int:exam_id>/edit/", authoring.exam_edit, name="manage_exam_edit"),
    path(
        "manage/tests/<int:exam_id>/sections/", authoring.exam_sections, name="manage_exam_sections"
    ),
    path("manage/tests/<int:exam_id>/publish/", authoring.exam_publish, name="manage_exam_publish"),
    path("manage/tests/<int:exam_id>/archive/", authoring.exam_archive, name="manage_exam_archive"),
    path("manage/tests/<int:exam_id>/assign/", authoring.exam_assign, name="manage_exam_assign"),
    path(
        "manage/assignments/<int:assignment_id>/remove/",
        authoring.assignment_remove,
        name="manage_assignment_remove",
    ),
    path("manage/tests/<int:exam_id>/results/", authoring.exam_results, name="manage_exam_results"),
    path("manage/tests/<int:exam_id>/items/", authoring.item_analysis, name="manage_exam_items"),
    path("manage/attempts/<int:attempt_id>/", authoring.attempt_detail, name="manage_attempt"),
    # Levels 2 and 3
    path("", include("certification.urls_assessing")),
    path("", include("certification.urls_assessment_admin")),
    # Teleprospecting support
    path("", include("certification.urls_support")),
    # Deals from the CRM
    path("", include("certification.urls_deals")),
    path("", include("certification.urls_tiers")),
    # Certification lifecycle: validity, offering versions, revocation
    path("", include("certification.urls_lifecycle")),
    # Readiness reports
    path("", include("certification.urls_reports")),
    # Verifiable credentials, PDF certificates and the public verification page
    path("", include("certification.urls_credentials")),
    path("", include("certification.urls_notifications")),
]
