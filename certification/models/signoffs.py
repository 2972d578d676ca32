"""Level 3: field observations by a rep's manager (or a named delegate), and their sign-offs.

A sign-off is evidence. Its row is never changed or deleted: a correction is a new sign-off
that supersedes it, a revocation is a row of its own with a reason, and so is the rep's
acknowledgement. On PostgreSQL a trigger refuses UPDATE and DELETE on these tables.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from certification.models.catalog import Subject
from certification.models.guides import Criterion, GuideVersion


class InteractionKind(models.TextChoices):
    CALL = "call", "Call"
    MEETING = "meeting", "Meeting"
    EXECUTIVE_PRESENTATION = "executive_presentation", "Executive presentation"


class ObserverDelegation(models.Model):
    """Enablement lets someone other than the rep's manager observe and sign off a rep (or a
    whole team), for a while or until withdrawn."""

    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations"
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="observer_delegations",
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    named_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    named_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-named_at"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(rep__isnull=False, team__isnull=True)
                | Q(rep__isnull=True, team__isnull=False),
                name="delegation_rep_xor_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delegate_id} observes {self.rep_id or self.team_id}"


class FieldObservation(models.Model):
    """A real customer interaction witnessed and scored with a guide; a draft until signed."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SIGNED = "signed", "Signed off"

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="observations"
    )
    observer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="observations_made"
    )
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="observations")
    guide_version = models.ForeignKey(
        GuideVersion, on_delete=models.PROTECT, related_name="observations"
    )
    observed_on = models.DateField()
    kind = models.CharField(max_length=30, choices=InteractionKind.choices)
    crm_reference = models.CharField(max_length=100, help_text="The CRM opportunity or meeting id.")
    contact_title = models.CharField(
        max_length=150, help_text="The customer contact's title, e.g. CFO."
    )
    comment = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-observed_on", "-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~Q(observer=models.F("rep")), name="observation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} · {self.rep_id} · {self.observed_on}"


class ObservationRating(models.Model):
    observation = models.ForeignKey(
        FieldObservation, on_delete=models.CASCADE, related_name="ratings"
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["observation", "criterion__position"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["observation", "criterion"], name="observation_rating_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.rating}"


class SignOff(models.Model):
    """The observer's signature on an observation: immutable evidence for level 3.

    ``ratings`` freezes what was signed (criterion, rating, comment). A correction is a new
    sign-off whose ``supersedes`` points here.
    """

    observation = models.ForeignKey(
        FieldObservation, on_delete=models.PROTECT, related_name="signoffs"
    )
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")
    guide_version = models.ForeignKey(GuideVersion, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signoffs_signed"
    )
    signed_at = models.DateTimeField()
    ratings = models.JSONField()
    comment = models.TextField(blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=2)
    passed = models.BooleanField()
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    correction_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-signed_at", "-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(correction_reason=""),
                name="signoff_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-off {self.pk} · {self.subject_id} · {self.rep_id}"


class SignOffRevocation(models.Model):
    """A sign-off withdrawn, with the reason. The sign-off itself stays as it was."""

    signoff = models.OneToOneField(SignOff, on_delete=models.PROTECT, related_name="revocation")
    reason = models.TextField()
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(reason=""), name="revocation_has_reason"),
        ]

    def __str__(self) -> str:
        return f"Revocation of sign-off {self.signoff_id}"


class SignOffAcknowledgement(models.Model):
    """The rep has read the feedback of a sign-off."""

    signoff = models.OneToOneField(
        SignOff, on_delete=models.PROTECT, related_name="acknowledgement"
    )
    acknowledged_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Acknowledgement of sign-off {self.signoff_id}"
