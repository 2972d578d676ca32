"""The filters of the readiness trends page: a region or team, an offering and a period."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Team, User
from certification.models import Subject
from certification.selectors.trends import DEFAULT_DAYS, PERIODS, trend_teams

PERIOD_LABELS = {30: "Last 30 days", 90: "Last 90 days", 365: "Last 12 months"}


class TrendFilterForm(forms.Form):
    """Regions and teams are those the viewer may chart; any other is an invalid choice (the
    page answers 404 for it, as for a team that does not exist)."""

    region = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="Every region"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="Every team"
    )
    offering = forms.ModelChoiceField(
        queryset=Subject.objects.none(), required=False, empty_label="Every offering"
    )
    days = forms.TypedChoiceField(
        choices=[(days, PERIOD_LABELS.get(days, f"Last {days} days")) for days in PERIODS],
        coerce=int,
        empty_value=DEFAULT_DAYS,
        required=False,
        label="Period",
    )

    SCOPE_FIELDS = ("region", "team")

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"days": DEFAULT_DAYS})
        super().__init__(*args, **kwargs)
        teams = trend_teams(viewer).order_by("name", "pk")
        self.fields["region"].queryset = teams.filter(kind=Team.Kind.REGION)  # type: ignore[attr-defined]
        self.fields["team"].queryset = teams.filter(kind=Team.Kind.TEAM)  # type: ignore[attr-defined]
        self.fields["offering"].queryset = (  # type: ignore[attr-defined]
            Subject.objects.filter(kind=Subject.Kind.OFFERING, readiness_requirements__isnull=False)
            .distinct()
            .order_by("name")
        )

    @property
    def scope_refused(self) -> bool:
        """A region or team was asked for that the viewer may not chart (or that is not one)."""
        return self.is_bound and any(name in self.errors for name in self.SCOPE_FIELDS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        region, team = data.get("region"), data.get("team")
        if region is not None and team is not None and not team.path.startswith(region.path):
            self.add_error(None, f"{team.name} is not in {region.name}: showing {team.name}.")
        return data

    def choice(self) -> dict[str, Any]:
        """The valid choices, defaults for the rest: the team (else the region), the offering
        and the period."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        return {
            "team": data.get("team") or data.get("region"),
            "offering": data.get("offering"),
            "days": data.get("days") or DEFAULT_DAYS,
        }
