"""The certification record shared by all three levels."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from certification.models.catalog import Level, Subject


class Certification(models.Model):
    """A rep holds a subject at a level, earned by a piece of evidence.

    At most one is active per rep, subject and level; earlier ones stay as history.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certifications"
    )
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="certifications")
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    subject_version = models.CharField(max_length=40, blank=True)
    # Evidence: a passed test attempt (level 1), a released assessment session (level 2), a
    # field sign-off (level 3).
    attempt = models.ForeignKey(
        "certification.Attempt",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certifications",
    )
    session = models.ForeignKey(
        "certification.AssessmentSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certifications",
    )
    signoff = models.ForeignKey(
        "certification.SignOff",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certifications",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    # The certification's public name: its verification page and credential use it, so the
    # sequential primary key never leaves the app and ids cannot be guessed.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        ordering = ["-issued_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["rep", "subject", "level"],
                condition=Q(status="active"),
                name="one_active_certification_per_level",
            ),
            models.CheckConstraint(condition=Q(level__in=[1, 2, 3]), name="certification_level"),
            models.CheckConstraint(
                condition=~Q(level=1) | Q(attempt__isnull=False),
                name="level1_certification_has_attempt",
            ),
            models.UniqueConstraint(fields=["attempt"], name="one_certification_per_attempt"),
            models.CheckConstraint(
                condition=~Q(level=2) | Q(session__isnull=False),
                name="level2_certification_has_session",
            ),
            models.CheckConstraint(
                condition=~Q(level=3) | Q(signoff__isnull=False),
                name="level3_certification_has_signoff",
            ),
            models.UniqueConstraint(fields=["session"], name="one_certification_per_session"),
            models.CheckConstraint(
                condition=~Q(status="revoked") | Q(revoked_at__isnull=False),
                name="revoked_certification_dated",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["rep", "status"], name="cert_rep_status"),
            models.Index(fields=["subject", "level", "status"], name="cert_subject_level_status"),
            # The expiry sweep reads active certifications by their expiry.
            models.Index(fields=["status", "expires_at"], name="cert_status_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.subject.name} L{self.level} · {self.rep_id} ({self.status})"
