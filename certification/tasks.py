"""Celery tasks: thin wrappers around services, safe to run twice."""

from __future__ import annotations

from django.utils import timezone

from certification.models import SupportPeriod
from certification.services.attempts import attempts_close_overdue
from certification.services.support import support_allocate, support_allocate_starting
from certification.services.tiers import all_rep_ids, tiers_recompute
from config.celery import app
from config.errors import ApplicationError


@app.task(name="certification.close_overdue_attempts", acks_late=True)
def close_overdue_attempts() -> int:
    """Grade the attempts whose time is up (each is graded once, under its row lock)."""
    return attempts_close_overdue()


@app.task(name="certification.recompute_tiers", acks_late=True)
def recompute_tiers(rep_ids: list[int], cause: str) -> int:
    """Recompute some reps' tiers (a fact about them changed); returns how many changed."""
    return tiers_recompute(rep_ids=rep_ids, cause=cause)


@app.task(name="certification.recompute_all_tiers", acks_late=True)
def recompute_all_tiers(cause: str = "nightly recompute") -> int:
    """Recompute every active rep (nightly, and after the tier rule changes)."""
    return tiers_recompute(rep_ids=all_rep_ids(), cause=cause)


@app.task(name="certification.allocate_support", acks_late=True)
def allocate_support(period_id: int) -> str:
    """Run the support allocation of one period (idempotent, under the period's row lock)."""
    period = SupportPeriod.objects.filter(pk=period_id).first()
    if period is None:
        return "no such period"
    try:
        result = support_allocate(period=period, now=timezone.now())
    except ApplicationError as error:  # an ended period: running again would not help
        return error.message
    return f"{result.allocated} of {result.capacity} h allocated, {result.waiting_count} waiting"


@app.task(name="certification.allocate_support_starting_today", acks_late=True)
def allocate_support_starting_today() -> int:
    """Allocate the periods that start today (early, after the nightly tier recompute), with
    the tiers reps hold on the first day; returns how many."""
    now = timezone.now()
    return support_allocate_starting(on=timezone.localdate(now), now=now)
