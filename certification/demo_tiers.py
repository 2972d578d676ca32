"""Demo tiers: exchange rates, the tier rule, a year of CRM deals, and every rep's tier.

Deals go through ``deals_import`` (the path of the upload page, the command and the API), with
deterministic opportunity ids, so seeding again on the same day changes nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.demo import NAMED_REP
from accounts.models import User
from certification.importers.deals import DealRow
from certification.models import Certification, CurrencyRate, RepTier, Subject, TierOverride
from certification.services.deals import currency_rate_set, deals_import
from certification.services.tiers import (
    all_rep_ids,
    tier_override_set,
    tier_rule,
    tier_rule_update,
    tiers_recompute,
)

RATES = {"EUR": Decimal("1.08"), "GBP": Decimal("1.27"), "SEK": Decimal("0.095")}
STAGES = ("Closed Won", "Closed Won", "Closed Won", "Closed Lost", "Closed Lost", "Open")


def _lead() -> User | None:
    return User.objects.filter(email="lead@demo.test").first()


def _rates(lead: User | None) -> None:
    for currency, rate in RATES.items():
        current = CurrencyRate.objects.filter(currency=currency).first()
        if current is None or current.rate_to_base != rate:
            currency_rate_set(currency=currency, rate_to_base=rate, actor=lead)


def _rule(lead: User) -> None:
    cloud = Subject.objects.filter(name="Acme Cloud").first()
    executive = Subject.objects.filter(name="Presenting to a senior executive").first()
    rule = tier_rule()
    wanted = ([cloud] if cloud else [], Decimal(40000), 365, executive)
    current = (
        list(rule.silver_level2_subjects.all()),
        rule.gold_revenue_threshold,
        rule.gold_window_days,
        rule.gold_level3_subject,
    )
    if current != wanted:
        tier_rule_update(
            actor=lead,
            silver_level2_subjects=wanted[0],
            gold_revenue_threshold=wanted[1],
            gold_window_days=wanted[2],
            gold_level3_subject=wanted[3],
        )


def _deals() -> int:
    """Up to a dozen deals per rep over the last year; the better reps win more and bigger."""
    today = timezone.localdate()
    rows: list[DealRow] = []
    reps = User.objects.filter(is_rep=True).select_related("team__parent").order_by("email")
    role_played = set(
        Certification.objects.filter(level=2, status="active").values_list("rep_id", flat=True)
    )
    for rep in reps:
        rng = random.Random(f"deals:{rep.email}")
        region = rep.team.parent.name if rep.team and rep.team.parent else ""
        currency = "EUR" if region == "EMEA" else "USD"
        strength = rng.random()  # some reps close a lot, some nothing yet
        count = 0 if strength < 0.12 and rep.email != NAMED_REP else rng.randint(3, 12)
        for n in range(count):
            stage = rng.choice(STAGES) if strength > 0.3 else rng.choice(STAGES[3:])
            amount = rng.randint(8, 30 + int(strength * 70)) * 1000
            rows.append(
                DealRow(
                    row=len(rows) + 2,
                    opportunity_id=f"DEMO-{rep.pk:04d}-{n:02d}",
                    rep_email=rep.email,
                    amount=str(amount),
                    currency=currency,
                    close_date=(today - timedelta(days=rng.randint(1, 360))).isoformat(),
                    stage=stage,
                )
            )
        if rep.email == NAMED_REP or rep.pk in role_played:  # they have closed a first deal
            rows.append(
                DealRow(
                    row=len(rows) + 2,
                    opportunity_id=f"DEMO-{rep.pk:04d}-first",
                    rep_email=rep.email,
                    amount="42000",
                    currency=currency,
                    close_date=(today - timedelta(days=40)).isoformat(),
                    stage="Closed Won",
                )
            )
    result = deals_import(rows, dry_run=False, actor=_lead(), source="demo")
    if result.rejected:
        raise RuntimeError(f"demo deals rejected: {result.rejected[:3]}")
    return result.imported


def _star(lead: User) -> int:
    """The first silver rep holding the level 3 closes a big deal: the demo has a gold rep."""
    rule = tier_rule()
    if RepTier.objects.filter(tier="gold").exists() or rule.gold_level3_subject is None:
        return 0
    candidates = RepTier.objects.filter(
        computed="silver",
        rep__certifications__subject=rule.gold_level3_subject,
        rep__certifications__level=3,
        rep__certifications__status="active",
    ).order_by("rep__email")
    star = candidates.select_related("rep").first()
    if star is None:
        return 0
    deal = DealRow(
        row=2,
        opportunity_id=f"DEMO-{star.rep_id:04d}-flagship",
        rep_email=star.rep.email,
        amount=str(rule.gold_revenue_threshold),
        currency="USD",
        close_date=(timezone.localdate() - timedelta(days=30)).isoformat(),
        stage="Closed Won",
    )
    deals_import([deal], dry_run=False, actor=lead, source="demo")
    return tiers_recompute(rep_ids=[star.rep_id], cause="demo data")


def _override(lead: User) -> None:
    rep = User.objects.filter(email="jonas.weber@demo.test").first()
    if rep is None or TierOverride.objects.filter(rep=rep).exists():
        return
    # Level-1 history is drawn at random, so the star may not make gold by the rules: then the
    # exception enablement grants is gold, and the demo still shows every tier.
    natural_gold = RepTier.objects.filter(tier="gold").exists()
    tier_override_set(
        rep=rep,
        tier="silver" if natural_gold else "gold",
        reason="Covers the Nordics launch of Acme Secure this quarter.",
        ends_on=timezone.localdate() + timedelta(days=45),
        actor=lead,
    )


def seed() -> dict[str, Any]:
    lead = _lead()
    if lead is None:
        raise RuntimeError("seed the demo organisation first (accounts.demo.seed)")
    _rates(lead)
    _rule(lead)
    deals = _deals()
    changed = tiers_recompute(rep_ids=all_rep_ids(), cause="demo data")
    changed += _star(lead)
    _override(lead)
    return {"deals": deals, "tier_changes": changed}
