"""Scoring with an assessment guide, as pure functions: combine the judges, weigh the criteria,
apply the critical-criterion rule. Level 2 (a panel) and level 3 (one observer) use the same."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MEAN, MEDIAN, TRIMMED_MEAN = "mean", "median", "trimmed_mean"
PLACES = Decimal("0.001")
SCORE_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Scale:
    minimum: int
    maximum: int
    pass_level: int  # a rating at or above this meets a criterion
    threshold: Decimal  # percent of the weighted maximum needed to pass


@dataclass(frozen=True)
class CriterionSpec:
    id: int
    weight: Decimal
    is_critical: bool


@dataclass(frozen=True)
class CriterionOutcome:
    combined: Decimal
    met: bool
    failed_by_majority: bool  # a critical criterion most judges rated below the pass level


@dataclass(frozen=True)
class Outcome:
    score: Decimal
    passed: bool
    criteria: dict[int, CriterionOutcome]
    vetoed_by: tuple[int, ...]  # critical criteria that failed the assessment on their own


def combine(ratings: Sequence[int], rule: str) -> Decimal:
    """Combine the judges' ratings of one criterion by the scenario's rule.

    The trimmed mean drops one highest and one lowest rating when there are three or more;
    with fewer it is the mean.
    """
    if not ratings:
        raise ValueError("no ratings to combine")
    values = sorted(Decimal(r) for r in ratings)
    if rule == MEDIAN:
        result = Decimal(statistics.median(values))
    elif rule == TRIMMED_MEAN and len(values) >= 3:
        kept = values[1:-1]
        result = sum(kept, Decimal(0)) / len(kept)
    elif rule in {MEAN, TRIMMED_MEAN}:
        result = sum(values, Decimal(0)) / len(values)
    else:
        raise ValueError(f"unknown combination rule {rule!r}")
    return result.quantize(PLACES, rounding=ROUND_HALF_UP)


def evaluate(
    *,
    scale: Scale,
    criteria: Sequence[CriterionSpec],
    ratings: Mapping[int, Sequence[int]],
    rule: str = MEAN,
    critical_majority_fails: bool = True,
) -> Outcome:
    """Score an assessment from every judge's rating of every criterion.

    ``ratings`` maps a criterion id to the judges' ratings of it. Each criterion's combined
    rating is placed on the scale (minimum 0%, maximum 100%) and weighted; the score is the
    weighted share of the maximum. It passes at or above the threshold, unless a critical
    criterion fails: rated below the pass level by a strict majority of judges (or, when the
    scenario does not use that rule, combined below the pass level).
    """
    span = Decimal(scale.maximum - scale.minimum)
    weighted = Decimal(0)
    total_weight = Decimal(0)
    outcomes: dict[int, CriterionOutcome] = {}
    vetoes: list[int] = []
    for criterion in criteria:
        given = ratings.get(criterion.id, ())
        if not given:
            raise ValueError(f"criterion {criterion.id} has no rating")
        if any(r < scale.minimum or r > scale.maximum for r in given):
            raise ValueError(f"a rating of criterion {criterion.id} is off the scale")
        combined = combine(given, rule)
        below = sum(1 for r in given if r < scale.pass_level)
        by_majority = criterion.is_critical and below * 2 > len(given)
        met = combined >= scale.pass_level
        outcomes[criterion.id] = CriterionOutcome(combined, met, by_majority)
        if criterion.is_critical and (by_majority if critical_majority_fails else not met):
            vetoes.append(criterion.id)
        weighted += criterion.weight * (combined - scale.minimum) / span
        total_weight += criterion.weight
    if total_weight == 0:
        raise ValueError("a guide needs at least one weighted criterion")
    score = (weighted / total_weight * 100).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)
    passed = score >= scale.threshold and not vetoes
    return Outcome(score=score, passed=passed, criteria=outcomes, vetoed_by=tuple(vetoes))
