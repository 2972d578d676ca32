"""Tell GIFT from Moodle XML, decode text, and the checks every parser applies to its output."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from certification.importers.base import (
    ImportFormatError,
    ParsedChoice,
    choice_rules_error,
)

GIFT = "gift"
MOODLE_XML = "moodle-xml"

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_QUESTIONS = 2000

MIN_WEIGHT = Decimal(-100)
MAX_WEIGHT = Decimal(100)
FULL_MARK = Decimal(100)

_UTF8_BOM = b"\xef\xbb\xbf"
_QUIZ_ROOT = re.compile(rb"<quiz[\s/>]")


def detect_format(data: bytes) -> str:
    """Return "moodle-xml" if the file opens with an XML declaration or <quiz>, else "gift"."""
    head = data.removeprefix(_UTF8_BOM).lstrip()
    if head.startswith(b"<?xml") or _QUIZ_ROOT.match(head):
        return MOODLE_XML
    return GIFT


def decode_text(data: bytes) -> str:
    """Decode UTF-8 (with or without a byte-order mark); name the first byte that is not UTF-8."""
    offset = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    try:
        return data[offset:].decode("utf-8")
    except UnicodeDecodeError as error:
        position = offset + error.start
        raise ImportFormatError(
            f"the file is not valid UTF-8 (byte 0x{data[position]:02x}); save it as UTF-8",
            location=f"byte {position}",
        ) from None


def check_size(size: int) -> None:
    """Refuse a file larger than MAX_IMPORT_BYTES."""
    if size > MAX_IMPORT_BYTES:
        raise ImportFormatError(
            f"the file is {size} bytes; the limit is {MAX_IMPORT_BYTES} bytes (5 MB)",
            location="file",
        )


def check_count(count: int) -> None:
    """Refuse a file with more than MAX_IMPORT_QUESTIONS questions (supported or not)."""
    if count > MAX_IMPORT_QUESTIONS:
        raise ImportFormatError(
            f"the file has more than {MAX_IMPORT_QUESTIONS} questions; split it",
            location="file",
        )


def parse_weight(text: str) -> Decimal | None:
    """Return the percentage written in ``text``, or None if it is not a plain decimal number."""
    if not re.fullmatch(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", text.strip()):
        return None
    return Decimal(text.strip())


def weight_in_range(weight: Decimal) -> bool:
    return MIN_WEIGHT <= weight <= MAX_WEIGHT


def check_choices(kind: str, choices: Sequence[ParsedChoice], *, location: str) -> None:
    """Refuse choices that break the rules authored questions follow too."""
    error = choice_rules_error(kind, [choice.weight for choice in choices])
    if error is not None:
        raise ImportFormatError(error, location=location)


_CONTEXT_TOKEN = re.compile(r"\$[a-z0-9_]+\$", re.IGNORECASE)
_SLASH_IN_NAME = "\x00"


def normalize_category(path: str) -> str:
    """Turn Moodle's "$course$/top/Products/Acme Cloud" into "Products/Acme Cloud".

    Drop the leading context token ($course$, $system$, $cat1$...) and Moodle's implicit "top"
    category, trim each segment and drop empty ones; "//" (a slash inside a name) is kept.
    """
    segments = [
        segment.replace(_SLASH_IN_NAME, "/").strip()
        for segment in path.replace("//", _SLASH_IN_NAME).split("/")
    ]
    segments = [segment for segment in segments if segment]
    if segments and _CONTEXT_TOKEN.fullmatch(segments[0]):
        segments = segments[1:]
    if segments and segments[0] == "top":
        segments = segments[1:]
    return "/".join(segment.replace("/", "//") for segment in segments)
