"""``GET /healthz``: can this process serve, and can it reach its broker?"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"


def database_state() -> str:
    """Return ``ok`` when a trivial query succeeds, else the error's class name."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means the database cannot serve
        logger.warning("health: database unavailable: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def broker_state() -> str:
    """Return ``eager`` without a broker, ``ok`` when Redis answers a PING, else the error."""
    if not settings.REDIS_URL:
        return "eager"
    import redis  # noqa: PLC0415 - only needed when a broker is configured

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except redis.RedisError as exc:
        logger.warning("health: broker unavailable: %s", exc)
        return f"error: {type(exc).__name__}"
    return "ok"


class HealthCheckMiddleware:
    """Answer /healthz before host validation, HTTPS redirects, sessions or authentication."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != HEALTH_PATH:
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            return JsonResponse({"detail": "Method not allowed."}, status=405)
        database = database_state()
        body = {
            "status": "ok" if database == "ok" else "unavailable",
            "database": database,
            "broker": broker_state(),
        }
        response = JsonResponse(body, status=200 if database == "ok" else 503)
        response["Cache-Control"] = "no-store"
        # Answered before SecurityMiddleware: the headers that still mean something on JSON.
        response["X-Content-Type-Options"] = "nosniff"
        response["Referrer-Policy"] = "same-origin"
        return response
