"""Scoped reads: what each role's lists contain, and what they cost."""

from __future__ import annotations

import pytest

from accounts.selectors import (
    managed_team_paths,
    managers_of,
    organisation_summary,
    people_search,
    rep_slice_values,
    reps_visible_to,
    subtree_rep_counts,
    teams_visible_to,
    users_visible_to,
)


def _names(queryset):
    return {user.display_name for user in queryset}


def test_reps_visible_to_each_role(org):
    assert _names(reps_visible_to(org.rep_a)) == {"Rep Alpha"}
    assert _names(reps_visible_to(org.manager_a)) == {"Rep Alpha", "Rep Alpha-1"}
    assert _names(reps_visible_to(org.manager_a1)) == {"Rep Alpha-1"}
    assert _names(reps_visible_to(org.director)) == {"Rep Alpha", "Rep Alpha-1", "Rep Beta"}
    assert _names(reps_visible_to(org.manager_c)) == {"Rep Gamma"}
    assert _names(reps_visible_to(org.enablement)) == {
        "Rep Alpha",
        "Rep Alpha-1",
        "Rep Beta",
        "Rep Gamma",
    }
    assert not reps_visible_to(org.admin).exists()
    assert not reps_visible_to(org.tp_lead).exists()
    assert not reps_visible_to(org.no_role).exists()


def test_users_visible_to_each_role(org):
    assert _names(users_visible_to(org.rep_b)) == {"Rep Beta"}
    assert _names(users_visible_to(org.manager_b)) == {"Manager Beta", "Rep Beta"}
    assert "Former Rep" in _names(users_visible_to(org.admin))
    assert "Former Rep" not in _names(users_visible_to(org.enablement))
    assert len(_names(users_visible_to(org.enablement))) == len(org.people) - 1


def test_teams_visible_to_each_role(org):
    assert {t.name for t in teams_visible_to(org.manager_a)} == {"Alpha", "Alpha-1"}
    assert {t.name for t in teams_visible_to(org.director)} == {"North", "Alpha", "Alpha-1", "Beta"}
    assert {t.name for t in teams_visible_to(org.rep_c)} == {"Gamma"}
    assert not teams_visible_to(org.no_role).exists()
    assert teams_visible_to(org.enablement).count() == 6


def test_managed_paths_drop_nested_subtrees(org, team_factory):
    # Leading Alpha and its own sub-team Alpha-1 is one subtree, not two.
    from accounts.services import team_update

    team_update(team=org.alpha1, actor=None, manager=org.manager_a)
    org.manager_a.refresh_from_db()
    assert managed_team_paths(org.manager_a) == (org.alpha.path,)


def test_people_search_filters(org):
    enablement = org.enablement
    assert _names(people_search(viewer=enablement, team_id=org.alpha.pk, role="rep")) == {
        "Rep Alpha",
        "Rep Alpha-1",
    }
    assert _names(people_search(viewer=enablement, text="gamma")) == {"Manager Gamma", "Rep Gamma"}
    # A team the viewer may not see yields nothing rather than its people.
    assert not people_search(viewer=org.manager_a, team_id=org.beta.pk).exists()


def test_managers_of_lists_nearest_first(org):
    assert managers_of(org.rep_a1) == [org.manager_a1, org.manager_a, org.director]
    assert managers_of(org.rep_c) == [org.manager_c]
    assert managers_of(org.enablement) == []


def test_subtree_rep_counts(org):
    rows = subtree_rep_counts(org.director)
    assert [(row["team"].name, row["rep_count"]) for row in rows] == [("North", 3)]
    rows = subtree_rep_counts(org.manager_a)
    assert [(row["team"].name, row["rep_count"]) for row in rows] == [("Alpha", 2)]


def test_organisation_summary(org):
    assert organisation_summary() == {"people": 13, "reps": 4, "regions": 2, "teams": 4}


def _many_reps(user_factory, team, count):
    user_factory.create_batch(count, rep=True, team=team)


def test_reps_visible_to_query_count_does_not_grow_with_reps(
    org, user_factory, django_assert_num_queries
):
    def run():
        viewer = type(org.manager_a).objects.get(pk=org.manager_a.pk)
        with django_assert_num_queries(2):  # the subtree paths, then the list
            return [(rep.display_name, rep.team.name) for rep in reps_visible_to(viewer)]

    small = run()
    _many_reps(user_factory, org.alpha1, 30)
    large = run()
    assert len(large) == len(small) + 30


def test_a_manager_in_their_own_team_is_not_their_own_manager(org):
    assert org.manager_a.team == org.alpha
    assert managers_of(org.manager_a) == [org.director]


def test_a_person_with_several_roles_sees_the_union(org, user_factory):
    from accounts import rules

    coach = user_factory(rep=True, manager=True, team=org.gamma)
    from accounts.services import team_create

    team_create(name="Gamma Juniors", parent=org.gamma, manager=coach)
    junior = user_factory(rep=True, team=org.gamma.children.get())
    assert _names(reps_visible_to(coach)) == {coach.display_name, junior.display_name}
    for person in [*org.people, coach, junior]:
        visible = reps_visible_to(coach).filter(pk=person.pk).exists()
        assert rules.can_view_rep_records(coach, person) == visible


def test_slice_values_are_the_visible_active_reps_distinct_values_for_every_viewer(
    org, user_factory, django_assert_num_queries
):
    # given segments and roles spread over the org, repeated, some empty, some only on
    # people who are not active reps
    org.rep_a.segment, org.rep_a.sales_role = "Enterprise", "Account executive"
    org.rep_a.save()
    org.rep_b.segment, org.rep_b.sales_role = "Mid-market", "Sales engineer"
    org.rep_b.save()
    org.rep_c.segment = "Enterprise"
    org.rep_c.save()
    user_factory(rep=True, team=org.alpha1, segment="Public sector", sales_role="")
    user_factory(rep=True, team=org.alpha, segment="Zeta", is_active=False)
    user_factory(manager=True, segment="Not a rep", sales_role="Director")

    for viewer in (org.enablement, org.director, org.manager_a, org.manager_c, org.rep_a):
        for field in ("segment", "sales_role"):
            expected = sorted(
                {value for value in reps_visible_to(viewer).values_list(field, flat=True) if value}
            )
            assert rep_slice_values(viewer=viewer, field=field) == expected, (viewer, field)

    # enablement walks the index in one query, whatever the number of reps
    assert rep_slice_values(viewer=org.enablement, field="segment") == [
        "Enterprise",
        "Mid-market",
        "Public sector",
    ]
    assert rep_slice_values(viewer=org.enablement, field="sales_role") == [
        "Account executive",
        "Sales engineer",
    ]
    with django_assert_num_queries(1):
        rep_slice_values(viewer=org.enablement, field="segment")
    assert rep_slice_values(viewer=org.admin, field="segment") == []
    assert rep_slice_values(viewer=org.manager_c, field="segment") == ["Enterprise"]
    # only the slice fields: a field name never reaches SQL otherwise
    with pytest.raises(ValueError, match="not a slice field"):
        rep_slice_values(viewer=org.enablement, field="email")
