"""Reads about tiers: a rep's tier and history, a manager's team, the distribution."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import reps_visible_to
from certification.models import RepTier, Tier, TierChange, TierOverride


def tier_of(rep: User) -> RepTier:
    """The rep's tier row; a rep never recomputed has none yet (an unsaved row says so)."""
    return RepTier.objects.filter(rep=rep).first() or RepTier(rep=rep)


def tier_history(*, rep: User) -> QuerySet[TierChange]:
    return TierChange.objects.filter(rep=rep).order_by("-changed_at", "-pk")


def tier_changes(*, rep_text: str = "", tier: str = "") -> QuerySet[TierChange]:
    """Every tier change, newest first, filtered by the rep's name or email and the new tier."""
    changes = TierChange.objects.select_related("rep__team").order_by("-changed_at", "-pk")
    if text := rep_text.strip():
        changes = changes.filter(
            Q(rep__display_name__icontains=text) | Q(rep__email__icontains=text)
        )
    if tier:
        changes = changes.filter(new_tier=tier)
    return changes


def active_override(*, rep: User) -> TierOverride | None:
    return (
        TierOverride.objects.filter(
            rep=rep, ended_at__isnull=True, ends_on__gte=timezone.localdate()
        )
        .order_by("-created_at")
        .first()
    )


def reps_with_tiers(*, viewer: User, tier: str = "", text: str = "") -> QuerySet[User]:
    """The reps the viewer may see, each with its tier row (or none), by name."""
    reps = (
        reps_visible_to(viewer)
        .select_related("team", "tier")
        .annotate(
            overridden=Exists(
                TierOverride.objects.filter(
                    rep=OuterRef("pk"), ended_at__isnull=True, ends_on__gte=timezone.localdate()
                )
            )
        )
        .order_by("display_name", "pk")
    )
    if tier == Tier.NONE:
        reps = reps.filter(Q(tier__isnull=True) | Q(tier__tier=Tier.NONE))
    elif tier:
        reps = reps.filter(tier__tier=tier)
    if text := text.strip():
        reps = reps.filter(Q(display_name__icontains=text) | Q(email__icontains=text))
    return reps


@dataclass(frozen=True)
class TierCount:
    tier: str
    label: str
    count: int


def tier_distribution(*, viewer: User) -> list[TierCount]:
    """How many of the reps the viewer may see hold each tier (in one query)."""
    counts = reps_visible_to(viewer).aggregate(
        **{t.value: Count("pk", filter=Q(tier__tier=t.value)) for t in Tier if t != Tier.NONE},
        total=Count("pk"),
    )
    ranked = sum(counts[t.value] for t in Tier if t != Tier.NONE)
    rows = [
        TierCount(t.value, str(t.label), counts[t.value]) for t in reversed(Tier) if t != Tier.NONE
    ]
    return [*rows, TierCount(Tier.NONE, str(Tier.NONE.label), counts["total"] - ranked)]
