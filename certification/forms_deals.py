"""Forms for enablement's deal pages. They parse input; the deal services own the rules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.conf import settings

from certification.importers.deals import CANONICAL, LABELS, OPTIONAL, header_key
from certification.models import CurrencyRate, Deal, DealColumnMapping

FIELD_HELP = {
    "opportunity_id": "The CRM's own id for the deal: deals are matched on it.",
    "rep_email": "The owning rep's email address in RepReady.",
    "amount": "Required on won deals.",
    "currency": "A 3-letter code; without this column, every deal is in the base currency.",
    "close_date": "YYYY-MM-DD.",
    "stage": "Won, lost or open (Closed Won and Closed Lost are accepted).",
}


class DealFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Rep or opportunity")
    stage = forms.ChoiceField(choices=[("", "Any stage"), *Deal.Stage.choices], required=False)


class DealUploadForm(forms.Form):
    file = forms.FileField(
        label="Deals file",
        help_text=(
            "A CSV export in UTF-8. Header: opportunity_id, rep_email, amount, currency, "
            "close_date, stage, in any order and case; other columns are ignored."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    mapping = forms.ModelChoiceField(
        queryset=DealColumnMapping.objects.none(),
        required=False,
        label="Column mapping",
        empty_label="None: the file has the canonical header",
        help_text="A mapping saved from an earlier import of a file with other column names.",
    )

    def __init__(self, *args: Any, mappings: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField", self.fields["mapping"]).queryset = mappings


class DealMappingForm(forms.Form):
    """A select per field listing the file's columns, and a name to save the choice under."""

    save_as = forms.CharField(
        max_length=100,
        required=False,
        label="Save this mapping as",
        help_text="Name it (for example the CRM's report) to pick it next time; leave empty "
        "to use it for this file only.",
    )

    def __init__(
        self,
        *args: Any,
        header: Sequence[str],
        mapping: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        columns = [name for name in dict.fromkeys(header) if name]
        by_key = {header_key(name): name for name in reversed(columns)}
        choices = [("", "— not in this file —"), *((name, name) for name in columns)]
        for name in CANONICAL:
            wanted = header_key((mapping or {}).get(name) or name)
            self.fields[name] = forms.ChoiceField(
                choices=choices,
                required=name not in OPTIONAL,
                label=LABELS[name],
                help_text=FIELD_HELP[name],
                initial=by_key.get(wanted, ""),
            )
        self.order_fields([*CANONICAL, "save_as"])

    def columns(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in CANONICAL if self.cleaned_data[name]}


class CurrencyRateForm(forms.Form):
    currency = forms.CharField(
        max_length=3,
        min_length=3,
        help_text="ISO 4217, for example EUR.",
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": "4"}),
    )
    rate_to_base = forms.DecimalField(
        max_digits=18,
        decimal_places=8,
        min_value=Decimal("0.00000001"),
        label="Rate",
        widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
    )

    def __init__(self, *args: Any, editing: CurrencyRate | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rate = self.fields["rate_to_base"]
        rate.help_text = f"How many {settings.BASE_CURRENCY} one unit of the currency is worth."
        if editing is not None:
            del self.fields["currency"]
