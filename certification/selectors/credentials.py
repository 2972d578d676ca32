"""Reads for verifiable credentials: the holder's own certification, the public verification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from accounts.models import User
from certification.models import Certification
from config.errors import NotFoundError


def certification_status_at(certification: Certification, *, now: datetime) -> str:
    """The status as of ``now``: an active certification past its expiry reads as expired."""
    if (
        certification.status == Certification.Status.ACTIVE
        and certification.expires_at is not None
        and certification.expires_at <= now
    ):
        return Certification.Status.EXPIRED
    return certification.status


def certification_get_for_holder(*, certification_id: int, rep: User) -> Certification:
    """The rep's own certification with everything a credential names; NotFoundError otherwise."""
    certification = (
        Certification.objects.filter(pk=certification_id, rep=rep)
        .select_related(
            "rep", "subject", "attempt__exam", "session__scenario", "signoff__observation"
        )
        .first()
    )
    if certification is None:
        raise NotFoundError("No such certification.")
    return certification


@dataclass(frozen=True)
class Verification:
    """What the public verification page shows: never scores, results or the revocation reason."""

    public_id: UUID
    holder_name: str
    subject_name: str
    subject_version: str
    level: int
    level_label: str
    issued_at: datetime
    expires_at: datetime | None
    status: str
    status_label: str
    revoked_at: datetime | None


def certification_verification(*, public_id: UUID, now: datetime) -> Verification:
    """The live public facts about the certification with this public id; NotFoundError if none."""
    certification = (
        Certification.objects.filter(public_id=public_id)
        .select_related("rep", "subject")
        .only(
            "public_id",
            "level",
            "status",
            "issued_at",
            "expires_at",
            "revoked_at",
            "subject_version",
            "rep__display_name",
            "subject__name",
        )
        .first()
    )
    if certification is None:
        raise NotFoundError("No such certification.")
    status = certification_status_at(certification, now=now)
    return Verification(
        public_id=certification.public_id,
        holder_name=certification.rep.display_name,
        subject_name=certification.subject.name,
        subject_version=certification.subject_version,
        level=certification.level,
        level_label=certification.get_level_display(),
        issued_at=certification.issued_at,
        expires_at=certification.expires_at,
        status=status,
        status_label=Certification.Status(status).label,
        revoked_at=certification.revoked_at if status == Certification.Status.REVOKED else None,
    )
