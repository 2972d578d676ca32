"""Writes about teams, people, roles and API tokens: validation, audit, nothing half-written."""

from __future__ import annotations

import hashlib
from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken, AuditEvent, Team, User
from accounts.selectors import audit_events_for
from accounts.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    team_create,
    team_update,
    user_create,
    user_set_active,
    user_set_roles,
    user_set_team,
    user_update_profile,
)
from config.errors import ApplicationError

pytestmark = pytest.mark.django_db


# Teams -------------------------------------------------------------------------------------


def test_team_paths_follow_the_tree(org):
    assert org.north.path == f"{org.north.pk:06d}/"
    assert org.alpha1.path == f"{org.north.pk:06d}/{org.alpha.pk:06d}/{org.alpha1.pk:06d}/"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "  ", "kind": "region"}, "needs a name"),
        ({"name": "X", "kind": "galaxy"}, "Unknown kind"),
        ({"name": "X", "kind": "team"}, "belongs to a region"),
    ],
)
def test_team_create_refuses_bad_input(kwargs, message):
    with pytest.raises(ApplicationError, match=message):
        team_create(**kwargs)
    assert not Team.objects.exists()
    assert not AuditEvent.objects.exists()


def test_region_cannot_have_a_parent(org):
    with pytest.raises(ApplicationError, match="top-level"):
        team_create(name="Sub-region", kind=Team.Kind.REGION, parent=org.north)


def test_team_names_are_unique_within_a_parent_case_insensitively(org):
    with pytest.raises(ApplicationError, match="already a team called"):
        team_create(name="alpha", parent=org.north)
    assert team_create(name="Alpha", parent=org.south).parent == org.south


def test_team_manager_must_hold_the_manager_role(org):
    with pytest.raises(ApplicationError, match="manager role"):
        team_create(name="Delta", parent=org.south, manager=org.rep_a)
    with pytest.raises(ApplicationError, match="manager role"):
        team_update(team=org.beta, actor=org.admin, manager=org.rep_a)


def test_moving_a_team_moves_its_subtree(org):
    team_update(team=org.alpha, actor=org.admin, parent=org.south)
    org.alpha1.refresh_from_db()
    assert org.alpha1.path.startswith(org.south.path)
    assert org.alpha1.path == f"{org.south.path}{org.alpha.pk:06d}/{org.alpha1.pk:06d}/"
    # The region head of North no longer sees Alpha's reps; South's subtree now includes them.
    from accounts.selectors import reps_visible_to

    assert org.rep_a not in reps_visible_to(type(org.director).objects.get(pk=org.director.pk))
    event = audit_events_for(org.alpha).first()
    assert event.action == "team.updated"
    assert event.changes["parent"] == ["North", "South"]


def test_a_team_cannot_move_under_its_own_subtree(org):
    with pytest.raises(ApplicationError, match="under itself"):
        team_update(team=org.alpha, actor=org.admin, parent=org.alpha1)
    org.alpha.refresh_from_db()
    assert org.alpha.parent == org.north


def test_team_update_without_change_writes_no_audit(org):
    before = AuditEvent.objects.count()
    team_update(team=org.alpha, actor=org.admin, name="Alpha", manager=org.manager_a)
    assert AuditEvent.objects.count() == before


# People ------------------------------------------------------------------------------------


def test_user_create_normalises_email_and_records_roles(org):
    user = user_create(
        email="  New.Person@Example.TEST ",
        display_name="New Person",
        team=org.beta,
        roles=["rep"],
        actor=org.admin,
    )
    assert user.email == "new.person@example.test"
    assert user.is_rep
    assert not user.is_manager
    assert not user.has_usable_password()
    event = audit_events_for(user).get()
    assert (event.actor, event.action, event.changes["roles"]) == (
        org.admin,
        "user.created",
        ["rep"],
    )


def test_user_create_refuses_a_duplicate_email_in_any_case(org):
    with pytest.raises(ApplicationError, match="already has an account"):
        user_create(email=org.rep_a.email.upper(), display_name="Twin")
    assert User.objects.filter(email__iexact=org.rep_a.email).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"roles": ["wizard"]}, "roles"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_user_create_refuses_bad_input_and_writes_nothing(kwargs, field):
    data = {"email": "someone@example.test", "display_name": "Someone", **kwargs}
    with pytest.raises(ApplicationError) as raised:
        user_create(**data)
    assert field in raised.value.field_errors
    assert not User.objects.exists()
    assert not AuditEvent.objects.exists()


def test_user_set_roles_audits_before_and_after(org):
    user_set_roles(user=org.rep_a, roles=["rep", "manager"], actor=org.admin)
    org.rep_a.refresh_from_db()
    assert org.rep_a.is_manager
    event = audit_events_for(org.rep_a).get(action="user.roles_changed")
    assert event.changes == {"before": ["rep"], "after": ["manager", "rep"]}
    # Setting the same roles again records nothing.
    user_set_roles(user=org.rep_a, roles=["manager", "rep"], actor=org.admin)
    assert audit_events_for(org.rep_a).filter(action="user.roles_changed").count() == 1


def test_user_set_team_and_active_are_audited(org):
    user_set_team(user=org.rep_a, team=org.beta, actor=org.admin)
    user_set_active(user=org.rep_a, is_active=False, actor=org.admin)
    actions = list(audit_events_for(org.rep_a).values_list("action", flat=True))
    assert actions == ["user.deactivated", "user.team_changed"]


def test_profile_update_validates_and_keeps_the_old_values_on_error(org):
    user = org.rep_a
    user_update_profile(
        user=user,
        display_name="Rep A",
        time_zone="Asia/Tokyo",
        work_start=time(8),
        work_end=time(16),
        work_days=[5, 1, 2],
    )
    user.refresh_from_db()
    assert (user.time_zone, user.work_days) == ("Asia/Tokyo", [1, 2, 5])
    with pytest.raises(ApplicationError, match="must end after it starts"):
        user_update_profile(
            user=user,
            display_name="Rep A",
            time_zone="Asia/Tokyo",
            work_start=time(18),
            work_end=time(9),
            work_days=[1],
        )
    with pytest.raises(ApplicationError):
        user_update_profile(
            user=user,
            display_name="Rep A",
            time_zone="Asia/Tokyo",
            work_start=time(8),
            work_end=time(9),
            work_days=[0, 8],
        )
    user.refresh_from_db()
    assert (user.work_start, user.work_days) == (time(8), [1, 2, 5])


# API tokens --------------------------------------------------------------------------------


def test_token_is_stored_only_as_a_digest(org):
    token, raw = api_token_create(user=org.rep_a, name="CRM sync")
    assert raw.startswith(f"rr_{token.prefix}_")
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {token.digest, token.prefix, token.name}
    assert token.scopes == ["read", "write"]
    assert api_token_authenticate(raw=raw) == token


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "scopes": ["admin"]}, "scopes"),
        ({"name": "ok", "scopes": []}, "scopes"),
        ({"name": "ok", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ok", "expires_in_days": 10_000}, "expires_in_days"),
    ],
)
def test_token_create_refuses_bad_input(org, kwargs, field):
    with pytest.raises(ApplicationError) as raised:
        api_token_create(user=org.rep_a, **kwargs)
    assert field in raised.value.field_errors
    assert not ApiToken.objects.exists()


def test_a_tampered_or_unknown_token_does_not_authenticate(org):
    _token, raw = api_token_create(user=org.rep_a, name="x")
    assert api_token_authenticate(raw=raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None
    assert api_token_authenticate(raw="rr_00000000_" + "a" * 43) is None
    assert api_token_authenticate(raw="not a token") is None
    assert api_token_authenticate(raw="") is None


def test_revoked_expired_and_deactivated_tokens_stop_working(org):
    token, raw = api_token_create(user=org.rep_a, name="x")
    api_token_revoke(token=token, actor=org.rep_a)
    assert api_token_authenticate(raw=raw) is None

    token, raw = api_token_create(user=org.rep_b, name="x", expires_in_days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_token_authenticate(raw=raw) is None

    _token, raw = api_token_create(user=org.rep_c, name="x")
    user_set_active(user=org.rep_c, is_active=False, actor=org.admin)
    assert api_token_authenticate(raw=raw) is None


def test_revoking_twice_records_one_event(org):
    token, _raw = api_token_create(user=org.rep_a, name="x")
    first = api_token_revoke(token=token, actor=org.rep_a).revoked_at
    again = api_token_revoke(token=token, actor=org.rep_a).revoked_at
    assert first == again
    assert audit_events_for(token).filter(action="api_token.revoked").count() == 1


def test_last_used_is_recorded_at_most_every_few_minutes(org, django_assert_num_queries):
    token, raw = api_token_create(user=org.rep_a, name="x")
    with django_assert_num_queries(2):  # read + first touch
        api_token_authenticate(raw=raw)
    with django_assert_num_queries(1):  # read only
        api_token_authenticate(raw=raw)
    token.refresh_from_db()
    assert token.last_used_at is not None


# Review findings ----------------------------------------------------------------------------


def test_giving_a_team_to_a_manager_refreshes_their_subtree(org):
    from accounts.selectors import managed_team_paths

    assert managed_team_paths(org.manager_b) == (org.beta.path,)  # cached on this object
    team_update(team=org.gamma, actor=org.admin, manager=org.manager_b)
    assert set(managed_team_paths(org.manager_b)) == {org.beta.path, org.gamma.path}


def test_a_move_may_not_push_a_subtree_past_the_depth_limit(org):
    from accounts.services import MAX_TEAM_DEPTH

    # Build a chain under South that is as deep as allowed, then try to hang Alpha (with its
    # sub-team) below it.
    parent = org.south
    while parent.depth < MAX_TEAM_DEPTH - 1:
        parent = team_create(name=f"Level {parent.depth + 1}", parent=parent)
    with pytest.raises(ApplicationError, match="at most"):
        team_update(team=org.alpha, actor=org.admin, parent=parent)
    org.alpha1.refresh_from_db()
    assert org.alpha1.depth == 3


def test_token_creation_is_refused_for_an_inactive_account(org):
    with pytest.raises(ApplicationError, match="inactive"):
        api_token_create(user=org.inactive_rep, name="x")


def test_deactivation_revokes_tokens_for_good(org):
    token, raw = api_token_create(user=org.rep_a, name="x")
    user_set_active(user=org.rep_a, is_active=False, actor=org.admin)
    user_set_active(user=org.rep_a, is_active=True, actor=org.admin)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(raw=raw) is None


def test_password_reset_revokes_tokens_but_a_own_change_keeps_them(org):
    from accounts.services import user_password_changed

    token, _ = api_token_create(user=org.rep_a, name="x")
    user_password_changed(user=org.rep_a, actor=org.rep_a, reason="changed")
    token.refresh_from_db()
    assert token.revoked_at is None
    user_password_changed(user=org.rep_a, actor=org.rep_a, reason="reset")
    token.refresh_from_db()
    assert token.revoked_at is not None
    reasons = AuditEvent.objects.filter(action="user.password_changed").values_list(
        "changes__reason", flat=True
    )
    assert sorted(reasons) == ["changed", "reset"]
