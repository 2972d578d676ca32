"""GIFT: supported kinds become questions, others are reported, malformed files name the line."""

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
from certification.importers.detect import MAX_IMPORT_BYTES, MAX_IMPORT_QUESTIONS, decode_text
from certification.importers.gift import parse_gift

FILES = Path(__file__).parent / "files"
SAMPLE = FILES / "acme_products.gift"

ESSAY = "essay questions are not supported"
NUMERICAL = "numerical questions are not supported"
MATCHING = "matching questions are not supported"
SHORT_ANSWER = "short-answer questions are not supported"
MISSING_WORD = "missing-word questions are not supported"


def _choice(text: str, weight: str, feedback: str = "") -> ParsedChoice:
    return ParsedChoice(text=text, weight=Decimal(weight), feedback=feedback)


def _only_question(text: str) -> ParsedQuestion:
    result = parse_gift(text)
    assert result.skipped == []
    assert len(result.questions) == 1
    return result.questions[0]


def _error(text: str) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as caught:
        parse_gift(text)
    return caught.value


SAMPLE_QUESTIONS = [
    ParsedQuestion(
        kind=SINGLE,
        title="Acme Cloud regions",
        text="Which region hosts Acme Cloud's EU tenants?",
        choices=(
            _choice("Frankfurt", "100", "Right: all EU tenants live in Frankfurt."),
            _choice("Dublin", "0", "Dublin hosts backups only."),
            _choice("Virginia", "-50", "Never promise US hosting to EU buyers."),
        ),
        category="Products/Acme Cloud",
        general_feedback="Check the data-residency sheet before every EU call.",
        location="line 6",
    ),
    ParsedQuestion(
        kind=MULTIPLE,
        title="Acme Cloud tiers",
        text="Which tiers include single sign-on?",
        choices=(
            _choice("Team", "33.33333"),
            _choice("Business", "33.33333"),
            _choice("Enterprise", "33.33333"),
            _choice("Free", "-100", "SSO is a paid feature."),
        ),
        category="Products/Acme Cloud",
        location="line 14",
    ),
    ParsedQuestion(
        kind=TRUE_FALSE,
        title="Acme Cloud uptime",
        text="Acme Cloud's SLA guarantees 99.9% uptime.",
        choices=(
            _choice("True", "100", "Yes, 99.9% monthly."),
            _choice("False", "0", "Check the SLA page."),
        ),
        category="Products/Acme Cloud",
        location="line 21",
    ),
    ParsedQuestion(
        kind=TRUE_FALSE,
        title="Acme Analytics pricing",
        text="<p>Acme Analytics is priced <strong>per seat</strong>.</p>",
        choices=(
            _choice("True", "0", "It is priced per workspace."),
            _choice("False", "100"),
        ),
        category="Products/Acme Analytics",
        location="line 25",
    ),
    ParsedQuestion(
        kind=MULTIPLE,
        title="Which connectors ship with Acme Analytics: the {core} set?",
        text="Which connectors ship with Acme Analytics: the {core} set?",
        choices=(
            _choice("Salesforce", "50"),
            _choice("HubSpot", "50"),
            _choice("Spreadsheet uploads", "0"),
        ),
        category="Products/Acme Analytics",
        location="line 27",
    ),
]
SAMPLE_SKIPPED = [
    SkippedQuestion(title="Describe the pitch", location="line 35", reason=ESSAY),
    SkippedQuestion(title="Seats", location="line 37", reason=NUMERICAL),
    SkippedQuestion(title="Match products", location="line 39", reason=MATCHING),
    SkippedQuestion(title="Product code", location="line 44", reason=SHORT_ANSWER),
    SkippedQuestion(title="Launch year", location="line 46", reason=MISSING_WORD),
]


def test_sample_file_parses_every_supported_kind_and_reports_the_rest():
    result = parse_gift(SAMPLE.read_text(encoding="utf-8"))

    assert result.questions == SAMPLE_QUESTIONS
    assert result.skipped == SAMPLE_SKIPPED


def test_crlf_line_endings_give_the_same_result():
    data = SAMPLE.read_bytes().replace(b"\n", b"\r\n")

    result = parse_gift(decode_text(data))

    assert result.questions == SAMPLE_QUESTIONS
    assert result.skipped == SAMPLE_SKIPPED


def test_old_mac_line_endings_give_the_same_result():
    result = parse_gift(SAMPLE.read_text(encoding="utf-8").replace("\n", "\r"))

    assert result.questions == SAMPLE_QUESTIONS


@pytest.mark.parametrize("decode", [decode_text, lambda data: data.decode("utf-8")])
def test_a_byte_order_mark_changes_nothing(decode):
    data = b"\xef\xbb\xbf" + SAMPLE.read_bytes()

    result = parse_gift(decode(data))

    assert result.questions == SAMPLE_QUESTIONS
    assert result.skipped == SAMPLE_SKIPPED


def test_an_empty_or_comment_only_file_has_no_questions():
    result = parse_gift("// nothing yet\n\n   \n// still nothing\n")

    assert result.questions == []
    assert result.skipped == []


def test_questions_are_separated_by_blank_lines_even_with_whitespace_on_them():
    result = parse_gift("Is Acme Cloud SaaS? {T}\n  \t \nIs Acme Analytics on-premise? {F}")

    assert [(q.title, q.location) for q in result.questions] == [
        ("Is Acme Cloud SaaS?", "line 1"),
        ("Is Acme Analytics on-premise?", "line 3"),
    ]


def test_comment_lines_inside_a_question_are_ignored_and_do_not_split_it():
    question = _only_question(
        "// about regions\n"
        "Which region hosts EU tenants? {\n"
        "// the right one\n"
        "=Frankfurt\n"
        "// a distractor\n"
        "~Dublin\n"
        "}"
    )

    assert question.location == "line 2"
    assert question.choices == (_choice("Frankfurt", "100"), _choice("Dublin", "0"))


def test_slashes_inside_a_line_are_text_not_comments():
    question = _only_question("Is https://acme.example the login page? {T}")

    assert question.text == "Is https://acme.example the login page?"


# Kinds ------------------------------------------------------------------------------------------


def test_single_choice_with_partial_and_negative_weights_keeps_file_order():
    question = _only_question(
        "Best first call? {~%50%Ask about budget ~%-100%Pitch price =Ask about pain ~Send a deck}"
    )

    assert question.kind == SINGLE
    assert question.choices == (
        _choice("Ask about budget", "50"),
        _choice("Pitch price", "-100"),
        _choice("Ask about pain", "100"),
        _choice("Send a deck", "0"),
    )


def test_several_right_answers_are_allowed_by_the_shared_choice_rules():
    question = _only_question("Acme office? {=Lyon =Paris ~Nice}")

    assert question.kind == SINGLE
    assert question.choices == (
        _choice("Lyon", "100"),
        _choice("Paris", "100"),
        _choice("Nice", "0"),
    )


def test_right_answer_may_state_its_100_percent_weight():
    question = _only_question("Acme HQ? {=%100%Lyon ~Paris}")

    assert question.choices == (_choice("Lyon", "100"), _choice("Paris", "0"))


def test_multiple_response_with_fractional_weights_adding_up_to_100():
    question = _only_question(
        "Which are Acme products? {~%33.33333%Acme Cloud ~%33.33333%Acme Analytics "
        "~%33.33333%Acme Mail ~%-33.33333%Acme Toaster}"
    )

    assert question.kind == MULTIPLE
    assert [c.weight for c in question.choices] == [
        Decimal("33.33333"),
        Decimal("33.33333"),
        Decimal("33.33333"),
        Decimal("-33.33333"),
    ]


def test_tilde_answers_with_one_full_weight_are_multiple_response_as_in_moodle():
    question = _only_question("Acme HQ? {~%100%Lyon ~Paris}")

    assert question.kind == MULTIPLE
    assert question.choices == (_choice("Lyon", "100"), _choice("Paris", "0"))


@pytest.mark.parametrize(
    ("block", "true_weight", "false_weight"),
    [
        ("{T}", "100", "0"),
        ("{TRUE}", "100", "0"),
        ("{F}", "0", "100"),
        ("{FALSE}", "0", "100"),
        ("{ true }", "100", "0"),
        ("{\nF\n}", "0", "100"),
    ],
)
def test_true_false(block, true_weight, false_weight):
    question = _only_question(f"Acme Cloud is SaaS. {block}")

    assert question.kind == TRUE_FALSE
    assert question.choices == (_choice("True", true_weight), _choice("False", false_weight))


@pytest.mark.parametrize(
    ("block", "choices"),
    [
        (
            "{T#Wrong: it is.#Right: it is.}",
            (_choice("True", "100", "Right: it is."), _choice("False", "0", "Wrong: it is.")),
        ),
        (
            "{F#Wrong: it is not.#Right: it is not.}",
            (
                _choice("True", "0", "Wrong: it is not."),
                _choice("False", "100", "Right: it is not."),
            ),
        ),
        (
            "{TRUE#Only the wrong one.}",
            (_choice("True", "100"), _choice("False", "0", "Only the wrong one.")),
        ),
    ],
)
def test_true_false_feedback_goes_on_the_choice_it_describes(block, choices):
    assert _only_question(f"Acme Cloud is SaaS. {block}").choices == choices


def test_general_feedback_closes_the_block_for_every_kind():
    result = parse_gift(
        "Acme is SaaS. {T####Both products are SaaS.}\n\n"
        "Acme HQ? {=Lyon#Yes ~Paris####HQ moved in 2020.}"
    )

    assert [q.general_feedback for q in result.questions] == [
        "Both products are SaaS.",
        "HQ moved in 2020.",
    ]
    assert result.questions[1].choices == (_choice("Lyon", "100", "Yes"), _choice("Paris", "0"))


# Titles, formats, escapes ----------------------------------------------------------------------


def test_title_defaults_to_the_first_60_characters_of_the_text():
    question = _only_question(
        "Which Acme Cloud region should a rep propose to a buyer who needs EU residency? {T}"
    )

    assert question.title == "Which Acme Cloud region should a rep propose to a buyer who…"


def test_empty_title_falls_back_to_the_text():
    assert _only_question("::::Acme is SaaS. {T}").title == "Acme is SaaS."


def test_long_titles_are_cut_to_255_characters():
    question = _only_question(f"::{'T' * 300}::Acme is SaaS. {{T}}")

    assert question.title == "T" * 254 + "…"


def test_title_may_sit_on_its_own_line():
    question = _only_question("::Acme SaaS::\nAcme is SaaS.\n{T}")

    assert (question.title, question.text) == ("Acme SaaS", "Acme is SaaS.")


@pytest.mark.parametrize(
    ("prefix", "text"),
    [
        ("", "Is &lt;b&gt;Acme&lt;/b&gt; **fast**?"),
        ("[plain]", "Is &lt;b&gt;Acme&lt;/b&gt; **fast**?"),
        ("[moodle]", "Is &lt;b&gt;Acme&lt;/b&gt; **fast**?"),
        ("[markdown]", "Is &lt;b&gt;Acme&lt;/b&gt; **fast**?"),
        ("[html]", "Is <b>Acme</b> **fast**?"),
        ("[HTML]", "Is <b>Acme</b> **fast**?"),
        ("[unknown]", "[unknown]Is &lt;b&gt;Acme&lt;/b&gt; **fast**?"),
    ],
)
def test_question_text_format(prefix, text):
    question = _only_question(f"::Speed::{prefix}Is <b>Acme</b> **fast**? {{T}}")

    assert question.text == text


def test_html_question_text_answers_and_feedback_are_sanitised():
    question = _only_question(
        "[html]<p onclick='x()'>Pick <script>alert(1)</script>one"
        "<img src='https://tracker.example/p.gif'></p> {\n"
        # Inside the block, "=" "{" "}" in markup are escaped, as Moodle's exports do.
        r"=<a href\='javascript:alert(1)'>Acme</a>#<img src\=x onerror\=alert(1)>Right"
        "\n"
        r"~<iframe src\='https://evil.example'></iframe>Other"
        "\n"
        r"####<style>b \{color: red\}</style>See <a href\='https://acme.example'>the site</a>"
        "\n"
        "}"
    )

    assert question.text == "<p>Pick one</p>"
    assert question.choices == (
        _choice('<a rel="noopener noreferrer">Acme</a>', "100", "Right"),
        _choice("Other", "0"),
    )
    assert (
        question.general_feedback
        == 'See <a href="https://acme.example" rel="noopener noreferrer">the site</a>'
    )


def test_answers_take_the_question_format_unless_they_name_their_own():
    question = _only_question(
        "[html]<p>Pick</p> {=<b>Acme</b>#<i>yes</i> ~[plain]<b>Other</b>#[plain]<i>no</i>}"
    )

    assert question.choices == (
        _choice("<b>Acme</b>", "100", "<i>yes</i>"),
        _choice("&lt;b&gt;Other&lt;/b&gt;", "0", "&lt;i&gt;no&lt;/i&gt;"),
    )


def test_plain_answers_and_feedback_are_escaped():
    question = _only_question("Pick {=<b>Acme</b> & co#<script>x</script> ~Other}")

    assert question.choices[0] == _choice(
        "&lt;b&gt;Acme&lt;/b&gt; &amp; co", "100", "&lt;script&gt;x&lt;/script&gt;"
    )


def test_escaped_characters_are_text():
    question = _only_question(
        r"::Acme\: the \{basics\}::Is 2 \= 1 \~ 1 \# 1 \\ ok? {"
        r"=It\: \{a\} \= \~ \#1#Fb\: \= \{x\} \~ \# "
        r"~Other}"
    )

    assert question.title == "Acme: the {basics}"
    assert question.text == "Is 2 = 1 ~ 1 # 1 \\ ok?"
    assert question.choices == (
        _choice("It: {a} = ~ #1", "100", "Fb: = {x} ~ #"),
        _choice("Other", "0"),
    )


def test_escaped_newline_breaks_the_line_everywhere():
    question = _only_question(r"Line one\nline two {=Acme\nCloud#Fb\nmore ~Other}")

    assert question.text == "Line one<br>line two"
    assert question.choices[0] == _choice("Acme<br>Cloud", "100", "Fb<br>more")


def test_question_text_keeps_its_line_breaks():
    question = _only_question("::Two lines::Acme Cloud\n  is hosted where?\n{=Frankfurt ~Dublin}")

    assert question.text == "Acme Cloud<br>is hosted where?"


def test_answers_and_feedback_can_span_lines():
    question = _only_question(
        "Which plan fits a 40-seat team? {\n"
        "  =Business, billed\n"
        "     yearly\n"
        "     # Right: Business starts\n"
        "       at 25 seats.\n"
        "  ~Team\n"
        "  ####Check the\n"
        "  seat table.\n"
        "}"
    )

    assert question.choices == (
        _choice("Business, billed yearly", "100", "Right: Business starts at 25 seats."),
        _choice("Team", "0"),
    )
    assert question.general_feedback == "Check the seat table."


# Categories --------------------------------------------------------------------------------------


def test_category_applies_to_the_questions_that_follow_it():
    result = parse_gift(
        "Before any category {T}\n\n"
        "$CATEGORY: $course$/top/Products/Acme Cloud\n\n"
        "Cloud one {T}\n\n"
        "Cloud two {T}\n"
        "$CATEGORY: $system$/Products/Acme Analytics\n"
        "Analytics one {T}\n\n"
        "$CATEGORY: $cat1$/Onboarding\n"
    )

    assert [(q.title, q.category, q.location) for q in result.questions] == [
        ("Before any category", "", "line 1"),
        ("Cloud one", "Products/Acme Cloud", "line 5"),
        ("Cloud two", "Products/Acme Cloud", "line 7"),
        ("Analytics one", "Products/Acme Analytics", "line 9"),
    ]


def test_skipped_questions_keep_their_title_and_location_under_a_category():
    result = parse_gift("$CATEGORY: Products\n\n::Pitch::Describe it. {}")

    assert result.skipped == [SkippedQuestion(title="Pitch", location="line 3", reason=ESSAY)]


# Unsupported kinds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "title", "reason"),
    [
        ("::Pitch::Describe the pitch. {}", "Pitch", ESSAY),
        ("::Pitch::Describe the pitch. {####Mention ROI.}", "Pitch", ESSAY),
        ("{}", "Untitled (line 5)", ESSAY),
        ("::Seats::How many seats? {#5}", "Seats", NUMERICAL),
        ("::Seats::How many seats? {#5:1}", "Seats", NUMERICAL),
        ("::Seats::How many seats? {#4..6}", "Seats", NUMERICAL),
        ("::Seats::How many seats? {#=%100%5 =%50%6}", "Seats", NUMERICAL),
        ("::Match::Match them. {=Cloud -> IT =Analytics -> Finance}", "Match", MATCHING),
        ("::Code::Product code? {=ACL}", "Code", SHORT_ANSWER),
        ("::Code::Product code? {=ACL =acl =%50%A-C-L#Close}", "Code", SHORT_ANSWER),
        ("::Year::Acme launched in {~2019 =2021} in Europe.", "Year", MISSING_WORD),
        ("::SaaS::Acme Cloud is {T} a SaaS product.", "SaaS", MISSING_WORD),
        ("::Code::The code {=ACL} is on the invoice.", "Code", MISSING_WORD),
        ("Acme launched in {~2019 =2021}.", "Acme launched in _____.", MISSING_WORD),
        ("{=Acme ~Other} makes Acme Cloud.", "_____ makes Acme Cloud.", MISSING_WORD),
    ],
)
def test_unsupported_kinds_are_reported_with_title_and_location(question, title, reason):
    result = parse_gift(f"// header\n\nAcme is SaaS. {{T}}\n\n{question}\n\nAcme is cheap. {{F}}")

    assert result.skipped == [SkippedQuestion(title=title, location="line 5", reason=reason)]
    assert [q.location for q in result.questions] == ["line 3", "line 7"]


# Malformed files -------------------------------------------------------------------------------


VALID_FIRST = "::Fine::Acme is SaaS. {T}\n\n"  # lines 1-2: the error must not be blamed on them


@pytest.mark.parametrize(
    ("question", "location", "message"),
    [
        pytest.param("Acme HQ? {=Lyon ~Paris", "line 3", "'{' is never closed", id="unclosed"),
        pytest.param(
            "Acme HQ?\n{\n=Lyon\n~Paris", "line 4", "'{' is never closed", id="unclosed-multiline"
        ),
        pytest.param(
            "Acme HQ? =Lyon ~Paris}", "line 3", "'}' without a matching '{'", id="closing-only"
        ),
        pytest.param(
            "Acme HQ?\n} {=Lyon ~Paris}", "line 4", "'}' without a matching '{'", id="closing-first"
        ),
        pytest.param(
            "Acme HQ? {=Lyon ~Paris}\n}", "line 4", "'}' without a matching '{'", id="extra-closing"
        ),
        pytest.param(
            "Acme HQ? {=Lyon\n~{Paris}", "line 4", "'{' inside an answer block", id="nested"
        ),
        pytest.param(
            "Acme HQ? {=Lyon ~Paris}\nAcme CEO? {=Ann ~Bob}",
            "line 4",
            "a second answer block: separate questions with a blank line",
            id="two-questions-without-blank-line",
        ),
        pytest.param(
            "Acme HQ is in Lyon.", "line 3", "the question has no answer block", id="no-block"
        ),
        pytest.param(
            "::Acme HQ:: Acme HQ is in Lyon.",
            "line 3",
            "the question has no answer block",
            id="title-no-block",
        ),
        pytest.param(
            "::Acme HQ Which city? {=Lyon ~Paris}",
            "line 3",
            "the title is not closed with '::'",
            id="unclosed-title",
        ),
        pytest.param(
            "Acme HQ? {\n=Lyon\n~\n}", "line 5", "an answer after '~' is empty", id="empty-tilde"
        ),
        pytest.param(
            "Acme HQ? {\n=\n~Paris\n}", "line 4", "an answer after '=' is empty", id="empty-equals"
        ),
        pytest.param(
            "Acme HQ? {=Lyon ~#Only feedback}",
            "line 3",
            "an answer after '~' is empty",
            id="feedback-only",
        ),
        pytest.param(
            "Acme HQ? {=Lyon ~%50%}", "line 3", "an answer after '~' is empty", id="weight-only"
        ),
        pytest.param(
            "Acme HQ? {=Lyon\n~%150%Paris}",
            "line 4",
            "answer weight %150% is outside -100%..100%",
            id="weight-too-high",
        ),
        pytest.param(
            "Acme HQ? {=Lyon\n~%-101%Paris}",
            "line 4",
            "answer weight %-101% is outside -100%..100%",
            id="weight-too-low",
        ),
        pytest.param(
            "Acme HQ? {=%50%Lyon ~Paris}",
            "line 3",
            "'=%50%': '=' marks a right answer (100%); write a partial weight as '~%50%'",
            id="partial-equals",
        ),
        pytest.param(
            "Acme HQ? {\nLyon\n=Paris ~Nice}",
            "line 4",
            "text before the first answer",
            id="text-before-first-answer",
        ),
        pytest.param(
            "Acme HQ? {Lyon}", "line 3", "the answer block has no answers", id="no-markers"
        ),
        pytest.param(
            "Acme HQ? {~%50%Lyon ~Paris}",
            "line 3",
            "The right choices must add up to 100%, not 50%.",
            id="multiple-without-full-marks",
        ),
        pytest.param(
            "Acme HQ? {~%50%Lyon ~%40%Paris ~Nice}",
            "line 3",
            "The right choices must add up to 100%, not 90%.",
            id="multiple-not-100",
        ),
        pytest.param(
            "Acme HQ? {~%33.3%Lyon ~%33.3%Paris ~%33.3%Nice}",
            "line 3",
            "The right choices must add up to 100%, not 99.9%.",
            id="thirds-too-rough",
        ),
        pytest.param(
            "Acme HQ? {~Lyon ~Paris}", "line 3", "add up to 100%, not 0%.", id="no-right-answer"
        ),
        pytest.param(
            "Acme HQ? {~%100%Lyon}",
            "line 3",
            "A question needs at least two choices.",
            id="one-answer",
        ),
        pytest.param("{=Lyon ~Paris}", "line 3", "the question text is empty", id="empty-text"),
        pytest.param(
            "[html]<img src='https://x.example/q.png'> {=Lyon ~Paris}",
            "line 3",
            "the question text is empty",
            id="text-only-a-remote-image",
        ),
        pytest.param(
            "Acme {~%50%Lyon ~%40%Paris} HQ",
            "line 3",
            "The right choices must add up to 100%, not 90%.",
            id="malformed-missing-word-still-fails",
        ),
        pytest.param(
            "Acme HQ? {\n=Lyon\n~Paris \\% off}",
            "line 5",
            "unknown escape '\\%'",
            id="unknown-escape",
        ),
        pytest.param("C:\\Users {T}", "line 3", "unknown escape '\\U'", id="windows-path"),
        pytest.param(
            "Acme HQ?\\\n{T}",
            "line 3",
            "unknown escape '\\' at the end of the line",
            id="trailing-backslash",
        ),
        pytest.param(
            "$CATEGORY:   \n\nAcme HQ? {T}",
            "line 3",
            "$CATEGORY: needs a category path",
            id="empty-category",
        ),
    ],
)
def test_malformed_question_fails_the_file_naming_the_line(question, location, message):
    error = _error(f"{VALID_FIRST}{question}\n\nAcme is cheap. {{F}}\n")

    assert error.location == location
    assert str(error).startswith(f"{location}: ")
    assert message in str(error)


def test_errors_count_lines_from_the_start_of_the_file_with_crlf_and_bom():
    error = _error("\ufeff// header\r\n\r\nAcme HQ? {\r\n=Lyon\r\n~\r\n}\r\n")

    assert str(error) == "line 5: an answer after '~' is empty"


# Limits -----------------------------------------------------------------------------------------


def test_a_file_at_the_size_limit_is_read():
    line = "// " + "x" * 1021 + "\n"  # 1 KiB per line
    text = line * (MAX_IMPORT_BYTES // len(line) - 1) + "Acme is SaaS. {T}\n"
    text += "/" * (MAX_IMPORT_BYTES - len(text.encode()))

    result = parse_gift(text)

    assert len(text.encode()) == MAX_IMPORT_BYTES
    assert [q.title for q in result.questions] == ["Acme is SaaS."]


def test_a_file_over_the_size_limit_is_refused():
    text = "Acme is SaaS. {T}\n" + "é" * (MAX_IMPORT_BYTES // 2)  # é is two bytes in UTF-8

    error = _error(text)

    assert error.location == "file"
    assert "the limit is 5242880 bytes (5 MB)" in str(error)


def test_a_file_at_the_question_limit_is_read():
    half = MAX_IMPORT_QUESTIONS // 2
    text = "".join(f"Q{n} {{T}}\n\nE{n} {{}}\n\n" for n in range(half))

    result = parse_gift(text)

    assert len(result.questions) + len(result.skipped) == MAX_IMPORT_QUESTIONS


@pytest.mark.parametrize("kind", ["{T}", "{}"], ids=["supported", "skipped"])
def test_a_file_over_the_question_limit_is_refused(kind):
    text = "".join(f"Q{n} {kind}\n\n" for n in range(MAX_IMPORT_QUESTIONS + 1))

    error = _error(text)

    assert str(error) == "file: the file has more than 2000 questions; split it"
