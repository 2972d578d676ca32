"""Turn imported question text into safe HTML, and HTML back into plain text for titles.

Imported text is never trusted: everything goes through ``sanitize_html`` (an allow-list), and
plain text is escaped by ``plain_to_html``. Images survive only as small inline ``data:`` images,
because the files a Moodle export references (``@@PLUGINFILE@@/...``) are not imported.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

MAX_INLINE_IMAGE_BYTES = 200 * 1024
TITLE_FROM_TEXT_LENGTH = 60
MAX_TITLE_LENGTH = 255

_ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "code", "pre", "sub", "sup",
        "span", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "a", "img",
    }
)  # fmt: skip
# Dropped with everything inside them; other unknown tags are dropped but keep their text.
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math"}
)
_ALLOWED_ATTRIBUTES = {
    "a": {"href"},
    "img": {"src", "alt"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
}
_LINK_PREFIXES = ("http://", "https://", "mailto:")
_DATA_IMAGE = re.compile(
    r"data:image/(?:png|jpeg|gif|webp);base64,(?P<payload>[A-Za-z0-9+/]*={0,2})", re.IGNORECASE
)
# nh3 serialises attribute values with ``"``, ``<`` and ``>`` escaped, so in its output an
# ``<img`` tag always ends at the first ``>``.
_IMG_TAG = re.compile(r"<img\b[^>]*>")
_WHITESPACE = re.compile(r"\s+")


def _inline_image(value: str) -> str | None:
    """Return the data URI if it is a small raster image, else None (the image is dropped)."""
    compact = _WHITESPACE.sub("", value)
    match = _DATA_IMAGE.fullmatch(compact)
    if match is None:
        return None
    payload = match["payload"]
    if len(payload) % 4:
        return None
    size = len(payload) // 4 * 3 - payload.count("=")
    if size > MAX_INLINE_IMAGE_BYTES:
        return None
    return compact


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        value = value.strip()
        return value if value.lower().startswith(_LINK_PREFIXES) else None
    if tag == "img" and attribute == "src":
        return _inline_image(value)
    return value


def _drop_image_without_source(match: re.Match[str]) -> str:
    return match[0] if ' src="' in match[0] else ""


def sanitize_html(value: str) -> str:
    """Keep a conservative allow-list of tags and attributes; drop scripts, handlers, remote images.

    Links keep ``href`` only for http, https and mailto, and get ``rel="noopener noreferrer"``.
    Images keep only an inline PNG/JPEG/GIF/WebP ``data:`` URI of at most 200 KB; any other image
    (remote, relative, ``@@PLUGINFILE@@``, SVG, too large) is removed entirely.
    """
    if not value:
        return ""
    cleaned = nh3.clean(
        value,
        tags=set(_ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto", "data"},
        url_relative="deny",
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return _IMG_TAG.sub(_drop_image_without_source, cleaned).strip()


def plain_to_html(value: str) -> str:
    """Escape plain text as HTML, turning line breaks into ``<br>``."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return html.escape(text, quote=False).replace("\n", "<br>")


_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p",
        "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_HIDDEN_TAGS = frozenset({"script", "style", "template", "noscript"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def html_to_plain(value: str) -> str:
    """Strip tags, unescape entities and collapse whitespace; block tags separate words."""
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


def shorten(value: str, limit: int) -> str:
    """Return ``value`` cut to ``limit`` characters, ending in an ellipsis when it was cut."""
    if len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"


def derive_title(title: str, text_html: str, *, location: str) -> str:
    """Return the given title, else the start of the question text, else a name for the location."""
    title = " ".join(title.split())
    if title:
        return shorten(title, MAX_TITLE_LENGTH)
    plain = html_to_plain(text_html)
    if plain:
        return shorten(plain, TITLE_FROM_TEXT_LENGTH)
    return f"Untitled ({location})"


def is_blank_html(value: str) -> bool:
    """Return True if the HTML shows nothing: no text and no image."""
    return not html_to_plain(value) and "<img" not in value
