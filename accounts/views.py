"""Account pages: sign-in, profile, API tokens and the people directory."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import rules
from accounts.decorators import rule_required
from accounts.forms import (
    ApiTokenForm,
    EmailAuthenticationForm,
    InviteAwarePasswordResetForm,
    PeopleFilterForm,
    ProfileForm,
)
from accounts.selectors import api_tokens_of, people_search, teams_visible_to
from accounts.services import (
    api_token_create,
    api_token_revoke,
    user_password_changed,
    user_update_profile,
)
from config.errors import ApplicationError

PEOPLE_PAGE_SIZE = 50


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def admin_login(request: HttpRequest) -> HttpResponse:
    """Send the admin site's sign-in to ours; a signed-in non-admin gets 404, not a loop."""
    if request.user.is_authenticated:
        raise Http404
    return redirect_to_login(request.GET.get("next", "/admin/"))


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user_password_changed(user=form.user, actor=form.user, reason="changed")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = InviteAwarePasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user_password_changed(user=form.user, actor=form.user, reason="reset")
        return response


def _apply_errors(form: ProfileForm | ApiTokenForm, error: ApplicationError) -> None:
    if not error.field_errors:
        form.add_error(None, error.message)
    for field, errors in error.field_errors.items():
        for message in errors:
            form.add_error(field if field in form.fields else None, message)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """Show and update my name, time zone and working hours."""
    form = ProfileForm.for_user(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_update_profile(user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    return render(request, "accounts/profile_form.html", {"form": form})


@login_required
@never_cache
def token_list(request: HttpRequest) -> HttpResponse:
    """List my API tokens and create a new one.

    A new secret appears once, in the response to the POST that made it (never cached, never
    stored anywhere but as its digest).
    """
    form = ApiTokenForm(data=request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_token = api_token_create(user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            form = ApiTokenForm()
    return render(
        request,
        "accounts/apitoken_list.html",
        {"form": form, "tokens": api_tokens_of(request.user), "new_token": new_token},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of my tokens (404 for anyone else's)."""
    token = get_object_or_404(api_tokens_of(request.user), pk=token_id)
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” is revoked; it no longer works.")
    return redirect("accounts:token_list")


@rule_required(rules.can_browse_people)
def people_list(request: HttpRequest) -> HttpResponse:
    """List the people I may see, filtered by team subtree, role and text."""
    teams = teams_visible_to(request.user)
    form = PeopleFilterForm(request.GET or None, teams=teams)
    filters = form.cleaned_data if form.is_valid() else {}
    people = people_search(
        viewer=request.user,
        team_id=filters["team"].pk if filters.get("team") else None,
        role=filters.get("role") or None,
        text=filters.get("q", ""),
    )
    page = Paginator(people, PEOPLE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/user_list.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": any(filters.values())},
    )
