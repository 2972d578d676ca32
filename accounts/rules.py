"""Object-level permission predicates (django-rules), shared by pages and the API.

Each predicate answers one question; composed predicates say who may do what. They must agree
with the scoped selectors in ``selectors.py``: a list never shows what a detail would refuse.
"""

from __future__ import annotations

from typing import Any

import rules

from accounts.models import Team, User
from accounts.selectors import managed_team_paths


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


@rules.predicate
def is_rep(user: Any) -> bool:
    """The user holds the rep role."""
    return _active(user) and user.is_rep


@rules.predicate
def is_manager(user: Any) -> bool:
    """The user holds the manager role."""
    return _active(user) and user.is_manager


@rules.predicate
def is_enablement(user: Any) -> bool:
    """The user is an enablement lead."""
    return _active(user) and user.is_enablement


@rules.predicate
def is_teleprospecting_lead(user: Any) -> bool:
    """The user leads teleprospecting."""
    return _active(user) and user.is_teleprospecting_lead


@rules.predicate
def is_admin(user: Any) -> bool:
    """The user administers accounts."""
    return _active(user) and user.is_admin


@rules.predicate
def is_self(user: Any, person: User | None) -> bool:
    """The person is the user."""
    return _active(user) and person is not None and person.pk == user.pk


@rules.predicate
def manages_team(user: Any, team: Team | None) -> bool:
    """The team is in a subtree the user leads as manager."""
    if team is None:
        return False
    return any(team.path.startswith(path) for path in managed_team_paths(user))


@rules.predicate
def is_manager_of(user: Any, person: User | None) -> bool:
    """The person belongs to a team in a subtree the user leads as manager."""
    if person is None or person.team_id is None:
        return False
    return manages_team(user, person.team)


@rules.predicate
def is_active_rep(_user: Any, person: User | None) -> bool:
    """The person is an active rep (the user is not consulted)."""
    return person is not None and person.is_active and person.is_rep


@rules.predicate
def is_active_person(_user: Any, person: User | None) -> bool:
    """The person's account is active (the user is not consulted)."""
    return person is not None and person.is_active


@rules.predicate
def is_own_team(user: Any, team: Team | None) -> bool:
    """The team is the one the user belongs to."""
    return _active(user) and team is not None and user.team_id == team.pk


# Whose certification records, results and tiers a user may read (see reps_visible_to).
can_view_rep_records = is_active_rep & (is_self | is_manager_of | is_enablement)

# Whose directory entry a user may read (see users_visible_to).
can_view_user = is_admin | (is_active_person & (is_self | is_manager_of | is_enablement))

# Which teams a user may see (see teams_visible_to).
can_view_team = is_admin | is_enablement | is_teleprospecting_lead | manages_team | is_own_team

can_browse_people = is_manager | is_enablement | is_admin


@rules.predicate
def is_authenticated_person(user: Any) -> bool:
    """Any signed-in, active person (what each may see is scoped further by selectors)."""
    return _active(user)
