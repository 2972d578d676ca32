"""What people are told: in-app notifications, their scheduled email, and email preferences."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class NotificationKind(models.TextChoices):
    EXAM_ASSIGNED = "exam_assigned", "Test assigned"
    ASSESSMENT_SCHEDULED = "assessment_scheduled", "Assessment scheduled"
    FEEDBACK_RELEASED = "feedback_released", "Feedback released"
    CERTIFICATION_ISSUED = "certification_issued", "Certification issued"
    CERTIFICATION_EXPIRING = "certification_expiring", "Certification expiring"
    CERTIFICATION_EXPIRED = "certification_expired", "Certification expired"
    CERTIFICATION_REVOKED = "certification_revoked", "Certification revoked"
    TIER_CHANGED = "tier_changed", "Tier changed"
    SIGNOFF_WAITING = "signoff_waiting", "Sign-off waiting"
    SUPPORT_ALLOCATED = "support_allocated", "Support allocated"
    OFFERING_VERSION = "offering_version", "New offering version"


# Kinds about a certification the recipient holds: opting down stops their email only, the
# notification centre always shows them.
CERTIFICATION_KINDS = frozenset(
    {
        NotificationKind.CERTIFICATION_ISSUED,
        NotificationKind.CERTIFICATION_EXPIRING,
        NotificationKind.CERTIFICATION_EXPIRED,
        NotificationKind.CERTIFICATION_REVOKED,
        NotificationKind.OFFERING_VERSION,
    }
)


class Notification(models.Model):
    """One event told to one person, in the app and (once, in their working hours) by email."""

    Kind = NotificationKind

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    event_key = models.CharField(
        max_length=120, help_text="Names the event: the same event is told to a person once."
    )
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Plain text.")
    link = models.CharField(max_length=300, blank=True, help_text="A path inside the app.")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The real person the email is sent in the name of.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    email_due_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_skipped = models.CharField(
        max_length=100, blank=True, help_text="Why no email is sent (e.g. opted down)."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "event_key"], name="notification_once_per_event"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_recent"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
            models.Index(
                fields=["email_due_at"],
                condition=Q(emailed_at__isnull=True, email_due_at__isnull=False),
                name="notification_email_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind}: {self.title}"


class NotificationPreference(models.Model):
    """Whether a person gets email for one kind of notification (no row: they do)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    email = models.BooleanField(default=True)

    class Meta:
        ordering = ["user", "kind"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {'email' if self.email else 'in app only'}"
