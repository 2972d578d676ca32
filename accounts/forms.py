"""Forms for sign-in, profile, API tokens and the people filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from accounts.models import ISO_WEEKDAYS, ApiToken, Role, Team, User, time_zone_names


class EmailAuthenticationForm(AuthenticationForm):
    """Sign in with an email address."""

    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account.",
    }


class InviteAwarePasswordResetForm(PasswordResetForm):
    """Also send the link to active people who have no password yet (created by an admin).

    Django skips them by default; here a reset link is how a new person sets their first
    password, as RepReady has no single sign-on.
    """

    def get_users(self, email: str) -> Any:
        return User.objects.filter(email__iexact=email.strip(), is_active=True)


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=150, label="Name")
    time_zone = forms.ChoiceField(label="Time zone")
    work_start = forms.TimeField(
        label="Working day starts", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    work_end = forms.TimeField(
        label="Working day ends", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    work_days = forms.TypedMultipleChoiceField(
        label="Working days",
        choices=ISO_WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in time_zone_names()]

    @classmethod
    def for_user(cls, user: User, data: Any = None) -> ProfileForm:
        return cls(
            data=data,
            initial={
                "display_name": user.display_name,
                "time_zone": user.time_zone,
                "work_start": user.work_start,
                "work_end": user.work_end,
                "work_days": user.work_days,
            },
        )


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. 'CRM sync'.")
    scopes = forms.MultipleChoiceField(
        choices=ApiToken.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[ApiToken.Scope.READ],
        help_text=(
            "Read lets it look; write lets it change things in your name. Teleprospecting "
            "support is for a dialer or CRM: support entitlements and usage only."
        ),
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=settings.API_TOKEN_MAX_DAYS,
        initial=settings.API_TOKEN_DEFAULT_DAYS,
    )


class PeopleFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Name or email")
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="All my teams"
    )
    role = forms.ChoiceField(choices=[("", "Any role"), *Role.choices], required=False)

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
