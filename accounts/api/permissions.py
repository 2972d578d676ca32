"""API permissions shared by every endpoint."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from accounts.models import ApiToken


class TokenScopePermission(BasePermission):
    """A token may read with ``read`` or ``write`` scope, and write only with ``write``.

    Session-authenticated requests (the browser, Swagger UI) are not limited by scopes.
    """

    message = "This API token's scopes do not allow this request."

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        if request.method in SAFE_METHODS:
            return bool({ApiToken.Scope.READ, ApiToken.Scope.WRITE} & set(token.scopes))
        return ApiToken.Scope.WRITE in token.scopes


def token_scope_required(scope: str) -> type[BasePermission]:
    """For the endpoints of one integration (a dialer's support calls, say): a token needs this
    scope, and it is all the token needs there (``read`` and ``write`` neither add nor take
    away). Session-authenticated requests are not limited by scopes."""

    class ScopePermission(BasePermission):
        message = f"This API token lacks the '{scope}' scope."

        def has_permission(self, request: Request, view: Any) -> bool:
            token = request.auth
            if not isinstance(token, ApiToken):
                return True
            return scope in token.scopes

    ScopePermission.__name__ = f"TokenScope_{scope}"
    return ScopePermission
