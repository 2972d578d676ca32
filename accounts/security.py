"""Sign-in protection hooks: who is the client, which account is targeted, how to say no."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accounts.models import UserManager


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says.

    With N proxies in front, the Nth address from the right is the one the outermost proxy
    saw; anything left of it was written by the client and is ignored. With none, the socket's
    address. DRF's throttling uses the same rule (REST_FRAMEWORK["NUM_PROXIES"]).
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if hops:
            return hops[-min(count, len(hops))]
    return request.META.get("REMOTE_ADDR", "")


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The account a sign-in targets, normalised as sign-in matches it (case-insensitive)."""
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return UserManager.normalize_email(str(raw))


def lockout_response(
    request: HttpRequest,
    _original_response: HttpResponse | None = None,
    _credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """429 for a locked-out sign-in: JSON for the API, the lockout page otherwise."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"Too many failed sign-ins. Try again in {minutes} minutes."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    return render(request, "accounts/lockout.html", {"minutes": minutes}, status=429)
