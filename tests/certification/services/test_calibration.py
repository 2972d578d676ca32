"""Judge calibration on a hand-computed example."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from certification.selectors import assessments as selectors
from certification.selectors.assessments import judge_calibration
from certification.services.assessments import (
    RatingInput,
    scorecard_save,
    session_release,
    session_schedule,
)
from tests.factories.certification import make_guide, make_scenario

pytestmark = pytest.mark.django_db


def _released(org, ratings_by_judge):
    scenario = make_scenario(guide=make_guide(criteria=2), min_judges=3)
    session = session_schedule(
        scenario=scenario,
        rep=org.rep_a,
        scheduled_at=timezone.now(),
        judges=list(ratings_by_judge),
        owner=org.enablement,
        actor=org.enablement,
    )
    criteria = list(session.guide_version.criteria.all())
    for judge, values in ratings_by_judge.items():
        scorecard_save(
            session=session,
            judge=judge,
            submit=True,
            ratings={
                c.pk: RatingInput(v, "Be specific") for c, v in zip(criteria, values, strict=True)
            },
        )
    return session_release(session=session, actor=org.enablement)


def test_deviation_from_the_panel_per_judge(org, monkeypatch):
    # Panel combined (mean): criterion 1 = (4+2+3)/3 = 3, criterion 2 = (4+1+4)/3 = 3.
    # manager_b rated 4 and 4: deviations +1, +1 -> mean +1, within one point 2/2.
    # manager_c rated 2 and 1: deviations -1, -2 -> mean -1.5, within one 1/2.
    # enablement rated 3 and 4: deviations 0, +1 -> mean +0.5, within one 2/2.
    _released(org, {org.manager_b: (4, 4), org.manager_c: (2, 1), org.enablement: (3, 4)})
    monkeypatch.setattr(selectors, "CALIBRATION_MIN_RATINGS", 2)
    rows = {row.judge_id: row for row in judge_calibration()}
    b, c, e = rows[org.manager_b.pk], rows[org.manager_c.pk], rows[org.enablement.pk]
    assert (b.ratings, b.sessions, b.mean_deviation, b.within_one) == (2, 1, 1.0, 1.0)
    assert (c.mean_deviation, c.mean_absolute_deviation, c.within_one) == (-1.5, 1.5, 0.5)
    assert (e.mean_deviation, e.within_one) == (0.5, 1.0)
    assert b.reasons == ("rates higher than the panel",)
    assert set(c.reasons) == {
        "rates lower than the panel",
        "often more than a point from the panel",
    }
    assert e.flagged is False  # 0.5 is not beyond the threshold


def test_period_and_minimum_count(org):
    _released(org, {org.manager_b: (4, 4), org.manager_c: (2, 1), org.enablement: (3, 4)})
    rows = judge_calibration()
    assert not any(row.flagged for row in rows)  # too few ratings to flag yet
    assert judge_calibration(since=timezone.now() + timedelta(days=1)) == []
