"""The domain error every service raises, turned into a clear message by pages and the API."""

from __future__ import annotations

from collections.abc import Mapping


class ApplicationError(Exception):
    """A use case refused its input. ``field_errors`` maps input names to messages."""

    status_code = 400

    def __init__(self, message: str, *, field_errors: Mapping[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors: dict[str, list[str]] = dict(field_errors or {})


class NotFoundError(ApplicationError):
    """The object does not exist, or the user may not know that it does."""

    status_code = 404
