"""The task outbox: every Celery message is first a row, written in the transaction that asks
for it, so a broker outage delays the work instead of losing it."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """A task to send to the broker. Sent as its transaction commits, or, when the broker was
    away, by the periodic sweeper; ``sent_at`` is stamped once the broker has taken it."""

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(
        default=timezone.now, help_text="The sweeper does not send it before this."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Failed attempts to send it (the broker was unreachable)."
    )
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes: ClassVar = [
            models.Index(
                fields=["available_at", "id"],
                condition=Q(sent_at__isnull=True),
                name="outbox_unsent",
            ),
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outbox_sent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"

    @property
    def task_id(self) -> str:
        """The Celery task id it is sent with: the same on every attempt, so a message sent
        twice (a crash between publishing and stamping) is recognisable as one."""
        return f"outbox-{self.pk}"
