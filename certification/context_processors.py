"""Which navigation section the current page belongs to."""

from __future__ import annotations

from django.http import HttpRequest

SECTIONS = (
    ("manage_exam", "manage_tests"),
    ("manage_attempt", "manage_tests"),
    ("manage_bank", "manage_banks"),
    ("manage_question", "manage_banks"),
    ("manage_subject", "manage_subjects"),
    ("my_tests", "my_tests"),
    ("exam_start", "my_tests"),
    ("attempt", "my_tests"),
    ("my_certifications", "my_certifications"),
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
