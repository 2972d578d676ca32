"""What is certified: subjects (company knowledge, offerings, selling skills) and levels."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Level(models.IntegerChoices):
    """The three levels of certification."""

    CONTENT = 1, "Level 1 · content mastery"
    APPLICATION = 2, "Level 2 · application"
    FIELD = 3, "Level 3 · field execution"


class Subject(models.Model):
    """Something a rep is certified on."""

    class Kind(models.TextChoices):
        COMPANY = "company", "Company knowledge"
        OFFERING = "offering", "Offering"
        SKILL = "skill", "Selling skill"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    description = models.TextField(blank=True)
    current_version = models.CharField(
        max_length=40, blank=True, help_text="For offerings: the version reps are certified on."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "name"]
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("name"), name="subject_name_ci_unique"),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.OFFERING and self.current_version:
            return f"{self.name} {self.current_version}"
        return self.name
