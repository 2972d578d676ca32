"""Show every page in the signed-in person's own time zone; end idle and old sessions."""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.module_loading import import_string


class UserTimeZoneMiddleware:
    """Activate the person's time zone for the request (dates are stored in UTC).

    Forms read datetimes in it and templates show them in it. API responses carry ISO 8601
    times with their offset, so they are unambiguous whatever the zone.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        name = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        try:
            zone = zoneinfo.ZoneInfo(name) if name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)


SESSION_STARTED = "_session_started"
SESSION_SEEN = "_session_seen"
# Activity is written to the session at most this often (each write is a session save).
SEEN_RESOLUTION = 60


def _session_hold_until(user: object) -> datetime | None:
    """Until when the person must stay signed in (a test in progress): SESSION_HOLD_CALLABLE,
    named in settings because accounts sits below the apps that know what to hold for."""
    dotted = getattr(settings, "SESSION_HOLD_CALLABLE", "")
    return import_string(dotted)(user) if dotted else None


@receiver(user_logged_in)
def _start_session_clock(sender: object, request: HttpRequest | None, **kwargs: object) -> None:  # noqa: ARG001
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SESSION_STARTED] = now
        request.session[SESSION_SEEN] = now


class SessionTimeoutMiddleware:
    """Sign people out after ``SESSION_IDLE_TIMEOUT`` without a request and
    ``SESSION_ABSOLUTE_TIMEOUT`` after signing in (OWASP ASVS 3.3), except while they are
    taking a timed test: until its deadline (and grace) nothing signs them out, and every
    autosave counts as activity. API requests authenticated by token carry no session and are
    not affected."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            self._check(request, user)
        return self.get_response(request)

    def _check(self, request: HttpRequest, user: object) -> None:
        session = request.session
        now = int(time.time())
        started = int(session.get(SESSION_STARTED, now))
        seen = int(session.get(SESSION_SEEN, now))
        idle = now - seen > settings.SESSION_IDLE_TIMEOUT.total_seconds()
        too_old = now - started > settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
        if idle or too_old:
            hold = _session_hold_until(user)
            if hold is None or hold.timestamp() <= now:
                logout(request)
                reason = (
                    "You were signed out after a while without activity."
                    if idle and not too_old
                    else "Your session reached its time limit: sign in again."
                )
                messages.info(request, reason)
                return
        if SESSION_STARTED not in session:
            session[SESSION_STARTED] = now
        if now - seen >= SEEN_RESOLUTION or SESSION_SEEN not in session:
            session[SESSION_SEEN] = now
