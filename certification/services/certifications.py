"""Issuing certifications: the record shared by all three levels."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.services import audit_record
from certification.models import (
    AssessmentSession,
    Attempt,
    Certification,
    CertificationValidity,
    OfferingVersion,
    SignOff,
    Subject,
)
from certification.services.notifications import (
    notify_certification_issued,
    notify_certification_revoked,
    notify_signoff_waiting,
)
from certification.services.tiers import tiers_recompute_later
from config.errors import ApplicationError


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


def _renewable(
    existing: Certification,
    *,
    subject: Subject,
    now: datetime,
    attempt: Attempt | None,
    session: AssessmentSession | None,
    signoff: SignOff | None,
) -> bool:
    """Whether new evidence replaces the active certification: it is other evidence than the
    one that earned it, and the certification is inside its renewal window or was earned
    before a new version of the offering that asked its level to be re-earned."""
    if (
        (attempt is not None and existing.attempt_id == attempt.pk)
        or (session is not None and existing.session_id == session.pk)
        or (signoff is not None and existing.signoff_id == signoff.pk)
    ):
        return False
    if existing.subject_version != subject.current_version:
        releases = OfferingVersion.objects.filter(
            offering=subject, published_at__gt=existing.issued_at
        ).values_list("relevel_levels", flat=True)
        if any(existing.level in levels for levels in releases):
            return True
    window = timedelta(days=settings.CERTIFICATION_RENEWAL_WINDOW_DAYS)
    return existing.expires_at is not None and existing.expires_at <= now + window


# No savepoint of its own: it runs inside its caller's transaction (finishing an attempt,
# releasing a session, signing off), and an error here fails that whole transaction anyway.
@transaction.atomic(savepoint=False)
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

    Its expiry follows the subject's validity for the level (none: it never expires). New
    evidence inside the renewal window (``CERTIFICATION_RENEWAL_WINDOW_DAYS`` before expiry),
    or after a new version of the offering, recertifies: the old record becomes expired history.

    The evidence is a passed attempt (level 1), a released session (level 2) or a sign-off
    (level 3). Runs inside the caller's transaction, which holds the lock on that evidence:
    issuing twice for the same evidence returns the same record.
    """
    # Two pieces of evidence for the same rep, subject and level committing at once would
    # both find nothing active and the second would break the one-active rule: the rep's row
    # is the lock they queue on.
    User.objects.select_for_update().filter(pk=rep.pk).values_list("pk").first()
    # Locked too: a revocation committing meanwhile must not be overwritten as "expired" (once
    # it commits, the row no longer reads as active here).
    existing = (
        Certification.objects.select_for_update()
        .filter(rep=rep, subject=subject, level=level, status=Certification.Status.ACTIVE)
        .first()
    )
    if existing is not None and existing.expires_at is not None and existing.expires_at <= now:
        # Lapsed but not yet swept: it expires now, and the new evidence certifies afresh.
        existing.status = Certification.Status.EXPIRED
        existing.save(update_fields=["status"])
        audit_record(actor=None, action="certification.expired", target=existing, changes={})
        existing = None
    if existing is not None and _renewable(
        existing, subject=subject, now=now, attempt=attempt, session=session, signoff=signoff
    ):
        # Recertification: the new evidence replaces the one about to expire (or earned on an
        # older version of the offering), which stays as expired history.
        superseded_expiry = existing.expires_at
        existing.status = Certification.Status.EXPIRED
        existing.expires_at = now
        existing.save(update_fields=["status", "expires_at"])
        audit_record(
            actor=None,
            action="certification.superseded",
            target=existing,
            changes={
                "expires_at": [
                    superseded_expiry.isoformat() if superseded_expiry else None,
                    now.isoformat(),
                ],
                "by_evidence": _evidence_label(attempt, session, signoff),
            },
        )
        existing = None
    if existing is not None:
        return existing
    validity = (
        CertificationValidity.objects.filter(subject=subject, level=level)
        .values_list("days", flat=True)
        .first()
    )
    certification = Certification.objects.create(
        rep=rep,
        subject=subject,
        level=level,
        issued_at=now,
        expires_at=now + timedelta(days=validity) if validity else None,
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
    notify_certification_issued(certification=certification, now=now)
    if level == 2:
        notify_signoff_waiting(certification=certification, now=now)
    return certification


@transaction.atomic
def certification_revoke(
    *, certification: Certification, reason: str, actor: User | None, now: datetime
) -> Certification:
    """Revoke an active certification, with the reason, keeping the record as history.

    Revoking a revoked one changes nothing; an expired one is history and cannot be revoked.
    """
    if not reason.strip():
        raise ApplicationError(
            "Say why the certification is revoked.", field_errors={"reason": ["Required."]}
        )
    # Two revocations at once queue on the row; the second finds it revoked.
    Certification.objects.select_for_update().filter(pk=certification.pk).first()
    certification.refresh_from_db(fields=["status", "revoked_at", "revoked_reason", "expires_at"])
    if certification.status == Certification.Status.REVOKED:
        return certification
    lapsed = certification.expires_at is not None and certification.expires_at <= now
    if certification.status != Certification.Status.ACTIVE or lapsed:
        raise ApplicationError(
            "Only an active certification can be revoked: this one has expired.",
            code="not_active",
        )
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
    notify_certification_revoked(certification=certification, actor=actor, now=now)
    return certification
