"""The printable certificate: one landscape A4 page made with fpdf2 (pure Python)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from django.conf import settings
from fpdf import FPDF

from certification.models import Certification, Level
from certification.selectors.credentials import certification_status_at
from certification.services.credentials import credential_verify_url
from config.errors import ConflictError

# Letters that do not decompose into a Latin-1 letter plus accents.
_SPELLED_OUT = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ħ": "H",
        "ħ": "h",
        "\u0131": "i",
        "Œ": "OE",
        "œ": "oe",
        "ẞ": "SS",
        "\u2014": "-",
        "\u2013": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "€": "EUR",
    }
)


def latin1(text: str) -> str:
    """Text the PDF core fonts can draw (Latin-1): accents kept where Latin-1 has them,
    otherwise dropped ("Ł" reads "L"); symbols such as emoji left out; other scripts as "?"."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text).translate(_SPELLED_OUT):
        if ord(char) < 256:
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if base and all(ord(c) < 256 for c in base):
            out.append(base)
        elif unicodedata.category(char)[0] in "LN":
            out.append("?")
        # Symbols, emoji, joiners and variation selectors have no place on a certificate.
    return " ".join("".join(out).split())


def _date(moment: datetime) -> str:
    return f"{moment:%d %B %Y}".lstrip("0")


def certificate_pdf(*, certification: Certification, now: datetime) -> bytes:
    """The certificate of an active certification as PDF bytes; ConflictError otherwise."""
    status = certification_status_at(certification, now=now)
    if status != Certification.Status.ACTIVE:
        raise ConflictError(
            f"Only an active certification has a certificate; this one is {status}.",
            code=f"certification_{status}",
        )
    level = Level(certification.level)
    subject = certification.subject.name
    if certification.subject_version:
        subject = f"{subject} (version {certification.subject_version})"
    verify_url = credential_verify_url(certification)
    issuer = latin1(settings.CREDENTIAL_ISSUER_NAME)

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_compression(False)  # a one-page file; plain text streams stay searchable
    pdf.set_title(latin1(f"Certificate: {certification.subject.name}, level {level.value}"))
    pdf.set_author(issuer)
    pdf.set_creator(issuer)
    pdf.set_creation_date(now)
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)

    def line(text: str, *, size: int, style: str = "", height: float = 10, gap: float = 0) -> None:
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(0, height, latin1(text), align="C", new_x="LMARGIN", new_y="NEXT")
        if gap:
            pdf.ln(gap)

    pdf.set_y(28)
    line(issuer, size=14, style="B", gap=4)
    line("Certificate", size=30, style="B", height=14, gap=6)
    line("This certifies that", size=13)
    line(certification.rep.display_name, size=26, style="B", height=14, gap=2)
    line("holds the certification", size=13)
    line(subject, size=20, style="B", height=12)
    line(level.label.replace("·", "-"), size=15, gap=6)
    expiry = (
        f"Valid until {_date(certification.expires_at)}"
        if certification.expires_at
        else "Does not expire"
    )
    line(f"Issued {_date(certification.issued_at)}  -  {expiry}", size=12, gap=10)
    line("Check that it is still current at", size=10, height=6)
    pdf.set_text_color(40, 70, 120)
    line(verify_url, size=10, height=6)
    pdf.set_text_color(0, 0, 0)
    line(f"Certificate id {certification.public_id}", size=9, height=6)
    return bytes(pdf.output())
