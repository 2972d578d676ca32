"""Celery tasks: thin wrappers around services, safe to run twice."""

from __future__ import annotations

from certification.services.attempts import attempts_close_overdue
from certification.services.tiers import all_rep_ids, tiers_recompute
from config.celery import app


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
