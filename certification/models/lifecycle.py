"""What keeps certifications true over time: validity periods and new offering versions."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from certification.models.catalog import Level, Subject


class CertificationValidity(models.Model):
    """How long a certification of a subject at a level stays valid (none: it never expires)."""

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="validities")
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    days = models.PositiveIntegerField(help_text="Days from the issue date to the expiry.")

    class Meta:
        ordering = ["subject", "level"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["subject", "level"], name="one_validity_per_level"),
            models.CheckConstraint(condition=Q(level__in=[1, 2, 3]), name="validity_level"),
            models.CheckConstraint(condition=Q(days__gte=1), name="validity_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.subject.name} L{self.level}: {self.days} days"


class OfferingVersion(models.Model):
    """A new version of an offering: which levels must be re-earned, and by when."""

    offering = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=40)
    previous_version = models.CharField(max_length=40, blank=True)
    relevel_levels = models.JSONField(help_text="The levels holders must re-earn, e.g. [1, 2].")
    grace_days = models.PositiveIntegerField()
    grace_ends_at = models.DateTimeField()
    affected_count = models.PositiveIntegerField(
        default=0, help_text="Certifications held at those levels when it was published."
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["offering", "version"], name="one_release_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.offering.name} {self.version}"
