"""Forms for the certification lifecycle: validity periods, new offering versions and
revocation. They parse input; the services own the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from certification.models import Level


class ValidityForm(forms.Form):
    """Days of validity per level; empty means the certification never expires."""

    level_1_days = forms.IntegerField(required=False, label="Level 1 valid for (days)")
    level_2_days = forms.IntegerField(required=False, label="Level 2 valid for (days)")
    level_3_days = forms.IntegerField(required=False, label="Level 3 valid for (days)")

    def __init__(self, *args: Any, days: dict[int, int | None], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {f"level_{level}_days": days[level] for level in days})
        super().__init__(*args, **kwargs)
        for name in self.fields:
            self.fields[name].help_text = "Empty: never expires. 365 is 12 months."

    def days_by_level(self) -> dict[int, int | None]:
        return {level: self.cleaned_data[f"level_{level}_days"] for level in Level.values}


class OfferingVersionForm(forms.Form):
    version = forms.CharField(max_length=40, label="New version", help_text="e.g. 2.0 or 2025.1")
    relevel = forms.TypedMultipleChoiceField(
        choices=Level.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Levels holders must re-earn",
    )
    grace_days = forms.IntegerField(
        label="Grace period (days)",
        initial=30,
        help_text="Their certifications expire at its end unless re-earned (never later).",
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        required=False,  # the service says why a reason is needed, on this field
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        label="Reason",
    )
