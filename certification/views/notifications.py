"""The notification centre and email preferences (signed in, or through an email's signed link)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import User
from certification.models import CERTIFICATION_KINDS, NotificationKind
from certification.selectors.notifications import notification_get_for, notifications_for
from certification.services.notifications import (
    notification_preferences,
    notification_preferences_set,
    notifications_mark_read,
    preferences_user_from_token,
)
from config.errors import NotFoundError

PAGE_SIZE = 25


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """My notifications, newest first, paginated."""
    user: User = request.user  # type: ignore[assignment]
    page = Paginator(notifications_for(user=user).select_related("sender"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "certification/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one of my notifications read and follow its link (404 for anyone else's)."""
    user: User = request.user  # type: ignore[assignment]
    try:
        notification = notification_get_for(user=user, notification_id=notification_id)
    except NotFoundError as error:
        raise Http404(error.message) from error
    notifications_mark_read(user=user, now=timezone.now(), notification_ids=[notification.pk])
    # Links are paths inside the app: never follow one that leaves it (e.g. "//host").
    if request.POST.get("follow") and url_has_allowed_host_and_scheme(
        notification.link, allowed_hosts=None
    ):
        return redirect(notification.link)
    return redirect("certification:notifications")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    """Mark all my notifications read."""
    user: User = request.user  # type: ignore[assignment]
    count = notifications_mark_read(user=user, now=timezone.now())
    messages.success(request, f"{count} marked read.")
    return redirect("certification:notifications")


def _preferences(request: HttpRequest, user: User, *, signed: bool) -> HttpResponse:
    if request.method == "POST":
        notification_preferences_set(user=user, email_kinds=request.POST.getlist("email"))
        messages.success(request, "Your email preferences are saved.")
        return redirect(request.path)
    chosen = notification_preferences(user=user)
    kinds = [
        {
            "value": value,
            "label": label,
            "email": chosen[value],
            "in_app_always": value in CERTIFICATION_KINDS,
        }
        for value, label in NotificationKind.choices
    ]
    return render(
        request,
        "certification/notification_preferences.html",
        {"kinds": kinds, "person": user, "signed": signed},
    )


@login_required
def notification_preferences_page(request: HttpRequest) -> HttpResponse:
    """Choose, per kind, whether I get email (the app always shows certification news)."""
    return _preferences(request, request.user, signed=False)  # type: ignore[arg-type]


def notification_preferences_signed(request: HttpRequest, token: str) -> HttpResponse:
    """The same page through an email's signed link, without signing in; a tampered or
    expired link is refused with a clear page and changes nothing."""
    user = preferences_user_from_token(token)
    if user is None:
        return render(request, "certification/notification_link_invalid.html", status=400)
    return _preferences(request, user, signed=True)
