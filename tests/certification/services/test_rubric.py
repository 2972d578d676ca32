"""Scoring with a guide, on hand-computed examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from certification.services.rubric import CriterionSpec, Scale, combine, evaluate

SCALE = Scale(minimum=1, maximum=4, pass_level=3, threshold=Decimal(70))


@pytest.mark.parametrize(
    ("ratings", "rule", "expected"),
    [
        ([2, 3, 4], "mean", "3.000"),
        ([1, 2, 4], "mean", "2.333"),
        ([1, 2, 4], "median", "2.000"),
        ([1, 2, 4, 4], "median", "3.000"),
        ([1, 3, 3, 4], "trimmed_mean", "3.000"),  # drops 1 and 4
        ([1, 4, 4], "trimmed_mean", "4.000"),  # drops 1 and one 4
        ([1, 4], "trimmed_mean", "2.500"),  # fewer than three: the mean
        ([3], "median", "3.000"),
    ],
)
def test_combination_rules(ratings, rule, expected):
    assert combine(ratings, rule) == Decimal(expected)


def test_unknown_rule_and_no_ratings_are_refused():
    with pytest.raises(ValueError, match="unknown"):
        combine([1], "mode")
    with pytest.raises(ValueError, match="no ratings"):
        combine([], "mean")


def test_weighted_score_on_the_scale():
    # C1 weight 2 rated 4 (100%), C2 weight 1 rated 1 (0%), C3 weight 1 rated 3 (66.67%):
    # (2*1 + 1*0 + 1*0.6667) / 4 = 66.67%.
    outcome = evaluate(
        scale=SCALE,
        criteria=[
            CriterionSpec(1, Decimal(2), is_critical=False),
            CriterionSpec(2, Decimal(1), is_critical=False),
            CriterionSpec(3, Decimal(1), is_critical=False),
        ],
        ratings={1: [4], 2: [1], 3: [3]},
    )
    assert outcome.score == Decimal("66.67")
    assert outcome.passed is False  # below 70
    assert [outcome.criteria[i].met for i in (1, 2, 3)] == [True, False, True]


def test_critical_criterion_failed_by_a_majority_fails_whatever_the_total():
    criteria = [
        CriterionSpec(1, Decimal(1), is_critical=True),
        CriterionSpec(2, Decimal(5), is_critical=False),
    ]
    # Two of three judges rate the critical criterion below 3; the total is high.
    outcome = evaluate(scale=SCALE, criteria=criteria, ratings={1: [2, 2, 4], 2: [4, 4, 4]})
    assert outcome.score >= 70
    assert outcome.passed is False
    assert outcome.vetoed_by == (1,)
    assert outcome.criteria[1].failed_by_majority is True


def test_one_dissent_of_three_is_not_a_majority():
    criteria = [
        CriterionSpec(1, Decimal(1), is_critical=True),
        CriterionSpec(2, Decimal(5), is_critical=False),
    ]
    outcome = evaluate(scale=SCALE, criteria=criteria, ratings={1: [2, 3, 4], 2: [4, 4, 4]})
    assert outcome.passed is True
    assert outcome.vetoed_by == ()


def test_a_tie_is_not_a_majority():
    criteria = [CriterionSpec(1, Decimal(1), is_critical=True)]
    outcome = evaluate(scale=SCALE, criteria=criteria, ratings={1: [2, 4]})
    assert outcome.criteria[1].failed_by_majority is False


def test_without_the_majority_rule_the_combined_rating_decides():
    criteria = [
        CriterionSpec(1, Decimal(1), is_critical=True),
        CriterionSpec(2, Decimal(5), is_critical=False),
    ]
    outcome = evaluate(
        scale=SCALE,
        criteria=criteria,
        ratings={1: [2, 2, 4], 2: [4, 4, 4]},
        critical_majority_fails=False,
    )
    assert outcome.criteria[1].combined == Decimal("2.667")
    assert outcome.passed is False  # combined below the pass level


def test_ratings_off_the_scale_or_missing_are_refused():
    criteria = [CriterionSpec(1, Decimal(1), is_critical=False)]
    with pytest.raises(ValueError, match="off the scale"):
        evaluate(scale=SCALE, criteria=criteria, ratings={1: [5]})
    with pytest.raises(ValueError, match="no rating"):
        evaluate(scale=SCALE, criteria=criteria, ratings={})
