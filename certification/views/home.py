"""The home page: one panel per role the signed-in person holds."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import managers_of, organisation_summary, subtree_rep_counts


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show each of the person's roles its own starting point."""
    user = request.user
    context = {
        "managers": managers_of(user) if user.is_rep else [],
        "led_teams": subtree_rep_counts(user) if user.is_manager else [],
        "organisation": organisation_summary() if (user.is_enablement or user.is_admin) else None,
    }
    return render(request, "certification/home.html", context)
