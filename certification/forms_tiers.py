"""Forms for the tier pages: the rule, overrides, and the filters of the lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from certification.models import Subject, Tier, TierRule


class TierRuleForm(forms.Form):
    silver_level2_subjects = forms.ModelMultipleChoiceField(
        queryset=Subject.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Silver: level 2 on these offerings",
    )
    gold_revenue_threshold = forms.DecimalField(
        min_value=0, max_digits=16, decimal_places=2, label="Gold: won revenue of at least"
    )
    gold_window_days = forms.IntegerField(
        min_value=1, max_value=3660, label="over the last (days)", help_text="365 is 12 months."
    )
    gold_level3_subject = forms.ModelChoiceField(
        queryset=Subject.objects.none(),
        required=False,
        empty_label="No level 3 required",
        label="Gold: level 3 on",
    )

    def __init__(self, *args: Any, rule: TierRule, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "silver_level2_subjects": list(rule.silver_level2_subjects.all()),
                "gold_revenue_threshold": rule.gold_revenue_threshold,
                "gold_window_days": rule.gold_window_days,
                "gold_level3_subject": rule.gold_level3_subject,
            },
        )
        super().__init__(*args, **kwargs)
        offerings = Subject.objects.filter(kind=Subject.Kind.OFFERING, is_active=True)
        self.fields["silver_level2_subjects"].queryset = offerings.order_by("name")  # type: ignore[attr-defined]
        self.fields["gold_level3_subject"].queryset = Subject.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        ).order_by("kind", "name")


class TierOverrideForm(forms.Form):
    tier = forms.ChoiceField(choices=Tier.choices)
    ends_on = forms.DateField(
        label="Until (included)", widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"ends_on": timezone.localdate() + timedelta(days=30)})
        super().__init__(*args, **kwargs)


class TierFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Rep name or email")
    tier = forms.ChoiceField(choices=[("", "Any tier"), *Tier.choices], required=False)
