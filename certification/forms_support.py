"""Forms for teleprospecting support: the lead's periods and usage, a rep's request. They
parse input; ``services.support`` owns the rules (overlaps, eligibility, half hours)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from accounts.models import User
from certification.models import SupportPeriod
from config.errors import ApplicationError

WEIGHT_FIELDS = (("gold", "weight_gold"), ("silver", "weight_silver"), ("bronze", "weight_bronze"))


class DateInput(forms.DateInput):
    """A browser date picker; its value is always ISO (yyyy-mm-dd), whatever the locale."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class ErrorPlacingForm(forms.Form):
    def apply_error(self, error: ApplicationError) -> None:
        """Show a refused use case on the fields it names, the message above otherwise."""
        placed: list[str] = []
        for key, messages in error.field_errors.items():
            name = "weight_gold" if key == "tier_weights" else key
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)
                    placed.append(message)
        if error.message not in placed:
            self.add_error(None, error.message)


class PeriodForm(ErrorPlacingForm):
    """A period's dates, capacity and the weight of each eligible tier (blank: not eligible)."""

    starts_on = forms.DateField(label="Starts on", widget=DateInput())
    ends_on = forms.DateField(label="Ends on", widget=DateInput(), help_text="Included.")
    capacity_hours = forms.DecimalField(
        label="Capacity (hours)",
        min_value=0,
        max_digits=8,
        decimal_places=2,
        help_text="Teleprospecting hours available in the period, e.g. 60 for a week.",
    )
    weight_gold = forms.IntegerField(
        label="Gold weight", required=False, min_value=1, max_value=100, initial=2
    )
    weight_silver = forms.IntegerField(
        label="Silver weight", required=False, min_value=1, max_value=100, initial=1
    )
    weight_bronze = forms.IntegerField(
        label="Bronze weight",
        required=False,
        min_value=1,
        max_value=100,
        help_text=(
            "Leave a tier blank to make it ineligible. The heavier tier is served first; "
            "tiers of equal weight share."
        ),
    )

    @classmethod
    def for_period(cls, period: SupportPeriod, data: Any = None) -> PeriodForm:
        weights = period.tier_weights
        initial = {
            "starts_on": period.starts_on,
            "ends_on": period.ends_on,
            "capacity_hours": period.capacity_hours,
            **{field: weights.get(tier) for tier, field in WEIGHT_FIELDS},
        }
        return cls(data=data, initial=initial)

    def tier_weights(self) -> dict[str, int]:
        data = self.cleaned_data
        return {tier: data[field] for tier, field in WEIGHT_FIELDS if data.get(field)}


class SupportRequestForm(ErrorPlacingForm):
    """A rep asks for support in one of the open periods."""

    period = forms.ModelChoiceField(queryset=SupportPeriod.objects.none(), empty_label=None)
    hours_requested = forms.DecimalField(
        label="Hours of support",
        min_value=Decimal("0.5"),
        max_value=Decimal(40),
        max_digits=6,
        decimal_places=1,
        step_size=Decimal("0.5"),
        help_text="In half hours, at most 40.",
    )
    purpose = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="What is it for?",
        help_text="An account list, a campaign, an event: what the teleprospectors will call on.",
    )

    def __init__(self, *args: Any, periods: list[SupportPeriod], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField", self.fields["period"])
        field.queryset = SupportPeriod.objects.filter(pk__in=[p.pk for p in periods]).order_by(
            "starts_on"
        )
        field.label_from_instance = lambda p: (  # type: ignore[method-assign]
            f"{p.starts_on:%-d %b} to {p.ends_on:%-d %b %Y}"
        )


class UsageForm(ErrorPlacingForm):
    """The lead records hours used and outcomes. The hidden key is made when the form is
    shown, so sending the same form twice records it once."""

    rep = forms.ModelChoiceField(queryset=User.objects.none(), empty_label="Choose a rep")
    hours = forms.DecimalField(label="Hours used", min_value=0, max_digits=6, decimal_places=2)
    meetings_set = forms.IntegerField(label="Meetings set", min_value=0, initial=0)
    pipeline_amount = forms.DecimalField(
        label="Pipeline created", min_value=0, max_digits=16, decimal_places=2, initial=0
    )
    idempotency_key = forms.CharField(max_length=100, widget=forms.HiddenInput)

    def __init__(self, *args: Any, reps: QuerySet[User], currency: str, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", f"page-{uuid.uuid4()}")
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField", self.fields["rep"])
        field.queryset = reps
        field.label_from_instance = lambda person: person.display_name  # type: ignore[method-assign]
        self.fields["pipeline_amount"].label = f"Pipeline created ({currency})"
