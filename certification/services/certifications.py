"""Issuing certifications: the record shared by all three levels."""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from accounts.services import audit_record
from certification.models import Attempt, Certification, Subject


def certification_issue(
    *,
    rep: User,
    subject: Subject,
    level: int,
    now: datetime,
    attempt: Attempt | None = None,
) -> Certification:
    """Issue the certification, or return the active one the rep already holds at that level.

    Runs inside the caller's transaction, which holds the lock on the evidence (the attempt):
    issuing twice for the same evidence returns the same record.
    """
    existing = Certification.objects.filter(
        rep=rep, subject=subject, level=level, status=Certification.Status.ACTIVE
    ).first()
    if existing is not None:
        return existing
    certification = Certification.objects.create(
        rep=rep,
        subject=subject,
        level=level,
        issued_at=now,
        subject_version=subject.current_version,
        attempt=attempt,
    )
    audit_record(
        actor=None,
        action="certification.issued",
        target=certification,
        changes={
            "rep": rep.email,
            "subject": subject.name,
            "level": level,
            "evidence": f"attempt {attempt.pk}" if attempt else None,
        },
    )
    return certification
