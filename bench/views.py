"""The floor the API is measured against: the same middleware stack, no database, no DRF."""

from django.http import HttpRequest, JsonResponse


def bare(request: HttpRequest) -> JsonResponse:  # noqa: ARG001 - a view's signature
    """A tiny JSON answer with no database access."""
    return JsonResponse({"ok": True})
