"""Rep pages: my tests, the test-taking page, autosave, finish, result, my certifications."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from certification.models import Attempt, AttemptQuestion
from certification.services.attempts import attempt_finish, attempt_start

pytestmark = pytest.mark.django_db


def _secrets(attempt):
    words = set()
    for item in AttemptQuestion.objects.filter(attempt=attempt):
        words.add(item.snapshot["general_feedback"])
        words.update(c["feedback"] for c in item.snapshot["choices"])
    return {w for w in words if w}


def test_my_tests_shows_state_and_actions(client, org, exam_for):
    exam = exam_for(org.rep_a, max_attempts=2)
    client.force_login(org.rep_a)
    page = client.get(reverse("certification:my_tests")).content.decode()
    assert exam.title in page
    assert "Not started" in page
    assert "0 used, 2 left" in page
    assert reverse("certification:exam_start", args=[exam.pk]) in page


def test_start_takes_the_rep_to_the_attempt_and_the_page_hides_the_key(client, org, exam_for):
    exam = exam_for(org.rep_a, questions=4, layout="all_on_one_page")
    client.force_login(org.rep_a)
    response = client.post(reverse("certification:exam_start", args=[exam.pk]))
    attempt = Attempt.objects.get(rep=org.rep_a)
    assert response["Location"] == reverse("certification:attempt", args=[attempt.pk])
    page = client.get(response["Location"]).content.decode()
    assert page.count('class="card question"') == 4
    for secret in _secrets(attempt):
        assert secret not in page
    assert "weight" not in page
    assert 'data-deadline="' in page


def test_one_question_per_page_navigates_and_saves_without_javascript(client, org, exam_for):
    exam = exam_for(org.rep_a, questions=3, layout="one_per_page")
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    client.force_login(org.rep_a)
    url = reverse("certification:attempt", args=[attempt.pk])
    page = client.get(url).content.decode()
    assert page.count('class="card question"') == 1
    first = attempt.items.get(position=1)
    choice = first.snapshot["choices"][0]["id"]
    response = client.post(
        reverse("certification:attempt_save", args=[attempt.pk]),
        {"question": [first.question_id], f"q{first.question_id}": [choice], "go": "2"},
    )
    assert response["Location"] == f"{url}?q=2"
    first.refresh_from_db()
    assert first.selected == [choice]
    assert "Question 2 of 3" in client.get(f"{url}?q=2").content.decode()


def test_htmx_autosave_answers_with_a_status_fragment(client, org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.first()
    choice = item.snapshot["choices"][1]["id"]
    client.force_login(org.rep_a)
    response = client.post(
        reverse("certification:attempt_save", args=[attempt.pk]),
        {"question": [item.question_id], f"q{item.question_id}": [choice]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Saved" in response.content.decode()
    item.refresh_from_db()
    assert item.selected == [choice]


def test_htmx_autosave_after_the_deadline_redirects_to_the_result(client, org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    Attempt.objects.filter(pk=attempt.pk).update(deadline=attempt.started_at - timedelta(hours=1))
    item = attempt.items.first()
    client.force_login(org.rep_a)
    response = client.post(
        reverse("certification:attempt_save", args=[attempt.pk]),
        {"question": [item.question_id]},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Redirect"] == reverse("certification:attempt_result", args=[attempt.pk])
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EXPIRED


def test_a_bad_answer_over_htmx_is_a_400_fragment(client, org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.first()
    client.force_login(org.rep_a)
    response = client.post(
        reverse("certification:attempt_save", args=[attempt.pk]),
        {"question": [item.question_id], f"q{item.question_id}": ["abc"]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "Not saved" in response.content.decode()


def test_finish_from_the_form_saves_then_grades(client, org, exam_for):
    exam = exam_for(org.rep_a, questions=1, pass_mark=Decimal(100), layout="all_on_one_page")
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.get()
    right = next(c["id"] for c in item.snapshot["choices"] if Decimal(c["weight"]) == 100)
    client.force_login(org.rep_a)
    response = client.post(
        reverse("certification:attempt_save", args=[attempt.pk]),
        {"question": [item.question_id], f"q{item.question_id}": [right], "finish": "1"},
        follow=True,
    )
    page = response.content.decode()
    assert "You passed" in page
    assert "You are now certified" in page
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score) == (Attempt.Status.FINISHED, Decimal(100))


def test_an_overdue_attempt_page_shows_the_graded_result(client, org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    Attempt.objects.filter(pk=attempt.pk).update(deadline=attempt.started_at - timedelta(hours=1))
    client.force_login(org.rep_a)
    response = client.get(reverse("certification:attempt", args=[attempt.pk]), follow=True)
    assert "time ran out" in response.content.decode()


@pytest.mark.parametrize(
    ("policy", "after_pass", "shows_key"),
    [
        ("feedback", False, True),
        ("correctness", False, False),
        ("score", False, False),
        ("feedback", True, False),
    ],
)
def test_result_page_follows_the_review_policy(
    client, org, exam_for, policy, after_pass, shows_key
):
    exam = exam_for(
        org.rep_a, review_policy=policy, review_after_pass_only=after_pass, pass_mark=Decimal(100)
    )
    attempt = attempt_finish(attempt=attempt_start(exam=exam, rep=org.rep_a).attempt)
    client.force_login(org.rep_a)
    page = client.get(reverse("certification:attempt_result", args=[attempt.pk])).content.decode()
    assert ("Your answers" in page) == (policy != "score" and not after_pass)
    assert any(secret in page for secret in _secrets(attempt)) == shows_key
    if after_pass:
        assert "shown once you pass" in page


def test_another_reps_attempt_pages_are_404(client, org, exam_for):
    exam = exam_for(org.rep_a, org.rep_b)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    client.force_login(org.rep_b)
    for name in ("certification:attempt", "certification:attempt_result"):
        assert client.get(reverse(name, args=[attempt.pk])).status_code == 404
    assert (
        client.post(
            reverse("certification:attempt_save", args=[attempt.pk]), {"finish": "1"}
        ).status_code
        == 404
    )
    attempt.refresh_from_db()
    assert attempt.is_open


@pytest.mark.parametrize("who", ["manager_a", "enablement", "admin", "tp_lead", "no_role"])
def test_rep_pages_are_404_for_other_roles(client, org, who):
    client.force_login(getattr(org, who))
    assert client.get(reverse("certification:my_tests")).status_code == 404
    assert client.get(reverse("certification:my_certifications")).status_code == 404


def test_rep_pages_send_anonymous_visitors_to_sign_in(client, db):
    response = client.get(reverse("certification:my_tests"))
    assert response["Location"].startswith(reverse("accounts:login"))


def test_start_refused_by_the_rules_explains_why(client, org, exam_for):
    exam = exam_for(org.rep_a, max_attempts=1, pass_mark=Decimal(100))
    attempt_finish(attempt=attempt_start(exam=exam, rep=org.rep_a).attempt)
    client.force_login(org.rep_a)
    response = client.post(reverse("certification:exam_start", args=[exam.pk]), follow=True)
    assert "You have used all 1 attempts" in response.content.decode()


def test_my_certifications(client, org, exam_for):
    exam = exam_for(org.rep_a, pass_mark=Decimal(0))
    attempt_finish(attempt=attempt_start(exam=exam, rep=org.rep_a).attempt)
    client.force_login(org.rep_a)
    page = client.get(reverse("certification:my_certifications")).content.decode()
    assert exam.subject.name in page
    assert "Active" in page
    assert "Does not expire" in page


def test_page_query_counts_do_not_grow_with_questions(
    client, org, exam_for, django_assert_max_num_queries
):
    client.force_login(org.rep_a)
    counts = []
    for size in (3, 30):
        exam = exam_for(org.rep_a, questions=size, layout="all_on_one_page")
        attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
        with django_assert_max_num_queries(20) as take:
            client.get(reverse("certification:attempt", args=[attempt.pk]))
        attempt_finish(attempt=attempt)
        with django_assert_max_num_queries(20) as result:
            client.get(reverse("certification:attempt_result", args=[attempt.pk]))
        with django_assert_max_num_queries(20) as listing:
            client.get(reverse("certification:my_tests"))
        counts.append((len(take), len(result)))
        listing_count = len(listing)
    assert counts[0] == counts[1]
    assert listing_count <= 12


def test_a_page_that_submits_itself_says_why(client, org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    client.force_login(org.rep_a)
    response = client.post(
        reverse("certification:attempt_save", args=[attempt.pk]),
        {"finish": "1", "timed_out": "1"},
        follow=True,
    )
    assert "Time was up, so your answers were submitted for you." in response.content.decode()


def test_the_timer_is_exposed_to_assistive_technology(client, org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    client.force_login(org.rep_a)
    page = client.get(reverse("certification:attempt", args=[attempt.pk])).content.decode()
    assert 'id="timer" role="timer"' in page
    assert 'id="timer-announcer" role="status" aria-live="polite"' in page
