"""View guards: sign-in first, then a rule; a page a person may not use answers 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def rule_required(predicate: Callable[[Any], bool]) -> Callable[[View], View]:
    """Require sign-in, then the predicate on the user; otherwise 404, as if there were no page."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not predicate(request.user):
                raise Http404
            return view(request, *args, **kwargs)

        return login_required(guarded)

    return decorate
