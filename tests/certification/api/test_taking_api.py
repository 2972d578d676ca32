"""The rep API: list, start/resume, answer, finish, read; never the key before finishing."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from certification.models import Attempt, AttemptQuestion, Certification
from certification.services.attempts import attempt_start

pytestmark = pytest.mark.django_db


def _right_ids(attempt_id):
    return {
        item.question_id: next(
            c["id"] for c in item.snapshot["choices"] if Decimal(c["weight"]) == 100
        )
        for item in AttemptQuestion.objects.filter(attempt_id=attempt_id)
    }


def _key_words(attempt_id):
    """Strings that only the key holds: feedback texts and weight values."""
    words = set()
    for item in AttemptQuestion.objects.filter(attempt_id=attempt_id):
        for choice in item.snapshot["choices"]:
            words.add(choice["feedback"])
        words.add(item.snapshot["general_feedback"])
    return {w for w in words if w}


def _assert_no_key(body: str, attempt_id: int):
    assert '"weight"' not in body
    assert "feedback" not in json.loads(body) if body.startswith("{") else True
    for secret in _key_words(attempt_id):
        assert secret not in body


def test_my_exams_lists_assigned_tests_with_state(api_client, org, exam_for):
    exam = exam_for(org.rep_a, max_attempts=2)
    exam_for(org.rep_b)  # someone else's
    api_client.force_authenticate(org.rep_a)
    rows = api_client.get(reverse("api-v1:exam-list")).json()
    summary = [(r["id"], r["state"], r["attempts_left"]) for r in rows]
    assert summary == [(exam.pk, "not_started", 2)]


def test_full_journey_without_any_key_before_finishing(api_client, org, exam_for):
    exam = exam_for(org.rep_a, questions=5, pass_mark=Decimal(60))
    api_client.force_authenticate(org.rep_a)
    start = api_client.post(reverse("api-v1:attempt-start", args=[exam.pk]))
    assert start.status_code == 201
    body = start.json()
    attempt_id = body["id"]
    _assert_no_key(start.content.decode(), attempt_id)
    assert len(body["questions"]) == 5
    assert set(body["questions"][0]["choices"][0]) == {"id", "text"}
    assert "review" not in body

    resumed = api_client.post(reverse("api-v1:attempt-start", args=[exam.pk]))
    assert resumed.status_code == 200
    assert resumed.json()["id"] == attempt_id

    right = _right_ids(attempt_id)
    for question_id, choice in list(right.items())[:4]:
        saved = api_client.put(
            reverse("api-v1:attempt-answer", args=[attempt_id, question_id]),
            {"choices": [choice]},
            format="json",
        )
        assert saved.status_code == 200
        assert saved.json()["selected"] == [choice]
        _assert_no_key(saved.content.decode(), attempt_id)

    detail = api_client.get(reverse("api-v1:attempt-detail", args=[attempt_id]))
    _assert_no_key(detail.content.decode(), attempt_id)
    assert sum(bool(q["selected"]) for q in detail.json()["questions"]) == 4

    finish = api_client.post(reverse("api-v1:attempt-finish", args=[attempt_id]))
    assert finish.status_code == 200
    result = finish.json()
    assert (result["status"], result["score"], result["passed"]) == ("finished", "80.00", True)
    assert result["certification"]["level"] == 1
    assert result["review"]["detail"] == "feedback"  # the factory's default policy
    assert "questions" not in result

    again = api_client.post(reverse("api-v1:attempt-finish", args=[attempt_id])).json()
    assert again["finished_at"] == result["finished_at"]
    assert Certification.objects.filter(rep=org.rep_a).count() == 1
    certs = api_client.get(reverse("api-v1:certification-list")).json()
    assert [(c["subject"]["id"], c["level"], c["attempt_id"]) for c in certs] == [
        (exam.subject_id, 1, attempt_id)
    ]


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"max_attempts": 1}, "attempts_used_up"),
        ({"cooldown_minutes": 60}, "cooling_down"),
    ],
)
def test_refusals_are_409_with_a_code(api_client, org, exam_for, setup, code):
    exam = exam_for(org.rep_a, pass_mark=Decimal(100), **setup)
    api_client.force_authenticate(org.rep_a)
    attempt_id = api_client.post(reverse("api-v1:attempt-start", args=[exam.pk])).json()["id"]
    api_client.post(reverse("api-v1:attempt-finish", args=[attempt_id]))
    response = api_client.post(reverse("api-v1:attempt-start", args=[exam.pk]))
    assert response.status_code == 409
    assert response.json()["code"] == code
    assert ("retry_at" in response.json()) == (code == "cooling_down")


def test_answer_after_the_deadline_is_409_and_the_attempt_is_graded(api_client, org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    Attempt.objects.filter(pk=attempt.pk).update(deadline=attempt.started_at - timedelta(minutes=1))
    api_client.force_authenticate(org.rep_a)
    item = attempt.items.first()
    response = api_client.put(
        reverse("api-v1:attempt-answer", args=[attempt.pk, item.question_id]),
        {"choices": []},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "time_up"
    assert (
        api_client.get(reverse("api-v1:attempt-detail", args=[attempt.pk])).json()["status"]
        == "expired"
    )


@pytest.mark.parametrize(
    "payload", [{}, {"choices": "1"}, {"choices": ["x"]}, {"choices": [999_999]}]
)
def test_bad_answers_are_400(api_client, org, exam_for, payload):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.first()
    api_client.force_authenticate(org.rep_a)
    response = api_client.put(
        reverse("api-v1:attempt-answer", args=[attempt.pk, item.question_id]),
        payload,
        format="json",
    )
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.selected == []


def test_another_reps_attempt_is_404_everywhere(api_client, org, exam_for):
    exam = exam_for(org.rep_a, org.rep_b)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.first()
    api_client.force_authenticate(org.rep_b)
    assert api_client.get(reverse("api-v1:attempt-detail", args=[attempt.pk])).status_code == 404
    assert (
        api_client.put(
            reverse("api-v1:attempt-answer", args=[attempt.pk, item.question_id]),
            {"choices": []},
            format="json",
        ).status_code
        == 404
    )
    assert api_client.post(reverse("api-v1:attempt-finish", args=[attempt.pk])).status_code == 404
    attempt.refresh_from_db()
    assert attempt.is_open


@pytest.mark.parametrize("who", ["rep_b", "manager_a", "enablement"])
def test_unassigned_or_non_reps_cannot_start(api_client, org, exam_for, who):
    exam = exam_for(org.rep_a)
    api_client.force_authenticate(getattr(org, who))
    assert api_client.post(reverse("api-v1:attempt-start", args=[exam.pk])).status_code == 404
    assert not Attempt.objects.exists()


@pytest.mark.parametrize("who", ["manager_a", "enablement", "admin", "tp_lead"])
def test_rep_endpoints_are_404_for_other_roles(api_client, org, who):
    api_client.force_authenticate(getattr(org, who))
    assert api_client.get(reverse("api-v1:exam-list")).status_code == 404
    assert api_client.get(reverse("api-v1:certification-list")).status_code == 404


def test_anonymous_is_refused(api_client, org, exam_for):
    exam = exam_for(org.rep_a)
    assert api_client.get(reverse("api-v1:exam-list")).status_code in {401, 403}
    assert api_client.post(reverse("api-v1:attempt-start", args=[exam.pk])).status_code in {
        401,
        403,
    }


def test_review_policy_score_only_and_after_pass(api_client, org, exam_for):
    exam = exam_for(org.rep_a, review_policy="score", pass_mark=Decimal(100))
    api_client.force_authenticate(org.rep_a)
    attempt_id = api_client.post(reverse("api-v1:attempt-start", args=[exam.pk])).json()["id"]
    result = api_client.post(reverse("api-v1:attempt-finish", args=[attempt_id]))
    assert result.json()["review"] == {
        "detail": "score",
        "withheld_until_pass": False,
        "questions": [],
    }
    _assert_no_key(result.content.decode(), attempt_id)

    withheld = exam_for(org.rep_b, review_after_pass_only=True, pass_mark=Decimal(100))
    api_client.force_authenticate(org.rep_b)
    attempt_id = api_client.post(reverse("api-v1:attempt-start", args=[withheld.pk])).json()["id"]
    body = api_client.post(reverse("api-v1:attempt-finish", args=[attempt_id])).json()
    assert body["passed"] is False
    assert body["review"]["withheld_until_pass"] is True
    assert body["review"]["questions"] == []


def test_api_query_counts_do_not_grow_with_questions(
    api_client, org, exam_for, django_assert_max_num_queries
):
    api_client.force_authenticate(org.rep_a)
    small = exam_for(org.rep_a, questions=3)
    large = exam_for(org.rep_a, questions=30)
    counts = {}
    for exam in (small, large):
        with django_assert_max_num_queries(40) as ctx:
            attempt_id = api_client.post(reverse("api-v1:attempt-start", args=[exam.pk])).json()[
                "id"
            ]
        start = len(ctx)
        with django_assert_max_num_queries(20) as ctx:
            api_client.get(reverse("api-v1:attempt-detail", args=[attempt_id]))
        detail = len(ctx)
        with django_assert_max_num_queries(20) as ctx:
            api_client.post(reverse("api-v1:attempt-finish", args=[attempt_id]))
        finish = len(ctx)
        counts[exam.pk] = (start, detail, finish)
    assert counts[small.pk] == counts[large.pk]


def test_a_read_only_token_cannot_answer_or_finish(api_client, org, exam_for):
    from accounts.services import api_token_create

    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.first()
    _token, raw = api_token_create(user=org.rep_a, name="reader", scopes=["read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api_client.get(reverse("api-v1:attempt-detail", args=[attempt.pk])).status_code == 200
    assert (
        api_client.put(
            reverse("api-v1:attempt-answer", args=[attempt.pk, item.question_id]),
            {"choices": []},
            format="json",
        ).status_code
        == 403
    )
    assert api_client.post(reverse("api-v1:attempt-finish", args=[attempt.pk])).status_code == 403
    assert api_client.post(reverse("api-v1:attempt-start", args=[exam.pk])).status_code == 403
    attempt.refresh_from_db()
    assert attempt.is_open


def test_the_schema_generates_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
