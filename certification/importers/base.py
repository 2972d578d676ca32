"""What every question parser returns, and how it reports a malformed file."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from config.errors import ApplicationError

SINGLE = "single"
MULTIPLE = "multiple"
TRUE_FALSE = "true_false"
KINDS = (SINGLE, MULTIPLE, TRUE_FALSE)


MULTIPLE_TOLERANCE = Decimal("0.01")  # 3 x 33.33333 is 100, near enough


def choice_rules_error(kind: str, weights: list[Decimal]) -> str | None:
    """Why these choice weights do not make a valid question of this kind, or None.

    One rule set for authored and imported questions alike.
    """
    if len(weights) < 2:
        return "A question needs at least two choices."
    if any(w < -100 or w > 100 for w in weights):
        return "Every choice weight must be between -100% and 100%."
    if kind == TRUE_FALSE and len(weights) != 2:
        return "A true/false question has exactly two choices."
    if kind in {SINGLE, TRUE_FALSE} and max(weights) != 100:
        return "The best choice must be worth 100% (the others 0%, partial or negative)."
    if kind == MULTIPLE:
        positive = sum((w for w in weights if w > 0), Decimal(0))
        if abs(positive - 100) > MULTIPLE_TOLERANCE:
            return f"The right choices must add up to 100%, not {positive.normalize():f}%."
    return None


@dataclass(frozen=True)
class ParsedChoice:
    """One answer option. ``weight`` is the share of the question's mark, -100 to 100."""

    text: str  # sanitised HTML
    weight: Decimal
    feedback: str = ""  # sanitised HTML


@dataclass(frozen=True)
class ParsedQuestion:
    """A supported question, ready to be stored."""

    kind: str  # one of KINDS
    title: str  # plain text, at most 255 characters; derived from the text when absent
    text: str  # sanitised HTML
    choices: tuple[ParsedChoice, ...]
    category: str = ""  # "Products/Acme Cloud"; Moodle's "$course$/" or "$system$/" stripped
    general_feedback: str = ""  # sanitised HTML
    location: str = ""  # where it came from: "line 12" (GIFT) or "question 3" (XML)


@dataclass(frozen=True)
class SkippedQuestion:
    """A question of a type RepReady does not support: reported, never silently dropped."""

    title: str
    location: str
    reason: str  # e.g. "essay questions are not supported"


@dataclass
class ParseResult:
    questions: list[ParsedQuestion] = field(default_factory=list)
    skipped: list[SkippedQuestion] = field(default_factory=list)


class ImportFormatError(ApplicationError):
    """The file is malformed; ``location`` names the line (GIFT) or element (XML)."""

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
