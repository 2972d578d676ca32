"""Forms for enablement's authoring pages. They parse input; the services own the rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone

from accounts.models import Team, User
from certification.models import Exam, Question, QuestionBank, Subject
from certification.services.exams import EDITABLE, SectionInput
from certification.services.questions import ChoiceInput, QuestionInput

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
HTML_HELP = (
    "Paragraphs, bold, italics, lists, links, code and tables are kept; anything else "
    "(scripts, styles, remote images) is removed when saved."
)


def _model_choice(form: forms.Form, name: str) -> forms.ModelChoiceField:
    return cast("forms.ModelChoiceField", form.fields[name])


def _choice(form: forms.Form, name: str) -> forms.ChoiceField:
    return cast("forms.ChoiceField", form.fields[name])


def _plain(value: Decimal) -> str:
    """A decimal as an author writes it: 80, 33.33333, -50 (never 8E+1 or 80.00)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class DateTimeLocalInput(forms.DateTimeInput):
    """A browser date-and-time picker; the value is in the signed-in person's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=DATETIME_LOCAL)


# Subjects and banks -------------------------------------------------------------------------


class SubjectForm(forms.Form):
    """A new subject, or (``editing=True``) the parts of one that may change."""

    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Subject.Kind.choices)
    current_version = forms.CharField(
        max_length=40,
        required=False,
        label="Version",
        help_text="Offerings only: the version reps are certified on, e.g. 2025.1.",
    )
    description = forms.CharField(required=False, widget=_textarea(3))
    is_active = forms.BooleanField(
        required=False,
        label="Active",
        help_text="A retired subject keeps its certifications but gets no new tests.",
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # Kind and version are fixed once created: a new version is a new release.
            del self.fields["kind"], self.fields["current_version"]
        else:
            del self.fields["is_active"]

    @classmethod
    def for_subject(cls, subject: Subject, data: Any = None) -> SubjectForm:
        initial = {
            "name": subject.name,
            "description": subject.description,
            "is_active": subject.is_active,
        }
        return cls(data=data, initial=initial, editing=True)


class BankForm(forms.Form):
    name = forms.CharField(max_length=120)
    subject = forms.ModelChoiceField(
        queryset=Subject.objects.none(),
        required=False,
        empty_label="No subject",
        help_text="The subject these questions cover, if one.",
    )
    description = forms.CharField(required=False, widget=_textarea(3))

    def __init__(self, *args: Any, subjects: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "subject").queryset = subjects

    @classmethod
    def for_bank(cls, bank: QuestionBank, *, subjects: Any, data: Any = None) -> BankForm:
        initial = {"name": bank.name, "subject": bank.subject_id, "description": bank.description}
        return cls(data=data, initial=initial, subjects=subjects)


# Questions ----------------------------------------------------------------------------------


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(
        choices=Question.Kind.choices,
        help_text=(
            "Single choice: one best answer worth 100%. Multiple response: the right choices "
            "add up to 100%. True / false: exactly two choices."
        ),
    )
    title = forms.CharField(
        max_length=255,
        required=False,
        help_text="A short name for lists and reports; taken from the text if left empty.",
    )
    text = forms.CharField(label="Question", widget=_textarea(5), help_text=HTML_HELP)
    category = forms.CharField(
        max_length=255,
        required=False,
        help_text="A path such as Products/Acme Cloud; tests can draw from one category.",
    )
    mark = forms.DecimalField(
        max_digits=6,
        decimal_places=2,
        initial=Decimal(1),
        help_text="The question's weight in a test's score.",
        widget=forms.NumberInput(attrs={"step": "0.5", "min": "0.01"}),
    )
    general_feedback = forms.CharField(
        required=False,
        widget=_textarea(3),
        help_text="Shown to the rep after the test, whatever they answered (if the test's "
        "review policy allows feedback).",
    )

    @classmethod
    def for_question(cls, question: Question, data: Any = None) -> QuestionForm:
        initial = {
            "kind": question.kind,
            "title": question.title,
            "text": question.text,
            "category": question.category,
            "mark": _plain(question.mark),
            "general_feedback": question.general_feedback,
        }
        return cls(data=data, initial=initial)

    def to_input(self, choices: Sequence[ChoiceInput]) -> QuestionInput:
        """The question as the services take it (call after ``is_valid``)."""
        data = self.cleaned_data
        return QuestionInput(
            kind=data["kind"],
            title=data["title"],
            text=data["text"],
            choices=list(choices),
            category=data["category"],
            general_feedback=data["general_feedback"],
            mark=data["mark"],
        )


class ChoiceForm(forms.Form):
    text = forms.CharField(required=False, label="Choice", widget=_textarea(2))
    weight = forms.DecimalField(
        required=False,
        max_digits=8,
        decimal_places=5,
        label="Weight (%)",
        widget=forms.NumberInput(attrs={"step": "any", "min": "-100", "max": "100"}),
    )
    feedback = forms.CharField(required=False, widget=_textarea(2))

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("text") or "").strip() and not (data.get("feedback") or "").strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("text") or "").strip() and (data.get("feedback") or "").strip():
            self.add_error("text", "Give this choice a text, or clear its feedback.")
        return data


class BaseChoiceFormSet(forms.BaseFormSet):
    """Choice rows in order; rows left blank are ignored."""

    def choices(self) -> list[ChoiceInput]:
        """The filled-in rows (call after ``is_valid``); a blank weight counts as 0%."""
        return [
            ChoiceInput(
                text=form.cleaned_data["text"],
                weight=form.cleaned_data["weight"] or Decimal(0),
                feedback=form.cleaned_data["feedback"],
            )
            for form in self.forms
            if not form.is_blank()
        ]


MIN_CHOICE_ROWS = 2
NEW_CHOICE_ROWS = 4
SPARE_CHOICE_ROWS = 2
MAX_CHOICE_ROWS = 30


ChoiceFormSet = forms.formset_factory(
    ChoiceForm,
    formset=BaseChoiceFormSet,
    extra=NEW_CHOICE_ROWS,
    max_num=MAX_CHOICE_ROWS,
    absolute_max=MAX_CHOICE_ROWS,
    validate_max=True,
)


def choice_formset(*, data: Any = None, question: Question | None = None) -> BaseChoiceFormSet:
    """Choice rows: a question's own plus two blank ones, or four blank rows for a new one."""
    initial = []
    if question is not None:
        initial = [
            {"text": c.text, "weight": _plain(c.weight), "feedback": c.feedback}
            for c in question.choices.all()
        ]
    extra = SPARE_CHOICE_ROWS if initial else NEW_CHOICE_ROWS
    rows = type(
        "ChoiceFormSet", (ChoiceFormSet,), {"extra": max(extra, MIN_CHOICE_ROWS - len(initial))}
    )
    return rows(data=data, initial=initial, prefix="choice")


# Tests --------------------------------------------------------------------------------------


_EXAM_LABELS = {
    "pass_mark": "Pass mark (%)",
    "time_limit_minutes": "Time limit (minutes)",
    "max_attempts": "Attempts allowed",
    "cooldown_minutes": "Wait between attempts (minutes)",
    "available_from": "Opens",
    "available_until": "Closes",
    "layout": "Layout",
    "shuffle_questions": "Shuffle the order of questions",
    "review_policy": "After finishing, the rep sees",
    "review_after_pass_only": "Show answers and feedback only once the rep has passed",
}
_EXAM_HELP = {
    "description": "Instructions shown before the rep starts.",
    "pass_mark": "The score, in percent, needed to pass and earn the level-1 certification.",
    "time_limit_minutes": "From 1 to 600. The server's clock decides; answers after it are "
    "not counted.",
    "max_attempts": "Leave empty for no limit.",
    "cooldown_minutes": "How long a rep waits after one attempt before the next (0 for none).",
    "available_from": "Leave empty to open as soon as it is published. In your time zone.",
    "available_until": "Leave empty to keep it open. In your time zone.",
    "shuffle_questions": "Choices are always shuffled; this also shuffles the questions.",
    "review_policy": "What the rep may see of a finished attempt.",
    "review_after_pass_only": "Until then, a rep who has not passed sees only the score.",
}


class ExamForm(forms.Form):
    """A test's settings (every name in ``EDITABLE``), plus its subject when it is new."""

    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), empty_label=None)

    def __init__(self, *args: Any, subjects: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if subjects is None:
            del self.fields["subject"]
        else:
            _model_choice(self, "subject").queryset = subjects
            self.fields["subject"].help_text = "A test certifies level 1 of one active subject."
        self.fields.update(
            forms.fields_for_model(
                Exam,
                fields=EDITABLE,
                widgets={
                    "available_from": DateTimeLocalInput(),
                    "available_until": DateTimeLocalInput(),
                    "description": _textarea(3),
                    "layout": forms.RadioSelect,
                    "review_policy": forms.RadioSelect,
                },
                labels=_EXAM_LABELS,
                help_texts=_EXAM_HELP,
            )
        )
        for name in ("available_from", "available_until"):
            field = cast("forms.DateTimeField", self.fields[name])
            field.input_formats = [DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S"]

    @classmethod
    def for_exam(cls, exam: Exam, data: Any = None) -> ExamForm:
        initial = {name: getattr(exam, name) for name in EDITABLE}
        initial["pass_mark"] = _plain(exam.pass_mark)
        for name in ("available_from", "available_until"):
            if initial[name] is not None:
                initial[name] = timezone.localtime(initial[name])
        return cls(data=data, initial=initial)

    def settings(self) -> dict[str, Any]:
        """The settings to pass to ``exam_create`` / ``exam_update`` (call after ``is_valid``)."""
        return {name: self.cleaned_data[name] for name in EDITABLE}


class SectionForm(forms.Form):
    bank = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    category = forms.CharField(
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"list": "category-suggestions"}),
    )
    count = forms.IntegerField(
        required=False,
        label="Questions to draw",
        widget=forms.NumberInput(attrs={"min": "1", "max": "200"}),
    )

    def __init__(self, *args: Any, banks: Sequence[QuestionBank] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._banks = {bank.pk: bank for bank in banks}
        _choice(self, "bank").choices = [("", "No section (leave empty)")] + [
            (bank.pk, f"{bank.name} ({getattr(bank, 'active_count', '?')} active)")
            for bank in banks
        ]

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("bank")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("bank") and not data.get("count"):
            self.add_error("count", "How many questions should this section draw?")
        if not data.get("bank") and (data.get("category") or data.get("count")):
            self.add_error("bank", "Choose the bank to draw from, or clear this row.")
        return data

    def to_input(self) -> SectionInput:
        data = self.cleaned_data
        return SectionInput(
            bank=self._banks[data["bank"]], count=data["count"], category=data["category"]
        )


class BaseSectionFormSet(forms.BaseFormSet):
    """Sections in order; rows without a bank are ignored."""

    def sections(self) -> list[SectionInput]:
        return [form.to_input() for form in self.forms if not form.is_blank()]


SPARE_SECTION_ROWS = 2
MAX_SECTION_ROWS = 30


SectionFormSet = forms.formset_factory(
    SectionForm,
    formset=BaseSectionFormSet,
    extra=SPARE_SECTION_ROWS,
    max_num=MAX_SECTION_ROWS,
    absolute_max=MAX_SECTION_ROWS,
    validate_max=True,
)


def section_formset(
    *, banks: Sequence[QuestionBank], data: Any = None, exam: Exam | None = None
) -> BaseSectionFormSet:
    """A test's sections plus two blank rows (three for a test with none yet)."""
    initial = []
    if exam is not None:
        initial = [
            {"bank": s.bank_id, "category": s.category, "count": s.count}
            for s in exam.sections.order_by("position", "pk")
        ]
    rows = type(
        "SectionFormSet", (SectionFormSet,), {"extra": SPARE_SECTION_ROWS if initial else 3}
    )
    return rows(data=data, initial=initial, prefix="section", form_kwargs={"banks": banks})


# Assigning ----------------------------------------------------------------------------------


def _team_labels(teams: Sequence[Team]) -> list[tuple[int, str]]:
    """Each team named with the teams above it ("EMEA / Enterprise"), in tree order."""
    by_path = {team.path: team for team in teams}
    labels = []
    for team in teams:
        prefixes = [team.path[: i + 1] for i, char in enumerate(team.path) if char == "/"]
        names = [by_path[p].name for p in prefixes if p in by_path]
        labels.append((team.pk, " / ".join(names) or team.name))
    return labels


def _rep_label(rep: User) -> str:
    team = rep.team.name if rep.team_id and rep.team else "no team"
    return f"{rep.display_name} · {team} · {rep.email}"


class AssignForm(forms.Form):
    """Teams (every team under them too) and reps; the reps shown are a searched subset."""

    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Assigning a team also reaches every team under it, and reps who join later.",
    )
    reps = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Reps",
    )
    due_at = forms.DateField(
        required=False,
        label="Due by",
        help_text="The end of that day in your time zone.",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self,
        *args: Any,
        teams: Any,
        reps: Any,
        shown_reps: Sequence[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "teams").queryset = teams
        self.fields["teams"].widget.choices = _team_labels(list(teams))
        # Any rep the viewer may assign is accepted; only the searched ones are listed, so the
        # page stays usable with thousands of reps.
        _model_choice(self, "reps").queryset = reps
        self.fields["reps"].widget.choices = [(rep.pk, _rep_label(rep)) for rep in shown_reps]

    def clean_due_at(self) -> datetime | None:
        day = self.cleaned_data.get("due_at")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time(23, 59)))


class RepSearchForm(forms.Form):
    """The rep search on the assign page; its input belongs to a GET form outside the POST one."""

    q = forms.CharField(
        required=False,
        label="Find reps by name or email",
        widget=forms.TextInput(attrs={"type": "search", "form": "rep-search"}),
    )


# Importing ----------------------------------------------------------------------------------


class ImportForm(forms.Form):
    FORMATS = (
        ("", "Detect from the file"),
        ("gift", "GIFT"),
        ("moodle-xml", "Moodle XML"),
    )

    file = forms.FileField(
        label="Question file",
        help_text="A GIFT (.txt, .gift) or Moodle XML (.xml) export, up to 5 MB, UTF-8.",
        widget=forms.ClearableFileInput(attrs={"accept": ".gift,.txt,.xml,text/plain,text/xml"}),
    )
    format = forms.ChoiceField(choices=FORMATS, required=False)


# Filters ------------------------------------------------------------------------------------

STATUS_FILTER = (("", "Any status"), ("active", "Active"), ("retired", "Retired"))


class SubjectFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Name")
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Subject.Kind.choices], required=False)
    status = forms.ChoiceField(choices=STATUS_FILTER, required=False)


class BankFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Name or description")
    subject = forms.ModelChoiceField(
        queryset=Subject.objects.none(), required=False, empty_label="Any subject"
    )

    def __init__(self, *args: Any, subjects: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "subject").queryset = subjects


class QuestionFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Text")
    category = forms.ChoiceField(required=False)
    status = forms.ChoiceField(choices=STATUS_FILTER, required=False)

    def __init__(self, *args: Any, categories: Sequence[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choice(self, "category").choices = [("", "Every category")] + [
            (row["category"], f"{row['label']} ({row['total']})") for row in categories
        ]


class ExamFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Title")
    status = forms.ChoiceField(choices=[("", "Any status"), *Exam.Status.choices], required=False)
    subject = forms.ModelChoiceField(
        queryset=Subject.objects.none(), required=False, empty_label="Any subject"
    )

    def __init__(self, *args: Any, subjects: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "subject").queryset = subjects


class ResultFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Rep")
    outcome = forms.ChoiceField(
        choices=(("", "Passed or not"), ("passed", "Passed"), ("failed", "Not passed")),
        required=False,
    )
