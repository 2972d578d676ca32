"""Turn domain errors into API responses with the same message a page would show."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render ApplicationError as ``{"detail": ..., "errors": {...}}`` with its status."""
    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.field_errors:
            body["errors"] = exc.field_errors
        if exc.retry_at is not None:
            body["retry_at"] = exc.retry_at.isoformat()
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)
