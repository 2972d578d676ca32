"""Rep pages for level 1: my tests, taking a test, the result, my certifications."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import rule_required
from certification import rules
from certification.models import Attempt
from certification.selectors.certificates import certifications_of
from certification.selectors.exams import (
    attempt_get_for_rep,
    attempt_questions,
    attempt_review,
    exam_get_for_rep,
    exams_for_rep,
)
from certification.services.attempts import (
    attempt_answer,
    attempt_close_if_overdue,
    attempt_finish,
    attempt_start,
)
from config.errors import ApplicationError, ConflictError, NotFoundError

# Screen readers hear the time left at these points only (minutes), not every second.
TIMER_ANNOUNCEMENTS = (10, 5, 1)


def _own_attempt(request: HttpRequest, attempt_id: int) -> Attempt:
    try:
        return attempt_get_for_rep(attempt_id=attempt_id, rep=request.user)  # type: ignore[arg-type]
    except NotFoundError:
        raise Http404 from None


@rule_required(rules.can_take_tests)
def my_tests(request: HttpRequest) -> HttpResponse:
    """The rep's assigned tests with their state, attempts left and next opening."""
    rows = exams_for_rep(rep=request.user, now=timezone.now())  # type: ignore[arg-type]
    return render(request, "certification/exam_list.html", {"rows": rows})


@rule_required(rules.can_take_tests)
@require_POST
def exam_start(request: HttpRequest, exam_id: int) -> HttpResponse:
    """Start (or resume) an attempt and go to it."""
    try:
        exam = exam_get_for_rep(exam_id=exam_id, rep=request.user)  # type: ignore[arg-type]
        started = attempt_start(exam=exam, rep=request.user)  # type: ignore[arg-type]
    except NotFoundError:
        raise Http404 from None
    except ConflictError as error:
        messages.error(request, error.message)
        return redirect("certification:my_tests")
    return redirect("certification:attempt", attempt_id=started.attempt.pk)


def _page_number(request: HttpRequest, total: int) -> int:
    try:
        number = int(request.GET.get("q", "1"))
    except ValueError:
        number = 1
    return min(max(number, 1), max(total, 1))


@rule_required(rules.can_take_tests)
def attempt_take(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The test-taking page: one question at a time or all on one page, with a timer."""
    attempt = attempt_close_if_overdue(attempt=_own_attempt(request, attempt_id))
    if not attempt.is_open:
        return redirect("certification:attempt_result", attempt_id=attempt.pk)
    questions = attempt_questions(attempt)
    one_per_page = attempt.exam.layout == attempt.exam.Layout.ONE_PER_PAGE
    number = _page_number(request, len(questions))
    shown = [questions[number - 1]] if one_per_page and questions else questions
    return render(
        request,
        "certification/attempt_take.html",
        {
            "attempt": attempt,
            "exam": attempt.exam,
            "questions": questions,
            "shown": shown,
            "one_per_page": one_per_page,
            "number": number,
            "answered": sum(q.answered for q in questions),
            "server_now": timezone.now(),
            "announce_at": ",".join(str(m) for m in TIMER_ANNOUNCEMENTS),
        },
    )


def _choice_ids(request: HttpRequest, question_id: int) -> list[int]:
    try:
        return [int(value) for value in request.POST.getlist(f"q{question_id}")]
    except ValueError:
        raise ApplicationError("Unknown option.", field_errors={"choices": ["Bad id."]}) from None


@rule_required(rules.can_take_tests)
@require_POST
def attempt_save(request: HttpRequest, attempt_id: int) -> HttpResponse:  # noqa: PLR0911
    """Save the answers on the page (autosave posts one question; the form posts all shown)."""
    attempt = _own_attempt(request, attempt_id)
    question_ids = [int(q) for q in request.POST.getlist("question") if q.isdigit()]
    try:
        for question_id in question_ids:
            attempt_answer(
                attempt_id=attempt.pk,
                rep=request.user,  # type: ignore[arg-type]
                question_id=question_id,
                choice_ids=_choice_ids(request, question_id),
            )
    except NotFoundError:
        raise Http404 from None
    except ConflictError as error:  # time is up or already finished: the grade stands
        result = reverse("certification:attempt_result", args=[attempt.pk])
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponseClientRedirect(result)
        messages.warning(request, error.message)
        return redirect(result)
    except ApplicationError as error:
        if request.htmx:  # type: ignore[attr-defined]
            return render(
                request,
                "certification/partials/save_status.html",
                {"error": error.message},
                status=400,
            )
        messages.error(request, error.message)
        return redirect("certification:attempt", attempt_id=attempt.pk)
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request, "certification/partials/save_status.html", {"saved_at": timezone.now()}
        )
    if request.POST.get("finish"):
        return _finish(request, attempt)
    target = reverse("certification:attempt", args=[attempt.pk])
    go = request.POST.get("go", "")
    return redirect(f"{target}?q={go}" if go.isdigit() else target)


def _finish(request: HttpRequest, attempt: Attempt) -> HttpResponse:
    """Finish and grade the attempt (once, however often this is sent)."""
    attempt = attempt_finish(attempt=attempt)
    if attempt.status == Attempt.Status.EXPIRED:
        messages.warning(request, "Time ran out: your saved answers were graded.")
    elif request.POST.get("timed_out"):
        messages.info(request, "Time was up, so your answers were submitted for you.")
    return redirect("certification:attempt_result", attempt_id=attempt.pk)


@rule_required(rules.can_take_tests)
def attempt_result(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """The result, showing what the test's review policy allows."""
    attempt = attempt_close_if_overdue(attempt=_own_attempt(request, attempt_id))
    if attempt.is_open:
        return redirect("certification:attempt", attempt_id=attempt.pk)
    review = attempt_review(attempt=attempt, viewer=request.user)  # type: ignore[arg-type]
    rows = exams_for_rep(
        rep=request.user,
        now=timezone.now(),  # type: ignore[arg-type]
        exam_id=attempt.exam_id,
    )
    certification = attempt.certifications.first() if attempt.passed else None
    return render(
        request,
        "certification/attempt_result.html",
        {
            "attempt": attempt,
            "review": review,
            "row": rows[0] if rows else None,
            "certification": certification,
        },
    )


@rule_required(rules.can_take_tests)
def my_certifications(request: HttpRequest) -> HttpResponse:
    """The rep's certifications: active, expired and revoked, with their evidence."""
    return render(
        request,
        "certification/certification_list.html",
        # A certification past its date shows as expired before the hourly sweep marks it.
        {"certifications": certifications_of(rep=request.user, now=timezone.now())},  # type: ignore[arg-type]
    )
