"""Template filters for the support pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from certification.selectors.support import hours_text

register = template.Library()


@register.filter
def hours(value: Any) -> str:
    """Hours as people write them: 6, 4.5, 2.25 (never 6.00)."""
    try:
        return hours_text(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return ""
