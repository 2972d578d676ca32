"""The access matrix's world: one organisation, rep A's records of every kind, and the people
who ask for them (one per role).

The world is built once per module inside a transaction that is rolled back at the end; every
request the matrix makes runs in a savepoint of its own that is rolled back too, so each
(route, role) pair sees the same world whatever the requests before it wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.services import api_token_create, api_token_revoke
from certification.models import (
    AssessmentSession,
    Attempt,
    Choice,
    ExamAssignment,
    ExportJob,
    FieldObservation,
    Notification,
    Question,
    Subject,
)
from certification.selectors.readiness import ReportFilters
from certification.services.assessments import (
    RatingInput,
    scorecard_save,
    session_release,
    session_schedule,
)
from certification.services.attempts import attempt_answer, attempt_finish, attempt_start
from certification.services.deals import currency_rate_set
from certification.services.exports import export_run, export_start
from certification.services.notifications import preferences_token
from certification.services.readiness import requirement_save
from certification.services.signoffs import (
    delegation_create,
    observation_create,
    observation_save,
    observation_sign,
)
from certification.services.support import period_create, support_request_create
from certification.services.tiers import tier_override_set
from tests.conftest import Org, build_org
from tests.factories.accounts import UserFactory
from tests.factories.certification import (
    SubjectFactory,
    held_certification,
    make_exam,
    make_guide,
    make_scenario,
)

# Strings planted in rep A's records. Each must reach only the people the product allows.
KEY_FEEDBACK = "ANSWER-KEY-FEEDBACK-7f3a"  # every choice's feedback in A's open attempt
KEY_GENERAL = "ANSWER-KEY-GENERAL-9c1e"  # every question's general feedback there
PANEL_FEEDBACK = "PANEL-FEEDBACK-FOR-A-4b2d"  # the judges' comments on A's released role-play
# On A's next role-play, not released: judge_on's draft, and the other judge's submitted scores.
DRAFT_SCORES = "DRAFT-SCORES-OF-JUDGE-ON-3c5e"
PANEL_SCORES = "SUBMITTED-SCORES-BEFORE-RELEASE-8d1f"
SIGNOFF_COMMENT = "SIGNOFF-COMMENT-FOR-A-6e8f"  # the manager's comments on A in the field
TIER_REASON = "TIER-REASON-FOR-A-2d7c"  # why A is gold (an override's reason)
SUPPORT_PURPOSE = "SUPPORT-PURPOSE-OF-A-5a9b"  # what A asked teleprospecting support for
# Who A is: no other rep, no manager of another team and no judge of another panel learns it.
A_NAME = "Avery Marker-A"
A_EMAIL = "avery.marker-a@example.test"

ROLES = (
    "anonymous",
    "rep_a",
    "rep_b",
    "manager_a",
    "manager_other",
    "judge_on",
    "judge_off",
    "role_player",
    "enablement",
    "tp_lead",
    "admin",
)


@dataclass
class World:
    """Rep A's records and the people of the matrix, by role name."""

    org: Org
    people: dict[str, User]  # role -> person (no one for "anonymous")
    # URL keyword -> rep A's object of that kind, which every route is resolved with.
    ids: dict[str, Any]
    # What a route may use instead (A's finished attempt, A's session still being scored...)
    # and the payloads of the writes.
    named: dict[str, Any]
    # The secrets of A's scenarios and guides (the factories plant them).
    buyer_briefs: list[str] = field(default_factory=list)
    judge_notes: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # scope name -> rep A's raw token
    sessions: dict[str, str] = field(default_factory=dict)  # role -> session key


def _session_with_panel(org, rep, judges, role_player, *, days: int = 2):
    scenario = make_scenario(guide=make_guide(criteria=2, critical=(0,)))
    session = session_schedule(
        scenario=scenario,
        rep=rep,
        scheduled_at=timezone.now() + timedelta(days=days),
        judges=judges,
        owner=org.enablement,
        actor=org.enablement,
        role_player=role_player,
        location="Room 4",
    )
    return scenario, session


def _score(session, judge, *, submit: bool = True, comment: str = PANEL_FEEDBACK):
    criteria = session.guide_version.criteria.all()
    return scorecard_save(
        session=session,
        judge=judge,
        ratings={c.pk: RatingInput(4, f"{comment} on {c.title}") for c in criteria},
        overall_comment=f"{comment} overall",
        submit=submit,
    )


def build_world() -> World:
    """Build the organisation, the people of each role and rep A's records."""
    org = build_org()
    now = timezone.now()
    org.rep_a.display_name, org.rep_a.email = A_NAME, A_EMAIL
    org.rep_a.save(update_fields=["display_name", "email"])
    judge_on = UserFactory(display_name="Judge On A's Panel")
    judge_off = UserFactory(display_name="Judge Off A's Panel")
    second_judge = UserFactory(display_name="Second Judge")
    role_player = UserFactory(display_name="Role Player")
    people = {
        "rep_a": org.rep_a,
        "rep_b": org.rep_b,
        "manager_a": org.manager_a,
        "manager_other": org.manager_b,
        "judge_on": judge_on,
        "judge_off": judge_off,
        "role_player": role_player,
        "enablement": org.enablement,
        "tp_lead": org.tp_lead,
        "admin": org.admin,
    }

    # Level 1: a test with a finished (failed) attempt and one in progress.
    exam = make_exam(questions=3, assign_to=[org.rep_a, org.rep_b], max_attempts=5)
    banks = exam.sections.values_list("bank_id", flat=True)
    Choice.objects.filter(question__bank__in=banks).update(feedback=KEY_FEEDBACK)
    Question.objects.filter(bank__in=banks).update(general_feedback=KEY_GENERAL)
    finished = attempt_finish(attempt=attempt_start(exam=exam, rep=org.rep_a).attempt)
    in_progress = attempt_start(exam=exam, rep=org.rep_a).attempt
    first = in_progress.items.order_by("position").first()
    attempt_answer(
        attempt_id=in_progress.pk,
        rep=org.rep_a,
        question_id=first.question_id,
        choice_ids=[first.snapshot["choices"][0]["id"]],
    )
    attempt_start(exam=exam, rep=org.rep_b)  # B takes the same test: B's own attempt
    question = first.question
    assignment = ExamAssignment.objects.filter(exam=exam, rep=org.rep_a).get()

    # A certification of A's (with its public verification id).
    offering = SubjectFactory(name="Acme Cloud", kind=Subject.Kind.OFFERING)
    certification = held_certification(org.rep_a, offering, 1, now=now)

    # Level 2: A's released role-play (feedback), and A's next one still being scored.
    released_scenario, released = _session_with_panel(
        org, org.rep_a, [judge_on, second_judge], role_player
    )
    _score(released, judge_on)
    _score(released, second_judge)
    released = session_release(session=released, actor=org.enablement)
    scenario, scheduled = _session_with_panel(
        org, org.rep_a, [judge_on, second_judge], role_player, days=9
    )
    _score(scheduled, judge_on, submit=False, comment=DRAFT_SCORES)
    _score(scheduled, second_judge, comment=PANEL_SCORES)
    # judge_off judges rep B, on another scenario: a judge, but not on A's panel.
    _session_with_panel(
        org, org.rep_b, [judge_off, second_judge], UserFactory(display_name="Buyer B")
    )

    # Level 3: A's manager observed A twice; one is signed, one still a draft.
    guide3 = make_guide(criteria=2)
    field_subject = SubjectFactory(name="Executive presence", kind=Subject.Kind.SKILL)

    def observe():
        return observation_create(
            rep=org.rep_a,
            observer=org.manager_a,
            subject=field_subject,
            guide=guide3,
            observed_on=timezone.localdate() - timedelta(days=1),
            kind="meeting",
            crm_reference="OPP-1042",
            contact_title="CFO",
        )

    signed = observe()
    observation_save(
        observation=signed,
        actor=org.manager_a,
        ratings={
            c.pk: RatingInput(4, f"{SIGNOFF_COMMENT} on {c.title}")
            for c in signed.guide_version.criteria.all()
        },
        comment=SIGNOFF_COMMENT,
    )
    signoff = observation_sign(observation=signed, actor=org.manager_a)
    draft = observe()
    observation_save(
        observation=draft,
        actor=org.manager_a,
        ratings={c.pk: RatingInput(4, "Good") for c in draft.guide_version.criteria.all()},
    )
    delegation = delegation_create(
        delegate=UserFactory(display_name="Field Delegate"), actor=org.enablement, rep=org.rep_a
    )

    # Tiers: A is gold by enablement's override, whose reason shows in A's tier reasons.
    override = tier_override_set(
        rep=org.rep_a,
        tier="gold",
        reason=TIER_REASON,
        ends_on=timezone.localdate() + timedelta(days=30),
        actor=org.enablement,
    )

    # Teleprospecting support: A asked for some in the current period.
    period = period_create(
        starts_on=timezone.localdate() - timedelta(days=1),
        ends_on=timezone.localdate() + timedelta(days=5),
        capacity_hours=Decimal(20),
        actor=org.tp_lead,
    )
    support_request = support_request_create(
        rep=org.rep_a, period=period, purpose=SUPPORT_PURPOSE, hours_requested=Decimal(4)
    )

    # Readiness: a requirement for A's team, and A's manager's finished export.
    requirement = requirement_save(
        actor=org.enablement, offering=offering, items=[(offering, 1)], team=org.alpha
    )
    job = export_start(owner=org.manager_a, table="matrix", format="csv", filters=ReportFilters())
    export_run(job_id=job.pk)
    assert ExportJob.objects.get(pk=job.pk).status == ExportJob.Status.DONE

    rate = currency_rate_set(currency="EUR", rate_to_base=Decimal("1.1"), actor=org.enablement)
    notification = Notification.objects.filter(recipient=org.rep_a).order_by("pk").first()
    assert notification is not None, "rep A should have been notified of something"
    token, raw = api_token_create(user=org.rep_a, name="A's CRM sync")
    tokens = {"read,write": raw}
    for name, scopes in (("read", ["read"]), ("write", ["write"]), ("support", ["support"])):
        tokens[name] = api_token_create(user=org.rep_a, name=f"A {name}", scopes=scopes)[1]
    revoked, tokens["revoked"] = api_token_create(user=org.rep_a, name="A revoked")
    api_token_revoke(token=revoked, actor=org.rep_a)

    ids = {
        "exam_id": exam.pk,
        "attempt_id": in_progress.pk,
        "question_id": question.pk,
        "bank_id": question.bank_id,
        "subject_id": offering.pk,
        "assignment_id": assignment.pk,
        "guide_id": released_scenario.guide_id,
        "scenario_id": released_scenario.pk,
        "session_id": released.pk,
        "observation_id": draft.pk,
        "signoff_id": signoff.pk,
        "delegation_id": delegation.pk,
        "request_id": support_request.pk,
        "period_id": period.pk,
        "rate_id": rate.pk,
        "rep_id": org.rep_a.pk,
        "override_id": override.pk,
        "certification_id": certification.pk,
        "requirement_id": requirement.pk,
        "job_id": job.pk,
        "public_id": certification.public_id,
        "notification_id": notification.pk,
        "token": preferences_token(user=org.rep_a),
        "uidb64": urlsafe_base64_encode(force_bytes(org.rep_a.pk)),
        "token_id": token.pk,
        "team_id": org.alpha.pk,
        "user_id": org.rep_a.pk,
    }
    scheduled_criteria = list(scheduled.guide_version.criteria.order_by("position"))
    signed_criteria = list(signed.guide_version.criteria.order_by("position"))
    named = {
        "choice_id": first.snapshot["choices"][0]["id"],
        "finished_attempt": finished.pk,
        "scheduled_session": scheduled.pk,
        "reset_token": default_token_generator.make_token(org.rep_a),
        # A judge's scores for A's scheduled session, as the page and the API take them.
        "rating_form": {
            **{f"rating_{c.pk}": "3" for c in scheduled_criteria},
            **{f"comment_{c.pk}": "Solid opening" for c in scheduled_criteria},
            "overall_comment": "Good",
        },
        "rating_json": {
            "ratings": [
                {"criterion": c.pk, "rating": 3, "comment": "Solid opening"}
                for c in scheduled_criteria
            ],
            "overall_comment": "Good",
        },
        # An observer's ratings of A in the field (the draft, or a correction of the sign-off).
        "observation_ratings": [
            {"criterion": c.pk, "rating": 3, "comment": "Fine"}
            for c in draft.guide_version.criteria.order_by("position")
        ],
        "signoff_ratings": [
            {"criterion": c.pk, "rating": 3, "comment": "Fine"} for c in signed_criteria
        ],
        "signoff_form": {
            **{f"rating_{c.pk}": "3" for c in signed_criteria},
            **{f"comment_{c.pk}": "Fine" for c in signed_criteria},
        },
        "observation_json": {
            "rep": org.rep_a.pk,
            "subject": field_subject.pk,
            "guide": guide3.pk,
            "observed_on": (timezone.localdate() - timedelta(days=2)).isoformat(),
            "kind": "meeting",
            "crm_reference": "OPP-2001",
            "contact_title": "CEO",
        },
    }
    assert Attempt.objects.get(pk=finished.pk).status != Attempt.Status.IN_PROGRESS
    assert AssessmentSession.objects.get(pk=released.pk).status == "released"
    assert FieldObservation.objects.get(pk=draft.pk).status == "draft"
    secrets = {
        "buyer_briefs": [released_scenario.buyer_brief, scenario.buyer_brief],
        "judge_notes": [
            c.judge_notes
            for s in (released, scheduled)
            for c in s.guide_version.criteria.all()
            if c.judge_notes
        ],
    }
    return World(org=org, people=people, ids=ids, named=named, tokens=tokens, **secrets)


@pytest.fixture(scope="module")
def access_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Rep A's world, built once per module and rolled back after it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            for role, person in built.people.items():
                client = Client()
                client.force_login(person)
                built.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def matrix_world(access_world: World, db: None) -> World:
    """The module's world, inside this test's own transaction."""
    return access_world
