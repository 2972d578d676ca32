"""Reads for enablement's deal pages, export and API: deals, exchange rates, column mappings.

Deals are CRM facts about every rep, so only enablement reads them (the pages and endpoints
check the rule); the selectors decide the joins once, so a page of deals is a fixed number of
queries however many rows it shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.db.models import Q, QuerySet

from certification.models import CurrencyRate, Deal, DealColumnMapping

EXPORT_CHUNK = 2000


def deals_for_enablement(*, text: str = "", stage: str = "") -> QuerySet[Deal]:
    """Deals, newest close date first, with their rep; ``text`` matches the rep's name or
    email or the opportunity id, ``stage`` is won, lost or open."""
    deals = Deal.objects.select_related("rep").order_by("-close_date", "opportunity_id")
    text = text.strip()
    if text:
        deals = deals.filter(
            Q(rep__display_name__icontains=text)
            | Q(rep__email__icontains=text)
            | Q(opportunity_id__icontains=text)
        )
    if stage:
        deals = deals.filter(stage=stage)
    return deals


type ExportRow = tuple[str, str, Decimal | None, str, date, str, str, Decimal | None]


def deals_for_export(*, text: str = "", stage: str = "") -> Iterator[ExportRow]:
    """The filtered deals as export rows, canonical columns first, read in chunks."""
    return (
        deals_for_enablement(text=text, stage=stage)
        .values_list(
            "opportunity_id",
            "rep__email",
            "amount",
            "currency",
            "close_date",
            "stage",
            "rep__display_name",
            "amount_base",
        )
        .iterator(chunk_size=EXPORT_CHUNK)
    )


def currency_rates() -> QuerySet[CurrencyRate]:
    """Every configured exchange rate, by currency code."""
    return CurrencyRate.objects.order_by("currency")


def deal_mappings() -> QuerySet[DealColumnMapping]:
    """The saved column mappings, by name."""
    return DealColumnMapping.objects.order_by("name")
