"""Forms for the readiness reports: the report's filters and the customer-ready requirements."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Team, User
from accounts.selectors import rep_slice_values, teams_visible_to, users_visible_to
from certification.models import Level, ReadinessRequirement, Subject, Tier
from certification.selectors.readiness import EXPIRY_WINDOWS, ReportFilters


class ReportFilterForm(forms.Form):
    """The slice a report shows, limited to what the viewer may see; an unknown or hidden team,
    region or manager is an invalid choice, not an empty report."""

    region = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    manager = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    segment = forms.ChoiceField(required=False)
    sales_role = forms.ChoiceField(required=False, label="Sales role")
    tier = forms.ChoiceField(choices=[("", "Any tier"), *Tier.choices], required=False)
    offering = forms.ModelChoiceField(queryset=Subject.objects.none(), required=False)
    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), required=False)
    q = forms.CharField(required=False, max_length=100, label="Name or email")
    ready = forms.ChoiceField(
        choices=[("", "Ready or not"), ("yes", "Customer ready"), ("no", "Not ready")],
        required=False,
        label="Readiness",
    )
    expiring = forms.TypedChoiceField(
        choices=[("", "Any"), *[(str(d), f"Within {d} days") for d in EXPIRY_WINDOWS]],
        coerce=int,
        empty_value=None,
        required=False,
        label="Expiring",
    )
    inactive = forms.BooleanField(required=False, label=f"No activity for {90} days")

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = teams_visible_to(viewer).order_by("name")
        self.fields["region"].queryset = teams.filter(kind=Team.Kind.REGION)  # type: ignore[attr-defined]
        self.fields["region"].empty_label = "Every region"  # type: ignore[attr-defined]
        self.fields["team"].queryset = teams.filter(kind=Team.Kind.TEAM)  # type: ignore[attr-defined]
        self.fields["team"].empty_label = "Every team"  # type: ignore[attr-defined]
        self.fields["manager"].queryset = (
            users_visible_to(viewer)
            .filter(  # type: ignore[attr-defined]
                is_manager=True, managed_teams__isnull=False
            )
            .distinct()
            .order_by("display_name")
        )
        self.fields["manager"].empty_label = "Any manager"  # type: ignore[attr-defined]
        self.fields["manager"].label_from_instance = lambda user: user.display_name  # type: ignore[attr-defined]
        for name, label in (("segment", "Any segment"), ("sales_role", "Any sales role")):
            values = rep_slice_values(viewer=viewer, field=name)
            self.fields[name].choices = [("", label), *((v, v) for v in values)]  # type: ignore[attr-defined]
        subjects = Subject.objects.filter(is_active=True).order_by("kind", "name")
        self.fields["subject"].queryset = subjects  # type: ignore[attr-defined]
        self.fields["subject"].empty_label = "Every subject"  # type: ignore[attr-defined]
        self.fields["offering"].queryset = (
            Subject.objects.filter(  # type: ignore[attr-defined]
                kind=Subject.Kind.OFFERING, readiness_requirements__isnull=False
            )
            .distinct()
            .order_by("name")
        )
        self.fields["offering"].empty_label = "Every offering"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("ready") and not data.get("offering"):
            self.add_error("ready", "Choose an offering to filter by readiness.")
        return data

    def to_filters(self) -> ReportFilters:
        """The filters chosen (none if the form is unbound or invalid)."""
        if not self.is_bound or not self.is_valid():
            return ReportFilters()
        data = self.cleaned_data

        def pk(name: str) -> int | None:
            return data[name].pk if data.get(name) is not None else None

        return ReportFilters(
            region=pk("region"),
            team=pk("team"),
            manager=pk("manager"),
            tier=data.get("tier") or "",
            subject=pk("subject"),
            offering=pk("offering"),
            segment=data.get("segment") or "",
            sales_role=data.get("sales_role") or "",
            q=(data.get("q") or "").strip(),
            ready=data.get("ready") or "",
            expiring=data.get("expiring"),
            inactive=bool(data.get("inactive")),
        )


class RequirementForm(forms.Form):
    """What an offering's customer-ready requirement applies to, and what it asks for."""

    offering = forms.ModelChoiceField(queryset=Subject.objects.none())
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="Every team",
        help_text="The team and every team under it.",
    )
    segment = forms.CharField(
        max_length=60, required=False, help_text="Leave empty for every segment."
    )
    sales_role = forms.CharField(
        max_length=60,
        required=False,
        label="Sales role",
        help_text="Leave empty for every sales role.",
    )
    items = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Certifications a rep must hold",
        error_messages={"required": "Choose at least one certification."},
    )

    def __init__(
        self, *args: Any, requirement: ReadinessRequirement | None = None, **kwargs: Any
    ) -> None:
        if requirement is not None:
            kwargs.setdefault(
                "initial",
                {
                    "offering": requirement.offering,
                    "team": requirement.team,
                    "segment": requirement.segment,
                    "sales_role": requirement.sales_role,
                    "items": [f"{i.subject_id}:{i.level}" for i in requirement.items.all()],
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["offering"].queryset = Subject.objects.filter(  # type: ignore[attr-defined]
            kind=Subject.Kind.OFFERING, is_active=True
        ).order_by("name")
        self.fields["team"].queryset = Team.objects.order_by("path")  # type: ignore[attr-defined]
        self.fields["team"].label_from_instance = lambda team: (  # type: ignore[attr-defined]
            "— " * (team.depth - 1) + team.name
        )
        subjects = list(Subject.objects.filter(is_active=True).order_by("kind", "name"))
        self.subjects = {subject.pk: subject for subject in subjects}
        self.fields["items"].choices = [  # type: ignore[attr-defined]
            (
                subject.name,
                [(f"{subject.pk}:{level.value}", f"Level {level.value}") for level in Level],
            )
            for subject in subjects
        ]

    def clean_items(self) -> list[tuple[Subject, int]]:
        chosen = []
        for value in self.cleaned_data["items"]:
            subject_id, level = (int(part) for part in value.split(":"))
            chosen.append((self.subjects[subject_id], level))
        return chosen


class SubscriptionForm(forms.Form):
    is_active = forms.BooleanField(required=False, label="Email me the headline report weekly")
    weekday = forms.TypedChoiceField(
        coerce=int,
        choices=[
            (1, "Monday"),
            (2, "Tuesday"),
            (3, "Wednesday"),
            (4, "Thursday"),
            (5, "Friday"),
            (6, "Saturday"),
            (7, "Sunday"),
        ],
        label="On",
    )
