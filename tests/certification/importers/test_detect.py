"""Format detection, decoding, limits, category paths and the weight rules parsers apply."""

from __future__ import annotations

from decimal import Decimal

import pytest

from certification.importers.base import (
    MULTIPLE,
    SINGLE,
    TRUE_FALSE,
    ImportFormatError,
    ParsedChoice,
)
from certification.importers.detect import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_QUESTIONS,
    check_choices,
    check_count,
    check_size,
    decode_text,
    detect_format,
    normalize_category,
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b'<?xml version="1.0" encoding="UTF-8"?>\n<quiz/>', "moodle-xml", id="decl"),
        pytest.param(b"<quiz>\n<question/></quiz>", "moodle-xml", id="quiz-root"),
        pytest.param(b"<quiz/>", "moodle-xml", id="empty-quiz"),
        pytest.param(b'\xef\xbb\xbf  \r\n\t<?xml version="1.0"?><quiz/>', "moodle-xml", id="bom"),
        pytest.param(b"\xef\xbb\xbf\n<quiz >", "moodle-xml", id="bom-quiz"),
        pytest.param(b"::Acme::Is Acme Cloud SaaS? {T}", "gift", id="gift"),
        pytest.param(b"\xef\xbb\xbf// comment\nQ {T}", "gift", id="gift-bom"),
        pytest.param(b"<quizzes>{T}", "gift", id="other-root"),
        pytest.param(b"[html]<p>Is Acme fast?</p>{T}", "gift", id="gift-html"),
        pytest.param(b"Q {T}\n<?xml version='1.0'?>", "gift", id="xml-later"),
        pytest.param(b"", "gift", id="empty"),
    ],
)
def test_detect_format(data, expected):
    assert detect_format(data) == expected


@pytest.mark.parametrize(
    "data",
    [b"Acme Cloud \xe2\x9c\x93 {T}", b"\xef\xbb\xbfAcme Cloud \xe2\x9c\x93 {T}"],
    ids=["plain", "bom"],
)
def test_decode_text_reads_utf8_with_or_without_bom(data):
    assert decode_text(data) == "Acme Cloud \u2713 {T}"


@pytest.mark.parametrize(
    ("data", "location"),
    [
        pytest.param(b"Acme \xff Cloud", "byte 5", id="plain"),
        pytest.param(b"\xef\xbb\xbfAcme \xff Cloud", "byte 8", id="counts-the-bom"),
        pytest.param(b"Caf\xe9 {T}", "byte 3", id="latin-1"),
        pytest.param(b"Acme \xe2\x9c", "byte 5", id="truncated"),
    ],
)
def test_decode_text_names_the_first_byte_that_is_not_utf8(data, location):
    with pytest.raises(ImportFormatError) as caught:
        decode_text(data)

    assert caught.value.location == location
    assert str(caught.value).startswith(f"{location}: the file is not valid UTF-8 (byte 0x")


def test_limits():
    assert MAX_IMPORT_BYTES == 5 * 1024 * 1024
    assert MAX_IMPORT_QUESTIONS == 2000


def test_check_size_allows_the_limit_and_refuses_one_byte_more():
    check_size(MAX_IMPORT_BYTES)

    with pytest.raises(ImportFormatError) as caught:
        check_size(MAX_IMPORT_BYTES + 1)

    assert caught.value.location == "file"
    assert "5242881 bytes" in str(caught.value)


def test_check_count_allows_the_limit_and_refuses_one_question_more():
    check_count(MAX_IMPORT_QUESTIONS)

    with pytest.raises(ImportFormatError) as caught:
        check_count(MAX_IMPORT_QUESTIONS + 1)

    assert str(caught.value) == "file: the file has more than 2000 questions; split it"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$course$/Products/Acme Cloud", "Products/Acme Cloud"),
        ("$course$/top/Products/Acme Cloud", "Products/Acme Cloud"),
        ("$system$/Products", "Products"),
        ("$cat1$/Products", "Products"),
        ("$module$/top", ""),
        ("Products/Acme Cloud", "Products/Acme Cloud"),
        (" Products / Acme Cloud /", "Products/Acme Cloud"),
        ("Products/Acme Cloud//Analytics", "Products/Acme Cloud//Analytics"),
        ("Products/top", "Products/top"),
    ],
)
def test_normalize_category(path, expected):
    assert normalize_category(path) == expected


def _choices(*weights: str) -> list[ParsedChoice]:
    return [ParsedChoice(text=f"choice {i}", weight=Decimal(w)) for i, w in enumerate(weights)]


@pytest.mark.parametrize(
    ("kind", "weights"),
    [
        (SINGLE, ("100", "0")),
        (SINGLE, ("100", "50", "-100", "0")),
        (SINGLE, ("100", "100", "0")),
        (MULTIPLE, ("50", "50", "-100")),
        (MULTIPLE, ("33.33333", "33.33333", "33.33333", "0")),
        (MULTIPLE, ("33.333", "33.333", "33.333")),
        (MULTIPLE, ("100", "0")),
        (MULTIPLE, ("50.005", "50.005")),
        (TRUE_FALSE, ("0", "100")),
    ],
)
def test_check_choices_accepts_well_formed_weights(kind, weights):
    check_choices(kind, _choices(*weights), location="line 3")


BEST = "The best choice must be worth 100% (the others 0%, partial or negative)."


@pytest.mark.parametrize(
    ("kind", "weights", "message"),
    [
        (SINGLE, ("100",), "A question needs at least two choices."),
        (SINGLE, ("50", "0"), BEST),
        (SINGLE, ("100", "-150"), "Every choice weight must be between -100% and 100%."),
        (MULTIPLE, ("50", "40", "0"), "The right choices must add up to 100%, not 90%."),
        (MULTIPLE, ("33.3", "33.3", "33.3"), "The right choices must add up to 100%, not 99.9%."),
        (MULTIPLE, ("50.006", "50.005"), "The right choices must add up to 100%, not 100.011%."),
        (MULTIPLE, ("60", "60", "-100"), "The right choices must add up to 100%, not 120%."),
        (MULTIPLE, ("0", "0"), "The right choices must add up to 100%, not 0%."),
        (TRUE_FALSE, ("0", "0"), BEST),
        (TRUE_FALSE, ("100", "0", "0"), "A true/false question has exactly two choices."),
    ],
)
def test_check_choices_refuses_malformed_weights_at_the_question(kind, weights, message):
    with pytest.raises(ImportFormatError) as caught:
        check_choices(kind, _choices(*weights), location="line 3")

    assert str(caught.value) == f"line 3: {message}"
    assert caught.value.location == "line 3"
