"""Which navigation section the current page belongs to, and which level-2/3 links to show."""

from __future__ import annotations

from django.http import HttpRequest

from certification.selectors.notifications import unread_count
from certification.selectors.participation import takes_part_in_assessments, takes_part_in_field

SECTIONS = (
    ("my_tier", "my_tier"),
    ("my_readiness", "my_readiness"),
    ("team_readiness", "team_readiness"),
    ("report_", "reports"),
    ("team_tiers", "tiers"),
    ("manage_tier", "tiers"),
    ("manage_rep_tier", "tiers"),
    ("manage_guide", "manage_assessments"),
    ("manage_scenario", "manage_assessments"),
    ("manage_session", "manage_assessments"),
    ("manage_delegation", "manage_assessments"),
    ("manage_calibration", "manage_assessments"),
    ("assessments", "assessments"),
    ("session", "assessments"),
    ("field", "field"),
    ("observation", "field"),
    ("signoff", "field"),
    ("manage_exam", "manage_tests"),
    ("manage_attempt", "manage_tests"),
    ("manage_bank", "manage_banks"),
    ("manage_question", "manage_banks"),
    ("manage_subject", "manage_subjects"),
    ("my_tests", "my_tests"),
    ("exam_start", "my_tests"),
    ("attempt", "my_tests"),
    ("my_certifications", "my_certifications"),
    ("support", "support"),
    ("tp_", "teleprospecting"),
    ("notification", "notifications"),
    ("home", "home"),
)


def nav_section(request: HttpRequest) -> dict[str, str]:
    """Name the section whose navigation link is marked current."""
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match and match.app_name == "certification" else ""
    for prefix, section in SECTIONS:
        if name and name.startswith(prefix):
            return {"nav_section": section}
    return {"nav_section": ""}


def assessment_nav(request: HttpRequest) -> dict[str, object]:
    """Whether the Assessments and Field links apply. Reps, managers and enablement always see
    them (no query); anyone else only while they hold a seat on a panel or observe reps."""
    user = getattr(request, "user", None)
    return {
        "nav_assessments": lambda: takes_part_in_assessments(user),
        "nav_field": lambda: takes_part_in_field(user),
    }


def notification_nav(request: HttpRequest) -> dict[str, object]:
    """The unread count in the navigation, counted only if a page renders it (one query)."""
    user = getattr(request, "user", None)
    return {"nav_unread": lambda: unread_count(user=user)}
