"""Level 3: delegations, field observations, sign-offs (immutable evidence), corrections,
revocations and the rep's acknowledgement."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Team, User
from accounts.services import audit_record
from certification.models import (
    Certification,
    FieldObservation,
    Guide,
    GuideVersion,
    InteractionKind,
    ObservationRating,
    ObserverDelegation,
    SignOff,
    SignOffAcknowledgement,
    SignOffRevocation,
    Subject,
)
from certification.rules import can_amend_signoff, can_observe
from certification.services.assessments import RatingInput, check_ratings
from certification.services.certifications import certification_issue, certification_revoke
from certification.services.guides import current_version, lock_guide
from certification.services.rubric import CriterionSpec, Outcome, Scale, evaluate
from config.errors import ApplicationError, ConflictError, NotFoundError

# Delegations -----------------------------------------------------------------------------------


@transaction.atomic
def delegation_create(
    *,
    delegate: User,
    actor: User,
    rep: User | None = None,
    team: Team | None = None,
    expires_at: datetime | None = None,
) -> ObserverDelegation:
    """Let someone other than the rep's manager observe a rep, or every rep of a team."""
    if (rep is None) == (team is None):
        raise ApplicationError("Name a rep or a team.", field_errors={"rep": ["Rep or team."]})
    if not delegate.is_active:
        raise ApplicationError(
            "The delegate's account is inactive.", field_errors={"delegate": ["Inactive."]}
        )
    if rep is not None and rep.pk == delegate.pk:
        raise ApplicationError("Nobody observes themself.", field_errors={"delegate": ["Self."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(
            "The end date must be in the future.", field_errors={"expires_at": ["In the past."]}
        )
    delegation = ObserverDelegation.objects.create(
        delegate=delegate, rep=rep, team=team, named_by=actor, expires_at=expires_at
    )
    audit_record(
        actor=actor,
        action="delegation.created",
        target=delegation,
        changes={
            "delegate": delegate.email,
            "rep": rep.email if rep else None,
            "team": team.name if team else None,
        },
    )
    return delegation


@transaction.atomic
def delegation_remove(*, delegation: ObserverDelegation, actor: User) -> None:
    """Withdraw a delegation; sign-offs already made stay."""
    audit_record(
        actor=actor,
        action="delegation.removed",
        target=delegation,
        changes={
            "delegate": delegation.delegate.email,
            "rep": delegation.rep.email if delegation.rep else None,
            "team": delegation.team.name if delegation.team else None,
        },
    )
    delegation.delete()


# Observations ----------------------------------------------------------------------------------


def _check_details(*, observed_on: date, kind: str, crm_reference: str, contact_title: str) -> None:
    if kind not in InteractionKind.values:
        raise ApplicationError(
            "Say what kind of interaction it was.",
            field_errors={"kind": ["Call, meeting or executive presentation."]},
        )
    if not isinstance(observed_on, date) or observed_on > timezone.localdate():
        raise ApplicationError(
            "The interaction must have happened already.",
            field_errors={"observed_on": ["A past or today's date."]},
        )
    for name, value, label in (
        ("crm_reference", crm_reference, "the CRM opportunity or meeting id"),
        ("contact_title", contact_title, "the customer contact's title"),
    ):
        if not value.strip():
            raise ApplicationError(f"Give {label}.", field_errors={name: ["Required."]})


@transaction.atomic
def observation_create(
    *,
    rep: User,
    observer: User,
    subject: Subject,
    guide: Guide,
    observed_on: date,
    kind: str,
    crm_reference: str,
    contact_title: str,
    comment: str = "",
) -> FieldObservation:
    """Start recording a field observation of a rep, scored with the guide's current version."""
    if not can_observe(observer, rep):
        raise NotFoundError("You cannot observe this rep.")
    if not subject.is_active:
        raise ApplicationError("This subject is retired.", field_errors={"subject": ["Retired."]})
    guide = lock_guide(guide)  # an edit at the same moment cannot change the version used
    if guide.subject_id is not None and guide.subject_id != subject.pk:
        raise ApplicationError(
            "This guide is for another subject.",
            field_errors={"guide": ["Choose a guide for this subject, or one for any subject."]},
        )
    _check_details(
        observed_on=observed_on, kind=kind, crm_reference=crm_reference, contact_title=contact_title
    )
    observation = FieldObservation.objects.create(
        rep=rep,
        observer=observer,
        subject=subject,
        guide_version=current_version(guide),
        observed_on=observed_on,
        kind=kind,
        crm_reference=crm_reference.strip(),
        contact_title=contact_title.strip(),
        comment=comment.strip(),
    )
    audit_record(
        actor=observer,
        action="observation.created",
        target=observation,
        changes={"rep": rep.email, "crm_reference": observation.crm_reference},
    )
    return observation


def _draft_for(observation: FieldObservation, actor: User) -> FieldObservation:
    locked = (
        FieldObservation.objects.select_for_update()
        .select_related("guide_version", "rep")
        .get(pk=observation.pk)
    )
    if locked.observer_id != actor.pk:
        raise NotFoundError("This observation is not yours.")
    if locked.status != FieldObservation.Status.DRAFT:
        raise ConflictError(
            "A signed observation cannot change; correct its sign-off instead.", code="signed"
        )
    return locked


@transaction.atomic
def observation_save(
    *,
    observation: FieldObservation,
    actor: User,
    ratings: Mapping[int, RatingInput],
    comment: str = "",
) -> FieldObservation:
    """Save the observer's draft ratings and comment."""
    locked = _draft_for(observation, actor)
    check_ratings(locked.guide_version, ratings, complete=False)
    ObservationRating.objects.filter(observation=locked).delete()
    ObservationRating.objects.bulk_create(
        ObservationRating(
            observation=locked,
            criterion_id=criterion_id,
            rating=given.rating,
            comment=given.comment.strip(),
        )
        for criterion_id, given in ratings.items()
    )
    locked.comment = comment.strip()
    locked.updated_at = timezone.now()
    locked.save(update_fields=["comment", "updated_at"])
    return locked


def _outcome(version: GuideVersion, ratings: Mapping[int, RatingInput]) -> Outcome:
    """One observer's ratings against the version: a panel of one (a critical criterion below
    the pass level fails the assessment)."""
    criteria = list(version.criteria.all())
    return evaluate(
        scale=Scale(
            version.scale_min, version.scale_max, version.pass_level, version.pass_threshold
        ),
        criteria=[CriterionSpec(c.pk, c.weight, c.is_critical) for c in criteria],
        ratings={c.pk: [int(ratings[c.pk].rating or 0)] for c in criteria},
        critical_majority_fails=True,
    )


def _frozen(
    version: GuideVersion, ratings: Mapping[int, RatingInput], outcome: Outcome
) -> list[dict[str, object]]:
    """What a sign-off keeps: each criterion as rated, so later edits change nothing."""
    return [
        {
            "criterion_id": c.pk,
            "title": c.title,
            "weight": str(c.weight),
            "is_critical": c.is_critical,
            "rating": ratings[c.pk].rating,
            "comment": ratings[c.pk].comment.strip(),
            "met": outcome.criteria[c.pk].met,
        }
        for c in version.criteria.all()
    ]


@transaction.atomic
def observation_sign(
    *, observation: FieldObservation, actor: User, now: datetime | None = None
) -> SignOff:
    """Sign off the observation: complete ratings, comments where below the pass level.

    The sign-off is immutable evidence; passing issues the level-3 certification.
    """
    now = now or timezone.now()
    locked = _draft_for(observation, actor)
    if not can_observe(actor, locked.rep):
        raise NotFoundError("You can no longer observe this rep.")
    ratings = {r.criterion_id: RatingInput(r.rating, r.comment) for r in locked.ratings.all()}
    check_ratings(locked.guide_version, ratings, complete=True)
    outcome = _outcome(locked.guide_version, ratings)
    signoff = SignOff.objects.create(
        observation=locked,
        rep=locked.rep,
        subject=locked.subject,
        guide_version=locked.guide_version,
        signed_by=actor,
        signed_at=now,
        ratings=_frozen(locked.guide_version, ratings, outcome),
        comment=locked.comment,
        score=outcome.score,
        passed=outcome.passed,
    )
    locked.status = FieldObservation.Status.SIGNED
    locked.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="signoff.signed",
        target=signoff,
        changes={"rep": locked.rep.email, "score": str(outcome.score), "passed": outcome.passed},
    )
    if outcome.passed:
        certification_issue(
            rep=locked.rep, subject=locked.subject, level=3, now=now, signoff=signoff
        )
    return signoff


# Corrections, revocations, acknowledgements ------------------------------------------------------


def signoff_state(signoff: SignOff) -> str:
    """current, superseded or revoked."""
    if hasattr(signoff, "revocation"):
        return "revoked"
    if hasattr(signoff, "superseded_by"):
        return "superseded"
    return "current"


def _current(signoff: SignOff) -> SignOff:
    locked = SignOff.objects.select_for_update().get(pk=signoff.pk)
    state = signoff_state(locked)
    if state != "current":
        raise ConflictError(
            f"This sign-off is {state}; act on the current one.", code=f"signoff_{state}"
        )
    return locked


@transaction.atomic
def signoff_correct(
    *,
    signoff: SignOff,
    actor: User,
    ratings: Mapping[int, RatingInput],
    reason: str,
    comment: str = "",
    now: datetime | None = None,
) -> SignOff:
    """Correct a sign-off with a new one that supersedes it; the original stays as it was.

    The level-3 certification follows the correction: kept (with the new evidence) if it
    passes, revoked if it does not, issued if the original had failed.
    """
    now = now or timezone.now()
    if not can_amend_signoff(actor, signoff):
        raise NotFoundError("Only the signer (while they observe the rep) or enablement corrects.")
    old = _current(signoff)
    if not reason.strip():
        raise ApplicationError(
            "Say why the sign-off is corrected.", field_errors={"reason": ["Required."]}
        )
    version = old.guide_version
    check_ratings(version, ratings, complete=True)
    outcome = _outcome(version, ratings)
    new = SignOff.objects.create(
        observation=old.observation,
        rep=old.rep,
        subject=old.subject,
        guide_version=version,
        signed_by=actor,
        signed_at=now,
        ratings=_frozen(version, ratings, outcome),
        comment=comment.strip() or old.comment,
        score=outcome.score,
        passed=outcome.passed,
        supersedes=old,
        correction_reason=reason.strip(),
    )
    audit_record(
        actor=actor,
        action="signoff.corrected",
        target=new,
        changes={
            "supersedes": old.pk,
            "reason": reason.strip(),
            "score": [str(old.score), str(outcome.score)],
            "passed": [old.passed, outcome.passed],
        },
    )
    held = Certification.objects.filter(signoff=old, status=Certification.Status.ACTIVE).first()
    if held is not None and outcome.passed:
        held.signoff = new
        held.save(update_fields=["signoff"])
    elif held is not None:
        certification_revoke(
            certification=held,
            actor=actor,
            now=now,
            reason=f"Sign-off corrected and no longer passing: {reason.strip()}",
        )
    elif outcome.passed:
        certification_issue(rep=old.rep, subject=old.subject, level=3, now=now, signoff=new)
    return new


@transaction.atomic
def signoff_revoke(
    *, signoff: SignOff, actor: User, reason: str, now: datetime | None = None
) -> SignOffRevocation:
    """Revoke a sign-off with a reason, and the certification it earned."""
    now = now or timezone.now()
    if not can_amend_signoff(actor, signoff):
        raise NotFoundError("Only the signer (while they observe the rep) or enablement revokes.")
    locked = _current(signoff)
    if not reason.strip():
        raise ApplicationError(
            "Say why the sign-off is revoked.", field_errors={"reason": ["Required."]}
        )
    revocation = SignOffRevocation.objects.create(
        signoff=locked, reason=reason.strip(), revoked_by=actor, revoked_at=now
    )
    audit_record(
        actor=actor, action="signoff.revoked", target=locked, changes={"reason": reason.strip()}
    )
    for held in Certification.objects.filter(signoff=locked, status=Certification.Status.ACTIVE):
        certification_revoke(
            certification=held, actor=actor, now=now, reason=f"Sign-off revoked: {reason.strip()}"
        )
    return revocation


@transaction.atomic
def signoff_acknowledge(
    *, signoff: SignOff, rep: User, now: datetime | None = None
) -> SignOffAcknowledgement:
    """The rep confirms they have read the feedback; saying it twice changes nothing."""
    if signoff.rep_id != rep.pk:
        raise NotFoundError("No such sign-off.")
    if (state := signoff_state(signoff)) != "current":
        raise ConflictError(
            f"This sign-off was {state}: acknowledge the current one.", code="signoff_closed"
        )
    acknowledgement, created = SignOffAcknowledgement.objects.get_or_create(
        signoff=signoff, defaults={"acknowledged_at": now or timezone.now()}
    )
    if created:
        audit_record(actor=rep, action="signoff.acknowledged", target=signoff)
    return acknowledgement
