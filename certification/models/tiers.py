"""Tiers: CRM deals and exchange rates (the revenue facts), the tier rule, each rep's tier,
its history and enablement's overrides."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from certification.models.catalog import Subject


class Tier(models.TextChoices):
    """In ascending order: each tier includes the one below."""

    NONE = "none", "No tier yet"
    BRONZE = "bronze", "Bronze"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"

    @classmethod
    def rank(cls, tier: str) -> int:
        return [t.value for t in cls].index(tier)


class CurrencyRate(models.Model):
    """How many units of the base currency (settings.BASE_CURRENCY) one unit of this one is
    worth. A deal in a currency without a rate is refused at import."""

    currency = models.CharField(max_length=3, unique=True)
    rate_to_base = models.DecimalField(
        max_digits=18, decimal_places=8, validators=[MinValueValidator(0)]
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["currency"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(rate_to_base__gt=0), name="currency_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate_to_base} base"


class Deal(models.Model):
    """An opportunity from the CRM, upserted on the CRM's own id."""

    class Stage(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Closed won"
        LOST = "lost", "Closed lost"

    opportunity_id = models.CharField(max_length=100, unique=True)
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals"
    )
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3)
    amount_base = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The amount in the base currency, at the rate of the import.",
    )
    close_date = models.DateField()
    stage = models.CharField(max_length=4, choices=Stage.choices)
    imported_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-close_date", "opportunity_id"]
        indexes: ClassVar = [
            models.Index(fields=["rep", "stage", "close_date"], name="deal_rep_stage_close"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=~Q(stage="won") | Q(amount__isnull=False, amount__gte=0),
                name="deal_won_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.opportunity_id


class DealColumnMapping(models.Model):
    """Column names a CRM export uses, mapped once onto the canonical header and reused."""

    name = models.CharField(max_length=100, unique=True)
    columns = models.JSONField(help_text="Canonical field -> the file's column name.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TierRule(models.Model):
    """The thresholds of the tiers, edited by enablement. One row: the rule in force.

    bronze: level 1 on every active offering. silver: bronze, a first won deal, and level 2 on
    the offerings named here. gold: silver, won revenue over the trailing window at or above
    the threshold, and level 3 on the named subject.
    """

    silver_level2_subjects = models.ManyToManyField(Subject, blank=True, related_name="+")
    gold_revenue_threshold = models.DecimalField(
        max_digits=16, decimal_places=2, default=250000, validators=[MinValueValidator(0)]
    )
    gold_window_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1)], help_text="The trailing revenue window."
    )
    gold_level3_subject = models.ForeignKey(
        Subject, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return "Tier rule"


class RepTier(models.Model):
    """A rep's tier as last computed (``computed``) and in force (``tier``: the override's,
    while one runs), with the reasons and what the next tier still needs."""

    rep = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="tier"
    )
    tier = models.CharField(max_length=6, choices=Tier.choices, default=Tier.NONE)
    computed = models.CharField(max_length=6, choices=Tier.choices, default=Tier.NONE)
    reasons = models.JSONField(default=list)
    missing = models.JSONField(default=list, help_text="What the next tier still needs.")
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["tier"], name="reptier_tier")]

    def __str__(self) -> str:
        return f"{self.rep_id}: {self.tier}"


class TierChange(models.Model):
    """Every change of a rep's tier, with its reasons."""

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tier_changes"
    )
    old_tier = models.CharField(max_length=6, choices=Tier.choices)
    new_tier = models.CharField(max_length=6, choices=Tier.choices)
    reasons = models.JSONField(default=list)
    cause = models.CharField(max_length=100, help_text="What set off the recompute.")
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        indexes: ClassVar = [models.Index(fields=["rep", "-changed_at"], name="tierchange_rep")]

    def __str__(self) -> str:
        return f"{self.rep_id}: {self.old_tier} -> {self.new_tier}"


class TierOverride(models.Model):
    """Enablement sets a rep's tier by hand until an end date, with a reason."""

    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tier_overrides"
    )
    tier = models.CharField(max_length=6, choices=Tier.choices)
    reason = models.TextField()
    ends_on = models.DateField(help_text="The override applies up to and including this day.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Ended early by enablement.")

    class Meta:
        ordering = ["-created_at"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(reason=""), name="tier_override_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.rep_id}: {self.tier} until {self.ends_on}"
