"""The domain error every service raises, turned into a clear message by pages and the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    """A use case refused its input. ``field_errors`` maps input names to messages."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field_errors: Mapping[str, list[str]] | None = None,
        code: str | None = None,
        retry_at: datetime | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field_errors: dict[str, list[str]] = dict(field_errors or {})
        self.code = code or self.default_code
        self.retry_at = retry_at


def from_validation_error(exc: ValidationError) -> ApplicationError:
    """Turn a model's ValidationError into an ApplicationError with the same field messages."""
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    first = next(iter(fields.values()))[0]
    return ApplicationError(first, field_errors=fields)


class NotFoundError(ApplicationError):
    """The object does not exist, or the user may not know that it does."""

    status_code = 404
    default_code = "not_found"


class ConflictError(ApplicationError):
    """The request is valid but the current state refuses it (attempts used up, time is up)."""

    status_code = 409
    default_code = "conflict"
