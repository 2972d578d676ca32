"""The notification centre and email preferences."""

from django.urls import path

from certification.views import notifications

urlpatterns = [
    path("notifications/", notifications.notification_list, name="notifications"),
    path(
        "notifications/<int:notification_id>/read/",
        notifications.notification_read,
        name="notification_read",
    ),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notifications_read_all",
    ),
    path(
        "notifications/preferences/",
        notifications.notification_preferences_page,
        name="notification_preferences",
    ),
    path(
        "notifications/preferences/<str:token>/",
        notifications.notification_preferences_signed,
        name="notification_preferences_token",
    ),
]
