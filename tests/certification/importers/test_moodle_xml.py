"""Moodle XML: supported types become questions, others are reported, bad files name the element."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from certification.importers.base import (
    MULTIPLE,
    SINGLE,
    TRUE_FALSE,
    ImportFormatError,
    ParsedChoice,
    ParsedQuestion,
    SkippedQuestion,
)
from certification.importers.detect import MAX_IMPORT_BYTES, MAX_IMPORT_QUESTIONS
from certification.importers.moodle_xml import parse_moodle_xml

FILES = Path(__file__).parent / "files"
SAMPLE = FILES / "acme_products.xml"


def _choice(text: str, weight: str, feedback: str = "") -> ParsedChoice:
    return ParsedChoice(text=text, weight=Decimal(weight), feedback=feedback)


def _quiz(*questions: str) -> bytes:
    return ("<quiz>\n" + "\n".join(questions) + "\n</quiz>\n").encode()


def _multichoice(
    *answers: str, single: str | None = "true", text: str = "Which region hosts EU tenants?"
) -> str:
    single_element = f"<single>{single}</single>" if single is not None else ""
    return (
        '<question type="multichoice"><name><text>Regions</text></name>'
        f'<questiontext format="html"><text>{text}</text></questiontext>'
        f"{single_element}{''.join(answers)}</question>"
    )


def _answer(fraction: str | None, text: str, feedback: str = "", text_format: str = "") -> str:
    fraction_attribute = f' fraction="{fraction}"' if fraction is not None else ""
    format_attribute = f' format="{text_format}"' if text_format else ""
    feedback_element = f"<feedback><text>{feedback}</text></feedback>" if feedback else ""
    return (
        f"<answer{fraction_attribute}{format_attribute}><text>{text}</text>"
        f"{feedback_element}</answer>"
    )


def _true_false(*answers: str) -> str:
    return (
        '<question type="truefalse"><name><text>SaaS</text></name>'
        '<questiontext format="plain_text"><text>Acme Cloud is SaaS.</text></questiontext>'
        f"{''.join(answers)}</question>"
    )


def _only_question(data: bytes) -> ParsedQuestion:
    result = parse_moodle_xml(data)
    assert result.skipped == []
    assert len(result.questions) == 1
    return result.questions[0]


def _error(data: bytes) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as caught:
        parse_moodle_xml(data)
    return caught.value


SAMPLE_QUESTIONS = [
    ParsedQuestion(
        kind=SINGLE,
        title="Acme Cloud regions",
        text="<p>Which region hosts <b>Acme Cloud</b>'s EU tenants?</p>",
        choices=(
            _choice("<p>Frankfurt</p>", "100", "<p>Right.</p>"),
            _choice("<p>Dublin</p>", "0"),
            _choice("<p>Virginia</p>", "-50", "<p>Never promise US hosting to EU buyers.</p>"),
        ),
        category="Products/Acme Cloud",
        general_feedback="<p>Check the data-residency sheet.</p>",
        location="question 2",
    ),
    ParsedQuestion(
        kind=MULTIPLE,
        title="Acme Cloud tiers",
        text="Which tiers include single sign-on &amp; SCIM?<br>Pick all that apply.",
        choices=(
            _choice("Team", "33.33333"),
            _choice("Business", "33.33333"),
            _choice("Enterprise", "33.33333"),
            _choice("Free", "-100", "SSO is a paid feature."),
        ),
        category="Products/Acme Cloud",
        location="question 3",
    ),
    ParsedQuestion(
        kind=TRUE_FALSE,
        title="Acme Analytics pricing",
        text="Acme Analytics is priced &lt;per seat&gt;.",
        choices=(
            _choice("True", "0", "It is priced per workspace."),
            _choice("False", "100", "Right: per workspace."),
        ),
        category="Products/Acme Analytics",
        location="question 5",
    ),
]
SAMPLE_SKIPPED = [
    SkippedQuestion("Describe the pitch", "question 6", "essay questions are not supported"),
    SkippedQuestion("Seats", "question 7", "numerical questions are not supported"),
    SkippedQuestion("Match products", "question 8", "matching questions are not supported"),
    SkippedQuestion(
        "Product code", "question 9", "short-answer (shortanswer) questions are not supported"
    ),
    SkippedQuestion(
        "Launch year", "question 10", "cloze (multianswer) questions are not supported"
    ),
    SkippedQuestion(
        "The next questions cover Acme Analytics integrations in dep…",
        "question 11",
        "description questions are not supported",
    ),
    SkippedQuestion(
        "Drag the connectors",
        "question 12",
        "drag-and-drop into text (ddwtos) questions are not supported",
    ),
    SkippedQuestion("Discount maths", "question 13", "calculated questions are not supported"),
    SkippedQuestion(
        "Order the sales stages", "question 14", "'ordering' questions are not supported"
    ),
]


def test_sample_file_parses_every_supported_type_and_reports_the_rest():
    result = parse_moodle_xml(SAMPLE.read_bytes())

    assert result.questions == SAMPLE_QUESTIONS
    assert result.skipped == SAMPLE_SKIPPED


def test_embedded_files_are_not_imported_and_leave_no_broken_image():
    question = parse_moodle_xml(SAMPLE.read_bytes()).questions[0]

    assert "PLUGINFILE" not in question.text
    assert "<img" not in question.text
    assert "iVBORw0KGgo" not in question.text


def test_a_byte_order_mark_and_crlf_line_endings_change_nothing():
    data = b"\xef\xbb\xbf" + SAMPLE.read_bytes().replace(b"\n", b"\r\n")

    result = parse_moodle_xml(data)

    assert result.questions == SAMPLE_QUESTIONS
    assert result.skipped == SAMPLE_SKIPPED


def test_a_declared_legacy_encoding_is_honoured():
    data = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>'
        + _quiz(_true_false(_answer("100", "true"), _answer("0", "false"))).decode()
    ).encode("latin-1")
    data = data.replace(b"Acme Cloud is SaaS.", "Acme Cloud est hébergé.".encode("latin-1"))

    assert _only_question(data).text == "Acme Cloud est hébergé."


def test_an_empty_quiz_has_no_questions():
    result = parse_moodle_xml(b"<quiz/>")

    assert (result.questions, result.skipped) == ([], [])


# Multiple choice -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("single", "kind"),
    [("true", SINGLE), ("1", SINGLE), (" TRUE ", SINGLE), (None, SINGLE), ("0", MULTIPLE)],
)
def test_single_element_decides_between_single_choice_and_multiple_response(single, kind):
    answers = (
        (_answer("100", "Frankfurt"), _answer("0", "Dublin"))
        if kind == SINGLE
        else (_answer("50", "Frankfurt"), _answer("50", "Dublin"), _answer("-100", "Paris"))
    )

    question = _only_question(_quiz(_multichoice(*answers, single=single)))

    assert question.kind == kind


def test_multiple_response_keeps_fractional_and_negative_weights_in_file_order():
    question = _only_question(
        _quiz(
            _multichoice(
                _answer("-100", "Acme Toaster", "Not ours."),
                _answer("33.33333", "Acme Cloud"),
                _answer("33.33333", "Acme Analytics"),
                _answer("33.33333", "Acme Mail"),
                _answer("0", "Acme Phone"),
                single="false",
            )
        )
    )

    assert question.kind == MULTIPLE
    assert question.choices == (
        _choice("Acme Toaster", "-100", "Not ours."),
        _choice("Acme Cloud", "33.33333"),
        _choice("Acme Analytics", "33.33333"),
        _choice("Acme Mail", "33.33333"),
        _choice("Acme Phone", "0"),
    )


def test_several_full_mark_answers_are_allowed_by_the_shared_choice_rules():
    question = _only_question(
        _quiz(_multichoice(_answer("100", "Lyon"), _answer("100", "Paris"), _answer("0", "Nice")))
    )

    assert question.kind == SINGLE
    assert [c.weight for c in question.choices] == [Decimal(100), Decimal(100), Decimal(0)]


def test_fraction_defaults_to_zero_and_accepts_moodle_decimals():
    question = _only_question(
        _quiz(_multichoice(_answer("100.0000000", "Frankfurt"), _answer(None, "Dublin")))
    )

    assert [c.weight for c in question.choices] == [Decimal(100), Decimal(0)]


def test_answers_and_feedback_take_the_question_format_unless_they_name_their_own():
    question = _only_question(
        _quiz(
            _multichoice(
                _answer("100", "&lt;b&gt;Frankfurt&lt;/b&gt;", "&lt;i&gt;yes&lt;/i&gt;"),
                _answer("0", "&lt;b&gt;Dublin&lt;/b&gt;", text_format="plain_text"),
            )
        )
    )

    assert question.choices == (
        _choice("<b>Frankfurt</b>", "100", "<i>yes</i>"),
        _choice("&lt;b&gt;Dublin&lt;/b&gt;", "0"),
    )


def test_title_defaults_to_the_start_of_the_question_text():
    question = _only_question(
        _quiz(
            '<question type="multichoice"><name><text>  </text></name>'
            '<questiontext format="html"><text><![CDATA[<p>Which <b>Acme Cloud</b> region '
            "hosts the tenants of buyers who need EU data residency?</p>]]></text>"
            "</questiontext>"
            f"{_answer('100', 'Frankfurt')}{_answer('0', 'Dublin')}</question>"
        )
    )

    assert question.title == "Which Acme Cloud region hosts the tenants of buyers who nee…"


# True/false ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "choices"),
    [
        pytest.param(
            (_answer("100", "true", "Right."), _answer("0", "false", "Wrong.")),
            (_choice("True", "100", "Right."), _choice("False", "0", "Wrong.")),
            id="true",
        ),
        pytest.param(
            (_answer("0", "false", "Wrong."), _answer("100", "true", "Right.")),
            (_choice("True", "100", "Right."), _choice("False", "0", "Wrong.")),
            id="false-first-in-the-file",
        ),
        pytest.param(
            (_answer("0", "True"), _answer("100", " FALSE ")),
            (_choice("True", "0"), _choice("False", "100")),
            id="case-and-spaces",
        ),
        pytest.param(
            (_answer("100", "Yes"), _answer("0", "No")),
            (_choice("True", "100"), _choice("False", "0")),
            id="old-files-by-order",
        ),
    ],
)
def test_true_false(answers, choices):
    question = _only_question(_quiz(_true_false(*answers)))

    assert question.kind == TRUE_FALSE
    assert question.choices == choices


# Text formats and sanitising -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text_format", "text"),
    [
        ('format="html"', "<p>Is <b>Acme</b> fast?</p>"),
        ('format="moodle_auto_format"', "&lt;p&gt;Is &lt;b&gt;Acme&lt;/b&gt; fast?&lt;/p&gt;"),
        ('format="plain_text"', "&lt;p&gt;Is &lt;b&gt;Acme&lt;/b&gt; fast?&lt;/p&gt;"),
        ('format="markdown"', "&lt;p&gt;Is &lt;b&gt;Acme&lt;/b&gt; fast?&lt;/p&gt;"),
        ("", "&lt;p&gt;Is &lt;b&gt;Acme&lt;/b&gt; fast?&lt;/p&gt;"),
    ],
)
def test_question_text_format(text_format, text):
    question = _only_question(
        _quiz(
            f'<question type="truefalse"><name><text>Fast</text></name>'
            f"<questiontext {text_format}><text><![CDATA[<p>Is <b>Acme</b> fast?</p>]]></text>"
            f"</questiontext>{_answer('100', 'true')}{_answer('0', 'false')}</question>"
        )
    )

    assert question.text == text


def test_html_is_sanitised_everywhere():
    question = _only_question(
        _quiz(
            '<question type="multichoice"><name><text>Safe</text></name>'
            '<questiontext format="html"><text><![CDATA['
            '<p onmouseover="steal()">Pick<script>alert(1)</script>'
            '<img src="https://tracker.example/p.gif"><img src="@@PLUGINFILE@@/logo.png">'
            '<a href="javascript:alert(1)">here</a></p>]]></text></questiontext>'
            '<generalfeedback format="html"><text><![CDATA[<iframe src="https://evil.example">'
            "</iframe><p>Because.</p>]]></text></generalfeedback>"
            '<answer fraction="100" format="html"><text><![CDATA[<b onclick="x()">A</b>]]></text>'
            '<feedback format="html"><text><![CDATA[<img src=x onerror="alert(1)">Yes]]></text>'
            "</feedback></answer>"
            '<answer fraction="0" format="html"><text><![CDATA[<style>b{}</style>B]]></text>'
            "</answer></question>"
        )
    )

    assert question.text == '<p>Pick<a rel="noopener noreferrer">here</a></p>'
    assert question.general_feedback == "<p>Because.</p>"
    assert question.choices == (_choice("<b>A</b>", "100", "Yes"), _choice("B", "0"))


# Categories ------------------------------------------------------------------------------------


def test_category_applies_to_the_questions_that_follow_it():
    tf = _true_false(_answer("100", "true"), _answer("0", "false"))

    result = parse_moodle_xml(
        _quiz(
            tf,
            '<question type="category"><category><text>$course$/top/Products</text></category>'
            "</question>",
            tf,
            '<question type="category"><category><text>$cat1$/Onboarding</text></category>'
            "</question>",
            tf,
        )
    )

    assert [(q.category, q.location) for q in result.questions] == [
        ("", "question 1"),
        ("Products", "question 3"),
        ("Onboarding", "question 5"),
    ]


# Malformed files -------------------------------------------------------------------------------

TF = _true_false(_answer("100", "true"), _answer("0", "false"))


@pytest.mark.parametrize(
    ("question", "error"),
    [
        pytest.param(
            _multichoice(_answer("100", "Frankfurt"), _answer("abc", "Dublin")),
            "question 3 (<answer>): fraction 'abc' is not a number",
            id="fraction-not-a-number",
        ),
        pytest.param(
            _multichoice(_answer("100", "Frankfurt"), _answer("NaN", "Dublin")),
            "question 3 (<answer>): fraction 'NaN' is not a number",
            id="fraction-nan",
        ),
        pytest.param(
            _multichoice(_answer("100", "Frankfurt"), _answer("", "Dublin")),
            "question 3 (<answer>): fraction '' is not a number",
            id="fraction-empty",
        ),
        pytest.param(
            _multichoice(_answer("100", "Frankfurt"), _answer("-150", "Dublin")),
            "question 3 (<answer>): fraction '-150' is outside -100..100",
            id="fraction-out-of-range",
        ),
        pytest.param(
            _multichoice(_answer("100", "Frankfurt"), _answer("0", "  ")),
            "question 3 (<answer>): the answer text is empty "
            "(images stored as files are not imported)",
            id="empty-answer",
        ),
        pytest.param(
            _multichoice(
                _answer("100", "Frankfurt"),
                _answer("0", "&lt;img src='@@PLUGINFILE@@/dublin.png'&gt;", text_format="html"),
            ),
            "question 3 (<answer>): the answer text is empty "
            "(images stored as files are not imported)",
            id="image-only-answer",
        ),
        pytest.param(
            _multichoice(_answer("100", "Frankfurt")),
            "question 3: A question needs at least two choices.",
            id="one-answer",
        ),
        pytest.param(
            _multichoice(_answer("50", "Frankfurt"), _answer("0", "Dublin")),
            "question 3: The best choice must be worth 100% (the others 0%, partial or negative).",
            id="single-without-right-answer",
        ),
        pytest.param(
            _multichoice(_answer("50", "Frankfurt"), _answer("40", "Dublin"), single="false"),
            "question 3: The right choices must add up to 100%, not 90%.",
            id="multiple-not-100",
        ),
        pytest.param(
            _multichoice(_answer("100", "Frankfurt"), _answer("0", "Dublin"), single="maybe"),
            "question 3 (<single>): single 'maybe' is not true or false",
            id="single-not-boolean",
        ),
        pytest.param(
            _multichoice(_answer("100", "Frankfurt"), _answer("0", "Dublin"), text=""),
            "question 3 (<questiontext>): the question text is empty "
            "(images stored as files are not imported)",
            id="empty-text",
        ),
        pytest.param(
            _multichoice(
                _answer("100", "Frankfurt"),
                _answer("0", "Dublin"),
                text="&lt;img src='@@PLUGINFILE@@/q.png'&gt;",
            ),
            "question 3 (<questiontext>): the question text is empty "
            "(images stored as files are not imported)",
            id="image-only-text",
        ),
        pytest.param(
            '<question type="multichoice"><answer fraction="100"><text>A</text></answer>'
            '<answer fraction="0"><text>B</text></answer></question>',
            "question 3 (<question>): missing <questiontext>",
            id="no-questiontext",
        ),
        pytest.param(
            "<question><name><text>No type</text></name></question>",
            "question 3 (<question>): missing type attribute",
            id="no-type",
        ),
        pytest.param(
            '<question type="category"><category><text> </text></category></question>',
            "question 3 (<category>): empty category path",
            id="empty-category",
        ),
        pytest.param(
            _true_false(_answer("100", "true")),
            "question 3 (<answer>): a true/false question needs exactly two answers, found 1",
            id="true-false-one-answer",
        ),
        pytest.param(
            _true_false(_answer("100", "true"), _answer("0", "false"), _answer("0", "maybe")),
            "question 3 (<answer>): a true/false question needs exactly two answers, found 3",
            id="true-false-three-answers",
        ),
        pytest.param(
            _true_false(_answer("100", "true"), _answer("0", "true")),
            "question 3 (<answer>): two answers are 'true'",
            id="true-false-twice-true",
        ),
        pytest.param(
            _true_false(_answer("100", "true"), _answer("100", "false")),
            "question 3 (<answer>): exactly one of 'true' and 'false' must have fraction 100, "
            "found 2",
            id="true-false-both-right",
        ),
        pytest.param(
            _true_false(_answer("50", "true"), _answer("0", "false")),
            "question 3 (<answer>): exactly one of 'true' and 'false' must have fraction 100, "
            "found 0",
            id="true-false-none-right",
        ),
        pytest.param(
            _true_false(_answer("100", "true"), _answer("x", "false")),
            "question 3 (<answer>): fraction 'x' is not a number",
            id="true-false-bad-fraction",
        ),
    ],
)
def test_malformed_question_fails_the_file_naming_the_question_and_element(question, error):
    category = '<question type="category"><category><text>P</text></category></question>'
    data = _quiz(TF, category, question, TF)

    caught = _error(data)

    assert str(caught) == error
    assert caught.location == error.split(": ", 1)[0]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"<questions><question/></questions>", "element <questions>: expected <quiz>"),
        (b"<Quiz/>", "element <Quiz>: expected <quiz>"),
        (
            b'<quiz xmlns="urn:acme"/>',
            "element <{urn:acme}quiz>: expected <quiz>",
        ),
    ],
)
def test_root_must_be_quiz(data, error):
    assert str(_error(data)) == error


@pytest.mark.parametrize(
    ("data", "location", "reason"),
    [
        (b"<quiz>\n  <question>\n</quiz>", "line 3, column 3", "mismatched tag"),
        (b"<quiz>\n<question type='x'>\n", "line 3, column 1", "no element found"),
        (b"<quiz>\n  <text>a & b</text></quiz>", "line 2, column 12", "not well-formed"),
        (b"", "line 1, column 1", "no element found"),
        (b"::Title:: not xml {T}", "line 1, column 1", "syntax error"),
        (b"<quiz/><quiz/>", "line 1, column 8", "junk after document element"),
    ],
)
def test_malformed_xml_names_the_line_and_column(data, location, reason):
    error = _error(data)

    assert error.location == location
    assert str(error).startswith(f"{location}: the file is not well-formed XML ({reason}")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            b'<?xml version="1.0"?>\n<!DOCTYPE quiz [\n<!ENTITY a "aaaaaaaaaa">\n'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n]>\n'
            b"<quiz><question type='essay'><name><text>&c;</text></name></question></quiz>",
            id="billion-laughs",
        ),
        pytest.param(
            b'<?xml version="1.0"?>\n<!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            b"<quiz><question type='essay'><name><text>&x;</text></name></question></quiz>",
            id="external-entity",
        ),
        pytest.param(
            b'<?xml version="1.0"?>\n<!DOCTYPE quiz SYSTEM "https://evil.example/quiz.dtd">\n'
            b"<quiz/>",
            id="external-dtd",
        ),
        pytest.param(b"<!DOCTYPE quiz>\n<quiz/>", id="plain-doctype"),
    ],
)
def test_dtds_and_entities_are_refused(data):
    error = _error(data)

    assert error.location == "file"
    assert str(error) == (
        "file: the file declares a DTD (<!DOCTYPE>), which is refused: "
        "it could expand entities or load external files"
    )


# Limits -----------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_parsing():
    data = _quiz(TF) + b" " * MAX_IMPORT_BYTES

    error = _error(data)

    assert error.location == "file"
    assert "the limit is 5242880 bytes (5 MB)" in str(error)


def test_a_file_at_the_question_limit_is_read():
    essay = '<question type="essay"><name><text>E</text></name></question>'
    data = _quiz(*([TF] * (MAX_IMPORT_QUESTIONS // 2) + [essay] * (MAX_IMPORT_QUESTIONS // 2)))

    result = parse_moodle_xml(data)

    assert (len(result.questions), len(result.skipped)) == (1000, 1000)


def test_categories_do_not_count_towards_the_question_limit():
    category = '<question type="category"><category><text>P</text></category></question>'
    data = _quiz(*([category, TF] * MAX_IMPORT_QUESTIONS))

    assert len(parse_moodle_xml(data).questions) == MAX_IMPORT_QUESTIONS


@pytest.mark.parametrize(
    "extra",
    [TF, '<question type="essay"><name><text>E</text></name></question>'],
    ids=["supported", "skipped"],
)
def test_a_file_over_the_question_limit_is_refused(extra):
    data = _quiz(*([TF] * MAX_IMPORT_QUESTIONS), extra)

    assert str(_error(data)) == "file: the file has more than 2000 questions; split it"
