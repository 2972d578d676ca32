"""My notifications: the same centre as the page, through the API."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.pagination import CursorPagination
from accounts.models import User
from accounts.rules import is_authenticated_person
from certification.api.permissions import rule
from certification.models import Notification, NotificationKind
from certification.selectors.notifications import notification_get_for, notifications_for
from certification.services.notifications import notifications_mark_read


class NotificationOutput(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    sender_name = serializers.CharField(source="sender.display_name", default="", read_only=True)

    class Meta:
        model = Notification
        fields = ("id", "kind", "title", "body", "link", "sender_name", "created_at", "read_at")
        read_only_fields = fields


class NewestFirstPagination(CursorPagination):
    ordering = "-id"


class NotificationListApi(generics.ListAPIView):
    """My notifications, newest first, paged (only my own)."""

    permission_classes = rule(is_authenticated_person)
    pagination_class = NewestFirstPagination
    serializer_class = NotificationOutput

    def get_queryset(self) -> QuerySet[Notification]:
        user: User = self.request.user  # type: ignore[assignment]
        return notifications_for(user=user).select_related("sender")


class NotificationReadApi(APIView):
    """Mark one of my notifications read (404 for anyone else's)."""

    permission_classes = rule(is_authenticated_person)

    @extend_schema(
        request=None,
        responses={
            200: NotificationOutput,
            404: OpenApiResponse(description="Not your notification, or no such thing."),
        },
    )
    def post(self, request: Request, notification_id: int) -> Response:
        user: User = request.user  # type: ignore[assignment]
        notification = notification_get_for(user=user, notification_id=notification_id)
        notifications_mark_read(user=user, now=timezone.now(), notification_ids=[notification.pk])
        notification.refresh_from_db(fields=["read_at"])
        return Response(NotificationOutput(notification).data)
