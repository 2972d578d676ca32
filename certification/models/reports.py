"""Readiness: what "customer ready" means per offering, the nightly snapshots of the headline
figures, export jobs and the weekly report subscription."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from certification.models.catalog import Level, Subject


class ReadinessRequirement(models.Model):
    """For one offering and one slice of reps, the certifications they must hold active.

    The slice is a team (with every team under it), a segment and a sales role; a blank part
    matches every rep. A rep is customer ready for an offering when they hold every item of
    every requirement of that offering whose slice they are in.
    """

    offering = models.ForeignKey(
        Subject,
        on_delete=models.PROTECT,
        related_name="readiness_requirements",
        limit_choices_to={"kind": Subject.Kind.OFFERING},
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Applies to this team and every team under it; empty for every team.",
    )
    segment = models.CharField(max_length=60, blank=True, help_text="Empty for every segment.")
    sales_role = models.CharField(
        "sales role", max_length=60, blank=True, help_text="Empty for every sales role."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["offering__name", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["offering", "team", "segment", "sales_role"],
                name="readiness_requirement_slice_unique",
            ),
            models.UniqueConstraint(
                fields=["offering", "segment", "sales_role"],
                condition=Q(team__isnull=True),
                name="readiness_requirement_all_teams_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.offering.name}: {self.slice_label}"

    @property
    def slice_label(self) -> str:
        parts = [
            self.team.name if self.team_id and self.team else "",
            self.segment,
            self.sales_role,
        ]
        return " · ".join(part for part in parts if part) or "every rep"


class RequiredCertification(models.Model):
    """One (subject, level) a requirement asks for."""

    requirement = models.ForeignKey(
        ReadinessRequirement, on_delete=models.CASCADE, related_name="items"
    )
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(choices=Level.choices)

    class Meta:
        ordering = ["subject__name", "level"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["requirement", "subject", "level"], name="required_certification_unique"
            ),
            models.CheckConstraint(condition=Q(level__in=[1, 2, 3]), name="required_level"),
        ]

    def __str__(self) -> str:
        return f"{self.subject.name} L{self.level}"


class ReadinessSnapshot(models.Model):
    """The headline figures of one day, for the whole organisation (no team) or a team's
    subtree, and either overall (no offering) or for one offering.

    Overall rows carry the rep count, the tier distribution, expiries and inactivity;
    offering rows carry how many reps the offering's requirements apply to and how many of
    them are customer ready.
    """

    # The figures a snapshot keeps per day, team and offering (taken and read by name).
    FIGURES: ClassVar[tuple[str, ...]] = (
        "reps",
        "in_scope",
        "ready",
        "gold",
        "silver",
        "bronze",
        "no_tier",
        "expiring_30",
        "inactive",
    )

    taken_on = models.DateField(db_index=True)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    offering = models.ForeignKey(
        Subject, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reps = models.PositiveIntegerField(default=0)
    in_scope = models.PositiveIntegerField(default=0)
    ready = models.PositiveIntegerField(default=0)
    gold = models.PositiveIntegerField(default=0)
    silver = models.PositiveIntegerField(default=0)
    bronze = models.PositiveIntegerField(default=0)
    no_tier = models.PositiveIntegerField(default=0)
    expiring_30 = models.PositiveIntegerField(default=0)
    inactive = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["taken_on", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["taken_on", "team", "offering"], name="snapshot_unique_team_offering"
            ),
            models.UniqueConstraint(
                fields=["taken_on", "offering"],
                condition=Q(team__isnull=True, offering__isnull=False),
                name="snapshot_unique_org_offering",
            ),
            models.UniqueConstraint(
                fields=["taken_on", "team"],
                condition=Q(offering__isnull=True, team__isnull=False),
                name="snapshot_unique_team_overall",
            ),
            models.UniqueConstraint(
                fields=["taken_on"],
                condition=Q(team__isnull=True, offering__isnull=True),
                name="snapshot_unique_org_overall",
            ),
            models.CheckConstraint(
                condition=Q(ready__lte=models.F("in_scope")), name="snapshot_ready_in_scope"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["team", "offering", "taken_on"], name="snapshot_series"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.taken_on} · team {self.team_id or 'all'} · offering {self.offering_id or '-'}"
        )


class ExportJob(models.Model):
    """A report table exported in the background; only the person who asked may see it."""

    class Table(models.TextChoices):
        SUMMARY = "summary", "Readiness per offering"
        MATRIX = "matrix", "Rep x subject matrix"
        GAPS = "gaps", "Gap list"
        TRENDS = "trends", "Trends"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Ready to download"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs"
    )
    table = models.CharField(max_length=10, choices=Table.choices)
    format = models.CharField(max_length=4, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/%Y/%m/%d/", blank=True)
    filename = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes: ClassVar = [
            models.Index(fields=["owner", "-created_at"], name="export_owner_recent"),
            models.Index(fields=["status", "expires_at"], name="export_status_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.get_table_display()} ({self.format}) · {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(99, self.done_rows * 100 // self.total_rows)


class ReportSubscription(models.Model):
    """An enablement lead's weekly headline report by email."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscription"
    )
    weekday = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(7)],
        help_text="ISO weekday, 1 = Monday, in the recipient's time zone.",
    )
    is_active = models.BooleanField(default=True)
    filters = models.JSONField(default=dict, blank=True)
    last_sent_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(weekday__gte=1, weekday__lte=7), name="subscription_weekday"
            ),
        ]

    def __str__(self) -> str:
        return f"Weekly readiness report for {self.user_id}"


class ReadinessSummary(models.Model):
    """What the readiness headline counts of one rep, kept so that the headline reads one small
    row per rep instead of every certification and activity row (docs/performance.md).

    Database triggers (migration 0011) bump ``version`` and clear ``current`` in the same
    transaction as any change to what the row is derived from: the rep's certifications,
    attempts, assessment sessions and field observations, and the rep's team, segment and
    sales role. A change to any readiness requirement or team path bumps
    ``ReadinessGeneration`` instead. A row counts only while it is ``current``, its
    ``generation`` is the current one and it was computed no later than the moment read.
    Readers count every other rep live, so the figures are exact whether or not the refresh
    has caught up.
    """

    # Derived data, so no foreign-key constraints in the database (here and below): a
    # constraint check would make the refresh and the triggers take share locks on people and
    # offerings that requests hold for update, and wait on them. The ORM still cascades.
    rep = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="readiness_summary",
        db_constraint=False,
    )
    version = models.PositiveBigIntegerField(default=0)
    current = models.BooleanField(default=False)
    generation = models.BigIntegerField(default=-1)
    computed_at = models.DateTimeField(null=True, blank=True)
    # The rep's latest attempt start, assessment, or certification issued, and latest field
    # observation (a date): "inactive" means neither falls in the last 90 days.
    last_active_at = models.DateTimeField(null=True, blank=True)
    last_observed_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "rep readiness summaries"

    def __str__(self) -> str:
        return f"{self.rep_id}: {'current' if self.current else 'stale'}"


class OfferingReadinessSummary(models.Model):
    """For a rep an offering's requirements apply to: whether they were ready when their
    ``ReadinessSummary`` row was computed and, if so, until when (the first expiry among the
    certifications that make them ready; empty when none expires)."""

    rep = models.ForeignKey(
        ReadinessSummary,
        on_delete=models.CASCADE,
        related_name="offerings",
        db_column="rep_id",
        db_constraint=False,
    )
    offering = models.ForeignKey(
        Subject, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    ready = models.BooleanField()
    ready_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["rep", "offering"], name="rep_offering_readiness"),
        ]

    def __str__(self) -> str:
        return f"{self.rep_id} · {self.offering_id}: {'ready' if self.ready else 'not ready'}"


class ReadinessGeneration(models.Model):
    """One row: bumped by triggers whenever a readiness requirement, one of its items or a
    team's path changes, which makes every ``ReadinessSummary`` row stale at once."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"generation {self.value}"
