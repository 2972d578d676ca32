"""python manage.py seed_demo: a realistic, idempotent demo organisation, never in production."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import AuditEvent, Team, User
from accounts.selectors import reps_visible_to
from certification.models import (
    AssessmentSession,
    Attempt,
    Certification,
    Deal,
    Exam,
    Guide,
    Notification,
    NotificationKind,
    Question,
    RepTier,
    Scorecard,
    SignOff,
    Subject,
    TierChange,
    TierOverride,
)
from certification.selectors.assessments import judge_calibration
from certification.selectors.exams import exams_for_rep, item_analysis

pytestmark = pytest.mark.django_db


def _snapshot():
    people = sorted(
        User.objects.values_list(
            "email",
            "display_name",
            "team__name",
            "is_rep",
            "is_manager",
            "is_enablement",
            "is_teleprospecting_lead",
            "is_admin",
            "time_zone",
        )
    )
    teams = sorted(Team.objects.values_list("name", "kind", "parent__name", "manager__email"))
    levels23 = (
        AssessmentSession.objects.count(),
        SignOff.objects.count(),
        Scorecard.objects.count(),
        Guide.objects.count(),
        Deal.objects.count(),
        TierChange.objects.count(),
        TierOverride.objects.count(),
    )
    level1 = (
        Subject.objects.count(),
        Question.objects.count(),
        Exam.objects.count(),
        Attempt.objects.count(),
        Certification.objects.count(),
    )
    told = sorted(Notification.objects.values_list("recipient__email", "kind", "event_key"))
    return people, teams, level1, levels23, told, AuditEvent.objects.count()


def test_seed_builds_the_documented_organisation(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo organisation ready" in out.getvalue()
    assert Team.objects.filter(kind=Team.Kind.REGION).count() == 2
    assert Team.objects.filter(kind=Team.Kind.TEAM).exclude(manager=None).count() == 4
    assert User.objects.filter(is_rep=True).count() == 40
    lead = User.objects.get(email="lead@demo.test")
    manager = User.objects.get(email="manager@demo.test")
    rep = User.objects.get(email="rep@demo.test")
    assert lead.is_enablement
    assert manager.is_manager
    assert rep.is_rep
    for person in (lead, manager, rep):
        assert person.check_password("demo")
    assert rep in reps_visible_to(manager)
    assert reps_visible_to(manager).count() == 10
    assert reps_visible_to(lead).count() == 40
    # People work in their own time zones.
    assert User.objects.values("time_zone").distinct().count() > 5
    # Level 1: five published tests with history; the demo rep has one passed, Acme Cloud waiting.
    assert Exam.objects.filter(status=Exam.Status.PUBLISHED).count() == 5
    assert Question.objects.count() == 56
    assert Attempt.objects.count() > 100
    states = {row.exam.title: row.state for row in exams_for_rep(rep=rep, now=timezone.now())}
    assert states["Company essentials"] == "passed"
    assert states["Acme Cloud essentials"] == "not_started"
    flags = {
        s.title: s.flags
        for s in item_analysis(exam=Exam.objects.get(title="Acme Cloud essentials"))
    }
    assert "too easy" in flags["Cloud easy"]
    assert "discriminates negatively" in flags["Cloud pricing trap"]
    # Levels 2 and 3: the demo rep's role-play waits for the demo manager, the lead judge.
    pending = AssessmentSession.objects.get(rep=rep, status="scheduled")
    assert pending.owner == manager
    assert set(pending.panel.values_list("judge__email", "is_lead")) == {
        ("manager@demo.test", True),
        ("sofia.marin@demo.test", False),
    }
    assert pending.scorecards.get().status == "submitted"
    assert AssessmentSession.objects.filter(status="released").count() >= 8
    assert {r.judge for r in judge_calibration() if r.flagged} == {"Keisha Grant"}
    states = {
        (s.rep.email, bool(s.supersedes_id), hasattr(s, "revocation"))
        for s in SignOff.objects.select_related("rep")
    }
    assert ("rep@demo.test", False, False) in states
    assert any(superseding for _email, superseding, _revoked in states)
    assert any(revoked for _email, _superseding, revoked in states)
    # Tiers: a year of deals, every tier represented, the demo rep told what bronze needs.
    assert Deal.objects.filter(stage="won").count() > 50
    assert {"none", "bronze", "silver", "gold"} <= set(
        RepTier.objects.values_list("tier", flat=True)
    )
    mine = RepTier.objects.get(rep=rep)
    assert mine.tier == "none"
    assert mine.missing == [
        f"level 1 on {name}" for name in ("Acme Analytics", "Acme Cloud", "Acme Secure")
    ]
    assert TierOverride.objects.filter(ended_at__isnull=True).count() == 1
    # Notifications: the events have a history (a revocation only when the revoked sign-off
    # had passed, which depends on row ids); old ones read and emailed, the demo
    # rep's newest unread (the role-play and the level-3 certificate).
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {
        NotificationKind.EXAM_ASSIGNED,
        NotificationKind.ASSESSMENT_SCHEDULED,
        NotificationKind.FEEDBACK_RELEASED,
        NotificationKind.CERTIFICATION_ISSUED,
        NotificationKind.CERTIFICATION_EXPIRING,
        NotificationKind.CERTIFICATION_EXPIRED,
        NotificationKind.TIER_CHANGED,
        NotificationKind.SIGNOFF_WAITING,
        NotificationKind.OFFERING_VERSION,
    } <= kinds
    now = timezone.now()
    old = Notification.objects.filter(created_at__lt=now - timedelta(days=14))
    assert old.exists()
    assert not old.filter(read_at__isnull=True).exists()
    assert not old.filter(email_due_at__isnull=False, emailed_at__isnull=True).exists()
    unread = Notification.objects.filter(recipient=rep, read_at__isnull=True)
    assert {n.kind for n in unread} >= {
        NotificationKind.ASSESSMENT_SCHEDULED,
        NotificationKind.CERTIFICATION_ISSUED,
    }
    # Tests were assigned before anyone sat them.
    first_attempt = Attempt.objects.order_by("started_at").first()
    assigned = Notification.objects.filter(kind=NotificationKind.EXAM_ASSIGNED)
    assert assigned.order_by("-created_at").first().created_at < first_attempt.started_at
    assert assigned.filter(recipient=rep).count() == 5


def test_seed_is_idempotent(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    first = _snapshot()
    call_command("seed_demo", stdout=StringIO())
    assert _snapshot() == first  # same people, teams and not one new audit row


def test_seed_repairs_a_changed_demo_account(settings):
    settings.DEBUG = True
    settings.DEMO_SEEDERS = ["accounts.demo.seed"]  # only people matter here
    call_command("seed_demo", stdout=StringIO())
    rep = User.objects.get(email="rep@demo.test")
    rep.set_password("changed-it")
    rep.is_rep = False
    rep.save()
    call_command("seed_demo", stdout=StringIO())
    rep.refresh_from_db()
    assert rep.is_rep
    assert rep.check_password("demo")


def test_seed_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG off"):
        call_command("seed_demo", stdout=StringIO())
    assert not User.objects.exists()
