"""Level 2: role-play scenarios, assessment sessions, panels and their scorecards."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from certification.models.catalog import Subject
from certification.models.guides import Criterion, Guide, GuideVersion


class Scenario(models.Model):
    """A scripted role-play of a sales call, or a presentation, judged with a guide."""

    class Kind(models.TextChoices):
        SALES_CALL = "sales_call", "Role-play of a sales call"
        PRESENTATION = "presentation", "Presentation"

    class Combination(models.TextChoices):
        MEAN = "mean", "Mean of the judges"
        MEDIAN = "median", "Median of the judges"
        TRIMMED_MEAN = "trimmed_mean", "Mean without the highest and lowest (3+ judges)"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="scenarios")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SALES_CALL)
    guide = models.ForeignKey(Guide, on_delete=models.PROTECT, related_name="scenarios")
    rep_brief = models.TextField(help_text="What the rep is told: the situation and the goal.")
    buyer_brief = models.TextField(
        help_text="Persona, and what to reveal only if asked. Judges and role-players only."
    )
    min_judges = models.PositiveSmallIntegerField(default=2)
    manager_may_judge = models.BooleanField(
        default=False, help_text="Whether the rep's own manager may sit on the panel."
    )
    combination = models.CharField(
        max_length=20, choices=Combination.choices, default=Combination.MEAN
    )
    critical_majority_fails = models.BooleanField(
        default=True,
        help_text="A critical criterion not met by a majority of judges fails the assessment.",
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["subject__name", "title"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(min_judges__gte=1), name="scenario_min_judges"),
        ]

    def __str__(self) -> str:
        return self.title


class AssessmentSession(models.Model):
    """A rep's scheduled role-play: a panel of judges, perhaps a role-player, then a result."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RELEASED = "released", "Released"
        CANCELLED = "cancelled", "Cancelled"

    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="sessions")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessment_sessions"
    )
    guide_version = models.ForeignKey(
        GuideVersion,
        on_delete=models.PROTECT,
        related_name="sessions",
        help_text="The guide as it was when the session was scheduled.",
    )
    scheduled_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=45)
    location = models.CharField(max_length=200, blank=True)
    video_link = models.URLField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_sessions",
        help_text="Reviews the combined result and releases it: enablement or the lead judge.",
    )
    role_player = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="role_plays",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-scheduled_at"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~Q(status="released")
                | Q(score__isnull=False, passed__isnull=False, released_at__isnull=False),
                name="session_released_with_result",
            ),
            models.CheckConstraint(
                condition=~Q(role_player=models.F("rep")), name="session_rep_not_role_player"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["rep", "status"], name="session_rep_status"),
            models.Index(fields=["status", "scheduled_at"], name="session_status_time"),
        ]

    def __str__(self) -> str:
        return f"{self.scenario} · {self.rep_id} · {self.scheduled_at:%Y-%m-%d}"


class PanelMember(models.Model):
    """A judge on a session's panel."""

    session = models.ForeignKey(AssessmentSession, on_delete=models.CASCADE, related_name="panel")
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panel_seats"
    )
    is_lead = models.BooleanField(default=False)

    class Meta:
        ordering = ["session", "-is_lead", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["session", "judge"], name="panel_judge_once"),
        ]

    def __str__(self) -> str:
        return f"{self.judge_id} on {self.session_id}"


class Scorecard(models.Model):
    """One judge's ratings for a session: a draft until submitted, then fixed."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    session = models.ForeignKey(
        AssessmentSession, on_delete=models.CASCADE, related_name="scorecards"
    )
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scorecards"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    overall_comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "judge"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["session", "judge"], name="one_scorecard_per_judge"),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="scorecard_submitted_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.judge_id} for {self.session_id} ({self.status})"


class CriterionRating(models.Model):
    """A judge's rating of one criterion, with the comment that makes it actionable."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="ratings")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["scorecard", "criterion__position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["scorecard", "criterion"], name="rating_once"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.rating}"


class SessionResult(models.Model):
    """The panel's combined rating of one criterion, stored when the result is released.

    Kept so the rep's feedback and judge calibration read the same figures the decision used.
    """

    session = models.ForeignKey(AssessmentSession, on_delete=models.CASCADE, related_name="results")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    combined_rating = models.DecimalField(max_digits=6, decimal_places=3)
    met = models.BooleanField()
    failed_by_majority = models.BooleanField(default=False)

    class Meta:
        ordering = ["session", "criterion__position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["session", "criterion"], name="result_once"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.criterion_id}: {self.combined_rating}"
