"""Celery tasks: thin wrappers around services, safe to run twice."""

from __future__ import annotations

from certification.services.attempts import attempts_close_overdue
from config.celery import app


@app.task(name="certification.close_overdue_attempts", acks_late=True)
def close_overdue_attempts() -> int:
    """Grade the attempts whose time is up (each is graded once, under its row lock)."""
    return attempts_close_overdue()
