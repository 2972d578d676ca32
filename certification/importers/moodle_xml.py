"""Parse Moodle XML question exports.

``multichoice`` (``<single>`` true or false) and ``truefalse`` become ParsedQuestions; every other
type is reported as a SkippedQuestion naming the type. Parsing goes through defusedxml with DTDs
refused, so no entity expansion or external entity can be triggered. Embedded ``<file>`` elements
are not imported; images that point at them (``@@PLUGINFILE@@``) are removed by the sanitiser.
"""

from __future__ import annotations

from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

import defusedxml
import defusedxml.ElementTree

from certification.importers.base import (
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
    parse_weight,
    weight_in_range,
)
from certification.importers.html import (
    derive_title,
    is_blank_html,
    plain_to_html,
    sanitize_html,
)

HTML_FORMAT = "html"
# moodle_auto_format, plain_text and markdown are imported as plain text (markup not interpreted).
TEXT_FORMATS = ("html", "moodle_auto_format", "plain_text", "markdown")

_UNSUPPORTED = {
    "essay": "essay",
    "numerical": "numerical",
    "matching": "matching",
    "shortanswer": "short-answer (shortanswer)",
    "multianswer": "cloze (multianswer)",
    "description": "description",
    "ddwtos": "drag-and-drop into text (ddwtos)",
    "gapselect": "select missing words (gapselect)",
    "calculated": "calculated",
    "calculatedsimple": "simple calculated (calculatedsimple)",
    "calculatedmulti": "calculated multichoice (calculatedmulti)",
    "randomsamatch": "random short-answer matching (randomsamatch)",
    "ddimageortext": "drag-and-drop onto image (ddimageortext)",
    "ddmarker": "drag-and-drop markers (ddmarker)",
    "random": "random",
}
_SINGLE_VALUES = {"true": True, "1": True, "false": False, "0": False}
_TRUE_FALSE_TEXTS = ("true", "false")


def unsupported_reason(question_type: str) -> str:
    label = _UNSUPPORTED.get(question_type, f"'{question_type}'")
    return f"{label} questions are not supported"


def parse_moodle_xml(data: bytes) -> ParseResult:
    """Parse a Moodle XML export; raise ImportFormatError naming the element that is malformed."""
    check_size(len(data))
    root = _parse_xml(data)
    if root.tag != "quiz":
        raise ImportFormatError("expected <quiz>", location=f"element <{root.tag}>")

    result = ParseResult()
    category = ""
    for number, element in enumerate(root.findall("question"), start=1):
        location = f"question {number}"
        question_type = element.get("type")
        if not question_type:
            raise ImportFormatError("missing type attribute", location=f"{location} (<question>)")
        if question_type == "category":
            category = _category(element, location)
            continue
        if question_type in ("multichoice", "truefalse"):
            result.questions.append(_parse_question(element, question_type, category, location))
        else:
            title = derive_title(
                _name(element), _text_html(element, "questiontext"), location=location
            )
            result.skipped.append(
                SkippedQuestion(
                    title=title, location=location, reason=unsupported_reason(question_type)
                )
            )
        check_count(len(result.questions) + len(result.skipped))
    return result


def _parse_xml(data: bytes) -> Element:
    try:
        root: Element = defusedxml.ElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except ParseError as error:
        line, column = error.position
        reason = str(error).split(":", 1)[0]
        raise ImportFormatError(
            f"the file is not well-formed XML ({reason})",
            location=f"line {line}, column {column + 1}",
        ) from None
    except defusedxml.DTDForbidden:
        raise ImportFormatError(
            "the file declares a DTD (<!DOCTYPE>), which is refused: "
            "it could expand entities or load external files",
            location="file",
        ) from None
    except defusedxml.EntitiesForbidden:
        raise ImportFormatError(
            "the file declares entities, which are refused", location="file"
        ) from None
    except defusedxml.DefusedXmlException as error:
        raise ImportFormatError(
            f"the file uses an XML feature that is refused ({type(error).__name__})",
            location="file",
        ) from None
    return root


def _category(element: Element, location: str) -> str:
    path = (element.findtext("category/text") or "").strip()
    if not path:
        raise ImportFormatError("empty category path", location=f"{location} (<category>)")
    return normalize_category(path)


def _name(element: Element) -> str:
    return element.findtext("name/text") or ""


def _text_html(element: Element, tag: str, default_format: str = "moodle_auto_format") -> str:
    """Return the sanitised HTML of ``<tag format="..."><text>`` (empty if there is none)."""
    container = element.find(tag)
    if container is None:
        return ""
    return _to_html(container.findtext("text") or "", container.get("format") or default_format)


def _to_html(text: str, text_format: str) -> str:
    text = text.strip()
    return sanitize_html(text) if text_format == HTML_FORMAT else plain_to_html(text)


def _parse_question(
    element: Element, question_type: str, category: str, location: str
) -> ParsedQuestion:
    question_text = element.find("questiontext")
    if question_text is None:
        raise ImportFormatError("missing <questiontext>", location=f"{location} (<question>)")
    text_format = question_text.get("format") or "moodle_auto_format"
    text = _to_html(question_text.findtext("text") or "", text_format)
    if is_blank_html(text):
        raise ImportFormatError(
            "the question text is empty (images stored as files are not imported)",
            location=f"{location} (<questiontext>)",
        )
    title = derive_title(_name(element), text, location=location)

    if question_type == "truefalse":
        kind = TRUE_FALSE
        choices = _true_false_choices(element, text_format, location)
    else:
        kind = SINGLE if _single(element, location) else MULTIPLE
        choices = [_choice(answer, text_format, location) for answer in element.findall("answer")]
    check_choices(kind, choices, location=location)
    return ParsedQuestion(
        kind=kind,
        title=title,
        text=text,
        choices=tuple(choices),
        category=category,
        general_feedback=_text_html(element, "generalfeedback", text_format),
        location=location,
    )


def _single(element: Element, location: str) -> bool:
    value = element.findtext("single")
    if value is None:
        return True  # Moodle's default
    single = _SINGLE_VALUES.get(value.strip().lower())
    if single is None:
        raise ImportFormatError(
            f"single '{value.strip()}' is not true or false", location=f"{location} (<single>)"
        )
    return single


def _fraction(answer: Element, location: str) -> Decimal:
    written = answer.get("fraction", "0")
    weight = parse_weight(written)
    if weight is None:
        raise ImportFormatError(
            f"fraction '{written}' is not a number", location=f"{location} (<answer>)"
        )
    if not weight_in_range(weight):
        raise ImportFormatError(
            f"fraction '{written}' is outside -100..100", location=f"{location} (<answer>)"
        )
    return weight


def _choice(answer: Element, text_format: str, location: str) -> ParsedChoice:
    weight = _fraction(answer, location)
    text = _to_html(answer.findtext("text") or "", answer.get("format") or text_format)
    if is_blank_html(text):
        raise ImportFormatError(
            "the answer text is empty (images stored as files are not imported)",
            location=f"{location} (<answer>)",
        )
    return ParsedChoice(
        text=text, weight=weight, feedback=_text_html(answer, "feedback", text_format)
    )


def _true_false_choices(element: Element, text_format: str, location: str) -> list[ParsedChoice]:
    """Build True then False from the two ``<answer>`` elements ("true"/"false", else by order)."""
    answers = element.findall("answer")
    if len(answers) != 2:
        raise ImportFormatError(
            f"a true/false question needs exactly two answers, found {len(answers)}",
            location=f"{location} (<answer>)",
        )
    by_value: dict[str, Element] = {}
    for position, answer in enumerate(answers):
        value = (answer.findtext("text") or "").strip().lower()
        if value not in _TRUE_FALSE_TEXTS:
            value = _TRUE_FALSE_TEXTS[position]  # Moodle reads old files as true, then false
        if value in by_value:
            raise ImportFormatError(f"two answers are '{value}'", location=f"{location} (<answer>)")
        by_value[value] = answer
    right = [value for value in _TRUE_FALSE_TEXTS if _fraction(by_value[value], location) == 100]
    if len(right) != 1:
        raise ImportFormatError(
            f"exactly one of 'true' and 'false' must have fraction 100, found {len(right)}",
            location=f"{location} (<answer>)",
        )
    return [
        ParsedChoice(
            text=value.capitalize(),
            weight=FULL_MARK if value in right else Decimal(0),
            feedback=_text_html(by_value[value], "feedback", text_format),
        )
        for value in _TRUE_FALSE_TEXTS
    ]
