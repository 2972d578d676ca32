"""Reads of a person's notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from certification.models import Notification
from config.errors import NotFoundError


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """Return the person's own notifications, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def notification_get_for(*, user: User, notification_id: int) -> Notification:
    """Return one of the person's notifications; anyone else's is not found."""
    notification = notifications_for(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFoundError("No such notification.")
    return notification


def unread_count(*, user: User | None) -> int:
    """Count the person's unread notifications (0 for anyone not signed in), in one query."""
    if user is None or not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
