"""Forms for the participants' pages of levels 2 and 3: scoring with a guide, recording a field
observation, correcting and revoking a sign-off. They parse input; the services own the rules
(completeness, a comment below the pass level, who may observe whom)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from certification.models import Guide, InteractionKind, Subject
from certification.selectors.assessments import GuideCriterion, GuideView
from certification.services.assessments import RatingInput
from config.errors import ApplicationError

CRITERION_KEY = "criterion_"


def _textarea(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


@dataclass(frozen=True)
class RatingRow:
    """One criterion of the guide with its two inputs, for the radio-card layout."""

    criterion: GuideCriterion
    rating: forms.BoundField
    comment: forms.BoundField

    @property
    def errors(self) -> list[str]:
        return [*self.rating.errors, *self.comment.errors]


class RatingForm(forms.Form):
    """A rating (one point of the scale, its descriptor as the label) and a comment for every
    criterion of a guide, and an overall comment. Every input is optional here: drafts may be
    partial, and the service says what a submission or a sign-off still needs."""

    overall_comment = forms.CharField(
        required=False,
        widget=_textarea(3),
        label="Overall comment",
        help_text="What went well and the one thing to work on first.",
    )

    def __init__(
        self,
        *args: Any,
        guide: GuideView,
        initial_ratings: Mapping[int, tuple[int | None, str]] | None = None,
        overall_initial: str = "",
        **kwargs: Any,
    ) -> None:
        initial = dict(kwargs.pop("initial", None) or {})
        for criterion_id, (rating, comment) in (initial_ratings or {}).items():
            initial[f"rating_{criterion_id}"] = rating
            initial[f"comment_{criterion_id}"] = comment
        initial.setdefault("overall_comment", overall_initial)
        super().__init__(*args, initial=initial, **kwargs)
        self.guide = guide
        for criterion in guide.criteria:
            self.fields[f"rating_{criterion.id}"] = forms.TypedChoiceField(
                label=f"Rating for {criterion.title}",
                choices=criterion.descriptors,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
            self.fields[f"comment_{criterion.id}"] = forms.CharField(
                label=f"Comment on {criterion.title}",
                required=False,
                widget=_textarea(3),
                help_text=(
                    f"Required when you rate below {guide.pass_level}: say what the rep should "
                    "do differently."
                ),
            )
        # The overall comment comes after the criteria.
        self.fields["overall_comment"] = self.fields.pop("overall_comment")

    def rows(self) -> list[RatingRow]:
        """The criteria in the guide's order, each with its rating and comment inputs."""
        return [
            RatingRow(c, self[f"rating_{c.id}"], self[f"comment_{c.id}"])
            for c in self.guide.criteria
        ]

    def ratings(self) -> dict[int, RatingInput]:
        """Every criterion's rating (None when not rated yet) and comment."""
        data = self.cleaned_data
        return {
            c.id: RatingInput(data.get(f"rating_{c.id}"), data.get(f"comment_{c.id}") or "")
            for c in self.guide.criteria
        }

    def apply_error(self, error: ApplicationError) -> None:
        """Put a refused use case's errors on the criteria they name: on the comment when the
        criterion is rated (the comment is what is missing), else on the rating; the message
        goes above the form unless a field already says it."""
        rated = {cid for cid, given in self.ratings().items() if given.rating is not None}
        placed: list[str] = []
        for key, messages in error.field_errors.items():
            name = self._field_for(key, rated)
            if name is None:
                continue
            for message in messages:
                self.add_error(name, message)
                placed.append(message)
        if error.message not in placed:
            self.add_error(None, error.message)

    def _field_for(self, key: str, rated: set[int]) -> str | None:
        if key.startswith(CRITERION_KEY):
            raw = key.removeprefix(CRITERION_KEY)
            if not raw.isdigit() or f"rating_{raw}" not in self.fields:
                return None
            return f"comment_{raw}" if int(raw) in rated else f"rating_{raw}"
        if key == "comment" and "overall_comment" in self.fields:
            return "overall_comment"
        return key if key in self.fields else None


class CorrectionForm(RatingForm):
    """A corrected set of ratings for a sign-off, and why it is corrected."""

    reason = forms.CharField(
        widget=_textarea(3),
        label="Reason for the correction",
        help_text="Required. Kept with the new sign-off; the original stays as it was.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = self.fields.pop("reason")


class RevokeForm(forms.Form):
    """Why a sign-off is withdrawn."""

    reason = forms.CharField(
        widget=_textarea(3),
        label="Reason for revoking",
        help_text="Required. The sign-off stays on record, marked revoked with this reason.",
    )


class RepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        person = cast("User", obj)
        team = f" · {person.team.name}" if person.team else ""
        return f"{person.display_name}{team}"


class DateInput(forms.DateInput):
    """A browser date picker; its value is always ISO (yyyy-mm-dd), whatever the locale."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class ObservationForm(forms.Form):
    """What was observed: whom, on what subject, with which guide, when, and where in the CRM."""

    rep = RepChoiceField(queryset=User.objects.none(), empty_label="Choose a rep")
    subject = forms.ModelChoiceField(
        queryset=Subject.objects.filter(is_active=True), empty_label="Choose a subject"
    )
    guide = forms.ModelChoiceField(
        queryset=Guide.objects.all(),
        empty_label="Choose a guide",
        label="Assessment guide",
        help_text="You score with its current version.",
    )
    observed_on = forms.DateField(label="Date of the interaction", widget=DateInput())
    kind = forms.ChoiceField(choices=InteractionKind.choices, label="Kind of interaction")
    crm_reference = forms.CharField(
        max_length=100,
        label="CRM reference",
        help_text="The opportunity or meeting id in the CRM, e.g. OPP-1042.",
    )
    contact_title = forms.CharField(
        max_length=150, label="Customer contact's title", help_text="For example CFO."
    )

    def __init__(self, *args: Any, reps: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("RepChoiceField", self.fields["rep"]).queryset = reps
        self.fields["observed_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["observed_on"].initial = timezone.localdate()

    def apply_error(self, error: ApplicationError) -> None:
        """Show a refused use case on the fields it names, the message above otherwise."""
        placed: list[str] = []
        for key, messages in error.field_errors.items():
            if key in self.fields:
                for message in messages:
                    self.add_error(key, message)
                    placed.append(message)
        if error.message not in placed:
            self.add_error(None, error.message)
