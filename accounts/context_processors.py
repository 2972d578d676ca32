"""What the navigation needs to know about the signed-in person."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts import rules


def roles(request: HttpRequest) -> dict[str, Any]:
    """Expose which navigation entries the person may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {
        "nav": {
            "people": rules.can_browse_people(user),
            "admin": user.is_staff,
            "roles": user.role_labels,
        }
    }
