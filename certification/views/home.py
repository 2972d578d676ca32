"""The home page: one panel per role the signed-in person holds."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.selectors import managers_of, organisation_summary, subtree_rep_counts
from certification.selectors.certificates import certifications_of
from certification.selectors.exams import exams_for_rep
from certification.selectors.participation import assessment_todo
from certification.selectors.support import support_overview
from certification.selectors.tiers import tier_of


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Show each of the person's roles its own starting point."""
    user = request.user
    tests = exams_for_rep(rep=user, now=timezone.now()) if user.is_rep else []  # type: ignore[arg-type]
    context = {
        "tests_to_take": [row for row in tests if row.state != "passed"],
        "certifications": list(certifications_of(rep=user)[:6]) if user.is_rep else [],  # type: ignore[arg-type]
        "managers": managers_of(user) if user.is_rep else [],
        "led_teams": subtree_rep_counts(user) if user.is_manager else [],
        "organisation": organisation_summary() if (user.is_enablement or user.is_admin) else None,
        "todo": assessment_todo(user=user) if user.roles else None,  # type: ignore[arg-type]
        "support": support_overview(today=timezone.localdate())
        if user.is_teleprospecting_lead
        else None,
        "tier": tier_of(user) if user.is_rep else None,  # type: ignore[arg-type]
    }
    return render(request, "certification/home.html", context)
