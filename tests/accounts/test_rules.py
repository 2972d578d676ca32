"""Visibility predicates: who may see whose records, directory entry and team."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts import rules
from accounts.selectors import reps_visible_to, teams_visible_to, users_visible_to
from accounts.services import team_update, user_set_roles


def test_rep_sees_only_own_records(org):
    assert rules.can_view_rep_records(org.rep_a, org.rep_a)
    assert not rules.can_view_rep_records(org.rep_a, org.rep_b)
    assert not rules.can_view_rep_records(org.rep_a, org.rep_a1)


def test_manager_sees_whole_subtree(org):
    assert rules.is_manager_of(org.manager_a, org.rep_a)
    assert rules.is_manager_of(org.manager_a, org.rep_a1)  # sub-team Alpha-1
    assert rules.can_view_rep_records(org.manager_a, org.rep_a1)
    assert rules.can_view_rep_records(org.director, org.rep_b)  # region head


def test_manager_cannot_see_other_team(org):
    assert not rules.can_view_rep_records(org.manager_a, org.rep_b)  # sibling team
    assert not rules.can_view_rep_records(org.manager_a1, org.rep_a)  # parent team
    assert not rules.can_view_rep_records(org.manager_c, org.rep_a)  # other region
    assert not rules.can_view_user(org.manager_b, org.rep_a)


def test_enablement_sees_every_rep(org):
    for rep in (org.rep_a, org.rep_a1, org.rep_b, org.rep_c):
        assert rules.can_view_rep_records(org.enablement, rep)


@pytest.mark.parametrize("viewer", ["admin", "tp_lead", "no_role"])
def test_staff_without_a_results_role_sees_no_records(org, viewer):
    assert not rules.can_view_rep_records(getattr(org, viewer), org.rep_a)


def test_admin_sees_directory_but_not_records(org):
    assert rules.can_view_user(org.admin, org.inactive_rep)
    assert not rules.can_view_rep_records(org.admin, org.rep_a)


def test_inactive_rep_has_no_visible_records(org):
    assert not rules.can_view_rep_records(org.manager_a, org.inactive_rep)
    assert not rules.can_view_rep_records(org.enablement, org.inactive_rep)


def test_anonymous_sees_nothing(org):
    anonymous = AnonymousUser()
    assert not rules.can_view_rep_records(anonymous, org.rep_a)
    assert not rules.can_view_user(anonymous, org.rep_a)
    assert not rules.can_view_team(anonymous, org.alpha)
    assert not rules.can_browse_people(anonymous)


def test_deactivated_manager_loses_access(org):
    org.manager_a.is_active = False
    assert not rules.can_view_rep_records(org.manager_a, org.rep_a)


def test_removing_manager_role_removes_access_even_if_team_still_names_them(org):
    user_set_roles(user=org.manager_a, roles=[], actor=org.admin)
    assert not rules.can_view_rep_records(org.manager_a, org.rep_a)
    assert not reps_visible_to(org.manager_a).exists()


def test_new_manager_of_a_team_gains_access_and_old_one_loses_it(org):
    team_update(team=org.beta, actor=org.admin, manager=org.manager_c)
    org.manager_b.refresh_from_db()
    org.manager_c.refresh_from_db()
    assert rules.can_view_rep_records(org.manager_c, org.rep_b)
    assert not rules.can_view_rep_records(org.manager_b, org.rep_b)


def test_team_visibility(org):
    assert rules.can_view_team(org.manager_a, org.alpha1)
    assert not rules.can_view_team(org.manager_a, org.beta)
    assert rules.can_view_team(org.rep_b, org.beta)  # own team
    assert not rules.can_view_team(org.rep_b, org.alpha)
    assert rules.can_view_team(org.tp_lead, org.gamma)


@pytest.mark.parametrize(
    ("predicate", "selector"),
    [
        (rules.can_view_rep_records, reps_visible_to),
        (rules.can_view_user, users_visible_to),
    ],
    ids=["records", "directory"],
)
def test_predicates_agree_with_selectors_for_every_pair(org, predicate, selector):
    # A list must never show what the detail page would refuse, and vice versa.
    for viewer, person in itertools.product(org.people, org.people):
        visible = selector(viewer).filter(pk=person.pk).exists()
        assert predicate(viewer, person) == visible, (viewer, person)


def test_team_predicate_agrees_with_selector_for_every_pair(org):
    for viewer, team in itertools.product(org.people, org.teams):
        visible = teams_visible_to(viewer).filter(pk=team.pk).exists()
        assert rules.can_view_team(viewer, team) == visible, (viewer, team)
