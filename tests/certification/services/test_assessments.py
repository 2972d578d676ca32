"""Guides and their versions; scheduling under the panel rules; scoring; release; secrecy."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from accounts.models import AuditEvent
from certification.models import AssessmentSession, Certification, GuideVersion, Scorecard
from certification.selectors.assessments import (
    scorecards_visible_to,
    session_feedback,
    session_view,
)
from certification.services.assessments import (
    RatingInput,
    scenario_update,
    scorecard_save,
    session_cancel,
    session_outcome,
    session_release,
    session_schedule,
)
from certification.services.guides import (
    CriterionInput,
    GuideContent,
    current_version,
    guide_update,
)
from config.errors import ApplicationError, ConflictError, NotFoundError
from tests.factories.accounts import UserFactory
from tests.factories.certification import make_guide, make_scenario

pytestmark = pytest.mark.django_db


def _schedule(org, scenario=None, judges=None, **extra):
    scenario = scenario or make_scenario()
    judges = judges if judges is not None else [org.manager_b, org.manager_c]
    return session_schedule(
        scenario=scenario,
        rep=org.rep_a,
        scheduled_at=timezone.now() + timedelta(days=2),
        judges=judges,
        owner=org.enablement,
        actor=org.enablement,
        **extra,
    )


def _all(session, rating, comment="Do more of this"):
    return {c.pk: RatingInput(rating, comment) for c in session.guide_version.criteria.all()}


# Guides -------------------------------------------------------------------------------------


def test_a_guide_needs_a_descriptor_for_every_point():
    content = GuideContent(
        criteria=[CriterionInput("Opening", "Opens well", {1: "a", 2: "b", 4: "d"})]
    )
    from certification.services.guides import guide_create

    with pytest.raises(ApplicationError, match="missing: 3"):
        guide_create(name="G", content=content, actor=None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scale_min": 4, "scale_max": 2}, "lowest point below"),
        ({"pass_level": 9}, "point of the scale"),
        ({"pass_threshold": Decimal(120)}, "0 to 100"),
        ({"criteria": []}, "at least one criterion"),
    ],
)
def test_guide_content_is_checked(changes, message):
    from certification.services.guides import guide_create

    base = {"criteria": [CriterionInput("A", "a", {1: "1", 2: "2", 3: "3", 4: "4"})]}
    with pytest.raises(ApplicationError, match=message):
        guide_create(name="G", content=GuideContent(**{**base, **changes}), actor=None)


def test_editing_an_unused_guide_edits_in_place_and_a_used_one_makes_a_version(org):
    guide = make_guide(criteria=2)
    v1 = current_version(guide)
    content = GuideContent(
        criteria=[CriterionInput("Only", "one now", {p: str(p) for p in range(1, 5)})],
    )
    assert guide_update(guide=guide, content=content, actor=None) == v1  # unused: in place
    assert [c.title for c in v1.criteria.all()] == ["Only"]
    session = _schedule(org, scenario=make_scenario(guide=guide))
    content2 = GuideContent(
        criteria=[CriterionInput("Changed", "again", {p: str(p) for p in range(1, 5)})],
    )
    v2 = guide_update(guide=guide, content=content2, actor=None)
    assert v2.number == 2
    session.refresh_from_db()
    assert session.guide_version == v1  # the session keeps the version it was scheduled with
    assert [c.title for c in GuideVersion.objects.get(pk=v1.pk).criteria.all()] == ["Only"]


# Panel rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("judges", "message"),
    [
        (lambda o: [o.manager_b], "at least 2 judges"),
        (lambda o: [o.manager_b, o.manager_b], "appears twice"),
        (lambda o: [o.manager_b, o.rep_a], "cannot judge their own"),
        (lambda o: [o.manager_b, o.manager_a], "own manager"),
        (lambda o: [o.manager_b, o.director], "own manager"),  # region head is a manager too
        (lambda o: [o.manager_b, o.inactive_rep], "Inactive people"),
    ],
)
def test_panel_rules_are_enforced_with_a_clear_error(org, judges, message):
    with pytest.raises(ApplicationError, match=message):
        _schedule(org, judges=judges(org))
    assert not AssessmentSession.objects.exists()


def test_own_manager_may_judge_when_the_scenario_allows(org):
    scenario = make_scenario(manager_may_judge=True)
    session = _schedule(org, scenario=scenario, judges=[org.manager_a, org.manager_b])
    assert set(session.panel.values_list("judge_id", flat=True)) == {
        org.manager_a.pk,
        org.manager_b.pk,
    }


def test_role_player_and_owner_rules(org):
    with pytest.raises(ApplicationError, match="cannot play the buyer"):
        _schedule(org, role_player=org.rep_a)
    with pytest.raises(ApplicationError, match="owner must be"):
        session_schedule(
            scenario=make_scenario(),
            rep=org.rep_a,
            scheduled_at=timezone.now(),
            judges=[org.manager_b, org.manager_c],
            owner=org.rep_b,
            actor=org.enablement,
        )
    session = session_schedule(
        scenario=make_scenario(),
        rep=org.rep_a,
        scheduled_at=timezone.now(),
        judges=[org.manager_b, org.manager_c],
        owner=org.manager_b,
        lead=org.manager_b,
        actor=org.enablement,
    )
    assert session.panel.get(judge=org.manager_b).is_lead


# What each person sees ------------------------------------------------------------------------


def test_the_rep_never_sees_the_buyer_brief_or_judge_notes(org):
    session = _schedule(org, role_player=org.rep_c)
    rep_view = session_view(session=session, user=org.rep_a)
    assert rep_view.buyer_brief is None
    assert all(c.judge_notes is None for c in rep_view.guide.criteria)
    assert [c.description for c in rep_view.guide.criteria] == [
        "What C1 looks for",
        "What C2 looks for",
        "What C3 looks for",
    ]
    for who in (org.manager_b, org.rep_c, org.enablement):  # judge, role-player, owner
        view = session_view(session=session, user=who)
        assert view.buyer_brief == session.scenario.buyer_brief
    assert session_view(session=session, user=org.rep_c).guide.criteria[0].judge_notes is None
    assert session_view(session=session, user=org.manager_b).guide.criteria[0].judge_notes


def test_a_rep_who_is_also_enablement_still_gets_no_buyer_brief(org):
    org.rep_a.is_enablement = True
    org.rep_a.save()
    session = _schedule(org)
    assert session_view(session=session, user=org.rep_a).buyer_brief is None


# Scoring ------------------------------------------------------------------------------------


def test_a_draft_can_be_partial_a_submission_cannot(org):
    session = _schedule(org)
    first = session.guide_version.criteria.first()
    card = scorecard_save(session=session, judge=org.manager_b, ratings={first.pk: RatingInput(4)})
    assert card.status == Scorecard.Status.DRAFT
    with pytest.raises(ApplicationError, match="Rate") as raised:
        scorecard_save(
            session=session, judge=org.manager_b, ratings={first.pk: RatingInput(4)}, submit=True
        )
    assert raised.value.code == "incomplete_scorecard"
    card.refresh_from_db()
    assert card.status == Scorecard.Status.DRAFT


def test_a_rating_below_the_pass_level_needs_an_actionable_comment(org):
    session = _schedule(org)
    ratings = _all(session, 4, comment="")
    low = session.guide_version.criteria.first()
    ratings[low.pk] = RatingInput(2, "")
    with pytest.raises(ApplicationError, match="below the pass level"):
        scorecard_save(session=session, judge=org.manager_b, ratings=ratings, submit=True)
    ratings[low.pk] = RatingInput(2, "Ask about budget before pitching")
    assert (
        scorecard_save(session=session, judge=org.manager_b, ratings=ratings, submit=True).status
        == Scorecard.Status.SUBMITTED
    )


def test_ratings_off_the_scale_or_for_other_criteria_are_refused(org):
    session = _schedule(org)
    criterion = session.guide_version.criteria.first()
    with pytest.raises(ApplicationError, match="between 1 and 4"):
        scorecard_save(session=session, judge=org.manager_b, ratings={criterion.pk: RatingInput(7)})
    with pytest.raises(ApplicationError, match="not in this guide"):
        scorecard_save(session=session, judge=org.manager_b, ratings={999_999: RatingInput(3)})


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "director", "enablement", "rep_b"])
def test_only_the_panel_scores(org, who):
    session = _schedule(org)  # the panel is manager_b and manager_c
    with pytest.raises(NotFoundError):
        scorecard_save(session=session, judge=getattr(org, who), ratings=_all(session, 3))
    assert not Scorecard.objects.exists()


def test_a_submitted_scorecard_does_not_change(org):
    session = _schedule(org)
    scorecard_save(session=session, judge=org.manager_b, ratings=_all(session, 3), submit=True)
    with pytest.raises(ConflictError):
        scorecard_save(session=session, judge=org.manager_b, ratings=_all(session, 4))


def test_judges_see_the_others_only_after_submitting_their_own(org):
    session = _schedule(org)
    scorecard_save(session=session, judge=org.manager_c, ratings=_all(session, 2), submit=True)
    scorecard_save(session=session, judge=org.manager_b, ratings=_all(session, 4))  # draft
    seen = scorecards_visible_to(session=session, user=org.manager_b)
    assert [card.judge for card in seen] == [org.manager_b]
    scorecard_save(session=session, judge=org.manager_b, ratings=_all(session, 4), submit=True)
    seen = scorecards_visible_to(session=session, user=org.manager_b)
    assert {card.judge for card in seen} == {org.manager_b, org.manager_c}
    assert scorecards_visible_to(session=session, user=org.rep_a) == []
    assert len(scorecards_visible_to(session=session, user=org.enablement)) == 2


# Release ------------------------------------------------------------------------------------


def test_release_waits_for_the_whole_panel(org):
    session = _schedule(org)
    scorecard_save(session=session, judge=org.manager_b, ratings=_all(session, 4), submit=True)
    with pytest.raises(ConflictError) as raised:
        session_release(session=session, actor=org.enablement)
    assert raised.value.code == "panel_incomplete"
    assert session_feedback(session=session) == []  # the rep sees nothing before release
    # Nothing partial is combined, so no preview shows one judge's ratings to another.
    assert session_outcome(session) is None


def test_a_rule_changed_after_scheduling_does_not_hold_the_result_back(org):
    session = _schedule(org)
    scenario = session.scenario
    scenario.min_judges = 3  # the panel of two met the rule when it was chosen
    scenario.save()
    for judge in (org.manager_b, org.manager_c):
        scorecard_save(session=session, judge=judge, ratings=_all(session, 4), submit=True)
    assert session_outcome(session) is not None
    released = session_release(session=session, actor=org.enablement)
    assert released.status == AssessmentSession.Status.RELEASED


def test_release_combines_certifies_and_shows_feedback(org):
    session = _schedule(org)
    scorecard_save(
        session=session, judge=org.manager_b, ratings=_all(session, 4, "Great"), submit=True
    )
    scorecard_save(
        session=session, judge=org.manager_c, ratings=_all(session, 3, "Solid"), submit=True
    )
    released = session_release(session=session, actor=org.enablement)
    assert (released.status, released.score, released.passed) == (
        AssessmentSession.Status.RELEASED,
        Decimal("83.33"),
        True,
    )
    certification = Certification.objects.get(rep=org.rep_a, level=2)
    assert certification.session == released
    feedback = session_feedback(session=released)
    assert [line.combined for line in feedback] == [Decimal("3.500")] * 3
    assert feedback[0].comments == ["Great", "Solid"]
    assert "Notes C1" not in str([line.criterion for line in feedback])
    again = session_release(session=session, actor=org.enablement)
    assert again.released_at == released.released_at
    assert Certification.objects.filter(rep=org.rep_a, level=2).count() == 1
    assert AuditEvent.objects.filter(action="session.released").count() == 1


def test_a_failing_critical_criterion_fails_the_session(org):
    scenario = make_scenario(guide=make_guide(critical=(0,)), min_judges=3)
    session = _schedule(
        org, scenario=scenario, judges=[org.manager_b, org.manager_c, org.enablement]
    )
    critical = session.guide_version.criteria.get(position=0)
    for judge, rating in ((org.manager_b, 2), (org.manager_c, 2), (org.enablement, 4)):
        ratings = _all(session, 4)
        ratings[critical.pk] = RatingInput(rating, "Thank the buyer and state the purpose")
        scorecard_save(session=session, judge=judge, ratings=ratings, submit=True)
    released = session_release(session=session, actor=org.enablement)
    assert released.score > Decimal(70)
    assert released.passed is False
    assert not Certification.objects.exists()


def test_only_the_owner_or_enablement_releases(org):
    session = _schedule(org)
    for judge in (org.manager_b, org.manager_c):
        scorecard_save(session=session, judge=judge, ratings=_all(session, 3), submit=True)
    for outsider in (org.rep_a, org.manager_b, org.manager_a):
        with pytest.raises(NotFoundError):
            session_release(session=session, actor=outsider)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_releases_issue_one_certification_on_postgresql(org):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    session = _schedule(org)
    for judge in (org.manager_b, org.manager_c):
        scorecard_save(session=session, judge=judge, ratings=_all(session, 4), submit=True)
    barrier, errors = threading.Barrier(4), []

    def release():
        try:
            barrier.wait()
            session_release(
                session=AssessmentSession.objects.get(pk=session.pk), actor=org.enablement
            )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=release) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Certification.objects.filter(rep=org.rep_a, level=2).count() == 1
    assert AuditEvent.objects.filter(action="session.released").count() == 1


def test_a_new_manager_judge_is_checked_against_the_whole_subtree(org):
    coach = UserFactory(manager=True)
    from accounts.services import team_update

    team_update(team=org.north, actor=org.admin, manager=coach)  # now leads the rep's region
    with pytest.raises(ApplicationError, match="own manager"):
        _schedule(org, judges=[org.manager_b, coach])


# Who else may sit on a session ---------------------------------------------------------------


def test_the_rep_does_not_own_or_cancel_their_own_session(org):
    org.rep_a.is_enablement = True
    org.rep_a.save()
    with pytest.raises(ApplicationError, match="cannot own their own session"):
        session_schedule(
            scenario=make_scenario(),
            rep=org.rep_a,
            scheduled_at=timezone.now() + timedelta(days=2),
            judges=[org.manager_b, org.manager_c],
            owner=org.rep_a,
            actor=org.enablement,
        )
    session = _schedule(org)
    with pytest.raises(NotFoundError):
        session_cancel(session=session, reason="Not ready", actor=org.rep_a)
    session.refresh_from_db()
    assert session.status == AssessmentSession.Status.SCHEDULED


def test_an_inactive_owner_is_refused(org):
    org.enablement.is_active = False
    org.enablement.save()
    with pytest.raises(ApplicationError, match="owner's account is inactive"):
        _schedule(org)


def test_a_rep_who_read_the_buyer_brief_is_not_assessed_on_the_scenario(org):
    scenario = make_scenario()
    session_schedule(
        scenario=scenario,
        rep=org.rep_b,
        scheduled_at=timezone.now() + timedelta(days=1),
        judges=[org.manager_a, org.manager_c],
        owner=org.enablement,
        actor=org.enablement,
        role_player=org.rep_a,  # rep A reads the brief as the buyer
    )
    with pytest.raises(ApplicationError, match="has read this scenario's buyer brief"):
        _schedule(org, scenario=scenario)
    assert AssessmentSession.objects.filter(rep=org.rep_a).count() == 0
    # ... and rep B, waiting for their own session on it, does not play the buyer for rep A
    # on another scenario's... the same scenario.
    with pytest.raises(ApplicationError, match="wait to be assessed on this scenario: Rep Beta"):
        session_schedule(
            scenario=scenario,
            rep=org.rep_c,
            scheduled_at=timezone.now() + timedelta(days=1),
            judges=[org.manager_a, org.manager_b],
            owner=org.enablement,
            actor=org.enablement,
            role_player=org.rep_b,
        )


def test_the_scoring_rules_do_not_change_under_a_scheduled_session(org):
    session = _schedule(org)
    scenario = session.scenario
    with pytest.raises(ConflictError) as raised:
        scenario_update(scenario=scenario, actor=org.enablement, combination="median")
    assert raised.value.code == "scenario_in_use"
    scenario.refresh_from_db()
    assert scenario.combination == "mean"
    # Other fields still change, and the audit keeps the new values.
    scenario_update(scenario=scenario, actor=org.enablement, buyer_brief="New persona")
    event = AuditEvent.objects.filter(action="scenario.updated").latest("pk")
    assert event.changes["values"] == {"buyer_brief": "New persona"}
    session_cancel(session=session, reason="Moved", actor=org.enablement)
    scenario_update(scenario=scenario, actor=org.enablement, combination="median")
    scenario.refresh_from_db()
    assert scenario.combination == "median"
