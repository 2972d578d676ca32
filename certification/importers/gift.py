"""Parse Moodle's GIFT format.

Single choice, multiple response and true/false become ParsedQuestions; essay, numerical, matching,
short-answer and missing-word questions are reported as SkippedQuestions. A malformed question
fails the whole file with the line that broke it. Follows Moodle's ``qformat_gift`` where
QUESTION_FORMATS.md is silent, and is stricter where Moodle would guess:
- an unknown escape (``\\x``) is an error; ``\\\\`` is a backslash;
- a second answer block, or text before the first answer marker, is an error;
- a block with no ``=`` and no ``~`` that is not true/false is an error (Moodle: short answer);
- ``=%N%`` with N other than 100 is an error (Moodle keeps "%N%" as answer text);
- a missing-word question is skipped whatever its answers, but its answers are still checked.
Also: a line starting with ``$CATEGORY:`` sets the category and ends the question before it;
T/TRUE/F/FALSE are read in any case; line breaks inside an answer block are spaces.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

from certification.importers.base import (
    KINDS,
    MULTIPLE,
    SINGLE,
    TRUE_FALSE,
    ImportFormatError,
    ParsedChoice,
    ParsedQuestion,
    ParseResult,
    SkippedQuestion,
)
from certification.importers.detect import (
    FULL_MARK,
    check_choices,
    check_count,
    check_size,
    normalize_category,
    weight_in_range,
)
from certification.importers.html import (
    derive_title,
    is_blank_html,
    plain_to_html,
    sanitize_html,
)

# Escaped characters become Unicode noncharacters (reserved for internal use) while the structure
# is parsed, so that ``\~`` is never taken for an answer marker; they are restored in the texts.
_ESCAPES = {
    "~": "\ufdd0",
    "=": "\ufdd1",
    "#": "\ufdd2",
    "{": "\ufdd3",
    "}": "\ufdd4",
    ":": "\ufdd5",
    "n": "\ufdd6",
    "\\": "\ufdd7",
}
_RESTORE = str.maketrans(
    {placeholder: ("\n" if char == "n" else char) for char, placeholder in _ESCAPES.items()}
)
_NONCHARACTERS = re.compile("[\ufdd0-\ufdef]")
_ESCAPE = re.compile(r"\\(.?)")

_HTML = "html"
_PLAIN = "plain"
# Moodle's auto-format and Markdown are imported as plain text: their markup is not interpreted.
_FORMATS = {"html": _HTML, "moodle": _PLAIN, "plain": _PLAIN, "markdown": _PLAIN}
_FORMAT_PREFIX = re.compile(r"\[([a-z]+)\]", re.IGNORECASE)
_WEIGHT_PREFIX = re.compile(r"%(-?\d+(?:\.\d*)?)%")
_LINE_BREAKS = re.compile(r"\s*\n\s*")
_CATEGORY = "$CATEGORY:"
_TRUE = ("T", "TRUE")
_FALSE = ("F", "FALSE")
_GENERAL_FEEDBACK = "####"

ESSAY_REASON = "essay questions are not supported"
NUMERICAL_REASON = "numerical questions are not supported"
MATCHING_REASON = "matching questions are not supported"
SHORT_ANSWER_REASON = "short-answer questions are not supported"
MISSING_WORD_REASON = "missing-word questions are not supported"

_UNMATCHED_CLOSING = "'}' without a matching '{' (write \\} for a literal brace)"


@dataclass(frozen=True)
class _Block:
    """A question's lines joined by newlines, escapes replaced, and where each line starts."""

    text: str
    starts: tuple[int, ...]  # offset in text of each line
    numbers: tuple[int, ...]  # its 1-based line number in the file

    @property
    def start_line(self) -> int:
        return self.numbers[0]

    def line_at(self, index: int) -> str:
        return f"line {self.numbers[bisect_right(self.starts, index) - 1]}"


def parse_gift(text: str) -> ParseResult:
    """Parse a GIFT file; raise ImportFormatError naming the line of the first malformed one."""
    check_size(len(text.encode("utf-8", "surrogatepass")))
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = _NONCHARACTERS.sub("\ufffd", text)

    result = ParseResult()
    category = ""
    pending: list[tuple[int, str]] = []

    def flush() -> None:
        if pending:
            parsed = _parse_question(_join(pending), category)
            if isinstance(parsed, ParsedQuestion):
                result.questions.append(parsed)
            else:
                result.skipped.append(parsed)
            check_count(len(result.questions) + len(result.skipped))
            pending.clear()

    for number, raw_line in enumerate(text.split("\n"), start=1):
        line = raw_line.strip()
        if not line:
            flush()
        elif line.startswith("//"):
            continue
        elif line.startswith(_CATEGORY):
            flush()
            path = line.removeprefix(_CATEGORY).strip()
            if not path:
                raise ImportFormatError(
                    "$CATEGORY: needs a category path", location=f"line {number}"
                )
            category = normalize_category(path)
        else:
            pending.append((number, line))
    flush()
    return result


def _join(lines: list[tuple[int, str]]) -> _Block:
    """Join a question's lines with newlines, replacing each escape by its placeholder."""
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for number, line in lines:
        part = _unescape(line, number)
        parts.append(part)
        starts.append(offset)
        offset += len(part) + 1
    return _Block(
        text="\n".join(parts),
        starts=tuple(starts),
        numbers=tuple(number for number, _ in lines),
    )


def _unescape(line: str, number: int) -> str:
    def placeholder(match: re.Match[str]) -> str:
        escaped = match[1]
        if escaped not in _ESCAPES:
            found = f"'\\{escaped}'" if escaped else "'\\' at the end of the line"
            raise ImportFormatError(
                f"unknown escape {found}: escape only ~ = # {{ }} : and \\ "
                "with a backslash, and write \\n for a line break",
                location=f"line {number}",
            )
        return _ESCAPES[escaped]

    return _ESCAPE.sub(placeholder, line)


def _split_format(text: str, default: str) -> tuple[str, str]:
    """Return the format a leading ``[html]``-like prefix names (else ``default``) and the rest."""
    match = _FORMAT_PREFIX.match(text)
    if match and match[1].lower() in _FORMATS:
        return _FORMATS[match[1].lower()], text[match.end() :]
    return default, text


def _to_html(raw: str, default_format: str, *, in_block: bool) -> str:
    """Turn a GIFT text (placeholders and optional format prefix) into sanitised HTML."""
    text_format, text = _split_format(raw.strip(), default_format)
    if in_block:
        # Line breaks inside an answer block only lay the block out; "\n" still breaks a line.
        text = _LINE_BREAKS.sub(" ", text)
    text = text.translate(_RESTORE).strip()
    return sanitize_html(text) if text_format == _HTML else plain_to_html(text)


def _title(block: _Block, location: str) -> tuple[str, int]:
    """Return the ``::title::`` (or "") and where the question text starts."""
    if not block.text.startswith("::"):
        return "", 0
    end = block.text.find("::", 2)
    if end == -1:
        raise ImportFormatError("the title is not closed with '::'", location=location)
    return block.text[2:end].translate(_RESTORE), end + 2


def _answer_block(block: _Block, start: int, location: str) -> tuple[int, int]:
    """Return the positions of the question's one ``{`` and ``}``; refuse any other brace."""
    text = block.text
    opening = text.find("{", start)
    closing = text.find("}", start)
    if opening == -1 and closing == -1:
        raise ImportFormatError(
            "the question has no answer block: put its answers in { }", location=location
        )
    if closing != -1 and (opening == -1 or closing < opening):
        raise ImportFormatError(_UNMATCHED_CLOSING, location=block.line_at(closing))
    if closing == -1:
        raise ImportFormatError(
            "'{' is never closed with '}' (write \\{ for a literal brace)",
            location=block.line_at(opening),
        )
    nested = text.find("{", opening + 1, closing)
    if nested != -1:
        raise ImportFormatError(
            "'{' inside an answer block (write \\{ for a literal brace)",
            location=block.line_at(nested),
        )
    extra = next((i for i in range(closing + 1, len(text)) if text[i] in "{}"), None)
    if extra is not None:
        message = (
            "a second answer block: separate questions with a blank line"
            if text[extra] == "{"
            else _UNMATCHED_CLOSING
        )
        raise ImportFormatError(message, location=block.line_at(extra))
    return opening, closing


def _kind(body: str) -> str | None:
    """Return the kind the answers make, an unsupported type's skip reason, or None if neither.

    The first rule that matches wins, in Moodle's order.
    """
    true_false = body.split("#", 1)[0].strip().upper() in _TRUE + _FALSE
    rules = (
        (not body, ESSAY_REASON),
        (body.startswith("#"), NUMERICAL_REASON),
        ("~" in body, SINGLE if "=" in body else MULTIPLE),
        ("=" in body and "->" in body, MATCHING_REASON),
        (true_false, TRUE_FALSE),
        ("=" in body, SHORT_ANSWER_REASON),
    )
    return next((result for matched, result in rules if matched), None)


def _parse_question(block: _Block, category: str) -> ParsedQuestion | SkippedQuestion:
    text = block.text
    location = f"line {block.start_line}"
    title, start = _title(block, location)
    opening, closing = _answer_block(block, start, location)

    text_format, _ = _split_format(text[start:opening].strip(), _PLAIN)
    after = text[closing + 1 :]
    missing_word = bool(after.strip())
    # Moodle shows a missing word's blank as "_____" in the question text.
    blank = "_____" + after if missing_word else ""
    question_html = _to_html(text[start:opening] + blank, _PLAIN, in_block=False)
    title = derive_title(title, question_html, location=location)

    answers = text[opening + 1 : closing]
    general_feedback = ""
    separator = answers.rfind(_GENERAL_FEEDBACK)
    if separator != -1:
        general_feedback = _to_html(
            answers[separator + len(_GENERAL_FEEDBACK) :], text_format, in_block=True
        )
        answers = answers[:separator]

    body = answers.strip()
    kind = _kind(body)
    if kind is None:
        raise ImportFormatError(
            "the answer block has no answers: start each with '=' (right) or '~' (wrong), "
            "or write T or F",
            location=block.line_at(opening),
        )
    choices: list[ParsedChoice] = []
    if kind == TRUE_FALSE:
        correct = body.split("#", 1)[0].strip().upper() in _TRUE
        choices = _true_false_choices(body, text_format, correct=correct)
    elif kind in KINDS:
        choices = _parse_choices(block, opening + 1, answers, text_format)
    if kind in KINDS:
        # Checked even when the question is skipped: a malformed question fails the file.
        check_choices(kind, choices, location=location)
    if missing_word:
        return SkippedQuestion(title=title, location=location, reason=MISSING_WORD_REASON)
    if kind not in KINDS:
        return SkippedQuestion(title=title, location=location, reason=kind)
    if is_blank_html(question_html):
        raise ImportFormatError("the question text is empty", location=location)
    return ParsedQuestion(
        kind=kind,
        title=title,
        text=question_html,
        choices=tuple(choices),
        category=category,
        general_feedback=general_feedback,
        location=location,
    )


def _parse_choices(
    block: _Block, offset: int, answers: str, text_format: str
) -> list[ParsedChoice]:
    """Split ``=right ~wrong ~%50%partial #feedback`` into choices, in file order."""
    markers = [index for index, char in enumerate(answers) if char in "~="]
    lead = answers[: markers[0]]
    if lead.strip():
        first = offset + len(lead) - len(lead.lstrip())
        raise ImportFormatError(
            "text before the first answer: start each answer with '=' (right) or '~' (wrong)",
            location=block.line_at(first),
        )
    choices = []
    for position, marker_index in enumerate(markers):
        end = markers[position + 1] if position + 1 < len(markers) else len(answers)
        marker = answers[marker_index]
        location = block.line_at(offset + marker_index)
        body = answers[marker_index + 1 : end].strip()
        weight = FULL_MARK if marker == "=" else Decimal(0)
        match = _WEIGHT_PREFIX.match(body)
        if match:
            written = Decimal(match[1])
            if marker == "=" and written != FULL_MARK:
                raise ImportFormatError(
                    f"'={match[0]}': '=' marks a right answer (100%); "
                    f"write a partial weight as '~{match[0]}'",
                    location=location,
                )
            if not weight_in_range(written):
                raise ImportFormatError(
                    f"answer weight {match[0]} is outside -100%..100%", location=location
                )
            weight = written
            body = body[match.end() :]
        answer, _, feedback = body.partition("#")
        answer_html = _to_html(answer, text_format, in_block=True)
        if is_blank_html(answer_html):
            raise ImportFormatError(f"an answer after '{marker}' is empty", location=location)
        choices.append(
            ParsedChoice(
                text=answer_html,
                weight=weight,
                feedback=_to_html(feedback, text_format, in_block=True),
            )
        )
    return choices


def _true_false_choices(body: str, text_format: str, *, correct: bool) -> list[ParsedChoice]:
    """Build True/False choices; ``{T#if wrong#if right}`` puts each feedback on its choice."""
    parts = [*body.split("#", 2), "", ""]
    wrong = _to_html(parts[1], text_format, in_block=True)
    right = _to_html(parts[2], text_format, in_block=True)
    return [
        ParsedChoice(
            text="True",
            weight=FULL_MARK if correct else Decimal(0),
            feedback=right if correct else wrong,
        ),
        ParsedChoice(
            text="False",
            weight=Decimal(0) if correct else FULL_MARK,
            feedback=wrong if correct else right,
        ),
    ]
