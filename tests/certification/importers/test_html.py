"""Imported HTML is cut down to an allow-list, plain text is escaped, titles come out plain."""

from __future__ import annotations

import base64

import pytest

from certification.importers.html import (
    MAX_INLINE_IMAGE_BYTES,
    derive_title,
    html_to_plain,
    is_blank_html,
    plain_to_html,
    sanitize_html,
)


def _png_uri(size: int) -> str:
    return "data:image/png;base64," + base64.b64encode(b"\x89" * size).decode()


def test_sanitize_keeps_the_allowed_markup_as_written():
    value = (
        "<p>Acme <strong>Cloud</strong> <b>is</b> <em>fast</em>, <i>safe</i> and <u>cheap</u>"
        "<br>H<sub>2</sub>O x<sup>2</sup> <code>acme login</code> <span>plan</span></p>"
        "<ul><li>Team</li></ul><ol><li>Business</li></ol><pre>$ acme</pre>"
        "<blockquote>quote</blockquote>"
        '<table><thead><tr><th colspan="2">Tier</th></tr></thead>'
        '<tbody><tr><td rowspan="1">Team</td></tr></tbody></table>'
    )

    assert sanitize_html(value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("<p>Hi<script>alert(1)</script></p>", "<p>Hi</p>", id="script"),
        pytest.param("<style>p{color:red}</style><p>Hi</p>", "<p>Hi</p>", id="style"),
        pytest.param(
            '<iframe src="https://evil.example"></iframe><p>Hi</p>', "<p>Hi</p>", id="iframe"
        ),
        pytest.param("<svg><circle onload='x()'/></svg>Hi", "Hi", id="svg"),
        pytest.param("<object data='x'></object><embed src='x'>Hi", "Hi", id="object-embed"),
        pytest.param('<p onclick="steal()">Hi</p>', "<p>Hi</p>", id="onclick"),
        pytest.param(
            '<b onmouseover="steal()" style="position:fixed" class="x" id="y">Hi</b>',
            "<b>Hi</b>",
            id="attributes",
        ),
        pytest.param("<div><h1>Title</h1><form><input>Hi</form></div>", "TitleHi", id="unknown"),
        pytest.param("<p>Hi<!-- secret --></p>", "<p>Hi</p>", id="comment"),
        pytest.param("<p>unclosed <b>bold", "<p>unclosed <b>bold</b></p>", id="unclosed"),
        pytest.param("a & b < c", "a &amp; b &lt; c", id="text"),
        pytest.param("", "", id="empty"),
    ],
)
def test_sanitize_removes_what_could_run_or_restyle_the_page(value, expected):
    assert sanitize_html(value) == expected


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "jav&#x61;script:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "ftp://files.acme.example/price.pdf",
        "tel:+3312345678",
        "/relative/path",
        "@@PLUGINFILE@@/brochure.pdf",
    ],
)
def test_links_keep_no_href_unless_http_https_or_mailto(href):
    assert (
        sanitize_html(f'<a href="{href}" onclick="steal()">Acme</a>')
        == '<a rel="noopener noreferrer">Acme</a>'
    )


@pytest.mark.parametrize(
    "href",
    ["https://acme.example/cloud", "http://acme.example/cloud", "mailto:sales@acme.example"],
)
def test_allowed_links_keep_their_href_and_get_rel_noopener(href):
    assert (
        sanitize_html(f'<a href="{href}" target="_blank" rel="opener" onclick="x()">Acme</a>')
        == f'<a href="{href}" rel="noopener noreferrer">Acme</a>'
    )


@pytest.mark.parametrize(
    "src",
    [
        pytest.param("https://tracker.example/pixel.png", id="remote"),
        pytest.param("//tracker.example/pixel.png", id="protocol-relative"),
        pytest.param("@@PLUGINFILE@@/map.png", id="moodle-file"),
        pytest.param("map.png", id="relative"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", id="svg"),
        pytest.param("data:text/html;base64,PHNjcmlwdD4=", id="html"),
        pytest.param("data:image/png,raw-not-base64", id="not-base64"),
        pytest.param("data:image/png;base64,abc", id="bad-padding"),
        pytest.param("data:image/png;base64,a$b=", id="bad-characters"),
    ],
)
def test_images_other_than_small_inline_rasters_are_removed_entirely(src):
    value = f'<p>Map<img src="{src}" alt="map" onerror="steal()"></p>'

    assert sanitize_html(value) == "<p>Map</p>"


@pytest.mark.parametrize("mime", ["png", "jpeg", "gif", "webp", "PNG"])
def test_small_inline_raster_images_are_kept(mime):
    src = f"data:image/{mime};base64,iVBORw0KGgo="

    assert (
        sanitize_html(f'<img src="{src}" alt="logo" onerror="steal()" width="900">')
        == f'<img src="{src}" alt="logo">'
    )


def test_inline_image_whitespace_is_removed():
    assert (
        sanitize_html('<img src="data:image/png;base64,iVBO\n  Rw0K">')
        == '<img src="data:image/png;base64,iVBORw0K">'
    )


def test_inline_images_are_capped_at_200_kb():
    at_cap = _png_uri(MAX_INLINE_IMAGE_BYTES)
    over_cap = _png_uri(MAX_INLINE_IMAGE_BYTES + 1)

    assert MAX_INLINE_IMAGE_BYTES == 200 * 1024
    assert sanitize_html(f'<img src="{at_cap}">') == f'<img src="{at_cap}">'
    assert sanitize_html(f'<p>x<img src="{over_cap}"></p>') == "<p>x</p>"


def test_plain_to_html_escapes_markup_and_breaks_lines():
    assert (
        plain_to_html('Acme <b>Cloud</b> & co\r\nline 2\rline 3\n"quoted" it\'s')
        == 'Acme &lt;b&gt;Cloud&lt;/b&gt; &amp; co<br>line 2<br>line 3<br>"quoted" it\'s'
    )


def test_plain_to_html_is_stable_under_sanitize():
    value = plain_to_html("Acme <Cloud> & Analytics\nsecond line")

    assert sanitize_html(value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<p>Acme&nbsp;Cloud &amp; co</p>", "Acme Cloud & co"),
        ("<p>first</p><p>second</p>", "first second"),
        ("line<br>break", "line break"),
        ("<b>bo</b>ld", "bold"),
        ("<ul><li>a</li><li>b</li></ul>", "a b"),
        ("  lots \n\t of   space ", "lots of space"),
        ("Hi<script>alert('x')</script><style>p{}</style>", "Hi"),
        ("&lt;not a tag&gt; &#39;q&#39;", "<not a tag> 'q'"),
        ("", ""),
    ],
)
def test_html_to_plain(value, expected):
    assert html_to_plain(value) == expected


def test_derive_title_prefers_the_given_title_and_collapses_its_whitespace():
    assert derive_title("  Acme \n Cloud  ", "<p>text</p>", location="line 1") == "Acme Cloud"


def test_derive_title_cuts_a_given_title_at_255_characters():
    title = derive_title("x" * 300, "", location="line 1")

    assert title == "x" * 254 + "…"
    assert len(title) == 255


def test_derive_title_falls_back_to_the_first_60_characters_of_the_text():
    text = (
        "<p>Which <b>Acme Cloud</b> region hosts EU tenants when the buyer asks for residency?</p>"
    )

    title = derive_title("", text, location="line 1")

    assert title == "Which Acme Cloud region hosts EU tenants when the buyer ask…"
    assert len(title) == 60
    assert derive_title("", "<p>Short</p>", location="line 1") == "Short"


def test_derive_title_names_the_location_when_there_is_no_text():
    assert derive_title("", "<img src='x'>", location="question 4") == "Untitled (question 4)"


@pytest.mark.parametrize(
    ("value", "blank"),
    [("", True), ("<p> </p>", True), ("<p>x</p>", False), ('<img src="data:...">', False)],
)
def test_is_blank_html(value, blank):
    assert is_blank_html(value) is blank
