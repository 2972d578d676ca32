"""Attempts: drawing, resuming, the rules, the server's clock, one grade, certification."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from accounts.models import AuditEvent
from certification.models import Attempt, AttemptQuestion, Certification, Question
from certification.selectors.exams import attempt_questions
from certification.services.attempts import (
    attempt_answer,
    attempt_close_if_overdue,
    attempt_finish,
    attempt_start,
    attempts_close_overdue,
)
from certification.services.exams import SectionInput, exam_set_sections
from certification.services.questions import (
    ChoiceInput,
    QuestionInput,
    question_set_active,
    question_update,
)
from config.errors import ApplicationError, ConflictError, NotFoundError
from tests.factories.accounts import UserFactory
from tests.factories.certification import BankFactory, make_exam, make_question

pytestmark = pytest.mark.django_db


def _right(item_or_question):
    """The id of the 100% choice of a drawn item."""
    snapshot = item_or_question.snapshot
    return next(c["id"] for c in snapshot["choices"] if Decimal(c["weight"]) == 100)


def _answer_all(attempt, *, right: int, now=None):
    for i, item in enumerate(attempt.items.order_by("position")):
        choice = (
            _right(item)
            if i < right
            else next(c["id"] for c in item.snapshot["choices"] if Decimal(c["weight"]) == 0)
        )
        attempt_answer(
            attempt_id=attempt.pk,
            rep=attempt.rep,
            question_id=item.question_id,
            choice_ids=[choice],
            now=now,
        )


# Drawing ------------------------------------------------------------------------------------


def test_start_draws_n_distinct_active_questions(org, exam_for):
    exam = exam_for(org.rep_a, questions=8, draw=5)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    items = list(attempt.items.all())
    assert len(items) == 5
    assert len({i.question_id for i in items}) == 5
    assert attempt.deadline - attempt.started_at == timedelta(minutes=exam.time_limit_minutes)
    assert attempt.number == 1


def test_draws_differ_between_reps_and_choices_are_shuffled(org, exam_for):
    reps = UserFactory.create_batch(12, rep=True, team=org.beta)
    exam = exam_for(org.beta, questions=10, draw=3)
    subsets, orders = set(), set()
    for rep in reps:
        attempt = attempt_start(exam=exam, rep=rep).attempt
        subsets.add(frozenset(attempt.items.values_list("question_id", flat=True)))
        first = attempt.items.order_by("position").first()
        orders.add(tuple(c["text"] for c in first.snapshot["choices"]))
    assert len(subsets) > 1
    assert len(orders) > 1


def test_sections_draw_by_category_including_subcategories_and_skip_retired(org):
    bank = BankFactory()
    inside = [make_question(bank, category="Products/Cloud") for _ in range(2)]
    deeper = make_question(bank, category="Products/Cloud/Storage")
    retired = make_question(bank, category="Products/Cloud")
    question_set_active(question=retired, is_active=False, actor=None)
    make_question(bank, category="Pricing")
    exam = make_exam(questions=1, assign_to=[org.rep_a])
    exam_set_sections(exam=exam, sections=[SectionInput(bank, 3, "Products/Cloud")], actor=None)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    drawn = set(attempt.items.values_list("question_id", flat=True))
    assert drawn == {q.pk for q in [*inside, deeper]}


def test_true_false_keeps_true_first(org):
    bank = BankFactory()
    make_question(bank, kind=Question.Kind.TRUE_FALSE, weights=[0, 100])
    exam = make_exam(questions=1, assign_to=[org.rep_a])
    exam_set_sections(exam=exam, sections=[SectionInput(bank, 1)], actor=None)
    item = attempt_start(exam=exam, rep=org.rep_a).attempt.items.get()
    assert [c["text"] for c in item.snapshot["choices"]] == ["True", "False"]


def test_not_enough_questions_is_a_clear_conflict(org, exam_for):
    exam = exam_for(org.rep_a, questions=3, draw=3)
    question_set_active(
        question=exam.sections.get().bank.questions.first(), is_active=False, actor=None
    )
    with pytest.raises(ConflictError, match="has 2 active") as raised:
        attempt_start(exam=exam, rep=org.rep_a)
    assert raised.value.code == "not_enough_questions"
    assert not Attempt.objects.exists()


def test_offered_questions_carry_no_key(org, exam_for):
    exam = exam_for(org.rep_a, questions=3)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    for question in attempt_questions(attempt):
        assert not hasattr(question, "weight")
        for choice in question.choices:
            assert set(vars(choice)) == {"id", "text"}


# Resuming and rules -------------------------------------------------------------------------


def test_starting_again_resumes_the_open_attempt(org, exam_for):
    exam = exam_for(org.rep_a)
    first = attempt_start(exam=exam, rep=org.rep_a)
    again = attempt_start(exam=exam, rep=org.rep_a)
    assert first.created
    assert not again.created
    assert again.attempt.pk == first.attempt.pk


def test_assignment_through_a_parent_team(org, exam_for):
    exam = exam_for(org.north)
    assert attempt_start(exam=exam, rep=org.rep_a1).created  # Alpha-1 is under North
    with pytest.raises(NotFoundError):
        attempt_start(exam=exam, rep=org.rep_c)  # South


@pytest.mark.parametrize("who", ["rep_b", "manager_a", "inactive_rep"])
def test_unassigned_people_cannot_start(org, exam_for, who):
    exam = exam_for(org.rep_a)
    with pytest.raises(NotFoundError):
        attempt_start(exam=exam, rep=getattr(org, who))


def test_draft_tests_cannot_be_started(org, exam_for):
    exam = exam_for(org.rep_a, publish=False)
    with pytest.raises(NotFoundError):
        attempt_start(exam=exam, rep=org.rep_a)


def test_attempt_limit(org, exam_for):
    exam = exam_for(org.rep_a, max_attempts=2, pass_mark=Decimal(100))
    for _ in range(2):
        attempt_finish(attempt=attempt_start(exam=exam, rep=org.rep_a).attempt)
    with pytest.raises(ConflictError, match="all 2 attempts") as raised:
        attempt_start(exam=exam, rep=org.rep_a)
    assert raised.value.code == "attempts_used_up"
    assert Attempt.objects.filter(rep=org.rep_a).count() == 2


def test_cooldown_between_attempts(org, exam_for):
    exam = exam_for(org.rep_a, cooldown_minutes=60, pass_mark=Decimal(100))
    now = timezone.now()
    attempt_finish(attempt=attempt_start(exam=exam, rep=org.rep_a, now=now).attempt, now=now)
    with pytest.raises(ConflictError) as raised:
        attempt_start(exam=exam, rep=org.rep_a, now=now + timedelta(minutes=59))
    assert raised.value.code == "cooling_down"
    assert raised.value.retry_at == now + timedelta(minutes=60)
    assert attempt_start(exam=exam, rep=org.rep_a, now=now + timedelta(minutes=60)).created


def test_availability_window(org, exam_for):
    now = timezone.now()
    exam = exam_for(
        org.rep_a, available_from=now + timedelta(days=1), available_until=now + timedelta(days=2)
    )
    with pytest.raises(ConflictError) as raised:
        attempt_start(exam=exam, rep=org.rep_a, now=now)
    assert (raised.value.code, raised.value.retry_at) == ("not_open_yet", exam.available_from)
    with pytest.raises(ConflictError, match="closed"):
        attempt_start(exam=exam, rep=org.rep_a, now=now + timedelta(days=2))
    late = attempt_start(
        exam=exam, rep=org.rep_a, now=exam.available_until - timedelta(minutes=10)
    ).attempt
    assert late.deadline == exam.available_until  # the window caps the time limit


def test_a_certified_rep_does_not_sit_the_test_again(org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    _answer_all(attempt, right=5)
    assert attempt_finish(attempt=attempt).passed
    with pytest.raises(ConflictError) as raised:
        attempt_start(exam=exam, rep=org.rep_a)
    assert raised.value.code == "already_certified"


# Answers ------------------------------------------------------------------------------------


def test_answers_are_saved_and_can_change_or_clear(org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.order_by("position").first()
    choice_ids = [c["id"] for c in item.snapshot["choices"]]
    attempt_answer(
        attempt_id=attempt.pk,
        rep=attempt.rep,
        question_id=item.question_id,
        choice_ids=[choice_ids[0]],
    )
    attempt_answer(
        attempt_id=attempt.pk,
        rep=attempt.rep,
        question_id=item.question_id,
        choice_ids=[choice_ids[1]],
    )
    item.refresh_from_db()
    assert item.selected == [choice_ids[1]]
    attempt_answer(
        attempt_id=attempt.pk, rep=attempt.rep, question_id=item.question_id, choice_ids=[]
    )
    item.refresh_from_db()
    assert item.selected == []


@pytest.mark.parametrize(
    "bad",
    ["not a list", [True], ["1"], [999_999], "two"],
)
def test_bad_answers_are_refused_and_nothing_changes(org, exam_for, bad):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.order_by("position").first()
    if bad == "two":
        bad = [c["id"] for c in item.snapshot["choices"][:2]]  # two options on single choice
    with pytest.raises(ApplicationError) as raised:
        attempt_answer(
            attempt_id=attempt.pk, rep=attempt.rep, question_id=item.question_id, choice_ids=bad
        )
    assert "choices" in raised.value.field_errors
    item.refresh_from_db()
    assert item.selected == []


def test_a_question_outside_the_attempt_is_404(org, exam_for):
    exam = exam_for(org.rep_a, questions=5, draw=2)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    other = make_question(BankFactory())
    with pytest.raises(NotFoundError):
        attempt_answer(attempt_id=attempt.pk, rep=attempt.rep, question_id=other.pk, choice_ids=[])


# The clock ----------------------------------------------------------------------------------


def test_answer_within_the_grace_is_accepted(org, exam_for, settings):
    settings.EXAM_GRACE_SECONDS = 15
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.first()
    late = attempt.deadline + timedelta(seconds=10)
    attempt_answer(
        attempt_id=attempt.pk,
        rep=attempt.rep,
        question_id=item.question_id,
        choice_ids=[_right(item)],
        now=late,
    )
    assert attempt_finish(attempt=attempt, now=late).status == Attempt.Status.FINISHED


def test_after_the_deadline_answers_are_refused_and_saved_ones_graded(org, exam_for, settings):
    settings.EXAM_GRACE_SECONDS = 15
    exam = exam_for(org.rep_a, questions=5, pass_mark=Decimal(40))
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    _answer_all(attempt, right=2)
    too_late = attempt.deadline + timedelta(seconds=16)
    item = attempt.items.order_by("position").last()
    with pytest.raises(ConflictError) as raised:
        attempt_answer(
            attempt_id=attempt.pk,
            rep=attempt.rep,
            question_id=item.question_id,
            choice_ids=[_right(item)],
            now=too_late,
        )
    assert raised.value.code == "time_up"
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.EXPIRED
    assert attempt.finished_at == attempt.deadline
    assert attempt.score == Decimal("40.00")  # 2 of 5, the late answer not counted
    assert attempt.passed  # graded with what was saved, which was enough


def test_finishing_late_expires_and_overdue_attempts_close_lazily_or_by_sweep(org, exam_for):
    exam = exam_for(org.rep_a, org.rep_b)
    a = attempt_start(exam=exam, rep=org.rep_a).attempt
    b = attempt_start(exam=exam, rep=org.rep_b).attempt
    later = a.deadline + timedelta(minutes=5)
    assert attempt_close_if_overdue(attempt=a, now=later).status == Attempt.Status.EXPIRED
    assert attempts_close_overdue(now=later) == 1  # b; a was already closed
    b.refresh_from_db()
    assert b.status == Attempt.Status.EXPIRED
    assert attempts_close_overdue(now=later) == 0


def test_an_open_attempt_past_its_time_is_graded_before_a_new_one_starts(org, exam_for):
    exam = exam_for(org.rep_a, pass_mark=Decimal(100))
    first = attempt_start(exam=exam, rep=org.rep_a).attempt
    later = first.deadline + timedelta(hours=1)
    second = attempt_start(exam=exam, rep=org.rep_a, now=later)
    first.refresh_from_db()
    assert second.created
    assert second.attempt.number == 2
    assert first.status == Attempt.Status.EXPIRED


# Finishing ----------------------------------------------------------------------------------


def test_finish_grades_and_certifies_once(org, exam_for):
    exam = exam_for(org.rep_a, questions=5, pass_mark=Decimal(80))
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    _answer_all(attempt, right=4)
    graded = attempt_finish(attempt=attempt)
    assert (graded.status, graded.score, graded.passed) == (
        Attempt.Status.FINISHED,
        Decimal("80.00"),
        True,
    )
    again = attempt_finish(attempt=attempt, now=timezone.now() + timedelta(minutes=1))
    assert (again.score, again.finished_at) == (graded.score, graded.finished_at)
    certification = Certification.objects.get(rep=org.rep_a)
    assert (certification.subject, certification.level, certification.attempt) == (
        exam.subject,
        1,
        attempt,
    )
    assert certification.status == Certification.Status.ACTIVE
    assert certification.subject_version == exam.subject.current_version
    assert set(AttemptQuestion.objects.filter(attempt=attempt).values_list("score", flat=True)) == {
        Decimal(1),
        Decimal(0),
    }


def test_failing_issues_nothing(org, exam_for):
    exam = exam_for(org.rep_a, pass_mark=Decimal(80))
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    _answer_all(attempt, right=3)
    assert attempt_finish(attempt=attempt).passed is False
    assert not Certification.objects.exists()


def test_answers_after_finishing_are_refused(org, exam_for):
    exam = exam_for(org.rep_a)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    attempt_finish(attempt=attempt)
    item = attempt.items.first()
    with pytest.raises(ConflictError) as raised:
        attempt_answer(
            attempt_id=attempt.pk, rep=attempt.rep, question_id=item.question_id, choice_ids=[]
        )
    assert raised.value.code == "attempt_closed"


def test_editing_the_bank_does_not_change_a_drawn_attempt(org, exam_for):
    exam = exam_for(org.rep_a, questions=1, pass_mark=Decimal(100))
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.get()
    right = _right(item)
    question = item.question
    # The bank now says the other way round; the attempt keeps what it showed.
    question_update(
        question=question,
        data=QuestionInput(
            kind="single",
            title="Changed",
            text="<p>Changed</p>",
            choices=[ChoiceInput("X", Decimal(0)), ChoiceInput("Y", Decimal(100))],
        ),
        actor=None,
    )
    attempt_answer(
        attempt_id=attempt.pk, rep=attempt.rep, question_id=question.pk, choice_ids=[right]
    )
    assert attempt_finish(attempt=attempt).score == Decimal(100)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_finishes_yield_one_grade_on_postgresql(org, exam_for):
    if connection.vendor != "postgresql":
        from tests.conftest import require_service

        require_service("PostgreSQL", "DATABASE_URL")
        pytest.skip("DATABASE_URL is not PostgreSQL")
    exam = exam_for(org.rep_a, pass_mark=Decimal(60))
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    _answer_all(attempt, right=5)
    barrier = threading.Barrier(6)
    results, errors = [], []

    def finish():
        try:
            barrier.wait()
            graded = attempt_finish(attempt=Attempt.objects.get(pk=attempt.pk))
            results.append((graded.score, graded.finished_at))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=finish) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert Certification.objects.filter(rep=org.rep_a).count() == 1
    assert AuditEvent.objects.filter(action="certification.issued").count() == 1


def test_another_reps_attempt_cannot_be_answered(org, exam_for):
    exam = exam_for(org.rep_a, org.rep_b)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.first()
    with pytest.raises(NotFoundError):
        attempt_answer(
            attempt_id=attempt.pk, rep=org.rep_b, question_id=item.question_id, choice_ids=[]
        )
