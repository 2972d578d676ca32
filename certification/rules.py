"""Object-level permission predicates for certification, shared by pages and the API."""

from __future__ import annotations

from typing import Any

import rules

from accounts.rules import can_view_rep_records, is_enablement, is_rep
from certification.models import Attempt

# Enablement authors subjects, banks, questions and tests, assigns them and reads results.
can_author = is_enablement
can_take_tests = is_rep


@rules.predicate
def owns_attempt(user: Any, attempt: Attempt | None) -> bool:
    """The attempt is the user's own."""
    return attempt is not None and user.is_authenticated and attempt.rep_id == user.pk


@rules.predicate
def may_see_attempt_result(user: Any, attempt: Attempt | None) -> bool:
    """The user may read this attempt's result: the rep, their managers, enablement."""
    return attempt is not None and (
        owns_attempt(user, attempt) or can_view_rep_records(user, attempt.rep)
    )
