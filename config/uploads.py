"""Uploads stay in memory: never a temporary file, never the client's file name on disk."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import MemoryFileUploadHandler


class MemoryOnlyUploadHandler(MemoryFileUploadHandler):
    """Keep every uploaded file in memory, refusing a request body over ``UPLOAD_MAX_BYTES``
    before reading it (Django answers 400). The imports then check size, rows and content
    themselves; a refused file leaves nothing behind because nothing was written.

    Django's default chain writes files over 2.5 MB to a temporary file (under a random
    name, deleted after the request); this handler replaces that chain for every request.
    Pages that upload (question and deal imports) install their own in-memory handlers with
    their own limits and messages.
    """

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # noqa: N803 - Django's name
        content_length: int,
        boundary: bytes,
        encoding: str | None = None,
    ) -> None:
        if content_length > settings.UPLOAD_MAX_BYTES:
            raise RequestDataTooBig(
                f"The upload is larger than the {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} "
                "MB limit."
            )
        self.activated = True
