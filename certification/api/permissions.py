"""API permissions for certification endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.settings import api_settings

from accounts.api.permissions import token_scope_required


def rule(
    predicate: Callable[[Any], bool], *, token_scope: str | None = None
) -> list[type[BasePermission]]:
    """The project's default permissions (signed in, token scopes) plus the predicate on the
    user; failing the predicate answers 404, as if the endpoint did not exist, which is the
    answer the pages give (accounts.decorators.rule_required).

    Use it as ``permission_classes = rule(...)``: it keeps the defaults, so a read-only token
    still cannot write here. With ``token_scope``, the endpoint belongs to one integration: a
    token needs that scope instead of ``read`` / ``write`` (see token_scope_required).
    """

    class RulePermission(BasePermission):
        def has_permission(self, request: Request, view: Any) -> bool:
            # A method the endpoint does not have answers 405 to everyone, as the schema
            # shows the same methods to everyone; hiding is for what the method would do.
            if request.method.lower() not in view.http_method_names or not hasattr(
                view, request.method.lower()
            ):
                return True
            if not predicate(request.user):
                raise NotFound
            return True

    RulePermission.__name__ = f"Rule_{getattr(predicate, 'name', 'predicate')}"
    if token_scope is not None:
        return [IsAuthenticated, token_scope_required(token_scope), RulePermission]
    return [*api_settings.DEFAULT_PERMISSION_CLASSES, RulePermission]
