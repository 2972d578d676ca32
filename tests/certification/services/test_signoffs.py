"""Level 3: who may observe, observations, immutable sign-offs, corrections, revocations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from certification.models import (
    Certification,
    FieldObservation,
    SignOff,
    SignOffAcknowledgement,
)
from certification.rules import can_observe
from certification.selectors.assessments import signoffs_for_rep
from certification.services.assessments import RatingInput
from certification.services.signoffs import (
    delegation_create,
    observation_create,
    observation_save,
    observation_sign,
    signoff_acknowledge,
    signoff_correct,
    signoff_revoke,
    signoff_state,
)
from config.errors import ApplicationError, ConflictError, NotFoundError
from tests.conftest import require_service
from tests.factories.certification import SubjectFactory, make_guide

pytestmark = pytest.mark.django_db


def _observe(org, observer=None, **extra):
    guide = make_guide(critical=(0,))
    details = {
        "observed_on": timezone.localdate() - timedelta(days=1),
        "kind": "meeting",
        "crm_reference": "OPP-1042",
        "contact_title": "CFO",
        **extra,
    }
    return observation_create(
        rep=org.rep_a,
        observer=observer or org.manager_a,
        subject=SubjectFactory(name="Executive presence", kind="skill", current_version=""),
        guide=guide,
        **details,
    )


def _ratings(observation, rating, comment="Next time, quantify the value"):
    return {c.pk: RatingInput(rating, comment) for c in observation.guide_version.criteria.all()}


def _signed(org, rating=4):
    observation = _observe(org)
    observation_save(
        observation=observation, actor=org.manager_a, ratings=_ratings(observation, rating)
    )
    return observation, observation_sign(observation=observation, actor=org.manager_a)


# Who observes ------------------------------------------------------------------------------


def test_the_reps_managers_observe_and_nobody_else(org):
    assert can_observe(org.manager_a, org.rep_a)
    assert can_observe(org.director, org.rep_a)  # region head
    assert not can_observe(org.manager_b, org.rep_a)  # another team
    assert not can_observe(org.enablement, org.rep_a)  # enablement names delegates instead
    assert not can_observe(org.rep_b, org.rep_a)
    with pytest.raises(NotFoundError):
        _observe(org, observer=org.manager_b)
    assert not FieldObservation.objects.exists()


def test_a_delegate_observes_until_the_delegation_ends(org):
    delegation_create(
        delegate=org.manager_c,
        rep=org.rep_a,
        actor=org.enablement,
        expires_at=timezone.now() + timedelta(days=7),
    )
    assert can_observe(org.manager_c, org.rep_a)
    assert not can_observe(org.manager_c, org.rep_b)
    delegation_create(delegate=org.tp_lead, team=org.north, actor=org.enablement)
    assert can_observe(org.tp_lead, org.rep_a1)  # a sub-team of North
    from certification.models import ObserverDelegation

    ObserverDelegation.objects.filter(delegate=org.manager_c).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert not can_observe(org.manager_c, org.rep_a)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "lunch"}, "kind"),
        ({"crm_reference": " "}, "crm_reference"),
        ({"contact_title": ""}, "contact_title"),
        ({"observed_on": timezone.localdate() + timedelta(days=1)}, "observed_on"),
    ],
)
def test_observation_details_are_checked(org, changes, field):
    with pytest.raises(ApplicationError) as raised:
        _observe(org, **changes)
    assert field in raised.value.field_errors


# Signing -----------------------------------------------------------------------------------


def test_signing_needs_every_rating_and_actionable_comments(org):
    observation = _observe(org)
    with pytest.raises(ApplicationError, match="Rate"):
        observation_sign(observation=observation, actor=org.manager_a)
    observation_save(
        observation=observation, actor=org.manager_a, ratings=_ratings(observation, 2, comment="")
    )
    with pytest.raises(ApplicationError, match="below the pass level"):
        observation_sign(observation=observation, actor=org.manager_a)
    assert not SignOff.objects.exists()


def test_a_passing_sign_off_certifies_level_3_and_freezes_what_was_signed(org):
    observation, signoff = _signed(org, rating=4)
    assert (signoff.score, signoff.passed) == (100, True)
    assert [r["title"] for r in signoff.ratings] == ["C1", "C2", "C3"]
    certification = Certification.objects.get(rep=org.rep_a, level=3)
    assert certification.signoff == signoff
    observation.refresh_from_db()
    assert observation.status == FieldObservation.Status.SIGNED
    with pytest.raises(ConflictError):
        observation_save(
            observation=observation, actor=org.manager_a, ratings=_ratings(observation, 1)
        )


def test_a_critical_criterion_below_the_pass_level_fails(org):
    observation = _observe(org)
    ratings = _ratings(observation, 4)
    critical = observation.guide_version.criteria.get(position=0)
    ratings[critical.pk] = RatingInput(2, "Open with the executive's agenda")
    observation_save(observation=observation, actor=org.manager_a, ratings=ratings)
    signoff = observation_sign(observation=observation, actor=org.manager_a)
    assert signoff.passed is False
    assert not Certification.objects.exists()


def test_only_the_observer_edits_or_signs(org):
    observation = _observe(org)
    with pytest.raises(NotFoundError):
        observation_save(
            observation=observation, actor=org.director, ratings=_ratings(observation, 4)
        )


# Corrections, revocations, acknowledgements -----------------------------------------------------


def test_a_correction_supersedes_and_keeps_the_original(org):
    observation, first = _signed(org, rating=4)
    second = signoff_correct(
        signoff=first,
        actor=org.manager_a,
        ratings=_ratings(observation, 4, comment="Corrected: the CFO asked about payback"),
        reason="Wrong meeting notes",
    )
    first.refresh_from_db()
    assert second.supersedes == first
    assert first.ratings[0]["rating"] == 4  # untouched
    assert signoff_state(first) == "superseded"
    assert Certification.objects.get(rep=org.rep_a, level=3).signoff == second
    with pytest.raises(ConflictError):
        signoff_correct(
            signoff=first, actor=org.manager_a, ratings=_ratings(observation, 4), reason="again"
        )


def test_a_correction_that_fails_revokes_the_certification(org):
    observation, first = _signed(org, rating=4)
    signoff_correct(
        signoff=first,
        actor=org.manager_a,
        ratings=_ratings(observation, 1),
        reason="The buyer was not an executive",
    )
    certification = Certification.objects.get(rep=org.rep_a, level=3)
    assert certification.status == Certification.Status.REVOKED
    assert "no longer passing" in certification.revoked_reason


def test_revocation_needs_a_reason_and_revokes_the_certification(org):
    _observation, signoff = _signed(org)
    with pytest.raises(ApplicationError, match="why"):
        signoff_revoke(signoff=signoff, actor=org.enablement, reason="  ")
    with pytest.raises(NotFoundError):
        signoff_revoke(signoff=signoff, actor=org.manager_b, reason="not mine")
    signoff_revoke(signoff=signoff, actor=org.enablement, reason="Observed on a demo call")
    assert signoff_state(SignOff.objects.get(pk=signoff.pk)) == "revoked"
    assert Certification.objects.get(rep=org.rep_a, level=3).status == "revoked"


def test_the_rep_acknowledges_once(org):
    _observation, signoff = _signed(org)
    with pytest.raises(NotFoundError):
        signoff_acknowledge(signoff=signoff, rep=org.rep_b)
    first = signoff_acknowledge(signoff=signoff, rep=org.rep_a)
    again = signoff_acknowledge(signoff=signoff, rep=org.rep_a)
    assert first.pk == again.pk
    assert SignOffAcknowledgement.objects.count() == 1
    row = signoffs_for_rep(rep=org.rep_a).get()
    assert row.acknowledgement.acknowledged_at == first.acknowledged_at


@pytest.mark.services
def test_the_database_refuses_to_change_or_delete_a_sign_off(org):
    if connection.vendor != "postgresql":
        require_service("PostgreSQL", "DATABASE_URL")
        pytest.skip("the trigger is PostgreSQL's")
    _observation, signoff = _signed(org)
    # Straight to the database, past Django's own protections.
    for sql in (
        "UPDATE certification_signoff SET score = 0 WHERE id = %s",
        "DELETE FROM certification_signoff WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="cannot be changed or deleted"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [signoff.pk])
    signoff.refresh_from_db()
    assert signoff.score == 100


# Who may amend a sign-off ------------------------------------------------------------------


def test_a_rep_who_is_also_enablement_cannot_correct_or_revoke_their_own_sign_off(org):
    _observation, signoff = _signed(org, rating=1)  # failing: nothing certified
    org.rep_a.is_enablement = True
    org.rep_a.save()
    with pytest.raises(NotFoundError):
        signoff_correct(
            signoff=signoff,
            actor=org.rep_a,
            ratings=_ratings(signoff.observation, 4),
            reason="I was better than that",
        )
    with pytest.raises(NotFoundError):
        signoff_revoke(signoff=signoff, actor=org.rep_a, reason="Unfair")
    assert signoff_state(signoff) == "current"
    assert not Certification.objects.filter(rep=org.rep_a, level=3).exists()


def test_a_signer_who_no_longer_manages_the_rep_cannot_amend(org):
    _observation, signoff = _signed(org, rating=1)
    org.rep_a.team = org.gamma  # moved to another manager's team
    org.rep_a.save()
    signoff = SignOff.objects.get(pk=signoff.pk)  # as a later request reads it
    with pytest.raises(NotFoundError):
        signoff_correct(
            signoff=signoff,
            actor=org.manager_a,
            ratings=_ratings(signoff.observation, 4),
            reason="Second look",
        )
    with pytest.raises(NotFoundError):
        signoff_revoke(signoff=signoff, actor=org.manager_a, reason="Second look")
    # Enablement still may, and the rep's new manager sees it but does not amend it.
    revocation = signoff_revoke(signoff=signoff, actor=org.enablement, reason="Wrong rep")
    assert revocation.revoked_by == org.enablement
    assert not SignOff.objects.filter(supersedes=signoff).exists()


def test_only_the_current_sign_off_is_acknowledged(org):
    _observation, signoff = _signed(org)
    signoff_revoke(signoff=signoff, actor=org.manager_a, reason="Wrong meeting")
    with pytest.raises(ConflictError):
        signoff_acknowledge(signoff=signoff, rep=org.rep_a)
    assert not SignOffAcknowledgement.objects.exists()


def test_an_observation_uses_a_guide_for_its_subject_and_an_active_subject(org):
    other = SubjectFactory(name="Discovery")
    guide = make_guide()
    guide.subject = other
    guide.save()
    details = {
        "observed_on": timezone.localdate() - timedelta(days=1),
        "kind": "meeting",
        "crm_reference": "OPP-1",
        "contact_title": "CFO",
    }
    subject = SubjectFactory(name="Executive presence")
    with pytest.raises(ApplicationError) as raised:
        observation_create(
            rep=org.rep_a, observer=org.manager_a, subject=subject, guide=guide, **details
        )
    assert "guide" in raised.value.field_errors
    retired = SubjectFactory(name="Old offering", is_active=False)
    with pytest.raises(ApplicationError) as raised:
        observation_create(
            rep=org.rep_a, observer=org.manager_a, subject=retired, guide=make_guide(), **details
        )
    assert "subject" in raised.value.field_errors
    assert not FieldObservation.objects.exists()
