"""The enablement API: every endpoint for enablement only; authoring, import, results."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certification.models import Exam, ExamAssignment, Question, QuestionBank, Subject
from certification.services.attempts import attempt_finish, attempt_start
from tests.factories.certification import BankFactory, make_question
from tests.openapi import api_schema, assert_matches_schema

pytestmark = pytest.mark.django_db

GIFT = b"::One::Pick A.{=A ~B}\n\n::Two::True?{T}\n\n::Essay::Write.{}\n"


def _endpoints(exam, bank, question, assignment, attempt):
    return [
        ("get", reverse("api-v1:manage-subject-list")),
        ("get", reverse("api-v1:manage-subject-detail", args=[exam.subject_id])),
        ("get", reverse("api-v1:manage-bank-list")),
        ("get", reverse("api-v1:manage-bank-detail", args=[bank.pk])),
        ("get", reverse("api-v1:manage-bank-questions", args=[bank.pk])),
        ("post", reverse("api-v1:manage-bank-import", args=[bank.pk])),
        ("get", reverse("api-v1:manage-question-detail", args=[question.pk])),
        ("get", reverse("api-v1:manage-exam-list")),
        ("get", reverse("api-v1:manage-exam-detail", args=[exam.pk])),
        ("put", reverse("api-v1:manage-exam-sections", args=[exam.pk])),
        ("post", reverse("api-v1:manage-exam-publish", args=[exam.pk])),
        ("post", reverse("api-v1:manage-exam-archive", args=[exam.pk])),
        ("get", reverse("api-v1:manage-exam-assignments", args=[exam.pk])),
        ("delete", reverse("api-v1:manage-assignment-detail", args=[assignment.pk])),
        ("get", reverse("api-v1:manage-exam-results", args=[exam.pk])),
        ("get", reverse("api-v1:manage-exam-items", args=[exam.pk])),
        ("get", reverse("api-v1:manage-attempt-detail", args=[attempt.pk])),
    ]


@pytest.fixture
def world(org, exam_for):
    exam = exam_for(org.rep_a, org.alpha, pass_mark=Decimal(0))
    attempt = attempt_finish(attempt=attempt_start(exam=exam, rep=org.rep_a).attempt)
    bank = exam.sections.get().bank
    return (
        exam,
        bank,
        bank.questions.first(),
        ExamAssignment.objects.filter(exam=exam).first(),
        attempt,
    )


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "director", "admin", "tp_lead", "no_role"])
def test_every_manage_endpoint_is_404_for_other_roles(api_client, org, world, who):
    api_client.force_authenticate(getattr(org, who))
    for method, url in _endpoints(*world):
        response = getattr(api_client, method)(url, {}, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
    assert ExamAssignment.objects.count() == 2  # nothing was removed
    assert Exam.objects.get().status == Exam.Status.PUBLISHED


def test_anonymous_is_refused(api_client, world):
    for method, url in _endpoints(*world):
        assert getattr(api_client, method)(url).status_code in {401, 403}


def test_enablement_authors_a_test_end_to_end(api_client, org):
    api_client.force_authenticate(org.enablement)
    subject = api_client.post(
        reverse("api-v1:manage-subject-list"),
        {"name": "Acme Edge", "kind": "offering", "current_version": "1.0"},
        format="json",
    )
    assert subject.status_code == 201
    bank = api_client.post(
        reverse("api-v1:manage-bank-list"),
        {"name": "Edge", "subject": subject.json()["id"]},
        format="json",
    )
    assert bank.status_code == 201
    bank_id = bank.json()["id"]
    question = api_client.post(
        reverse("api-v1:manage-bank-questions", args=[bank_id]),
        {
            "kind": "multiple",
            "text": "<p>Pick the right two</p>",
            "category": "Edge/Basics",
            "choices": [
                {"text": "A", "weight": "50"},
                {"text": "B", "weight": "50"},
                {"text": "C", "weight": "-100", "feedback": "No"},
            ],
        },
        format="json",
    )
    assert question.status_code == 201
    assert [c["weight"] for c in question.json()["choices"]] == [
        "50.00000",
        "50.00000",
        "-100.00000",
    ]
    bad = api_client.post(
        reverse("api-v1:manage-bank-questions", args=[bank_id]),
        {
            "kind": "single",
            "text": "x",
            "choices": [{"text": "A", "weight": 10}, {"text": "B", "weight": 0}],
        },
        format="json",
    )
    assert bad.status_code == 400
    assert "choices" in bad.json()["errors"]
    exam = api_client.post(
        reverse("api-v1:manage-exam-list"),
        {"subject": subject.json()["id"], "title": "Edge essentials", "pass_mark": "70"},
        format="json",
    )
    assert exam.status_code == 201
    exam_id = exam.json()["id"]
    refused = api_client.post(reverse("api-v1:manage-exam-publish", args=[exam_id]))
    assert refused.status_code == 400
    assert refused.json()["code"] == "not_ready"
    sections = api_client.put(
        reverse("api-v1:manage-exam-sections", args=[exam_id]),
        [{"bank": bank_id, "category": "Edge", "count": 1}],
        format="json",
    )
    assert sections.json()["sections"] == [
        {"bank_id": bank_id, "bank": "Edge", "category": "Edge", "count": 1}
    ]
    assert (
        api_client.post(reverse("api-v1:manage-exam-publish", args=[exam_id])).json()["status"]
        == "published"
    )
    assigned = api_client.post(
        reverse("api-v1:manage-exam-assignments", args=[exam_id]),
        {"teams": [org.beta.pk], "reps": [org.rep_c.pk]},
        format="json",
    )
    assert assigned.status_code == 201
    assert len(assigned.json()) == 2
    unknown = api_client.post(
        reverse("api-v1:manage-exam-assignments", args=[exam_id]),
        {"reps": [org.manager_a.pk]},
        format="json",
    )
    assert unknown.status_code == 400
    patched = api_client.patch(
        reverse("api-v1:manage-exam-detail", args=[exam_id]),
        {"time_limit_minutes": 45},
        format="json",
    )
    assert patched.json()["time_limit_minutes"] == 45
    assert (
        api_client.patch(
            reverse("api-v1:manage-exam-detail", args=[exam_id]),
            {"pass_mark": "150"},
            format="json",
        ).status_code
        == 400
    )


def test_import_through_the_api(api_client, org):
    bank = BankFactory()
    api_client.force_authenticate(org.enablement)
    url = reverse("api-v1:manage-bank-import", args=[bank.pk])
    preview = api_client.post(
        url, {"file": SimpleUploadedFile("q.gift", GIFT), "dry_run": "true"}, format="multipart"
    )
    assert preview.status_code == 200
    assert preview.json()["summary"].startswith("imported 2 questions, skipped 1 (dry run")
    assert not Question.objects.exists()
    done = api_client.post(url, {"file": SimpleUploadedFile("q.gift", GIFT)}, format="multipart")
    assert done.status_code == 201
    assert done.json()["skipped"][0]["reason"] == "essay questions are not supported"
    again = api_client.post(url, {"file": SimpleUploadedFile("q.gift", GIFT)}, format="multipart")
    assert again.status_code == 200
    assert len(again.json()["unchanged"]) == 2
    broken = api_client.post(
        url, {"file": SimpleUploadedFile("q.gift", b"::X::{=A ~B")}, format="multipart"
    )
    assert broken.status_code == 400
    assert "line 1" in broken.json()["detail"]
    assert Question.objects.count() == 2


def test_results_item_analysis_and_review_with_the_key(api_client, org, world):
    exam, _bank, _question, _assignment, attempt = world
    api_client.force_authenticate(org.enablement)
    results = api_client.get(reverse("api-v1:manage-exam-results", args=[exam.pk])).json()
    assert [r["attempt_id"] for r in results["results"]] == [attempt.pk]
    items = api_client.get(reverse("api-v1:manage-exam-items", args=[exam.pk])).json()
    assert len(items) == 5
    assert all(i["responses"] == 1 for i in items)
    review = api_client.get(reverse("api-v1:manage-attempt-detail", args=[attempt.pk])).json()
    assert review["review"]["detail"] == "key"
    assert all(c["weight"] is not None for c in review["review"]["questions"][0]["choices"])


def test_question_retire_and_restore(api_client, org):
    question = make_question(BankFactory())
    api_client.force_authenticate(org.enablement)
    url = reverse("api-v1:manage-question-detail", args=[question.pk])
    assert api_client.patch(url, {"is_active": False}, format="json").json()["is_active"] is False
    assert api_client.patch(url, {"is_active": True}, format="json").json()["is_active"] is True
    assert api_client.patch(url, {"is_active": "maybe"}, format="json").status_code == 400


def test_manage_lists_do_not_grow_in_queries(api_client, org, django_assert_max_num_queries):
    api_client.force_authenticate(org.enablement)
    for _ in range(3):
        make_question(BankFactory())
    with django_assert_max_num_queries(8) as small:
        api_client.get(reverse("api-v1:manage-bank-list"))
    for _ in range(12):
        make_question(BankFactory())
    with django_assert_max_num_queries(len(small)):
        rows = api_client.get(reverse("api-v1:manage-bank-list")).json()["results"]
    assert len(rows) == QuestionBank.objects.count()
    assert Subject.objects.count() == 0


def test_a_patch_without_is_active_changes_nothing(api_client, org):
    question = make_question(BankFactory())
    api_client.force_authenticate(org.enablement)
    url = reverse("api-v1:manage-question-detail", args=[question.pk])
    response = api_client.patch(url, {}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is True
    assert_matches_schema(response, "patch", "/api/v1/manage/questions/{question_id}/")


@pytest.mark.parametrize("who", ["rep_a", "enablement"])
def test_a_method_an_endpoint_lacks_is_405_for_everyone(api_client, org, who):
    # The schema shows every role the same methods; hiding (404) is for what they would do.
    api_client.force_authenticate(getattr(org, who))
    response = api_client.generic("TRACE", reverse("api-v1:manage-bank-list"))
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"
    # A method it has is still hidden from those who may not use it.
    assert api_client.options(reverse("api-v1:manage-bank-list")).status_code == (
        404 if who == "rep_a" else 200
    )


@pytest.mark.parametrize("params", [{"q": "a\x00b"}, {"category": "Products\x00"}])
def test_a_nul_in_a_question_filter_is_a_400_not_a_500(api_client, org, params):
    bank = BankFactory()
    api_client.force_authenticate(org.enablement)
    response = api_client.get(reverse("api-v1:manage-bank-questions", args=[bank.pk]), params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)
    assert_matches_schema(response, "get", "/api/v1/manage/banks/{bank_id}/questions/")


def test_the_question_filters_are_documented_and_work(api_client, org):
    bank = BankFactory()
    make_question(bank, title="Pricing tiers")
    make_question(bank, title="Security")
    api_client.force_authenticate(org.enablement)
    url = reverse("api-v1:manage-bank-questions", args=[bank.pk])
    titles = [q["title"] for q in api_client.get(url, {"q": "pricing"}).json()["results"]]
    assert titles == ["Pricing tiers"]
    parameters = api_schema().raw_schema["paths"]["/api/v1/manage/banks/{bank_id}/questions/"]
    assert {"category", "q"} <= {p["name"] for p in parameters["get"]["parameters"]}
