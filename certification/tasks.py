"""Celery tasks: thin wrappers around services, safe to run twice."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.utils import timezone

from certification.models import SupportPeriod
from certification.services.attempts import attempts_close_overdue
from certification.services.exports import (
    export_run,
    exports_purge_expired,
    exports_resend_stuck,
)
from certification.services.lifecycle import certifications_expire_due
from certification.services.notifications import (
    notification_emails_send,
    notify_expiring_certifications,
)
from certification.services.readiness import weekly_reports_send
from certification.services.readiness_summaries import readiness_summaries_refresh
from certification.services.snapshots import readiness_snapshot_take
from certification.services.support import support_allocate, support_allocate_starting
from certification.services.tiers import tiers_recompute, tiers_recompute_all
from config.celery import app, outbox_sweep
from config.errors import ApplicationError


@app.task(name="certification.outbox_sweep", acks_late=True)
def sweep_outbox() -> int:
    """Send the outbox messages a broker outage held back (every minute), each once."""
    return outbox_sweep()


@app.task(name="certification.close_overdue_attempts", acks_late=True)
def close_overdue_attempts() -> int:
    """Grade the attempts whose time is up (each is graded once, under its row lock)."""
    return attempts_close_overdue()


@app.task(name="certification.recompute_tiers", acks_late=True)
def recompute_tiers(rep_ids: list[int], cause: str) -> int:
    """Recompute some reps' tiers (a fact about them changed); returns how many changed."""
    return tiers_recompute(rep_ids=rep_ids, cause=cause)


@app.task(name="certification.recompute_tiers_bulk", acks_late=True)
def recompute_tiers_bulk(rep_ids: list[int], cause: str) -> int:
    """``recompute_tiers`` on the bulk queue: one share of ``recompute_all_tiers``."""
    return tiers_recompute(rep_ids=rep_ids, cause=cause)


@app.task(name="certification.refresh_readiness_summaries", acks_late=True)
def refresh_readiness_summaries() -> str:
    """Every minute: re-derive the stale readiness summaries (those a change has touched),
    stopping after ~45 s so runs do not pile up; safe to run twice or side by side."""
    result = readiness_summaries_refresh(time_budget=45)
    return f"{result.refreshed} refreshed, {result.skipped} left for the next run"


@app.task(name="certification.recompute_all_tiers", acks_late=True)
def recompute_all_tiers(cause: str = "nightly recompute") -> int:
    """Recompute every active rep (nightly, and after the tier rule changes): sends one
    ``recompute_tiers_bulk`` per batch of reps, which the bulk queue's worker processes
    share. Returns how many were sent."""
    return tiers_recompute_all(cause=cause)


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


@app.task(
    name="certification.run_export",
    acks_late=True,
    soft_time_limit=settings.EXPORT_TIME_LIMIT,
    time_limit=settings.EXPORT_TIME_LIMIT + 30,
)
def run_export(job_id: int) -> str:
    """Produce an export job's file (once: a job already run or running is left alone)."""
    job = export_run(job_id=job_id)
    return job.status if job is not None else "no such export"


@app.task(name="certification.purge_expired_exports", acks_late=True)
def purge_expired_exports() -> int:
    """Delete the files of exports past their retention (hourly); returns how many."""
    return exports_purge_expired(now=timezone.now())


@app.task(name="certification.take_readiness_snapshot", acks_late=True)
def take_readiness_snapshot(day: str = "") -> int:
    """Snapshot the readiness figures of today (or of the ISO ``day`` given, from history) per
    team and offering; running again replaces that day's rows. Returns rows written."""
    now = timezone.now()
    on = date.fromisoformat(day) if day else timezone.localdate(now)
    return readiness_snapshot_take(day=on, now=now)


@app.task(name="certification.send_weekly_reports", acks_late=True)
def send_weekly_reports() -> int:
    """Send the weekly readiness emails that are due this hour (each once per week)."""
    return weekly_reports_send(now=timezone.now())


@app.task(name="certification.resend_stuck_exports", acks_late=True)
def resend_stuck_exports() -> int:
    """Send again the export jobs whose message was lost (every 10 minutes)."""
    return exports_resend_stuck(now=timezone.now())


@app.task(name="certification.expire_certifications", acks_late=True)
def expire_certifications() -> int:
    """Expire the certifications past their date (hourly), audited, and recompute the tiers
    of their reps; returns how many expired (none the second time)."""
    return certifications_expire_due(now=timezone.now())


@app.task(name="certification.send_notification_emails", acks_late=True)
def send_notification_emails() -> int:
    """Send the notification emails now due (every 5 minutes), each at most once even when
    two runs overlap; returns how many were sent."""
    return notification_emails_send(now=timezone.now())


@app.task(name="certification.notify_expiring_certifications", acks_late=True)
def notify_expiring_certifications_task() -> int:
    """Warn holders 30, 7 and 1 days before expiry (daily; each warning once)."""
    return notify_expiring_certifications(now=timezone.now())
