"""Enablement pages for level 1: subjects, question banks and imports, tests, results.

Every page is for enablement leads only (anyone else gets 404, as if there were no page). The
views parse input with the forms in ``certification.forms``, call one service or selector, and
render; a refused use case (``ApplicationError``) is shown on the page, on the fields it names.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from io import BytesIO
from typing import Any

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from accounts.decorators import rule_required
from accounts.models import User
from accounts.selectors import reps_visible_to, teams_visible_to
from certification import rules
from certification.forms import (
    AssignForm,
    BankFilterForm,
    BankForm,
    ExamFilterForm,
    ExamForm,
    ImportForm,
    QuestionFilterForm,
    QuestionForm,
    RepSearchForm,
    ResultFilterForm,
    SubjectFilterForm,
    SubjectForm,
    choice_formset,
    section_formset,
)
from certification.importers.detect import MAX_IMPORT_BYTES
from certification.models import Exam, ExamAssignment, Question, QuestionBank, Subject
from certification.selectors import authoring as selectors
from certification.selectors.exams import (
    MIN_RESPONSES,
    TOO_EASY,
    TOO_HARD,
    WEAK_DISCRIMINATION,
    attempt_review,
    exam_summary,
)
from certification.selectors.exams import item_analysis as item_statistics
from certification.services import exams as exam_services
from certification.services.catalog import subject_create, subject_update
from certification.services.imports import questions_import
from certification.services.questions import (
    bank_create,
    bank_update,
    question_create,
    question_set_active,
    question_update,
)
from config.errors import ApplicationError, NotFoundError

PAGE_SIZE = 50
REPS_SHOWN = 50
IMPORT_TTL_SECONDS = 30 * 60
_IMPORT_KEY = "repready:authoring:import:{user_id}:{token}"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")

View = Callable[..., HttpResponse]


class AuthorRequest(HttpRequest):
    """A request from a signed-in enablement lead: ``rule_required`` has checked."""

    user: User


# Helpers ------------------------------------------------------------------------------------


def _apply_errors(
    form: forms.Form, error: ApplicationError, formset: forms.BaseFormSet | None = None
) -> None:
    """Show a refused use case: field errors on their fields (choices and sections on the
    formset), and the message above the form unless a field already says it."""
    placed: list[str] = []
    for field, errors in error.field_errors.items():
        for message in errors:
            if field in form.fields:
                form.add_error(field, message)
            elif formset is not None and field in {"choices", "sections"}:
                formset.non_form_errors().append(message)
            else:
                continue
            placed.append(message)
    if error.message not in placed:
        form.add_error(None, error.message)


def _paginate(request: AuthorRequest, items: QuerySet[Any] | list[Any]) -> tuple[Page, str]:
    """The requested page of ``items`` and the query string to keep in page links."""
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _filters(form: forms.Form) -> dict[str, Any]:
    return form.cleaned_data if form.is_bound and form.is_valid() else {}


def _pk(value: Any) -> int | None:
    return value.pk if value is not None else None


def _safe_next(request: AuthorRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# Subjects -----------------------------------------------------------------------------------


@rule_required(rules.can_author)
def subject_list(request: AuthorRequest) -> HttpResponse:
    """List subjects (filtered, with bank and test counts) and add a new one."""
    form = SubjectForm(data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subject = subject_create(**form.cleaned_data, actor=request.user)
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Subject “{subject}” is added.")
            return redirect("certification:manage_subjects")
    filter_form = SubjectFilterForm(request.GET or None)
    filters = _filters(filter_form)
    subjects = selectors.subjects_for_authoring(
        text=filters.get("q", ""), kind=filters.get("kind", ""), status=filters.get("status", "")
    )
    page, query = _paginate(request, subjects)
    return render(
        request,
        "certification/manage/subject_list.html",
        {
            "form": form,
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
        },
    )


@rule_required(rules.can_author)
def subject_edit(request: AuthorRequest, subject_id: int) -> HttpResponse:
    """Rename, describe, retire or reactivate a subject."""
    subject = get_object_or_404(Subject, pk=subject_id)
    form = SubjectForm.for_subject(subject, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            subject_update(subject=subject, **form.cleaned_data, actor=request.user)
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Subject “{subject}” is saved.")
            return redirect("certification:manage_subjects")
    return render(
        request, "certification/manage/subject_form.html", {"form": form, "subject": subject}
    )


# Banks --------------------------------------------------------------------------------------


@rule_required(rules.can_author)
def bank_list(request: AuthorRequest) -> HttpResponse:
    """List question banks (filtered, with question counts) and create a new one."""
    form = BankForm(data=request.POST or None, subjects=selectors.subjects_for_choice())
    if request.method == "POST" and form.is_valid():
        try:
            bank = bank_create(**form.cleaned_data, actor=request.user)
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Bank “{bank}” is created. Add or import its questions.")
            return redirect("certification:manage_bank", bank_id=bank.pk)
    filter_form = BankFilterForm(
        request.GET or None, subjects=selectors.subjects_for_choice(active_only=False)
    )
    filters = _filters(filter_form)
    banks = selectors.banks_for_authoring(
        text=filters.get("q", ""), subject_id=_pk(filters.get("subject"))
    )
    page, query = _paginate(request, banks)
    return render(
        request,
        "certification/manage/bank_list.html",
        {
            "form": form,
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
        },
    )


@rule_required(rules.can_author)
def bank_detail(request: AuthorRequest, bank_id: int) -> HttpResponse:
    """A bank's questions, filtered by category (with sub-categories), text and status."""
    bank = get_object_or_404(QuestionBank.objects.select_related("subject"), pk=bank_id)
    categories = selectors.bank_categories(bank_id=bank.pk)
    filter_form = QuestionFilterForm(request.GET or None, categories=categories)
    filters = _filters(filter_form)
    questions = selectors.bank_questions(
        bank_id=bank.pk,
        category=filters.get("category", ""),
        text=filters.get("q", ""),
        status=filters.get("status", ""),
    )
    page, query = _paginate(request, questions)
    return render(
        request,
        "certification/manage/bank_detail.html",
        {
            "bank": bank,
            "counts": selectors.bank_counts(bank_id=bank.pk),
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
            "here": request.get_full_path(),
        },
    )


@rule_required(rules.can_author)
def bank_edit(request: AuthorRequest, bank_id: int) -> HttpResponse:
    """Rename a bank, change its subject or description."""
    bank = get_object_or_404(QuestionBank, pk=bank_id)
    form = BankForm.for_bank(
        bank, subjects=selectors.subjects_for_choice(active_only=False), data=request.POST or None
    )
    if request.method == "POST" and form.is_valid():
        try:
            bank_update(bank=bank, **form.cleaned_data, actor=request.user)
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Bank “{bank}” is saved.")
            return redirect("certification:manage_bank", bank_id=bank.pk)
    return render(request, "certification/manage/bank_form.html", {"form": form, "bank": bank})


# Importing ----------------------------------------------------------------------------------


class InMemoryUpload(FileUploadHandler):
    """Keep an uploaded question file in memory, never in a temporary file, up to the limit."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.too_large = False
        self.buffer = BytesIO()
        self.size = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer, self.size = BytesIO(), 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > MAX_IMPORT_BYTES:
            self.too_large = True
            raise SkipFile
        self.buffer.write(raw_data)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def _import_key(request: AuthorRequest, token: str) -> str:
    return _IMPORT_KEY.format(user_id=request.user.pk, token=token)


@rule_required(rules.can_author)
@csrf_exempt  # only so the upload handler can be set before the body is read; see below
def bank_import(request: AuthorRequest, bank_id: int) -> HttpResponse:
    """Upload a GIFT or Moodle XML file, preview what it adds, then confirm the import.

    The file is read in memory and kept between preview and confirmation in the cache, under
    a random token and the user's id, for 30 minutes: never on disk, never under its name.
    """
    handler = InMemoryUpload(request)
    request.upload_handlers = [handler]
    return _bank_import(request, bank_id, handler)


@csrf_protect
def _bank_import(request: AuthorRequest, bank_id: int, handler: InMemoryUpload) -> HttpResponse:
    bank = get_object_or_404(QuestionBank, pk=bank_id)
    context: dict[str, Any] = {"bank": bank, "limit_mb": MAX_IMPORT_BYTES // (1024 * 1024)}
    if request.method == "POST" and request.POST.get("action") == "confirm":
        return _import_confirm(request, bank, context)
    form = ImportForm(request.POST or None, request.FILES or None)
    context["form"] = form
    if request.method != "POST":
        return render(request, "certification/manage/import_form.html", context)
    if handler.too_large:
        form.add_error("file", f"The file is larger than the {context['limit_mb']} MB limit.")
    if not form.is_valid():
        return render(request, "certification/manage/import_form.html", context)
    data = form.cleaned_data["file"].read()
    fmt = form.cleaned_data["format"] or None
    try:
        report = questions_import(bank=bank, data=data, fmt=fmt, dry_run=True, actor=request.user)
    except ApplicationError as error:
        context["error"] = error.message
        return render(request, "certification/manage/import_form.html", context)
    context.update(report=report, filename=form.cleaned_data["file"].name)
    if report.added:
        token = secrets.token_urlsafe(32)
        cache.set(
            _import_key(request, token),
            {"bank": bank.pk, "format": report.format, "data": data},
            IMPORT_TTL_SECONDS,
        )
        context["token"] = token
    return render(request, "certification/manage/import_form.html", context)


def _import_confirm(
    request: AuthorRequest, bank: QuestionBank, context: dict[str, Any]
) -> HttpResponse:
    token = request.POST.get("token", "")
    key = _import_key(request, token)
    entry = cache.get(key) if _TOKEN.fullmatch(token) else None
    if entry is None or entry.get("bank") != bank.pk:
        context["form"] = ImportForm()
        context["error"] = (
            "This preview has expired or is not yours. Upload the file again to import it."
        )
        return render(request, "certification/manage/import_form.html", context)
    cache.delete(key)  # one confirmation per preview, whatever happens next
    try:
        report = questions_import(
            bank=bank, data=entry["data"], fmt=entry["format"], dry_run=False, actor=request.user
        )
    except ApplicationError as error:
        context["form"] = ImportForm()
        context["error"] = error.message
        return render(request, "certification/manage/import_form.html", context)
    messages.success(
        request,
        f"Imported {len(report.added)} question{'s' if len(report.added) != 1 else ''} into "
        f"{bank.name}; {len(report.unchanged)} already there, {len(report.skipped)} skipped.",
    )
    return redirect("certification:manage_bank", bank_id=bank.pk)


# Questions ----------------------------------------------------------------------------------


def _question_form_page(
    request: AuthorRequest,
    *,
    bank: QuestionBank,
    question: Question | None,
) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    if question is None:
        form = QuestionForm(data=data)
    else:
        form = QuestionForm.for_question(question, data=data)
    formset = choice_formset(data=data, question=question)
    if data is not None and form.is_valid() and formset.is_valid():
        payload = form.to_input(formset.choices())
        try:
            if question is None:
                saved = question_create(bank=bank, data=payload, actor=request.user)
            else:
                saved = question_update(question=question, data=payload, actor=request.user)
        except ApplicationError as error:
            _apply_errors(form, error, formset)
        else:
            verb = "added" if question is None else "saved"
            messages.success(request, f"Question “{saved.title}” is {verb}.")
            return redirect("certification:manage_question", question_id=saved.pk)
    return render(
        request,
        "certification/manage/question_form.html",
        {"form": form, "formset": formset, "bank": bank, "question": question},
    )


@rule_required(rules.can_author)
def question_new(request: AuthorRequest, bank_id: int) -> HttpResponse:
    """Write a new question with its choices into a bank."""
    bank = get_object_or_404(QuestionBank, pk=bank_id)
    return _question_form_page(request, bank=bank, question=None)


@rule_required(rules.can_author)
def question_preview(request: AuthorRequest, question_id: int) -> HttpResponse:
    """The question as a rep sees it, and its key (weights, feedback) for the author."""
    question = selectors.question_with_choices(question_id=question_id)
    if question is None:
        raise Http404
    return render(
        request,
        "certification/manage/question_detail.html",
        {"question": question, "choices": list(question.choices.all())},
    )


@rule_required(rules.can_author)
def question_edit(request: AuthorRequest, question_id: int) -> HttpResponse:
    """Change a question; attempts already drawn keep the version they were shown."""
    question = selectors.question_with_choices(question_id=question_id)
    if question is None:
        raise Http404
    return _question_form_page(request, bank=question.bank, question=question)


@rule_required(rules.can_author)
@require_POST
def question_toggle(request: AuthorRequest, question_id: int) -> HttpResponse:
    """Retire a question from future draws, or bring it back."""
    question = get_object_or_404(Question, pk=question_id)
    wanted = request.POST.get("active")
    active = (not question.is_active) if wanted not in {"0", "1"} else wanted == "1"
    question_set_active(question=question, is_active=active, actor=request.user)
    messages.success(
        request,
        f"Question “{question.title}” is "
        + ("back in use." if active else "retired: new attempts no longer draw it."),
    )
    fallback = reverse("certification:manage_question", args=[question.pk])
    return redirect(_safe_next(request, fallback))


# Tests --------------------------------------------------------------------------------------


@rule_required(rules.can_author)
def exam_list(request: AuthorRequest) -> HttpResponse:
    """List tests with their status and how many sections, assignments and attempts."""
    filter_form = ExamFilterForm(
        request.GET or None, subjects=selectors.subjects_for_choice(active_only=False)
    )
    filters = _filters(filter_form)
    exams = selectors.exams_for_authoring(
        text=filters.get("q", ""),
        status=filters.get("status", ""),
        subject_id=_pk(filters.get("subject")),
    )
    page, query = _paginate(request, exams)
    return render(
        request,
        "certification/manage/exam_list.html",
        {
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
        },
    )


@rule_required(rules.can_author)
def exam_new(request: AuthorRequest) -> HttpResponse:
    """Create a draft test on a subject, then choose what it draws."""
    form = ExamForm(data=request.POST or None, subjects=selectors.subjects_for_choice())
    if request.method == "POST" and form.is_valid():
        try:
            exam = exam_services.exam_create(
                subject=form.cleaned_data["subject"], actor=request.user, **form.settings()
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(
                request, f"Test “{exam.title}” is created as a draft. Now choose its questions."
            )
            return redirect("certification:manage_exam_sections", exam_id=exam.pk)
    return render(request, "certification/manage/exam_form.html", {"form": form, "exam": None})


def _exam(exam_id: int) -> Exam:
    return get_object_or_404(Exam.objects.select_related("subject"), pk=exam_id)


@rule_required(rules.can_author)
def exam_detail(request: AuthorRequest, exam_id: int) -> HttpResponse:
    """A test's settings, sections, problems, assignments and its way to results."""
    exam = _exam(exam_id)
    page, query = _paginate(request, selectors.exam_assignments(exam=exam))
    return render(
        request,
        "certification/manage/exam_detail.html",
        {
            "exam": exam,
            "sections": selectors.exam_sections_available(exam=exam),
            "problems": exam_services.exam_problems(exam),
            "page": page,
            "query": query,
            "summary": exam_summary(exam=exam, viewer=request.user),
        },
    )


@rule_required(rules.can_author)
def exam_edit(request: AuthorRequest, exam_id: int) -> HttpResponse:
    """Change a test's settings (not once it is archived)."""
    exam = _exam(exam_id)
    if exam.status == Exam.Status.ARCHIVED:
        messages.error(request, "An archived test cannot change.")
        return redirect("certification:manage_exam", exam_id=exam.pk)
    form = ExamForm.for_exam(exam, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            exam_services.exam_update(exam=exam, actor=request.user, **form.settings())
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Test “{exam.title}” is saved.")
            return redirect("certification:manage_exam", exam_id=exam.pk)
    return render(request, "certification/manage/exam_form.html", {"form": form, "exam": exam})


@rule_required(rules.can_author)
def exam_sections(request: AuthorRequest, exam_id: int) -> HttpResponse:
    """Choose what the test draws: N questions from each bank, or from one of its categories."""
    exam = _exam(exam_id)
    if exam.status == Exam.Status.ARCHIVED:
        messages.error(request, "An archived test cannot change.")
        return redirect("certification:manage_exam", exam_id=exam.pk)
    data = request.POST if request.method == "POST" else None
    formset = section_formset(banks=selectors.banks_for_choice(), data=data, exam=exam)
    form = forms.Form(data=data)  # carries errors that belong to no row
    if data is not None and formset.is_valid():
        try:
            exam_services.exam_set_sections(
                exam=exam, sections=formset.sections(), actor=request.user
            )
        except ApplicationError as error:
            _apply_errors(form, error, formset)
        else:
            messages.success(request, "Sections saved.")
            return redirect("certification:manage_exam", exam_id=exam.pk)
    return render(
        request,
        "certification/manage/section_form.html",
        {
            "exam": exam,
            "formset": formset,
            "form": form,
            "categories": selectors.all_categories(),
        },
    )


@rule_required(rules.can_author)
@require_POST
def exam_publish(request: AuthorRequest, exam_id: int) -> HttpResponse:
    """Publish a draft test, or say what stops it."""
    exam = _exam(exam_id)
    try:
        exam_services.exam_publish(exam=exam, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Test “{exam.title}” is published to the reps it is assigned.")
    return redirect("certification:manage_exam", exam_id=exam.pk)


@rule_required(rules.can_author)
@require_POST
def exam_archive(request: AuthorRequest, exam_id: int) -> HttpResponse:
    """Withdraw a test: no new attempts; results and certifications stay."""
    exam = _exam(exam_id)
    exam_services.exam_archive(exam=exam, actor=request.user)
    messages.success(request, f"Test “{exam.title}” is archived. Its results stay.")
    return redirect("certification:manage_exam", exam_id=exam.pk)


@rule_required(rules.can_author)
def exam_assign(request: AuthorRequest, exam_id: int) -> HttpResponse:
    """Assign the test to teams and reps (searched by name), with an optional due date."""
    exam = _exam(exam_id)
    search = RepSearchForm(request.GET or None)
    text = search.cleaned_data.get("q", "") if search.is_valid() else ""
    shown, matching = selectors.assignable_reps(viewer=request.user, text=text, limit=REPS_SHOWN)
    reps = reps_visible_to(request.user)
    chosen_ids = [v for v in request.POST.getlist("reps") if v.isdigit()]
    if chosen_ids:  # keep what was ticked visible, even if the search no longer lists it
        listed = {rep.pk for rep in shown}
        shown += [rep for rep in reps.filter(pk__in=chosen_ids) if rep.pk not in listed]
    form = AssignForm(
        data=request.POST or None,
        teams=teams_visible_to(request.user),
        reps=reps,
        shown_reps=shown,
    )
    if request.method == "POST" and form.is_valid():
        try:
            added = exam_services.exam_assign(
                exam=exam,
                actor=request.user,
                teams=form.cleaned_data["teams"],
                reps=form.cleaned_data["reps"],
                due_at=form.cleaned_data["due_at"],
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            if added:
                messages.success(request, f"{added} new assignment{'s' if added != 1 else ''}.")
            else:
                messages.info(request, "Those teams and reps were already assigned.")
            return redirect("certification:manage_exam", exam_id=exam.pk)
    return render(
        request,
        "certification/manage/assignment_form.html",
        {
            "exam": exam,
            "form": form,
            "search": search,
            "text": text,
            "shown_count": len(shown),
            "matching": matching,
        },
    )


@rule_required(rules.can_author)
@require_POST
def assignment_remove(request: AuthorRequest, assignment_id: int) -> HttpResponse:
    """Remove an assignment; attempts made and certifications earned stay."""
    assignment = get_object_or_404(
        ExamAssignment.objects.select_related("exam", "team", "rep"), pk=assignment_id
    )
    exam_id = assignment.exam_id
    who = assignment.team.name if assignment.team else getattr(assignment.rep, "display_name", "")
    exam_services.exam_unassign(assignment=assignment, actor=request.user)
    messages.success(request, f"{who} is no longer assigned this test.")
    return redirect("certification:manage_exam", exam_id=exam_id)


# Results ------------------------------------------------------------------------------------


@rule_required(rules.can_author)
def exam_results(request: AuthorRequest, exam_id: int) -> HttpResponse:
    """Headline figures and every graded attempt at the test, newest first."""
    exam = _exam(exam_id)
    filter_form = ResultFilterForm(request.GET or None)
    filters = _filters(filter_form)
    attempts = selectors.exam_results_filtered(
        exam=exam,
        viewer=request.user,
        text=filters.get("q", ""),
        outcome=filters.get("outcome", ""),
    )
    page, query = _paginate(request, attempts)
    return render(
        request,
        "certification/manage/result_list.html",
        {
            "exam": exam,
            "summary": exam_summary(exam=exam, viewer=request.user),
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
        },
    )


@rule_required(rules.can_author)
def item_analysis(request: AuthorRequest, exam_id: int) -> HttpResponse:
    """Facility and discrimination of each question over the test's graded attempts."""
    exam = _exam(exam_id)
    return render(
        request,
        "certification/manage/item_list.html",
        {
            "exam": exam,
            "items": item_statistics(exam=exam),
            "min_responses": MIN_RESPONSES,
            "too_easy": round(TOO_EASY * 100),
            "too_hard": round(TOO_HARD * 100),
            "weak": WEAK_DISCRIMINATION,
        },
    )


@rule_required(rules.can_author)
def attempt_detail(request: AuthorRequest, attempt_id: int) -> HttpResponse:
    """One finished attempt in full: the rep's answers, the key and the feedback."""
    attempt = selectors.attempt_for_review(attempt_id=attempt_id)
    if attempt is None or not rules.may_see_attempt_result(request.user, attempt):
        raise Http404
    try:
        review = attempt_review(attempt=attempt, viewer=request.user)
    except NotFoundError:
        raise Http404 from None
    return render(
        request,
        "certification/manage/attempt_detail.html",
        {"attempt": attempt, "exam": attempt.exam, "review": review},
    )
