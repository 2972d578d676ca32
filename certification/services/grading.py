"""Grading, as pure functions over an attempt's frozen question snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
SCORE_PLACES = Decimal("0.01")
ITEM_PLACES = Decimal("0.000001")


def grade_item(snapshot: dict[str, Any], selected: Sequence[int]) -> Decimal:
    """Return the fraction (0 to 1) of the question's mark the selection earns.

    Single choice and true/false earn the chosen option's weight. Multiple response adds the
    weights of every chosen option, negative ones included; the result is never below 0 or
    above the full mark.
    """
    weights = {choice["id"]: Decimal(choice["weight"]) for choice in snapshot["choices"]}
    earned = sum((weights[choice_id] for choice_id in selected if choice_id in weights), ZERO)
    fraction = earned / HUNDRED
    return min(max(fraction, ZERO), ONE).quantize(ITEM_PLACES, rounding=ROUND_HALF_UP)


def grade_total(items: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Return the percentage score from (fraction earned, question mark) pairs."""
    earned = ZERO
    possible = ZERO
    for fraction, mark in items:
        earned += fraction * mark
        possible += mark
    if possible == 0:
        return ZERO.quantize(SCORE_PLACES)
    return (earned / possible * HUNDRED).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)


def is_right(snapshot: dict[str, Any], choice_id: int) -> bool:
    """Whether choosing this option earns credit."""
    return any(c["id"] == choice_id and Decimal(c["weight"]) > 0 for c in snapshot["choices"])


def right_choice_ids(snapshot: dict[str, Any]) -> list[int]:
    """The options that earn credit: the best one for single choice, all positive ones otherwise."""
    if snapshot["kind"] == "multiple":
        return [c["id"] for c in snapshot["choices"] if Decimal(c["weight"]) > 0]
    best = max(Decimal(c["weight"]) for c in snapshot["choices"])
    return [c["id"] for c in snapshot["choices"] if Decimal(c["weight"]) == best]
