"""Teleprospecting support: capacity per period, requests, allocations and usage."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


def default_tier_weights() -> dict[str, int]:
    """Gold and silver are eligible; gold is served first and weighs twice silver."""
    return {"gold": 2, "silver": 1}


class SupportPeriod(models.Model):
    """A period (a week, say) of teleprospecting capacity."""

    starts_on = models.DateField()
    ends_on = models.DateField()
    capacity_hours = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(0)]
    )
    tier_weights = models.JSONField(
        default=default_tier_weights,
        help_text="Eligible tiers and their weights; the heavier tier is served first.",
    )
    allocated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="support_period_dates"
            ),
            models.UniqueConstraint(fields=["starts_on"], name="support_period_start_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_on} to {self.ends_on}"


class SupportRequest(models.Model):
    """A rep asks for support in a period for a stated purpose; the allocation answers it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the allocation"
        ALLOCATED = "allocated", "Allocated"
        WAITING = "waiting", "On the waiting list"
        INELIGIBLE = "ineligible", "Not eligible"
        WITHDRAWN = "withdrawn", "Withdrawn"

    period = models.ForeignKey(SupportPeriod, on_delete=models.CASCADE, related_name="requests")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_requests"
    )
    purpose = models.TextField()
    hours_requested = models.DecimalField(
        max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    tier_at_allocation = models.CharField(max_length=6, blank=True)
    hours_allocated = models.DecimalField(max_digits=6, decimal_places=2, default=0)
    reason = models.TextField(blank=True, help_text="Why the allocation decided what it did.")
    waiting_position = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["period", "status", "waiting_position", "created_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["period", "rep"], name="support_request_once"),
            models.CheckConstraint(condition=Q(hours_requested__gt=0), name="support_hours_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.rep_id} in {self.period_id}"


class SupportUsage(models.Model):
    """Hours of support used and what they produced, recorded by the lead or a dialer/CRM.

    ``idempotency_key`` is the client's: the same record sent twice is kept once.
    """

    period = models.ForeignKey(SupportPeriod, on_delete=models.PROTECT, related_name="usages")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="support_usages"
    )
    hours = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])
    meetings_set = models.PositiveIntegerField(default=0)
    pipeline_amount = models.DecimalField(
        max_digits=16, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    idempotency_key = models.CharField(max_length=100, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]
        indexes: ClassVar = [models.Index(fields=["rep", "period"], name="usage_rep_period")]

    def __str__(self) -> str:
        return f"{self.rep_id}: {self.hours} h"
