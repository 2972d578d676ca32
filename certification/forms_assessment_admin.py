"""Forms for enablement's level-2 and level-3 pages: guides, scenarios, scheduling, observer
delegations and the calibration period. They parse input; the services own the rules.

Several forms here re-render without saving (to apply a new scale, add a criterion row, or
search for people among thousands): such a *draft* keeps what was typed and shows no errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone

from accounts.models import Team, User
from certification.forms import (
    DATETIME_LOCAL,
    STATUS_FILTER,
    DateTimeLocalInput,
    _model_choice,
    _plain,
    _rep_label,
    _team_labels,
    _textarea,
)
from certification.models import AssessmentSession, Guide, GuideVersion, Scenario, Subject
from certification.selectors.assessment_admin import READY_TO_RELEASE
from certification.services.assessments import SCENARIO_FIELDS
from certification.services.guides import MAX_SCALE_POINTS, CriterionInput, GuideContent

# Every point a scale can use has a descriptor field; those outside the chosen scale are
# hidden and ignored, so changing the scale never loses what was typed.
POINTS = range(MAX_SCALE_POINTS + 1)


def descriptor_name(point: int) -> str:
    return f"descriptor_{point}"


class DraftMixin:
    """A bound form that only re-renders what was typed: no validation, no errors shown."""

    draft = False

    def full_clean(self) -> None:
        if self.draft:
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()  # type: ignore[misc]


def _limit_choices(
    form: forms.Form, name: str, shown: Iterable[User], *, label: Any = _rep_label
) -> None:
    """List only ``shown`` people in a picker that accepts anyone in its queryset (the search
    keeps the page usable with thousands of people)."""
    field = form.fields[name]
    choices = [(person.pk, label(person)) for person in shown]
    empty = getattr(field, "empty_label", None)
    if empty is not None and not isinstance(field, forms.ModelMultipleChoiceField):
        choices.insert(0, ("", empty))  # type: ignore[arg-type]
    field.widget.choices = choices


def _search(label: str) -> forms.CharField:
    return forms.CharField(
        required=False,
        label=label,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )


# Guides ---------------------------------------------------------------------------------------


class GuideForm(DraftMixin, forms.Form):
    """A guide's name and subject, and its version's scale, pass level and threshold."""

    name = forms.CharField(max_length=150)
    subject = forms.ModelChoiceField(
        queryset=Subject.objects.none(),
        required=False,
        empty_label="No subject",
        help_text="What the guide assesses, if one subject.",
    )
    introduction = forms.CharField(
        required=False,
        widget=_textarea(4),
        help_text="What the rep reads first: what is assessed and how to prepare.",
    )
    scale_min = forms.IntegerField(
        label="Lowest point",
        initial=1,
        min_value=0,
        max_value=MAX_SCALE_POINTS - 1,
        widget=forms.NumberInput(attrs={"min": "0", "max": str(MAX_SCALE_POINTS - 1)}),
    )
    scale_max = forms.IntegerField(
        label="Highest point",
        initial=4,
        min_value=1,
        max_value=MAX_SCALE_POINTS,
        help_text=f"A scale has at most {MAX_SCALE_POINTS} points, each described per criterion.",
        widget=forms.NumberInput(attrs={"min": "1", "max": str(MAX_SCALE_POINTS)}),
    )
    pass_level = forms.IntegerField(
        label="Pass level",
        initial=3,
        help_text="A rating at or above this meets a criterion; below it, judges must say what "
        "to do differently.",
        widget=forms.NumberInput(attrs={"min": "0", "max": str(MAX_SCALE_POINTS)}),
    )
    pass_threshold = forms.DecimalField(
        label="Pass threshold (%)",
        initial=70,
        max_digits=5,
        decimal_places=2,
        help_text="Percent of the weighted maximum needed to pass, from 0 to 100. Critical "
        "criteria must be met as well.",
        widget=forms.NumberInput(attrs={"min": "0", "max": "100", "step": "any"}),
    )

    def __init__(self, *args: Any, subjects: Any, draft: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft
        _model_choice(self, "subject").queryset = subjects

    @classmethod
    def for_guide(
        cls, guide: Guide, version: GuideVersion, *, subjects: Any, data: Any = None, **kw: Any
    ) -> GuideForm:
        initial = {
            "name": guide.name,
            "subject": guide.subject_id,
            "introduction": version.introduction,
            "scale_min": version.scale_min,
            "scale_max": version.scale_max,
            "pass_level": version.pass_level,
            "pass_threshold": _plain(version.pass_threshold),
        }
        return cls(data=data, initial=initial, subjects=subjects, **kw)

    def shown_points(self) -> range | None:
        """The points of the scale as typed (even before validation), or None if unreadable."""
        if self.is_bound:
            raw_min, raw_max = self.data.get("scale_min"), self.data.get("scale_max")
        else:
            raw_min = self.get_initial_for_field(self.fields["scale_min"], "scale_min")
            raw_max = self.get_initial_for_field(self.fields["scale_max"], "scale_max")
        try:
            low, high = int(str(raw_min)), int(str(raw_max))
        except (TypeError, ValueError):
            return None
        if not 0 <= low < high <= MAX_SCALE_POINTS or high - low + 1 > MAX_SCALE_POINTS:
            return None
        return range(low, high + 1)

    def content(self, criteria: Sequence[CriterionInput]) -> GuideContent:
        """The version's content as the services take it (call after ``is_valid``)."""
        data = self.cleaned_data
        return GuideContent(
            criteria=list(criteria),
            introduction=data["introduction"].strip(),
            scale_min=data["scale_min"],
            scale_max=data["scale_max"],
            pass_level=data["pass_level"],
            pass_threshold=data["pass_threshold"],
        )


class CriterionForm(DraftMixin, forms.Form):
    title = forms.CharField(max_length=150, required=False)
    rep_description = forms.CharField(
        required=False,
        label="Description for the rep",
        widget=_textarea(3),
        help_text="What this criterion looks for; the rep reads it before the assessment.",
    )
    judge_notes = forms.CharField(
        required=False,
        label="Notes for judges",
        widget=_textarea(3),
        help_text="Judges and enablement only: never shown to the rep.",
    )
    weight = forms.DecimalField(
        required=False,
        max_digits=6,
        decimal_places=2,
        initial=Decimal(1),
        help_text="Relative to the other criteria; empty means 1.",
        widget=forms.NumberInput(attrs={"min": "0.01", "step": "any"}),
    )
    is_critical = forms.BooleanField(
        required=False,
        label="Critical: must be met whatever the total",
    )

    def __init__(
        self, *args: Any, points: range | None = None, draft: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft
        self.points = points
        for point in POINTS:
            self.fields[descriptor_name(point)] = forms.CharField(
                required=False, label=f"Point {point}", widget=_textarea(3)
            )

    def descriptor_fields(self) -> list[tuple[int, forms.BoundField, bool]]:
        """(point, field, on the scale) for every descriptor field."""
        shown = self.points or range(0)
        return [(p, self[descriptor_name(p)], p in shown) for p in POINTS]

    def _text(self, name: str) -> str:
        return (self.cleaned_data.get(name) or "").strip()

    def is_blank(self) -> bool:
        names = ["title", "rep_description", "judge_notes", *map(descriptor_name, POINTS)]
        return not any(self._text(name) for name in names)

    def is_removed(self) -> bool:
        return bool(self.cleaned_data.get("DELETE"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_blank() or self.is_removed():
            return data
        if not self._text("title"):
            self.add_error("title", "Give the criterion a title.")
        if not self._text("rep_description"):
            self.add_error("rep_description", "Describe it for the rep.")
        for point in self.points or ():
            if not self._text(descriptor_name(point)):
                self.add_error(descriptor_name(point), f"Describe what a {point} looks like.")
        return data

    def to_input(self) -> CriterionInput:
        return CriterionInput(
            title=self._text("title"),
            rep_description=self._text("rep_description"),
            judge_notes=self._text("judge_notes"),
            weight=self.cleaned_data.get("weight") or Decimal(1),
            is_critical=bool(self.cleaned_data.get("is_critical")),
            descriptors={p: self._text(descriptor_name(p)) for p in self.points or ()},
        )


class BaseCriterionFormSet(forms.BaseFormSet):
    """Criteria in order; rows left blank or ticked for removal are ignored."""

    draft = False

    def full_clean(self) -> None:
        if self.draft:
            self._errors = [ErrorDict() for _ in self.forms]
            self._non_form_errors = self.error_class(renderer=self.renderer)
            return
        super().full_clean()

    def clean(self) -> None:
        if any(self.errors):
            raise forms.ValidationError(
                "Some criteria are incomplete: see the fields marked below.", code="incomplete"
            )

    def criteria(self) -> list[CriterionInput]:
        """The filled-in rows as the services take them (call after ``is_valid``)."""
        return [
            form.to_input()
            for form in self.forms
            if not form.is_blank() and not form.is_removed()  # type: ignore[attr-defined]
        ]


NEW_CRITERION_ROWS = 3
SPARE_CRITERION_ROWS = 1
MAX_CRITERION_ROWS = 30

CriterionFormSet = forms.formset_factory(
    CriterionForm,
    formset=BaseCriterionFormSet,
    extra=NEW_CRITERION_ROWS,
    can_delete=True,
    max_num=MAX_CRITERION_ROWS,
    absolute_max=MAX_CRITERION_ROWS,
    validate_max=True,
)


def criterion_formset(
    *,
    data: Any = None,
    version: GuideVersion | None = None,
    points: range | None = None,
    draft: bool = False,
) -> BaseCriterionFormSet:
    """A version's criteria plus a spare blank row, or three blank rows for a new guide."""
    initial = []
    if version is not None:
        for c in version.criteria.all():
            row: dict[str, Any] = {
                "title": c.title,
                "rep_description": c.rep_description,
                "judge_notes": c.judge_notes,
                "weight": _plain(c.weight),
                "is_critical": c.is_critical,
            }
            for point, text in c.descriptors.items():
                row[descriptor_name(int(point))] = text
            initial.append(row)
    extra = SPARE_CRITERION_ROWS if initial else NEW_CRITERION_ROWS
    rows = type("CriterionFormSet", (CriterionFormSet,), {"extra": extra, "draft": draft})
    return rows(
        data=data,
        initial=initial,
        prefix="criterion",
        form_kwargs={"points": points, "draft": draft},
    )


def with_extra_row(data: Any, prefix: str = "criterion") -> Any:
    """The posted data with one more (blank) row in the formset, up to the maximum."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        total = int(data.get(key, 0))
    except ValueError:
        total = 0
    data[key] = str(min(total + 1, MAX_CRITERION_ROWS))
    return data


def version_content(version: GuideVersion) -> GuideContent:
    """A saved version's content, to tell whether an edit changes anything."""
    return GuideContent(
        criteria=[
            CriterionInput(
                title=c.title,
                rep_description=c.rep_description,
                judge_notes=c.judge_notes,
                weight=c.weight,
                is_critical=c.is_critical,
                descriptors={int(p): text for p, text in c.descriptors.items()},
            )
            for c in version.criteria.all()
        ],
        introduction=version.introduction,
        scale_min=version.scale_min,
        scale_max=version.scale_max,
        pass_level=version.pass_level,
        pass_threshold=version.pass_threshold,
    )


# Scenarios ------------------------------------------------------------------------------------

_SCENARIO_LABELS = {
    "title": "Title",
    "kind": "Kind",
    "rep_brief": "Brief for the rep",
    "buyer_brief": "Buyer brief: never shown to the rep",
    "min_judges": "Judges needed (at least)",
    "manager_may_judge": "The rep's own manager may sit on the panel",
    "combination": "Combined rating per criterion",
    "critical_majority_fails": "A critical criterion failed by a majority of judges fails "
    "the assessment",
    "is_active": "Active",
}
_SCENARIO_HELP = {
    "rep_brief": "What the rep is told in advance: the situation, the buyer's role, the goal.",
    "buyer_brief": "The role-player's script: the persona, and what to reveal only if asked. "
    "Only judges, role-players and enablement ever see it.",
    "min_judges": "From 1 to 9. Scheduling refuses a smaller panel.",
    "manager_may_judge": "Leave unticked to keep every manager above the rep off the panel.",
    "combination": "How the judges' ratings of a criterion become the panel's rating.",
    "critical_majority_fails": "Ticked: a critical criterion fails the assessment when most "
    "judges rate it below the pass level. Unticked: when the panel's combined rating of it is "
    "below the pass level.",
    "is_active": "A retired scenario keeps its sessions but cannot be scheduled again.",
}


class ScenarioForm(forms.Form):
    """A scenario's settings (every name in ``SCENARIO_FIELDS``), its guide, and its subject
    when it is new (a scenario keeps its subject)."""

    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), empty_label=None)
    guide = forms.ModelChoiceField(
        queryset=Guide.objects.none(),
        empty_label="Choose a guide",
        help_text="The judges score with its current version; a session keeps the version it "
        "was scheduled with.",
    )

    def __init__(
        self, *args: Any, guides: Any, subjects: Any = None, editing: bool = False, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        if subjects is None:
            del self.fields["subject"]
        else:
            _model_choice(self, "subject").queryset = subjects
        guide = _model_choice(self, "guide")
        guide.queryset = guides
        guide.label_from_instance = _guide_label  # type: ignore[method-assign]
        names = [n for n in SCENARIO_FIELDS if editing or n != "is_active"]
        self.fields.update(
            forms.fields_for_model(
                Scenario,
                fields=names,
                widgets={
                    "kind": forms.RadioSelect,
                    "combination": forms.RadioSelect,
                    "rep_brief": _textarea(5),
                    "buyer_brief": _textarea(5),
                    "min_judges": forms.NumberInput(attrs={"min": "1", "max": "9"}),
                },
                labels=_SCENARIO_LABELS,
                help_texts=_SCENARIO_HELP,
            )
        )
        self.setting_names = names

    @classmethod
    def for_scenario(cls, scenario: Scenario, *, guides: Any, data: Any = None) -> ScenarioForm:
        initial = {name: getattr(scenario, name) for name in SCENARIO_FIELDS}
        initial["guide"] = scenario.guide_id
        return cls(data=data, initial=initial, guides=guides, editing=True)

    def settings(self) -> dict[str, Any]:
        """The settings for ``scenario_create`` / ``scenario_update`` (after ``is_valid``)."""
        return {name: self.cleaned_data[name] for name in self.setting_names}


def _guide_label(guide: Guide) -> str:
    version = getattr(guide, "current_number", None)
    parts = [guide.name]
    if version:
        parts.append(f"version {version}")
    if guide.subject_id and guide.subject:
        parts.append(guide.subject.name)
    return " · ".join(parts)


def _scenario_label(scenario: Scenario) -> str:
    rules = f"{scenario.min_judges}+ judge{'s' if scenario.min_judges != 1 else ''}"
    if not scenario.manager_may_judge:
        rules += ", rep's managers barred"
    return f"{scenario.title} · {scenario.subject.name} · {rules}"


# Scheduling -----------------------------------------------------------------------------------


class SessionForm(DraftMixin, forms.Form):
    """Schedule a session. Pickers list a searched subset of people but accept anyone their
    queryset holds, so the scenario's panel rules (not the form) say what is wrong."""

    scenario = forms.ModelChoiceField(
        queryset=Scenario.objects.none(), empty_label="Choose a scenario"
    )
    rep_q = _search("Find a rep by name or email")
    rep = forms.ModelChoiceField(
        queryset=User.objects.none(),
        empty_label="Choose a rep",
        label="Rep",
        error_messages={"invalid_choice": "Only an active rep can be assessed."},
    )
    scheduled_at = forms.DateTimeField(
        label="Date and time",
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S"],
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)",
        initial=45,
        help_text="From 5 to 480.",
        widget=forms.NumberInput(attrs={"min": "5", "max": "480", "step": "5"}),
    )
    location = forms.CharField(
        max_length=200,
        required=False,
        label="Room or place",
        help_text="Where to meet, if not on video.",
    )
    video_link = forms.URLField(
        required=False,
        label="Video link",
        assume_scheme="https",
        help_text="The meeting link, if on video.",
    )
    people_q = _search("Find people by name or email")
    judges = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label="Judges",
        error_messages={"required": "Choose the judges."},
    )
    lead = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="No lead judge",
        label="Lead judge",
        help_text="One of the judges.",
    )
    role_player = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="No role-player",
        label="Role-player",
        help_text="Plays the buyer from the buyer brief; listed from the people found above.",
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label="Owner",
        help_text="Reviews the combined result and releases it to the rep: you, or a judge on "
        "the panel.",
    )

    def __init__(
        self,
        *args: Any,
        viewer: User,
        scenarios: Any,
        reps: Any,
        shown_reps: Sequence[User],
        shown_people: Sequence[User],
        chosen_judges: Sequence[User],
        draft: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft
        scenario = _model_choice(self, "scenario")
        scenario.queryset = scenarios
        scenario.label_from_instance = _scenario_label  # type: ignore[method-assign]
        _model_choice(self, "rep").queryset = reps
        _limit_choices(self, "rep", shown_reps, label=_rep_label)
        everyone = User.objects.select_related("team")
        for name in ("judges", "lead", "role_player", "owner"):
            _model_choice(self, name).queryset = everyone
        listed = {p.pk: p for p in [*chosen_judges, *shown_people]}
        _limit_choices(self, "judges", listed.values())
        _limit_choices(self, "lead", chosen_judges)
        chosen_player = self._chosen("role_player")
        players = [*listed.values(), *[p for p in chosen_player if p.pk not in listed]]
        _limit_choices(self, "role_player", players)
        owner = _model_choice(self, "owner")
        owner.empty_label = f"Me ({viewer.display_name})"
        _limit_choices(self, "owner", [j for j in chosen_judges if j.pk != viewer.pk])
        zone = timezone.get_current_timezone_name()
        self.fields["scheduled_at"].help_text = f"In your time zone, {zone}."

    def _chosen(self, name: str) -> list[User]:
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        if not str(value or "").isdigit():
            return []
        return list(User.objects.select_related("team").filter(pk=int(str(value))))


def chosen_ids(data: Any, name: str) -> list[int]:
    """The ids ticked in a multiple choice of posted data (anything else is ignored)."""
    if data is None:
        return []
    return [int(v) for v in data.getlist(name) if v.isdigit()]


def chosen_id(data: Any, name: str) -> int | None:
    value = (data or {}).get(name, "")
    return int(value) if str(value).isdigit() else None


class SessionCancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is it cancelled?",
        widget=_textarea(2),
        error_messages={"required": "Say why the session is cancelled."},
    )


# Delegations ----------------------------------------------------------------------------------


class DelegationForm(DraftMixin, forms.Form):
    """Name someone to observe a rep, or every rep of a team, until a date or until removed."""

    SCOPES = (("rep", "One rep"), ("team", "Every rep of a team (and the teams under it)"))

    delegate_q = _search("Find the delegate by name or email")
    delegate = forms.ModelChoiceField(
        queryset=User.objects.none(),
        empty_label="Choose a person",
        help_text="May observe and sign off level 3 as the rep's manager would.",
    )
    scope = forms.ChoiceField(
        choices=SCOPES, initial="rep", widget=forms.RadioSelect, label="Observes"
    )
    rep_q = _search("Find the rep by name or email")
    rep = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Choose a rep"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="Choose a team"
    )
    ends_on = forms.DateField(
        required=False,
        label="Ends on",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self,
        *args: Any,
        people: Any,
        shown_people: Sequence[User],
        reps: Any,
        shown_reps: Sequence[User],
        teams: Any,
        draft: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft
        _model_choice(self, "delegate").queryset = people
        _limit_choices(self, "delegate", shown_people)
        _model_choice(self, "rep").queryset = reps
        _limit_choices(self, "rep", shown_reps, label=_rep_label)
        _model_choice(self, "team").queryset = teams
        self.fields["team"].widget.choices = [("", "Choose a team"), *_team_labels(list(teams))]
        zone = timezone.get_current_timezone_name()
        self.fields["ends_on"].help_text = (
            f"Optional: it stops at the end of that day ({zone}). Leave empty to keep it until "
            "you remove it."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scope") == "rep":
            data["team"] = None
            if not data.get("rep") and "rep" not in self.errors:
                self.add_error("rep", "Choose the rep.")
        elif data.get("scope") == "team":
            data["rep"] = None
            if not data.get("team") and "team" not in self.errors:
                self.add_error("team", "Choose the team.")
        return data

    def clean_ends_on(self) -> datetime | None:
        day = self.cleaned_data.get("ends_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time(23, 59)))


# Calibration ----------------------------------------------------------------------------------


class CalibrationFilterForm(forms.Form):
    PERIODS = (
        ("30", "Last 30 days"),
        ("90", "Last 90 days"),
        ("365", "Last 365 days"),
        ("custom", "Between two dates"),
    )
    DEFAULT_PERIOD = "90"

    period = forms.ChoiceField(
        choices=PERIODS, required=False, label="Period", initial=DEFAULT_PERIOD
    )
    date_from = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        required=False,
        label="To (included)",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == "custom":
            start, end = data.get("date_from"), data.get("date_to")
            if start is None and "date_from" not in self.errors:
                self.add_error("date_from", "Give the first day.")
            if start and end and end < start:
                self.add_error("date_to", "On or after the first day.")
        return data

    def window(self, today: date) -> tuple[datetime | None, datetime | None, str]:
        """The period as aware datetimes in the current time zone, and how to describe it."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        period = data.get("period") or self.DEFAULT_PERIOD
        if period == "custom":
            start, end = data["date_from"], data.get("date_to") or today
            label = f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}"
        else:
            days = int(period)
            start, end = today - timedelta(days=days - 1), today
            label = f"the last {days} days"
        since = timezone.make_aware(datetime.combine(start, time.min))
        until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
        return since, until, label


# Filters --------------------------------------------------------------------------------------


class GuideFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Name")
    subject = forms.ModelChoiceField(
        queryset=Subject.objects.none(), required=False, empty_label="Any subject"
    )

    def __init__(self, *args: Any, subjects: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _model_choice(self, "subject").queryset = subjects


class ScenarioFilterForm(GuideFilterForm):
    q = forms.CharField(required=False, label="Title")
    status = forms.ChoiceField(choices=STATUS_FILTER, required=False)


class SessionFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            ("", "Any status"),
            (READY_TO_RELEASE, "Ready to release"),
            *AssessmentSession.Status.choices,
        ],
        required=False,
    )
    scenario = forms.ModelChoiceField(
        queryset=Scenario.objects.none(), required=False, empty_label="Any scenario"
    )
    rep = forms.CharField(required=False, label="Rep name or email")

    def __init__(self, *args: Any, scenarios: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scenario = _model_choice(self, "scenario")
        scenario.queryset = scenarios
        scenario.label_from_instance = lambda s: f"{s.title} · {s.subject.name}"  # type: ignore[method-assign]


class DelegationFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Delegate, rep or team")
    status = forms.ChoiceField(
        choices=(("", "Current or expired"), ("current", "Current"), ("expired", "Expired")),
        required=False,
    )
