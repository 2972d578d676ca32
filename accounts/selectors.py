"""Reads about people and teams, scoped to what the asking user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, Q, QuerySet

from accounts.models import ROLE_FIELDS, ApiToken, AuditEvent, Role, Team, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    Viewer = User | AnonymousUser

_PATHS_CACHE = "_repready_managed_team_paths"


def _signed_in(user: Viewer | None) -> User | None:
    """Return the user if they are a signed-in, active person, else None."""
    return user if isinstance(user, User) and user.is_active else None


def managed_team_paths(user: Viewer) -> tuple[str, ...]:
    """Return the paths of the subtrees this manager leads, without nested duplicates.

    Only a person holding the manager role leads a team: removing the role removes the access
    even if a team still names them. The result is cached on the user object for the request.
    """
    viewer = _signed_in(user)
    if viewer is None or not viewer.is_manager:
        return ()
    cached: tuple[str, ...] | None = getattr(user, _PATHS_CACHE, None)
    if cached is None:
        paths = sorted(Team.objects.filter(manager=viewer).values_list("path", flat=True))
        cached = tuple(
            path for i, path in enumerate(paths) if not any(path.startswith(p) for p in paths[:i])
        )
        setattr(viewer, _PATHS_CACHE, cached)
    return cached


def forget_managed_team_paths(user: Viewer) -> None:
    """Drop the cached subtree paths after a change to the teams this user leads."""
    if hasattr(user, _PATHS_CACHE):
        delattr(user, _PATHS_CACHE)


def _subtree_q(paths: tuple[str, ...], field: str) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition


def reps_visible_to(user: Viewer) -> QuerySet[User]:
    """Return the active reps whose records this user may see.

    Enablement sees every rep, a manager the reps of every team under the teams they lead,
    a rep only themself. Admins and teleprospecting leads see no one's results through this.
    """
    reps = User.objects.filter(is_rep=True, is_active=True).select_related("team")
    viewer = _signed_in(user)
    if viewer is None:
        return reps.none()
    if viewer.is_enablement:
        return reps
    condition = _subtree_q(managed_team_paths(viewer), "team__path")
    if viewer.is_rep:
        condition |= Q(pk=viewer.pk)
    return reps.filter(condition)


# The rep fields reports slice by (readiness requirements and the report's filters).
SLICE_FIELDS = ("segment", "sales_role")


def rep_slice_values(*, viewer: Viewer, field: str) -> list[str]:
    """The distinct non-empty values of a slice field (``segment`` or ``sales_role``) among the
    active reps the viewer may see, sorted.

    Enablement sees every rep: there the field's index is walked from one value to the next
    (a recursive query, one index probe per distinct value), instead of reading every rep to
    find the few values they share: 3 ms instead of 113 at 100,000 reps. A manager's reps are
    a subtree, read as they are.
    """
    if field not in SLICE_FIELDS:
        raise ValueError(f"not a slice field: {field!r}")
    signed_in = _signed_in(viewer)
    if signed_in is not None and signed_in.is_enablement:
        # These fields' columns are named after them (no db_column).
        table, column, rep, active = (
            connection.ops.quote_name(name)
            for name in (User._meta.db_table, field, "is_rep", "is_active")
        )
        reps = f"FROM {table} WHERE {rep} AND {active}"
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH RECURSIVE walk(v) AS ("  # noqa: S608 - names from the model, no input
                f" SELECT MIN({column}) {reps} AND {column} > ''"
                f" UNION ALL"
                f" SELECT (SELECT MIN({column}) {reps} AND {column} > walk.v)"
                f" FROM walk WHERE walk.v IS NOT NULL"
                f") SELECT v FROM walk WHERE v IS NOT NULL"
            )
            return sorted(row[0] for row in cursor.fetchall())
    values = reps_visible_to(viewer).order_by().exclude(**{field: ""})
    return sorted(values.values_list(field, flat=True).distinct())


def users_visible_to(user: Viewer) -> QuerySet[User]:
    """Return the people this user may look up: the directory, not anyone's results.

    Admins see everyone (inactive included), enablement every active person, a manager the
    people of their subtree and themself, anyone else only themself.
    """
    people = User.objects.select_related("team")
    viewer = _signed_in(user)
    if viewer is None:
        return people.none()
    if viewer.is_admin:
        return people
    people = people.filter(is_active=True)
    if viewer.is_enablement:
        return people
    return people.filter(_subtree_q(managed_team_paths(viewer), "team__path") | Q(pk=viewer.pk))


def people_search(
    *, viewer: Viewer, team_id: int | None = None, role: str | None = None, text: str = ""
) -> QuerySet[User]:
    """Return the people the viewer may see, narrowed to a team subtree, a role and a text."""
    people = users_visible_to(viewer)
    if team_id is not None:
        team = teams_visible_to(viewer).filter(pk=team_id).first()
        if team is None:
            return people.none()
        people = people.filter(team__path__startswith=team.path)
    if role:
        people = people.filter(**{ROLE_FIELDS[Role(role)]: True})
    if text := text.strip():
        people = people.filter(Q(display_name__icontains=text) | Q(email__icontains=text))
    return people


def teams_visible_to(user: Viewer) -> QuerySet[Team]:
    """Return the teams this user may see: all for staff roles, a manager's subtree, one's own."""
    teams = Team.objects.select_related("parent", "manager")
    viewer = _signed_in(user)
    if viewer is None:
        return teams.none()
    if viewer.is_admin or viewer.is_enablement or viewer.is_teleprospecting_lead:
        return teams
    condition = _subtree_q(managed_team_paths(viewer), "path")
    if viewer.team_id:
        condition |= Q(pk=viewer.team_id)
    return teams.filter(condition)


def subtree_rep_counts(user: Viewer) -> list[dict[str, Any]]:
    """Return, per team this manager leads, the number of active reps in its whole subtree."""
    paths = managed_team_paths(user)
    if not paths:
        return []
    teams = Team.objects.filter(path__in=paths).order_by("path")
    totals = User.objects.filter(is_rep=True, is_active=True).aggregate(
        **{
            f"t{i}": Count("pk", filter=Q(team__path__startswith=path))
            for i, path in enumerate(paths)
        }
    )
    index = {path: i for i, path in enumerate(paths)}
    return [{"team": team, "rep_count": totals[f"t{index[team.path]}"]} for team in teams]


def team_and_ancestor_paths(team: Team | None) -> list[str]:
    """Return the paths of the team and of every team above it, outermost first."""
    if team is None:
        return []
    return [team.path[: i + 1] for i, char in enumerate(team.path) if char == "/"]


def managers_of(person: User) -> list[User]:
    """Return the active managers leading the person's team or any team above it, nearest first."""
    team = person.team
    if team is None:
        return []
    teams = (
        Team.objects.filter(
            path__in=team_and_ancestor_paths(team),
            manager__is_active=True,
            manager__is_manager=True,
        )
        .exclude(manager=person)
        .select_related("manager")
        .order_by("-path")
    )
    seen: dict[int, User] = {}
    for team in teams:
        seen.setdefault(team.manager_id, team.manager)  # type: ignore[arg-type]
    return list(seen.values())


def organisation_summary() -> dict[str, int]:
    """Count active people and reps, regions and teams, in two aggregate queries."""
    people = User.objects.filter(is_active=True).aggregate(
        people=Count("pk"), reps=Count("pk", filter=Q(is_rep=True))
    )
    teams = Team.objects.aggregate(
        regions=Count("pk", filter=Q(kind=Team.Kind.REGION)),
        teams=Count("pk", filter=Q(kind=Team.Kind.TEAM)),
    )
    return {**people, **teams}


def api_tokens_of(user: User) -> QuerySet[ApiToken]:
    """Return a person's API tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def audit_events_for(target: Any) -> QuerySet[AuditEvent]:
    """Return the audit trail of one object, newest first."""
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
    ).select_related("actor")
