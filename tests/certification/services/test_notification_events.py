"""The events that tell people something needs them: a test assigned, an assessment
scheduled (with the rep-facing guide), a sign-off waiting for a manager, support allocated."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from certification.models import Notification, NotificationKind, SupportRequest
from certification.services.assessments import session_schedule
from certification.services.exams import exam_assign, exam_publish
from certification.services.support import support_allocate, support_request_create
from tests.factories.accounts import UserFactory
from tests.factories.certification import (
    SubjectFactory,
    held_certification,
    make_exam,
    make_scenario,
)
from tests.factories.support import at, make_period, set_tier

pytestmark = pytest.mark.django_db


def _told(kind, **filters):
    return Notification.objects.filter(kind=kind, **filters)


# A test assigned -----------------------------------------------------------------------------


def test_a_team_assignment_tells_every_active_rep_of_its_subtree_once(org):
    exam = make_exam(title="Cloud basics", publish=True)
    exam_assign(exam=exam, teams=[org.alpha], actor=org.enablement)
    told = _told(NotificationKind.EXAM_ASSIGNED)
    # Alpha and Alpha-1 under it; not Beta's rep, not the inactive rep, not the managers.
    assert set(told.values_list("recipient", flat=True)) == {org.rep_a.pk, org.rep_a1.pk}
    note = told.get(recipient=org.rep_a)
    assert note.title == "Test assigned: Cloud basics"
    assert "30 minutes" in note.body
    assert "pass mark is 60%" in note.body
    assert note.link == reverse("certification:my_tests")
    assert note.sender == org.enablement
    # Assigning the same test to a rep the team already reached tells nobody again.
    exam_assign(exam=exam, reps=[org.rep_a, org.rep_b], actor=org.enablement)
    assert told.filter(recipient=org.rep_a).count() == 1
    assert told.filter(recipient=org.rep_b).count() == 1


def test_a_draft_tells_nobody_until_it_is_published(org):
    exam = make_exam(publish=False)
    due = datetime(2031, 1, 15, 12, tzinfo=UTC)
    exam_assign(exam=exam, reps=[org.rep_b], teams=[org.gamma], actor=None, due_at=due)
    assert not _told(NotificationKind.EXAM_ASSIGNED).exists()
    exam_publish(exam=exam, actor=org.enablement)
    told = _told(NotificationKind.EXAM_ASSIGNED)
    assert set(told.values_list("recipient", flat=True)) == {org.rep_b.pk, org.rep_c.pk}
    assert "Take it by 15 January 2031." in told.get(recipient=org.rep_c).body


def test_a_refused_assignment_tells_nobody(org):
    exam = make_exam()
    with pytest.raises(Exception, match="Only active reps"):
        exam_assign(exam=exam, reps=[org.rep_a, org.manager_b], actor=None)
    assert not _told(NotificationKind.EXAM_ASSIGNED).exists()


# An assessment scheduled ---------------------------------------------------------------------


def _schedule(org, **extra):
    scenario = make_scenario(title="Discovery with a CFO")
    session = session_schedule(
        scenario=scenario,
        rep=org.rep_a,
        scheduled_at=datetime(2031, 3, 3, 14, 30, tzinfo=UTC),
        judges=[org.manager_b, org.manager_c],
        owner=org.enablement,
        actor=org.enablement,
        location="Room 4",
        **extra,
    )
    return scenario, session


def test_the_rep_is_told_when_and_where_with_the_rep_facing_guide_only(org):
    org.rep_a.time_zone = "Asia/Tokyo"
    org.rep_a.save(update_fields=["time_zone"])
    player = UserFactory(display_name="Buyer Player")
    scenario, session = _schedule(org, role_player=player)
    note = _told(NotificationKind.ASSESSMENT_SCHEDULED).get(recipient=org.rep_a)
    assert note.title == "Role-play scheduled: Discovery with a CFO"
    # 14:30 UTC is 23:30 in Tokyo.
    assert "Monday 3 March 2031 at 23:30 (Asia/Tokyo)" in note.body
    assert "Where: Room 4" in note.body
    for criterion in session.guide_version.criteria.all():
        assert criterion.title in note.body
        assert criterion.rep_description in note.body
        assert criterion.judge_notes not in note.body
    assert scenario.buyer_brief not in note.body
    assert note.link == reverse("certification:session", args=[session.pk])
    assert note.sender == org.enablement


def test_the_panel_and_the_role_player_are_told_without_the_rep_facing_guide(org):
    player = UserFactory(display_name="Buyer Player")
    _schedule(org, role_player=player)
    told = _told(NotificationKind.ASSESSMENT_SCHEDULED)
    assert set(told.values_list("recipient", flat=True)) == {
        org.rep_a.pk,
        org.manager_b.pk,
        org.manager_c.pk,
        player.pk,
    }
    judge_note = told.get(recipient=org.manager_b)
    assert judge_note.title.startswith("You judge Rep Alpha's role-play")
    assert "play the buyer" in told.get(recipient=player).body
    assert "How you will be assessed" not in judge_note.body


# A sign-off waiting --------------------------------------------------------------------------


def test_level_2_tells_the_nearest_manager_a_field_sign_off_waits(org):
    subject = SubjectFactory(name="Acme Cloud")
    now = datetime(2030, 6, 1, 10, tzinfo=UTC)
    certification = held_certification(org.rep_a1, subject, 2, now=now)
    [note] = _told(NotificationKind.SIGNOFF_WAITING)
    # Alpha-1's manager, not Alpha's or the director above.
    assert note.recipient == org.manager_a1
    assert note.title == "Rep Alpha-1 is ready for a field sign-off: Acme Cloud"
    assert note.link == (
        reverse("certification:observation_new") + f"?rep={org.rep_a1.pk}&subject={subject.pk}"
    )
    assert note.event_key == f"cert:{certification.pk}:signoff"


def test_no_sign_off_waits_for_level_1_or_for_a_rep_who_holds_level_3(org):
    subject = SubjectFactory()
    now = datetime(2030, 6, 1, 10, tzinfo=UTC)
    held_certification(org.rep_b, subject, 1, now=now)
    held_certification(org.rep_b, subject, 3, now=now)
    held_certification(org.rep_b, subject, 2, now=now + timedelta(hours=1))
    assert not _told(NotificationKind.SIGNOFF_WAITING).exists()


def test_the_sign_off_link_opens_the_observation_form_with_rep_and_subject_chosen(org, client):
    subject = SubjectFactory()
    held_certification(org.rep_b, subject, 2, now=datetime(2030, 6, 1, 10, tzinfo=UTC))
    note = _told(NotificationKind.SIGNOFF_WAITING).get()
    client.force_login(org.manager_b)
    page = client.get(note.link)
    assert page.status_code == 200
    form = page.context["form"]
    assert str(form["rep"].value()) == str(org.rep_b.pk)
    assert str(form["subject"].value()) == str(subject.pk)


# Support allocated ---------------------------------------------------------------------------

MONDAY = date(2030, 3, 4)


def _support_case():
    period = make_period(MONDAY, capacity=10)
    gold, silver = UserFactory(rep=True), UserFactory(rep=True)
    set_tier(gold, "gold")
    set_tier(silver, "silver")
    before = at(MONDAY - timedelta(days=1))
    for rep in (gold, silver):
        support_request_create(
            rep=rep, period=period, purpose="Call my accounts", hours_requested=8, now=before
        )
    return period, gold, silver


def test_a_preview_before_the_period_tells_nobody(db):
    period, _, _ = _support_case()
    support_allocate(period=period, now=at(MONDAY - timedelta(days=1)))
    assert not _told(NotificationKind.SUPPORT_ALLOCATED).exists()


def test_the_first_days_allocation_tells_each_rep_its_hours_or_place_once(db):
    period, gold, silver = _support_case()
    support_allocate(period=period, now=at(MONDAY, 6))
    requests = {r.rep_id: r for r in SupportRequest.objects.filter(period=period)}
    told = _told(NotificationKind.SUPPORT_ALLOCATED)
    assert told.count() == 2
    for rep in (gold, silver):
        request = requests[rep.pk]
        note = told.get(recipient=rep)
        assert note.link == reverse("certification:support")
        assert request.reason in note.body
        if request.status == SupportRequest.Status.ALLOCATED:
            hours = f"{request.hours_allocated.normalize():f}"
            assert note.title == f"Teleprospecting support allocated: {hours} h"
        else:
            assert request.status == SupportRequest.Status.WAITING
            assert f"place {request.waiting_position}" in note.title
    # Gold first: 8 h to gold, the 2 h left to silver.
    assert requests[gold.pk].hours_allocated == 8
    # Running again decides the same: nobody is told twice.
    support_allocate(period=period, now=at(MONDAY, 9))
    assert told.count() == 2
