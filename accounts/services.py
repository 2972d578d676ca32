"""Writes about people, teams, roles and API tokens. One function per use case."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import time, timedelta
from typing import Any, Final

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from accounts.models import ROLE_FIELDS, ApiToken, AuditEvent, Role, Team, User, UserManager
from accounts.selectors import forget_managed_team_paths
from config.errors import ApplicationError, from_validation_error


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
MAX_TEAM_DEPTH: Final = 8
TOKEN_PATTERN: Final = re.compile(r"^rr_([0-9a-f]{8})_([A-Za-z0-9_-]{40,})$")
TOKEN_TOUCH_INTERVAL: Final = timedelta(minutes=5)


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: Any = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that the actor did something to the target."""
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=actor.email if actor else "",
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:255] if target is not None else "",
        changes=changes or {},
    )


# Teams -------------------------------------------------------------------------------------


def _check_manager(manager: User | None) -> None:
    if manager is not None and not (manager.is_active and manager.is_manager):
        raise ApplicationError(
            f"{manager.display_name} cannot lead a team: they do not hold the manager role.",
            field_errors={"manager": ["This person does not hold the manager role."]},
        )


def _check_placement(*, name: str, kind: str, parent: Team | None, exclude: Team | None) -> None:
    if kind == Team.Kind.REGION and parent is not None:
        raise ApplicationError(
            "A region is a top-level unit and has no parent.",
            field_errors={"parent": ["A region has no parent."]},
        )
    if kind == Team.Kind.TEAM and parent is None:
        raise ApplicationError(
            "A team belongs to a region or another team.",
            field_errors={"parent": ["Choose the region or team this team belongs to."]},
        )
    if parent is not None and parent.depth >= MAX_TEAM_DEPTH:
        raise ApplicationError(f"Teams nest at most {MAX_TEAM_DEPTH} levels deep.")
    siblings = Team.objects.filter(parent=parent, name__iexact=name)
    if exclude is not None:
        siblings = siblings.exclude(pk=exclude.pk)
    if siblings.exists():
        where = f"in {parent.name}" if parent else "among regions"
        raise ApplicationError(
            f"There is already a team called {name!r} {where}.",
            field_errors={"name": ["This name is taken here."]},
        )


def team_check(
    *,
    name: str,
    kind: str,
    parent: Team | None,
    manager: User | None,
    team: Team | None = None,
) -> None:
    """Refuse a team (new, or ``team`` changed) that would break the hierarchy; change nothing."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError("A team needs a name.", field_errors={"name": ["Required."]})
    if kind not in Team.Kind.values:
        raise ApplicationError(f"Unknown kind {kind!r}.", field_errors={"kind": ["Unknown."]})
    if team is not None and parent is not None and parent.path.startswith(team.path):
        raise ApplicationError(
            "A team cannot move under itself or one of its own sub-teams.",
            field_errors={"parent": ["Choose a team outside this subtree."]},
        )
    _check_placement(name=name, kind=kind, parent=parent, exclude=team)
    if team is None or manager != team.manager:
        _check_manager(manager)


@transaction.atomic
def team_create(
    *,
    name: str,
    kind: str = Team.Kind.TEAM,
    parent: Team | None = None,
    manager: User | None = None,
    actor: User | None = None,
) -> Team:
    """Create a region (no parent) or a team under a region or team."""
    team_check(name=name, kind=kind, parent=parent, manager=manager)
    team = Team.objects.create(
        name=name.strip(), kind=kind, parent=parent, manager=manager, path=""
    )
    team.path = f"{parent.path if parent else ''}{team.pk:06d}/"
    team.save(update_fields=["path"])
    audit_record(
        actor=actor,
        action="team.created",
        target=team,
        changes={
            "kind": kind,
            "parent": parent.name if parent else None,
            "manager": manager.email if manager else None,
        },
    )
    return team


def _subtree_height(team: Team) -> int:
    """Levels from the team down to its deepest sub-team (1 for a team without sub-teams)."""
    deepest = max(
        (
            len(path)
            for path in Team.objects.filter(path__startswith=team.path).values_list(
                "path", flat=True
            )
        ),
        default=len(team.path),
    )
    return (deepest - len(team.path)) // 7 + 1  # each level adds "NNNNNN/"


@transaction.atomic
def team_update(
    *,
    team: Team,
    actor: User | None,
    name: str | _Unset = UNSET,
    parent: Team | _Unset | None = UNSET,
    manager: User | _Unset | None = UNSET,
) -> Team:
    """Rename a team, change its manager or move it (with its whole subtree) elsewhere."""
    caller_team = team
    team = (
        Team.objects.select_for_update(of=("self",))
        .select_related("parent", "manager")
        .get(pk=team.pk)
    )
    new_name = team.name if isinstance(name, _Unset) else (name or "").strip()
    new_parent = team.parent if isinstance(parent, _Unset) else parent
    if new_parent is not None and new_parent != team.parent:
        # Lock and re-read the destination: concurrent moves must not build a cycle.
        new_parent = Team.objects.select_for_update().get(pk=new_parent.pk)
        list(Team.objects.select_for_update().filter(path__startswith=team.path).values("pk"))
        if new_parent.depth + _subtree_height(team) > MAX_TEAM_DEPTH:
            raise ApplicationError(
                f"Teams nest at most {MAX_TEAM_DEPTH} levels deep; this move would go deeper.",
                field_errors={"parent": ["Too deep."]},
            )
    new_manager = team.manager if isinstance(manager, _Unset) else manager
    team_check(name=new_name, kind=team.kind, parent=new_parent, manager=new_manager, team=team)
    changes: dict[str, Any] = {}
    if new_name != team.name:
        changes["name"] = [team.name, new_name]
        team.name = new_name
    if new_parent != team.parent:
        old_path = team.path
        new_path = f"{new_parent.path if new_parent else ''}{team.pk:06d}/"
        Team.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1))
        )
        changes["parent"] = [
            team.parent.name if team.parent else None,
            new_parent.name if new_parent else None,
        ]
        team.parent = new_parent
        team.path = new_path
    if new_manager != team.manager:
        changes["manager"] = [
            team.manager.email if team.manager else None,
            new_manager.email if new_manager else None,
        ]
        team.manager = new_manager
    if changes:
        team.save(update_fields=["name", "parent", "manager"])
        audit_record(actor=actor, action="team.updated", target=team, changes=changes)
        # Subtrees changed: forget the cached paths on every user object we were handed.
        for person in (caller_team.manager, new_manager, actor):
            if person is not None:
                forget_managed_team_paths(person)
        caller_team.path, caller_team.parent, caller_team.name = team.path, team.parent, team.name
        caller_team.manager = team.manager
    return team


# People ------------------------------------------------------------------------------------


def _roles_from(roles: Iterable[str]) -> set[Role]:
    chosen: set[Role] = set()
    for role in roles:
        try:
            chosen.add(Role(role))
        except ValueError:
            raise ApplicationError(
                f"Unknown role {role!r}.", field_errors={"roles": [f"Unknown role {role!r}."]}
            ) from None
    return chosen


@transaction.atomic
def user_create(
    *,
    email: str,
    display_name: str,
    password: str | None = None,
    team: Team | None = None,
    roles: Iterable[str] = (),
    time_zone: str = "UTC",
    actor: User | None = None,
    password_hash: str | None = None,
    segment: str = "",
    sales_role: str = "",
) -> User:
    """Create a person with their roles; without a password they must reset it to sign in.

    ``password_hash`` lets bulk loaders reuse one already-hashed password.
    """
    email = UserManager.normalize_email(email)
    if User.objects.filter(email__iexact=email).exists():
        raise ApplicationError(
            f"{email} already has an account.", field_errors={"email": ["Already registered."]}
        )
    user = User(
        email=email,
        display_name=(display_name or "").strip(),
        team=team,
        time_zone=time_zone,
        segment=segment.strip(),
        sales_role=sales_role.strip(),
    )
    for role in _roles_from(roles):
        setattr(user, ROLE_FIELDS[role], True)
    if password_hash:
        user.password = password_hash
    elif password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
        user.save()
    except ValidationError as exc:
        raise from_validation_error(exc) from None
    except IntegrityError:
        raise ApplicationError(f"{email} already has an account.") from None
    audit_record(
        actor=actor,
        action="user.created",
        target=user,
        changes={"roles": sorted(user.roles), "team": team.name if team else None},
    )
    return user


@transaction.atomic
def user_set_roles(*, user: User, roles: Iterable[str], actor: User | None) -> User:
    """Replace the person's roles, recording the before and after."""
    chosen = _roles_from(roles)
    before = sorted(user.roles)
    for role, field in ROLE_FIELDS.items():
        setattr(user, field, role in chosen)
    after = sorted(user.roles)
    if before != after:
        user.save(update_fields=list(ROLE_FIELDS.values()))
        forget_managed_team_paths(user)
        audit_record(
            actor=actor,
            action="user.roles_changed",
            target=user,
            changes={"before": before, "after": after},
        )
    return user


@transaction.atomic
def user_set_team(*, user: User, team: Team | None, actor: User | None) -> User:
    """Move the person to another team (which changes which managers see them)."""
    if team != user.team:
        changes = {"team": [user.team.name if user.team else None, team.name if team else None]}
        user.team = team
        user.save(update_fields=["team"])
        audit_record(actor=actor, action="user.team_changed", target=user, changes=changes)
    return user


def user_set_slice(*, user: User, segment: str, sales_role: str, actor: User | None) -> User:
    """Set the person's segment and sales role, the slices readiness requirements apply to."""
    segment, sales_role = segment.strip(), sales_role.strip()
    before = {"segment": user.segment, "sales_role": user.sales_role}
    after = {"segment": segment, "sales_role": sales_role}
    if before != after:
        user.segment, user.sales_role = segment, sales_role
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise from_validation_error(exc) from None
        user.save(update_fields=["segment", "sales_role"])
        audit_record(
            actor=actor,
            action="user.slice_changed",
            target=user,
            changes={key: [before[key], after[key]] for key in before if before[key] != after[key]},
        )
    return user


@transaction.atomic
def user_set_active(*, user: User, is_active: bool, actor: User | None) -> User:
    """Deactivate (or reactivate) an account. Deactivating revokes its API tokens for good."""
    if user.is_active != is_active:
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        if not is_active:
            _revoke_all_tokens(user=user, actor=actor)
        audit_record(
            actor=actor,
            action="user.activated" if is_active else "user.deactivated",
            target=user,
            changes={"is_active": [not is_active, is_active]},
        )
    return user


@transaction.atomic
def user_password_changed(*, user: User, actor: User | None, reason: str) -> None:
    """Record a password change; one made by someone else or by a reset revokes API tokens.

    A reset is how a person takes an account back: tokens made by whoever had it must die too.
    """
    revoked = (
        0 if actor == user and reason == "changed" else _revoke_all_tokens(user=user, actor=actor)
    )
    audit_record(
        actor=actor,
        action="user.password_changed",
        target=user,
        changes={"reason": reason, "tokens_revoked": revoked},
    )


@transaction.atomic
def user_update_profile(
    *,
    user: User,
    display_name: str,
    time_zone: str,
    work_start: time,
    work_end: time,
    work_days: list[int],
) -> User:
    """Update the person's own name, time zone and working hours."""
    user.display_name = (display_name or "").strip()
    user.time_zone = time_zone
    user.work_start = work_start
    user.work_end = work_end
    user.work_days = sorted(work_days)
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        user.refresh_from_db()
        raise from_validation_error(exc) from None
    user.save(update_fields=["display_name", "time_zone", "work_start", "work_end", "work_days"])
    return user


# API tokens --------------------------------------------------------------------------------

# A token asked for without scopes reads and writes; ``support`` is only ever chosen.
DEFAULT_TOKEN_SCOPES = (ApiToken.Scope.READ.value, ApiToken.Scope.WRITE.value)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    scopes: Iterable[str] | None = None,
    expires_in_days: int | None = None,
    actor: User | None = None,
) -> tuple[ApiToken, str]:
    """Create a token for the user and return it with its secret, which is shown only once."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApplicationError(
            "Give the token a name of at most 100 characters, e.g. 'CRM sync'.",
            field_errors={"name": ["Required, at most 100 characters."]},
        )
    chosen = sorted(set(scopes)) if scopes is not None else list(DEFAULT_TOKEN_SCOPES)
    unknown = [scope for scope in chosen if scope not in ApiToken.Scope.values]
    if unknown or not chosen:
        raise ApplicationError(
            f"Scopes must be chosen from {', '.join(ApiToken.Scope.values)}.",
            field_errors={"scopes": ["Unknown or empty scopes."]},
        )
    days = settings.API_TOKEN_DEFAULT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        raise ApplicationError(
            f"A token lives between 1 and {settings.API_TOKEN_MAX_DAYS} days.",
            field_errors={"expires_in_days": ["Out of range."]},
        )
    if not user.is_active:
        raise ApplicationError("An inactive account cannot hold API tokens.")
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    raw = f"rr_{prefix}_{secrets.token_urlsafe(32)}"
    expires_at = timezone.now() + timedelta(days=days)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=_digest(raw),
        scopes=chosen,
        expires_at=expires_at,
    )
    audit_record(
        actor=actor or user,
        action="api_token.created",
        target=token,
        changes={"owner": user.email, "scopes": chosen, "expires_at": expires_at.isoformat()},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None) -> ApiToken:
    """Revoke the token at once; revoking twice changes nothing."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="api_token.revoked",
            target=token,
            changes={"owner_id": token.user_id},
        )
    return token


def _revoke_all_tokens(*, user: User, actor: User | None) -> int:
    live = ApiToken.objects.filter(user=user, revoked_at__isnull=True)
    count = live.update(revoked_at=timezone.now())
    if count:
        audit_record(
            actor=actor, action="api_token.revoked_all", target=user, changes={"count": count}
        )
    return count


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """Return the live token matching this secret, with its user, or None."""
    match = TOKEN_PATTERN.match(raw or "")
    if not match:
        return None
    try:
        # get() runs without ORDER BY: this is on every API request.
        token = ApiToken.objects.select_related("user").get(prefix=match.group(1))
    except ApiToken.DoesNotExist:
        return None
    if not hmac.compare_digest(token.digest, _digest(raw)):
        return None
    now = timezone.now()
    if not token.is_usable(now) or not token.user.is_active:
        return None
    # Record use at most every few minutes, so reads do not each cost a write.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
