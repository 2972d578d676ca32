"""Issuing certifications: the record shared by all three levels."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from accounts.models import User
from accounts.services import audit_record
from certification.models import AssessmentSession, Attempt, Certification, SignOff, Subject
from certification.services.tiers import tiers_recompute_later


def _evidence_label(
    attempt: Attempt | None, session: AssessmentSession | None, signoff: SignOff | None
) -> str | None:
    if attempt is not None:
        return f"attempt {attempt.pk}"
    if session is not None:
        return f"assessment session {session.pk}"
    if signoff is not None:
        return f"field sign-off {signoff.pk}"
    return None


@transaction.atomic
def certification_issue(
    *,
    rep: User,
    subject: Subject,
    level: int,
    now: datetime,
    attempt: Attempt | None = None,
    session: AssessmentSession | None = None,
    signoff: SignOff | None = None,
) -> Certification:
    """Issue the certification, or return the active one the rep already holds at that level.

    The evidence is a passed attempt (level 1), a released session (level 2) or a sign-off
    (level 3). Runs inside the caller's transaction, which holds the lock on that evidence:
    issuing twice for the same evidence returns the same record.
    """
    # Two pieces of evidence for the same rep, subject and level committing at once would
    # both find nothing active and the second would break the one-active rule: the rep's row
    # is the lock they queue on.
    User.objects.select_for_update().filter(pk=rep.pk).first()
    existing = Certification.objects.filter(
        rep=rep, subject=subject, level=level, status=Certification.Status.ACTIVE
    ).first()
    if existing is not None and existing.expires_at is not None and existing.expires_at <= now:
        # Lapsed but not yet swept: it expires now, and the new evidence certifies afresh.
        existing.status = Certification.Status.EXPIRED
        existing.save(update_fields=["status"])
        audit_record(actor=None, action="certification.expired", target=existing, changes={})
        existing = None
    if existing is not None:
        return existing
    certification = Certification.objects.create(
        rep=rep,
        subject=subject,
        level=level,
        issued_at=now,
        subject_version=subject.current_version,
        attempt=attempt,
        session=session,
        signoff=signoff,
    )
    audit_record(
        actor=None,
        action="certification.issued",
        target=certification,
        changes={
            "rep": rep.email,
            "subject": subject.name,
            "level": level,
            "evidence": _evidence_label(attempt, session, signoff),
        },
    )
    tiers_recompute_later(rep_ids=[rep.pk], cause=f"level {level} on {subject.name} issued")
    return certification


def certification_revoke(
    *, certification: Certification, reason: str, actor: User | None, now: datetime
) -> Certification:
    """Revoke an active certification, with the reason, keeping the record as history."""
    if certification.status != Certification.Status.ACTIVE:
        return certification
    certification.status = Certification.Status.REVOKED
    certification.revoked_at = now
    certification.revoked_reason = reason.strip()
    certification.save(update_fields=["status", "revoked_at", "revoked_reason"])
    audit_record(
        actor=actor,
        action="certification.revoked",
        target=certification,
        changes={"reason": certification.revoked_reason},
    )
    tiers_recompute_later(
        rep_ids=[certification.rep_id],
        cause=f"level {certification.level} on {certification.subject.name} revoked",
    )
    return certification
