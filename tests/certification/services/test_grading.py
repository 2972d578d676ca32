"""Grading: weights, negatives, partial credit, marks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from certification.services.grading import grade_item, grade_total, right_choice_ids


def snapshot(kind, *weights):
    return {"kind": kind, "choices": [{"id": i, "weight": str(w)} for i, w in enumerate(weights)]}


@pytest.mark.parametrize(
    ("weights", "selected", "expected"),
    [
        ((100, 0, 0), [0], "1"),
        ((100, 0, 0), [1], "0"),
        ((100, 50, 0), [1], "0.5"),
        ((100, -50, 0), [1], "0"),  # a negative single choice never goes below zero
        ((100, 0, 0), [], "0"),
        ((100, 0, 0), [99], "0"),  # an id that is not offered earns nothing
    ],
)
def test_single_choice(weights, selected, expected):
    assert grade_item(snapshot("single", *weights), selected) == Decimal(expected)


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        ([0, 1], "1"),
        ([0], "0.5"),
        ([0, 2], "0"),
        ([0, 1, 2], "0.5"),
        ([2], "0"),  # negative total is floored at zero
        ([0, 1, 3], "1"),
        ([], "0"),
    ],
)
def test_multiple_response_weights_and_negatives(selected, expected):
    assert grade_item(snapshot("multiple", 50, 50, -50, 0), selected) == Decimal(expected)


def test_thirds_add_up_to_the_full_mark():
    item = snapshot("multiple", "33.33333", "33.33333", "33.33334", -100)
    assert grade_item(item, [0, 1, 2]) == Decimal(1)
    assert grade_item(item, [0]) == Decimal("0.333333")
    assert grade_item(item, [0, 3]) == Decimal(0)


def test_true_false():
    item = snapshot("true_false", 0, 100)
    assert grade_item(item, [1]) == 1
    assert grade_item(item, [0]) == 0


def test_total_weights_questions_by_mark():
    assert grade_total([(Decimal(1), Decimal(2)), (Decimal(0), Decimal(1))]) == Decimal("66.67")
    assert grade_total([(Decimal("0.5"), Decimal(1))] * 3) == Decimal("50.00")
    assert grade_total([]) == Decimal("0.00")


def test_right_choices():
    assert right_choice_ids(snapshot("single", 0, 100, 50)) == [1]
    assert right_choice_ids(snapshot("multiple", 50, -10, 50)) == [0, 2]
