"""Assessment guides (rubrics) for levels 2 and 3, versioned: a used version never changes."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from certification.models.catalog import Subject


class Guide(models.Model):
    """A named assessment guide. Its content lives in versions; the newest is current."""

    name = models.CharField(max_length=150)
    subject = models.ForeignKey(
        Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="guides"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("name"), name="guide_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class GuideVersion(models.Model):
    """One version of a guide: its scale, pass level and threshold, and its criteria.

    Once a session or an observation uses a version, it is frozen: editing the guide makes a
    new version, and scores keep the version they were given with.
    """

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    introduction = models.TextField(
        blank=True, help_text="What the rep reads first: what is assessed and how to prepare."
    )
    scale_min = models.PositiveSmallIntegerField(default=1)
    scale_max = models.PositiveSmallIntegerField(default=4)
    pass_level = models.PositiveSmallIntegerField(
        default=3, help_text="A rating at or above this meets the criterion."
    )
    pass_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(70),
        help_text="Percent of the weighted maximum needed to pass.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["guide", "-number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["guide", "number"], name="guide_version_unique"),
            models.CheckConstraint(
                condition=Q(scale_min__lt=F("scale_max")), name="guide_scale_ordered"
            ),
            models.CheckConstraint(
                condition=Q(pass_level__gte=F("scale_min")) & Q(pass_level__lte=F("scale_max")),
                name="guide_pass_level_on_scale",
            ),
            models.CheckConstraint(
                condition=Q(pass_threshold__gte=0) & Q(pass_threshold__lte=100),
                name="guide_threshold_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guide.name} v{self.number}"

    @property
    def points(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))


class Criterion(models.Model):
    """What the judges rate: a rep-facing description, judge-only notes, a descriptor for every
    point of the scale, a weight, and whether it must be met whatever the total."""

    version = models.ForeignKey(GuideVersion, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=150)
    rep_description = models.TextField(help_text="Shown to the rep in advance.")
    judge_notes = models.TextField(blank=True, help_text="Judges and enablement only.")
    weight = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal(1))
    is_critical = models.BooleanField(
        default=False, help_text="Must be met (at the pass level) regardless of the total."
    )
    # {"1": "Opens without thanking or stating a purpose", "2": ..., "4": ...}
    descriptors = models.JSONField(default=dict)

    class Meta:
        ordering = ["version", "position", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["version", "position"], name="criterion_position"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="criterion_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.title
