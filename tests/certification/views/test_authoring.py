"""Enablement's authoring pages: who may use them, what each does, and how many queries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from certification.models import (
    Attempt,
    Exam,
    ExamAssignment,
    ExamSection,
    Question,
    QuestionBank,
    Subject,
)
from certification.services.attempts import attempt_answer, attempt_finish, attempt_start
from certification.services.exams import exam_assign, exam_create
from tests.conftest import Org
from tests.factories.accounts import UserFactory
from tests.factories.certification import BankFactory, SubjectFactory, make_question

pytestmark = pytest.mark.django_db

GIFT = b"""$CATEGORY: Products/Acme Cloud

::Acme regions::Which region hosts EU tenants? {
  =Frankfurt#Right.
  ~Dublin#Backups only.
}

::Acme SLA::Acme Cloud has an uptime SLA.{TRUE}

::Pitch::Describe the pitch.{}
"""
MALFORMED_GIFT = b"""::Fine::A fine question?{T}

::Broken::Which one? {
  =Yes
  ~No
"""


# Fixtures -----------------------------------------------------------------------------------


@dataclass
class World:
    """One of everything the authoring pages take an id of."""

    subject: Subject
    bank: QuestionBank
    question: Question
    exam: Exam
    assignment: ExamAssignment
    attempt: Attempt


def _finish(exam: Exam, rep: User, *, right: int) -> Attempt:
    """Start an attempt, answer ``right`` questions right and the rest wrong, and grade it."""
    attempt = attempt_start(exam=exam, rep=rep).attempt
    for i, item in enumerate(attempt.items.order_by("position")):
        weights = {c["id"]: Decimal(c["weight"]) for c in item.snapshot["choices"]}
        wanted = Decimal(100) if i < right else Decimal(0)
        choice = next(cid for cid, w in weights.items() if w == wanted)
        attempt_answer(
            attempt_id=attempt.pk,
            rep=attempt.rep,
            question_id=item.question_id,
            choice_ids=[choice],
        )
    return attempt_finish(attempt=attempt)


@pytest.fixture
def world(org: Org, exam_for) -> World:
    exam = exam_for(org.alpha, questions=4)
    bank = exam.sections.get().bank
    return World(
        subject=exam.subject,
        bank=bank,
        question=bank.questions.order_by("pk").first(),
        exam=exam,
        assignment=exam.assignments.get(),
        attempt=_finish(exam, org.rep_a, right=4),
    )


@pytest.fixture
def lead(client, org: Org):
    client.force_login(org.enablement)
    return client


def _url(name: str, world: World | None = None) -> str:
    """The URL of a named authoring page, with the ids it needs taken from the world."""
    ids = {
        "manage_subject_edit": lambda w: [w.subject.pk],
        "manage_bank": lambda w: [w.bank.pk],
        "manage_bank_edit": lambda w: [w.bank.pk],
        "manage_bank_import": lambda w: [w.bank.pk],
        "manage_question_new": lambda w: [w.bank.pk],
        "manage_question": lambda w: [w.question.pk],
        "manage_question_edit": lambda w: [w.question.pk],
        "manage_question_toggle": lambda w: [w.question.pk],
        "manage_exam": lambda w: [w.exam.pk],
        "manage_exam_edit": lambda w: [w.exam.pk],
        "manage_exam_sections": lambda w: [w.exam.pk],
        "manage_exam_publish": lambda w: [w.exam.pk],
        "manage_exam_archive": lambda w: [w.exam.pk],
        "manage_exam_assign": lambda w: [w.exam.pk],
        "manage_exam_results": lambda w: [w.exam.pk],
        "manage_exam_items": lambda w: [w.exam.pk],
        "manage_assignment_remove": lambda w: [w.assignment.pk],
        "manage_attempt": lambda w: [w.attempt.pk],
    }
    args = ids[name](world) if name in ids else []
    return reverse(f"certification:{name}", args=args)


PAGES = [
    "manage_subjects",
    "manage_subject_edit",
    "manage_banks",
    "manage_bank",
    "manage_bank_edit",
    "manage_bank_import",
    "manage_question_new",
    "manage_question",
    "manage_question_edit",
    "manage_exams",
    "manage_exam_new",
    "manage_exam",
    "manage_exam_edit",
    "manage_exam_sections",
    "manage_exam_assign",
    "manage_exam_results",
    "manage_exam_items",
    "manage_attempt",
]
ACTIONS = [
    "manage_question_toggle",
    "manage_exam_publish",
    "manage_exam_archive",
    "manage_assignment_remove",
]
OTHER_ROLES = ["rep_a", "manager_a", "director", "admin", "tp_lead", "no_role"]


def _formset(prefix: str, rows: list[dict[str, object]], initial: int = 0) -> dict[str, object]:
    data: dict[str, object] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def _choices(*rows: tuple[str, str, str]) -> dict[str, object]:
    return _formset("choice", [{"text": t, "weight": w, "feedback": f} for t, w, f in rows])


def _question(kind: str = "single", **extra: object) -> dict[str, object]:
    return {
        "kind": kind,
        "title": "",
        "text": "<p>Which region hosts EU tenants?</p>",
        "category": "Products/Acme Cloud",
        "mark": "1",
        "general_feedback": "See the data-residency sheet.",
        **extra,
    }


def _exam_settings(**extra: object) -> dict[str, object]:
    return {
        "title": "Acme Cloud essentials",
        "description": "Twenty minutes, no notes.",
        "pass_mark": "80",
        "time_limit_minutes": "20",
        "max_attempts": "3",
        "cooldown_minutes": "60",
        "available_from": "",
        "available_until": "",
        "layout": "one_per_page",
        "shuffle_questions": "on",
        "review_policy": "feedback",
        **extra,
    }


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Who may use the pages ----------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES + ACTIONS)
def test_anonymous_visitors_are_sent_to_sign_in(client, world, name):
    url = _url(name, world)
    response = client.post(url) if name in ACTIONS else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("viewer", OTHER_ROLES)
@pytest.mark.parametrize("name", PAGES + ACTIONS)
def test_other_roles_get_404_and_change_nothing(client, org, world, viewer, name):
    client.force_login(getattr(org, viewer))
    url = _url(name, world)
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Sneaky", "kind": "skill", "active": "0"}).status_code == 404
    assert not Subject.objects.filter(name="Sneaky").exists()
    world.question.refresh_from_db()
    world.exam.refresh_from_db()
    assert world.question.is_active
    assert world.exam.status == Exam.Status.PUBLISHED
    assert ExamAssignment.objects.filter(pk=world.assignment.pk).exists()


@pytest.mark.parametrize("name", PAGES)
def test_enablement_can_open_every_page(lead, world, name):
    response = lead.get(_url(name, world))
    assert response.status_code == 200
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    page = response.content.decode()
    assert "<script>" not in page
    assert ' style="' not in page


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_only_take_post(lead, world, name):
    assert lead.get(_url(name, world)).status_code == 405


def test_unknown_ids_are_404(lead, world):
    assert lead.get(reverse("certification:manage_bank", args=[999999])).status_code == 404
    assert lead.get(reverse("certification:manage_question", args=[999999])).status_code == 404
    assert lead.get(reverse("certification:manage_exam", args=[999999])).status_code == 404
    assert lead.get(reverse("certification:manage_attempt", args=[999999])).status_code == 404
    remove = reverse("certification:manage_assignment_remove", args=[999999])
    assert lead.post(remove).status_code == 404


# Subjects and banks -------------------------------------------------------------------------


def test_create_a_subject(lead):
    response = lead.post(
        reverse("certification:manage_subjects"),
        {"name": "Acme Cloud", "kind": "offering", "current_version": "2025.1", "description": ""},
    )
    assert response.status_code == 302
    subject = Subject.objects.get(name="Acme Cloud")
    assert (subject.kind, subject.current_version) == ("offering", "2025.1")
    page = lead.get(reverse("certification:manage_subjects")).content.decode()
    assert "Acme Cloud" in page
    assert "2025.1" in page


def test_a_taken_subject_name_is_refused_on_the_field(lead):
    SubjectFactory(name="Acme Cloud")
    response = lead.post(
        reverse("certification:manage_subjects"),
        {"name": "acme cloud", "kind": "skill", "current_version": "", "description": ""},
    )
    assert response.status_code == 200
    assert "This name is taken." in response.content.decode()
    assert Subject.objects.filter(name__iexact="acme cloud").count() == 1


def test_edit_and_retire_a_subject(lead, world):
    response = lead.post(
        _url("manage_subject_edit", world),
        {"name": "Acme Cloud (old)", "description": "Retired in 2025.", "is_active": ""},
    )
    assert response.status_code == 302
    world.subject.refresh_from_db()
    assert world.subject.name == "Acme Cloud (old)"
    assert not world.subject.is_active


def test_subject_filters(lead, world):
    SubjectFactory(name="Elevator pitch", kind="skill", current_version="")
    response = lead.get(reverse("certification:manage_subjects"), {"kind": "skill"})
    page = response.content.decode()
    assert "Elevator pitch" in page
    assert world.subject.name not in page


def test_create_and_edit_a_bank(lead, world):
    response = lead.post(
        reverse("certification:manage_banks"),
        {"name": "Acme Cloud basics", "subject": world.subject.pk, "description": "Level 1"},
    )
    bank = QuestionBank.objects.get(name="Acme Cloud basics")
    assert response["Location"] == reverse("certification:manage_bank", args=[bank.pk])
    assert bank.subject == world.subject
    response = lead.post(
        reverse("certification:manage_bank_edit", args=[bank.pk]),
        {"name": "Acme Cloud fundamentals", "subject": "", "description": ""},
    )
    assert response.status_code == 302
    bank.refresh_from_db()
    assert (bank.name, bank.subject) == ("Acme Cloud fundamentals", None)


def test_bank_detail_filters_by_category_and_text_with_counts(lead):
    bank = BankFactory()
    make_question(bank, category="Products/Cloud", title="Cloud regions")
    make_question(bank, category="Products/Cloud/EU", title="EU residency")
    make_question(bank, category="Skills", title="Opening the call")
    retired = make_question(bank, category="Skills", title="Old opener")
    retired.is_active = False
    retired.save()
    url = reverse("certification:manage_bank", args=[bank.pk])

    page = lead.get(url).content.decode()
    assert re.search(r'<span class="figure">3</span> active', page)
    assert re.search(r'<span class="figure">1</span> retired', page)
    assert 'value="Products">Products (2)' in page  # parents count their sub-categories

    page = lead.get(url, {"category": "Products/Cloud"}).content.decode()
    assert "Cloud regions" in page
    assert "EU residency" in page
    assert "Opening the call" not in page

    page = lead.get(url, {"q": "opener"}).content.decode()
    assert "Old opener" in page
    assert "Cloud regions" not in page


def test_empty_bank_explains_what_to_do(lead):
    bank = BankFactory()
    page = lead.get(reverse("certification:manage_bank", args=[bank.pk])).content.decode()
    assert "This bank has no questions yet" in page


# Questions ----------------------------------------------------------------------------------


def test_write_a_question_blank_rows_ignored(lead):
    bank = BankFactory()
    data = {
        **_question(),
        **_choices(
            ("Frankfurt", "100", "Right: EU tenants live there."),
            ("Dublin", "0", "Backups only."),
            ("", "", ""),
            ("", "", ""),
        ),
    }
    response = lead.post(reverse("certification:manage_question_new", args=[bank.pk]), data)
    question = Question.objects.get(bank=bank)
    assert response["Location"] == reverse("certification:manage_question", args=[question.pk])
    assert [(c.text, c.weight) for c in question.choices.all()] == [
        ("Frankfurt", Decimal(100)),
        ("Dublin", Decimal(0)),
    ]
    assert question.title == "Which region hosts EU tenants?"


def test_invalid_weights_are_explained_and_nothing_is_written(lead):
    bank = BankFactory()
    data = {**_question(), **_choices(("Frankfurt", "50", ""), ("Dublin", "0", ""))}
    response = lead.post(reverse("certification:manage_question_new", args=[bank.pk]), data)
    assert response.status_code == 200
    assert "The best choice must be worth 100%" in response.content.decode()
    assert not Question.objects.filter(bank=bank).exists()


def test_a_multiple_response_question_needs_right_choices_adding_to_100(lead):
    bank = BankFactory()
    data = {
        **_question("multiple"),
        **_choices(("Team", "50", ""), ("Business", "30", ""), ("Free", "-100", "")),
    }
    response = lead.post(reverse("certification:manage_question_new", args=[bank.pk]), data)
    assert response.status_code == 200
    assert "must add up to 100%, not 80%" in response.content.decode()
    assert not Question.objects.filter(bank=bank).exists()


def test_feedback_without_a_choice_text_is_refused(lead):
    bank = BankFactory()
    data = {
        **_question(),
        **_choices(("Frankfurt", "100", ""), ("Dublin", "0", ""), ("", "", "Orphan feedback")),
    }
    response = lead.post(reverse("certification:manage_question_new", args=[bank.pk]), data)
    assert response.status_code == 200
    assert "Give this choice a text" in response.content.decode()
    assert not Question.objects.filter(bank=bank).exists()


def test_edit_a_question(lead, world):
    question = world.question
    url = reverse("certification:manage_question_edit", args=[question.pk])
    form = lead.get(url).content.decode()
    assert 'name="choice-0-weight" value="100"' in form  # its choices fill the first rows
    assert ">\nFeedback A</textarea>" in form
    assert 'name="choice-5-text"' in form  # with two blank rows after its four
    data = {
        **_question(text="<p>Reworded?</p>", title="Reworded"),
        **_choices(("Yes", "100", "Good."), ("No", "0", ""), ("", "", "")),
    }
    response = lead.post(url, data)
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.title == "Reworded"
    assert [c.text for c in question.choices.all()] == ["Yes", "No"]


def test_preview_shows_the_question_and_the_labelled_key(lead, world):
    page = lead.get(_url("manage_question", world)).content.decode()
    assert "As a rep sees it" in page
    assert "Answer key" in page
    assert "Authors only" in page
    assert "100%" in page
    assert "Feedback A" in page
    assert 'type="radio"' in page


def test_retire_and_restore_a_question(lead, world):
    url = _url("manage_question_toggle", world)
    back = reverse("certification:manage_bank", args=[world.bank.pk])
    response = lead.post(url, {"active": "0", "next": back})
    assert response["Location"] == back
    world.question.refresh_from_db()
    assert not world.question.is_active
    lead.post(url, {"active": "1", "next": "https://evil.example/"})
    world.question.refresh_from_db()
    assert world.question.is_active


# Tests: settings, sections, publishing ------------------------------------------------------


def test_create_a_test(lead, org):
    subject = SubjectFactory()
    data = {
        "subject": subject.pk,
        **_exam_settings(available_from="2030-01-06T09:00", available_until="2030-01-31T17:30"),
    }
    response = lead.post(reverse("certification:manage_exam_new"), data)
    exam = Exam.objects.get(title="Acme Cloud essentials")
    assert response["Location"] == reverse("certification:manage_exam_sections", args=[exam.pk])
    assert exam.status == Exam.Status.DRAFT
    assert (exam.pass_mark, exam.time_limit_minutes, exam.max_attempts) == (Decimal(80), 20, 3)
    assert exam.shuffle_questions
    assert not exam.review_after_pass_only
    assert exam.available_from.isoformat() == "2030-01-06T09:00:00+00:00"  # the lead is on UTC


def test_window_is_read_in_the_leads_time_zone(client, org):
    org.enablement.time_zone = "Europe/Paris"
    org.enablement.save()
    client.force_login(org.enablement)
    subject = SubjectFactory()
    data = {"subject": subject.pk, **_exam_settings(available_from="2030-01-06T09:00")}
    client.post(reverse("certification:manage_exam_new"), data)
    exam = Exam.objects.get(subject=subject)
    assert exam.available_from.isoformat() == "2030-01-06T08:00:00+00:00"
    page = client.get(reverse("certification:manage_exam_edit", args=[exam.pk])).content.decode()
    assert 'value="2030-01-06T09:00"' in page


def test_a_test_that_closes_before_it_opens_is_refused(lead):
    subject = SubjectFactory()
    data = {
        "subject": subject.pk,
        **_exam_settings(available_from="2030-02-01T09:00", available_until="2030-01-01T09:00"),
    }
    page = lead.post(reverse("certification:manage_exam_new"), data).content.decode()
    assert "The test must open before it closes." in page
    assert "After the opening time." in page  # on the closing field
    assert not Exam.objects.filter(subject=subject).exists()


def test_edit_a_tests_settings(lead, world):
    response = lead.post(_url("manage_exam_edit", world), _exam_settings(title="Renamed"))
    assert response.status_code == 302
    world.exam.refresh_from_db()
    assert world.exam.title == "Renamed"
    assert world.exam.max_attempts == 3


def test_set_sections_then_publish_once_ready(lead):
    subject = SubjectFactory()
    bank = BankFactory(subject=subject)
    make_question(bank, category="Products/Cloud")
    make_question(bank, category="Products/Cloud")
    exam = exam_create(subject=subject, actor=None, title="Cloud essentials")
    sections_url = reverse("certification:manage_exam_sections", args=[exam.pk])
    detail_url = reverse("certification:manage_exam", args=[exam.pk])
    publish_url = reverse("certification:manage_exam_publish", args=[exam.pk])

    # given a section that needs more questions than the bank has
    data = _formset(
        "section",
        [
            {"bank": bank.pk, "category": "Products", "count": "3"},
            {"bank": "", "category": "", "count": ""},
        ],
    )
    assert lead.post(sections_url, data)["Location"] == detail_url
    section = ExamSection.objects.get(exam=exam)
    assert (section.bank, section.category, section.count) == (bank, "Products", 3)
    page = lead.get(detail_url).content.decode()
    assert "Not ready to publish" in page
    assert "needs 3 active questions; there are 2" in page

    # when publishing, it is refused with the reason
    response = lead.post(publish_url, follow=True)
    assert any("cannot be published yet" in m for m in _messages(response))
    exam.refresh_from_db()
    assert exam.status == Exam.Status.DRAFT

    # then, with a third question, it publishes
    make_question(bank, category="Products/Cloud/EU")
    lead.post(publish_url)
    exam.refresh_from_db()
    assert exam.status == Exam.Status.PUBLISHED


def test_repeated_sections_are_refused(lead, world):
    bank = world.bank
    data = _formset(
        "section",
        [
            {"bank": bank.pk, "category": "", "count": "2"},
            {"bank": bank.pk, "category": "", "count": "1"},
        ],
    )
    response = lead.post(_url("manage_exam_sections", world), data)
    assert response.status_code == 200
    assert "Each bank and category appears once." in response.content.decode()
    assert world.exam.sections.get().count == 4


def test_archive_a_test(lead, world):
    lead.post(_url("manage_exam_archive", world))
    world.exam.refresh_from_db()
    assert world.exam.status == Exam.Status.ARCHIVED
    assert lead.get(_url("manage_exam_edit", world)).status_code == 302


# Assigning ----------------------------------------------------------------------------------


def test_assign_to_a_team_and_a_rep(lead, org, world):
    due = (timezone.localdate() + timezone.timedelta(days=14)).isoformat()
    response = lead.post(
        _url("manage_exam_assign", world),
        {"teams": [org.beta.pk], "reps": [org.rep_c.pk], "due_at": due},
    )
    assert response.status_code == 302
    assert ExamAssignment.objects.filter(exam=world.exam, team=org.beta).exists()
    rep_assignment = ExamAssignment.objects.get(exam=world.exam, rep=org.rep_c)
    assert rep_assignment.due_at.date().isoformat() == due


def test_assign_needs_a_team_or_a_rep(lead, world):
    response = lead.post(_url("manage_exam_assign", world), {"due_at": ""})
    assert response.status_code == 200
    assert "Choose a team or a rep." in response.content.decode()


def test_only_reps_can_be_assigned(lead, org, world):
    response = lead.post(_url("manage_exam_assign", world), {"reps": [org.manager_b.pk]})
    assert "Select a valid choice" in response.content.decode()
    assert not ExamAssignment.objects.filter(rep=org.manager_b).exists()


def test_rep_search_narrows_the_list(lead, org, world):
    page = lead.get(_url("manage_exam_assign", world), {"q": "gamma"}).content.decode()
    assert "Rep Gamma" in page
    assert "Rep Beta" not in page
    page = lead.get(_url("manage_exam_assign", world)).content.decode()
    assert "Rep Beta" in page
    assert "Former Rep" not in page  # inactive reps take no tests


def test_remove_an_assignment(lead, world):
    response = lead.post(_url("manage_assignment_remove", world))
    assert response["Location"] == reverse("certification:manage_exam", args=[world.exam.pk])
    assert not ExamAssignment.objects.filter(pk=world.assignment.pk).exists()
    assert Attempt.objects.filter(pk=world.attempt.pk).exists()


# Importing ----------------------------------------------------------------------------------


def _upload(client, bank, content: bytes, name: str = "acme.gift", fmt: str = ""):
    return client.post(
        reverse("certification:manage_bank_import", args=[bank.pk]),
        {"action": "preview", "file": SimpleUploadedFile(name, content), "format": fmt},
    )


def _confirm(client, bank, token: str):
    return client.post(
        reverse("certification:manage_bank_import", args=[bank.pk]),
        {"action": "confirm", "token": token},
    )


def _token(response) -> str:
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "the preview offers no confirmation"
    return match[1]


def _cache_keys() -> list[str]:
    return list(cache._cache)  # LocMemCache, as the test settings configure


def test_import_previews_then_imports_then_adds_nothing_again(lead, org):
    bank = BankFactory()
    cache.clear()

    # the preview reports, writes nothing, and keeps the file under the user and a token
    preview = _upload(lead, bank, GIFT, name="secret-roadmap.gift")
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Acme regions" in page
    assert "line 3" in page
    assert "Essay questions are not supported" in page
    assert "Import 2 questions" in page
    assert not bank.questions.exists()
    [key] = _cache_keys()
    token = _token(preview)
    assert f":{org.enablement.pk}:{token}" in key
    assert "secret-roadmap" not in key

    # confirming imports, and the preview is used up
    response = _confirm(lead, bank, token)
    assert response["Location"] == reverse("certification:manage_bank", args=[bank.pk])
    assert sorted(bank.questions.values_list("title", flat=True)) == ["Acme SLA", "Acme regions"]
    assert _cache_keys() == []
    assert "expired or is not yours" in _confirm(lead, bank, token).content.decode()
    assert bank.questions.count() == 2

    # importing the same file again adds nothing
    again = _upload(lead, bank, GIFT)
    page = again.content.decode()
    assert "Nothing new to import" in page
    assert 'name="token"' not in page
    assert bank.questions.count() == 2


def test_a_malformed_file_names_the_line_and_keeps_nothing(lead):
    bank = BankFactory()
    cache.clear()
    response = _upload(lead, bank, MALFORMED_GIFT)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was imported." in page
    assert "line 3: &#x27;{&#x27; is never closed" in page
    assert _cache_keys() == []
    assert not bank.questions.exists()


def test_the_import_page_still_checks_the_csrf_token(org):
    # The view is csrf_exempt only to set its in-memory upload handler; it checks the token
    # itself once the handler is in place.
    bank = BankFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.enablement)
    url = reverse("certification:manage_bank_import", args=[bank.pk])
    response = client.post(url, {"action": "preview", "file": SimpleUploadedFile("a.gift", GIFT)})
    assert response.status_code == 403
    client.get(url)
    token = client.cookies["csrftoken"].value
    response = client.post(
        url,
        {"action": "preview", "file": SimpleUploadedFile("a.gift", GIFT)},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert "Import 2 questions" in response.content.decode()


def test_a_token_from_another_users_preview_is_refused(client, org):
    bank = BankFactory()
    client.force_login(org.enablement)
    token = _token(_upload(client, bank, GIFT))
    other = UserFactory(enablement=True)
    client.force_login(other)
    response = _confirm(client, bank, token)
    assert response.status_code == 200
    assert "expired or is not yours" in response.content.decode()
    assert not bank.questions.exists()


def test_a_token_is_for_its_own_bank(lead):
    bank, other_bank = BankFactory(), BankFactory()
    token = _token(_upload(lead, bank, GIFT))
    assert "expired or is not yours" in _confirm(lead, other_bank, token).content.decode()
    assert not other_bank.questions.exists()


def test_the_wrong_format_is_reported(lead):
    bank = BankFactory()
    response = _upload(lead, bank, GIFT, fmt="moodle-xml")
    assert response.status_code == 200
    assert "Nothing was imported." in response.content.decode()


def test_a_file_over_the_limit_is_refused(lead, settings):
    bank = BankFactory()
    big = b"// padding\n" * (5 * 1024 * 1024 // 11 + 10)
    response = _upload(lead, bank, big)
    assert response.status_code == 200
    assert "larger than the 5 MB limit" in response.content.decode()


# Results ------------------------------------------------------------------------------------


def test_results_show_figures_and_attempts(lead, org, world):
    _finish(world.exam, org.rep_a1, right=1)
    response = lead.get(_url("manage_exam_results", world))
    page = response.content.decode()
    assert re.search(r'<span class="figure">2</span> graded attempts', page)
    assert re.search(r'<span class="figure">50%</span> pass rate', page)
    assert "Rep Alpha-1" in page
    assert "Alpha" in page
    assert reverse("certification:manage_attempt", args=[world.attempt.pk]) in page
    page = lead.get(_url("manage_exam_results", world), {"outcome": "failed"}).content.decode()
    assert "Rep Alpha-1" in page
    assert ">Rep Alpha<" not in page


def test_item_analysis_shows_facility_and_discrimination(lead, org, world):
    _finish(world.exam, org.rep_a1, right=2)
    page = lead.get(_url("manage_exam_items", world)).content.decode()
    assert "Facility" in page
    assert "Discrimination" in page
    assert reverse("certification:manage_question", args=[world.question.pk]) in page
    assert re.search(r'<td class="num">(100|50|0)%</td>', page)
    assert "Too few answers to judge" in page


def test_item_analysis_empty_state(lead):
    subject = SubjectFactory()
    exam = exam_create(subject=subject, actor=None, title="Nobody sat it")
    page = lead.get(reverse("certification:manage_exam_items", args=[exam.pk])).content.decode()
    assert "No graded attempts yet" in page


def test_attempt_detail_shows_the_key_to_enablement(lead, org, world):
    attempt = _finish(world.exam, org.rep_a1, right=0)
    page = lead.get(reverse("certification:manage_attempt", args=[attempt.pk])).content.decode()
    assert "You see the full key" in page
    assert page.count('<span class="badge badge--ok">Right</span>') >= 4  # each question's key
    assert page.count("<strong>Picked</strong>") == 4
    assert "General feedback" in page
    assert "Not passed" in page


def test_an_attempt_in_progress_has_no_detail(lead, org, world):
    attempt = attempt_start(exam=world.exam, rep=org.rep_a1).attempt
    assert lead.get(reverse("certification:manage_attempt", args=[attempt.pk])).status_code == 404


# Query counts -------------------------------------------------------------------------------


def _grow(org: Org, world: World) -> None:
    """Add rows to every list: subjects, banks, questions, tests, assignments, attempts."""
    for _ in range(12):
        subject = SubjectFactory()
        bank = BankFactory(subject=subject)
        make_question(bank)
        exam_create(subject=subject, actor=None, title=f"Test on {subject.name}")
    for i in range(12):
        make_question(world.bank, category=f"Extra/{i}")
    for rep in UserFactory.create_batch(8, rep=True, team=org.alpha1):
        _finish(world.exam, rep, right=2)
    exam_assign(
        exam=world.exam, reps=UserFactory.create_batch(8, rep=True, team=org.gamma), actor=None
    )
    exam_assign(exam=world.exam, teams=[org.beta, org.gamma], actor=None)


LIST_PAGES = [
    ("manage_subjects", {}),
    ("manage_banks", {}),
    ("manage_bank", {"q": "question"}),
    ("manage_exams", {}),
    ("manage_exam", {}),
    ("manage_exam_assign", {}),
    ("manage_exam_sections", {}),
    ("manage_exam_results", {}),
    ("manage_exam_items", {}),
    ("manage_attempt", {}),
]


@pytest.fixture(params=LIST_PAGES, ids=[name for name, _ in LIST_PAGES])
def list_page(request):
    return request.param


def test_query_count_does_not_grow_with_rows(
    lead, org, world, list_page, django_assert_max_num_queries
):
    name, params = list_page
    url = _url(name, world)
    with django_assert_max_num_queries(20) as small:
        assert lead.get(url, params).status_code == 200
    _grow(org, world)
    with django_assert_max_num_queries(len(small)):
        assert lead.get(url, params).status_code == 200
