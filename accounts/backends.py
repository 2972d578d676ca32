"""Authentication backends: email sign-in, and Django-admin rights for the admin role."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.http import HttpRequest


class EmailBackend(ModelBackend):
    """Sign in with email and password (the form's ``username`` field carries the email)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        return super().authenticate(
            request, username=username or kwargs.get("email"), password=password
        )


class AdminRoleBackend(BaseBackend):
    """Give people with the admin role the model permissions of ``ADMIN_ROLE_APPS`` only.

    Admins run users, teams, tokens, schedules and the audit trail; apps holding reps' results
    are not listed, so a new model is never exposed to them by default. Object-level rules never
    go through ``has_perm``: they are predicates in ``rules.py``.
    """

    def has_perm(self, user_obj: Any, perm: str, obj: object = None) -> bool:
        return obj is None and self.has_module_perms(user_obj, perm.split(".", 1)[0])

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return bool(
            user_obj.is_active
            and getattr(user_obj, "is_admin", False)
            and app_label in settings.ADMIN_ROLE_APPS
        )
