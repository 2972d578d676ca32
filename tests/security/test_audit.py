"""The audit trail: every sensitive action leaves one row saying who did it, when, to what and
what changed; and nothing in the app can change or remove a row once written.

Each case below performs one action through its service (the one the page, the API and the
admin all call) and names the audit rows it must leave: the action's own, exactly once, and
the rows of what it sets off (a release that passes issues a certification), nothing else.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from accounts.services import (
    api_token_create,
    api_token_revoke,
    audit_record,
    team_update,
    user_create,
    user_set_active,
    user_set_roles,
    user_set_slice,
    user_set_team,
)
from certification.models import Subject
from certification.services.assessments import (
    RatingInput,
    scorecard_save,
    session_cancel,
    session_release,
    session_schedule,
)
from certification.services.certifications import certification_revoke
from certification.services.deals import currency_rate_set
from certification.services.lifecycle import subject_validity_set
from certification.services.readiness import requirement_delete, requirement_save
from certification.services.signoffs import (
    delegation_create,
    delegation_remove,
    observation_create,
    observation_save,
    observation_sign,
    signoff_correct,
    signoff_revoke,
)
from certification.services.support import period_create, period_update
from certification.services.tiers import (
    tier_override_end,
    tier_override_set,
    tier_rule,
    tier_rule_update,
)
from tests.conftest import Org
from tests.factories.accounts import UserFactory
from tests.factories.certification import (
    SubjectFactory,
    held_certification,
    make_guide,
    make_scenario,
)

pytestmark = pytest.mark.django_db

PROJECT = Path(settings.BASE_DIR)


@dataclass
class Act:
    """An action ready to run: who runs it, and what it leaves besides its own audit row."""

    actor: User
    run: Callable[[], Any]  # performs the action; returns its target
    also: tuple[str, ...] = ()


CASES: dict[str, Callable[[Org], Act]] = {}


def case(action: str) -> Callable[[Callable[[Org], Act]], Callable[[Org], Act]]:
    def register(arrange: Callable[[Org], Act]) -> Callable[[Org], Act]:
        assert action not in CASES
        CASES[action] = arrange
        return arrange

    return register


# Role-plays (level 2) ---------------------------------------------------------------------------


def _session(org: Org):
    return session_schedule(
        scenario=make_scenario(),
        rep=org.rep_a,
        scheduled_at=timezone.now() + timedelta(days=2),
        judges=[org.manager_b, org.manager_c],
        owner=org.enablement,
        actor=org.enablement,
    )


def _score(session, judge: User) -> None:
    ratings = {c.pk: RatingInput(4, "Clear") for c in session.guide_version.criteria.all()}
    scorecard_save(session=session, judge=judge, ratings=ratings, submit=True)


@case("scorecard.submitted")
def _scorecard_submitted(org: Org) -> Act:
    session = _session(org)

    def run():
        _score(session, org.manager_b)
        return session

    return Act(org.manager_b, run)


@case("session.released")
def _session_released(org: Org) -> Act:
    session = _session(org)
    for judge in (org.manager_b, org.manager_c):
        _score(session, judge)
    return Act(
        org.enablement,
        lambda: session_release(session=session, actor=org.enablement),
        also=("certification.issued",),
    )


@case("session.cancelled")
def _session_cancelled(org: Org) -> Act:
    session = _session(org)
    return Act(
        org.enablement,
        lambda: session_cancel(session=session, reason="Rep on leave", actor=org.enablement),
    )


# Sign-offs (level 3) ----------------------------------------------------------------------------


def _observed(org: Org, rating: int = 4):
    observation = observation_create(
        rep=org.rep_a,
        observer=org.manager_a,
        subject=SubjectFactory(name="Executive presence", kind=Subject.Kind.SKILL),
        guide=make_guide(criteria=2),
        observed_on=timezone.localdate() - timedelta(days=1),
        kind="meeting",
        crm_reference="OPP-1042",
        contact_title="CFO",
    )
    ratings = {
        c.pk: RatingInput(rating, "Open with the customer's goal")
        for c in observation.guide_version.criteria.all()
    }
    return observation_save(observation=observation, actor=org.manager_a, ratings=ratings)


def _signed(org: Org):
    return observation_sign(observation=_observed(org), actor=org.manager_a)


@case("signoff.signed")
def _signoff_signed(org: Org) -> Act:
    observation = _observed(org)
    return Act(
        org.manager_a,
        lambda: observation_sign(observation=observation, actor=org.manager_a),
        also=("certification.issued",),
    )


@case("signoff.corrected")
def _signoff_corrected(org: Org) -> Act:
    signoff = _signed(org)
    ratings = {c.pk: RatingInput(4, "Recheck") for c in signoff.guide_version.criteria.all()}
    return Act(
        org.enablement,
        lambda: signoff_correct(
            signoff=signoff, actor=org.enablement, ratings=ratings, reason="Wrong call"
        ),
    )


@case("signoff.revoked")
def _signoff_revoked(org: Org) -> Act:
    signoff = _signed(org)

    def run():
        signoff_revoke(signoff=signoff, actor=org.enablement, reason="Not a customer call")
        return signoff

    return Act(org.enablement, run, also=("certification.revoked",))


@case("delegation.created")
def _delegation_created(org: Org) -> Act:
    delegate = UserFactory(display_name="Field Coach")
    return Act(
        org.enablement,
        lambda: delegation_create(delegate=delegate, actor=org.enablement, rep=org.rep_a),
    )


@case("delegation.removed")
def _delegation_removed(org: Org) -> Act:
    delegation = delegation_create(delegate=UserFactory(), actor=org.enablement, rep=org.rep_a)

    def run():
        target = copy.copy(delegation)  # deleting clears the instance's primary key
        delegation_remove(delegation=delegation, actor=org.enablement)
        return target

    return Act(org.enablement, run)


# Certifications and tiers -----------------------------------------------------------------------


@case("certification.revoked")
def _certification_revoked(org: Org) -> Act:
    held = held_certification(org.rep_a, SubjectFactory(), 1, now=timezone.now())
    return Act(
        org.enablement,
        lambda: certification_revoke(
            certification=held, reason="Exam leaked", actor=org.enablement, now=timezone.now()
        ),
    )


def _override(org: Org, tier: str = "gold"):
    return tier_override_set(
        rep=org.rep_a,
        tier=tier,
        reason="Strategic account lead",
        ends_on=timezone.localdate() + timedelta(days=30),
        actor=org.enablement,
    )


@case("tier.overridden")
def _tier_overridden(org: Org) -> Act:
    def run():
        _override(org)
        return org.rep_a

    return Act(org.enablement, run)


@case("tier.override_ended")
def _tier_override_ended(org: Org) -> Act:
    override = _override(org)

    def run():
        tier_override_end(override=override, actor=org.enablement)
        return org.rep_a

    return Act(org.enablement, run)


@case("tier_rule.updated")
def _tier_rule_updated(org: Org) -> Act:
    cloud = SubjectFactory(name="Acme Cloud")
    tier_rule()
    return Act(
        org.enablement,
        lambda: tier_rule_update(
            actor=org.enablement,
            silver_level2_subjects=[cloud],
            gold_revenue_threshold=Decimal(150000),
            gold_window_days=180,
            gold_level3_subject=None,
        ),
    )


@case("currency_rate.set")
def _currency_rate_set(org: Org) -> Act:
    return Act(
        org.enablement,
        lambda: currency_rate_set(
            currency="EUR", rate_to_base=Decimal("1.08"), actor=org.enablement
        ),
    )


# Rules: readiness requirements, validity, support periods -----------------------------------


@case("readiness_requirement.created")
def _requirement_created(org: Org) -> Act:
    offering = SubjectFactory()
    return Act(
        org.enablement,
        lambda: requirement_save(
            actor=org.enablement, offering=offering, items=[(offering, 1)], team=org.alpha
        ),
    )


@case("readiness_requirement.saved")
def _requirement_saved(org: Org) -> Act:
    offering = SubjectFactory()
    requirement = requirement_save(actor=org.enablement, offering=offering, items=[(offering, 1)])
    return Act(
        org.enablement,
        lambda: requirement_save(
            actor=org.enablement,
            offering=offering,
            items=[(offering, 1), (offering, 2)],
            requirement=requirement,
        ),
    )


@case("readiness_requirement.deleted")
def _requirement_deleted(org: Org) -> Act:
    offering = SubjectFactory()
    requirement = requirement_save(actor=org.enablement, offering=offering, items=[(offering, 1)])

    def run():
        target = copy.copy(requirement)
        requirement_delete(actor=org.enablement, requirement=requirement)
        return target

    return Act(org.enablement, run)


@case("subject.validity_changed")
def _validity_changed(org: Org) -> Act:
    subject = SubjectFactory()

    def run():
        subject_validity_set(subject=subject, days_by_level={1: 365}, actor=org.enablement)
        return subject

    return Act(org.enablement, run)


def _period(org: Org):
    return period_create(
        starts_on=timezone.localdate() + timedelta(days=3),
        ends_on=timezone.localdate() + timedelta(days=9),
        capacity_hours=Decimal(20),
        actor=org.tp_lead,
    )


@case("support_period.created")
def _period_created(org: Org) -> Act:
    return Act(org.tp_lead, lambda: _period(org))


@case("support_period.updated")
def _period_weights_changed(org: Org) -> Act:
    period = _period(org)
    return Act(
        org.tp_lead,
        lambda: period_update(
            period=period,
            starts_on=period.starts_on,
            ends_on=period.ends_on,
            capacity_hours=period.capacity_hours,
            tier_weights={"gold": 3, "silver": 1},
            actor=org.tp_lead,
        ),
    )


# People, teams, tokens --------------------------------------------------------------------------


@case("user.created")
def _user_created(org: Org) -> Act:
    return Act(
        org.admin,
        lambda: user_create(
            email="new.rep@example.test",
            display_name="New Rep",
            team=org.alpha,
            roles=["rep"],
            actor=org.admin,
        ),
    )


@case("user.roles_changed")
def _roles_changed(org: Org) -> Act:
    return Act(
        org.admin,
        lambda: user_set_roles(user=org.rep_a, roles=["rep", "manager"], actor=org.admin),
    )


@case("user.team_changed")
def _team_changed(org: Org) -> Act:
    return Act(org.admin, lambda: user_set_team(user=org.rep_a, team=org.beta, actor=org.admin))


@case("user.slice_changed")
def _slice_changed(org: Org) -> Act:
    return Act(
        org.admin,
        lambda: user_set_slice(
            user=org.rep_a, segment="Enterprise", sales_role="AE", actor=org.admin
        ),
    )


@case("user.deactivated")
def _deactivated(org: Org) -> Act:
    return Act(org.admin, lambda: user_set_active(user=org.rep_b, is_active=False, actor=org.admin))


@case("team.updated")
def _team_manager_changed(org: Org) -> Act:
    return Act(
        org.admin, lambda: team_update(team=org.beta, actor=org.admin, manager=org.manager_c)
    )


@case("api_token.created")
def _token_created(org: Org) -> Act:
    return Act(
        org.rep_a,
        lambda: api_token_create(user=org.rep_a, name="CRM sync", scopes=["read"])[0],
    )


@case("api_token.revoked")
def _token_revoked(org: Org) -> Act:
    token, _raw = api_token_create(user=org.rep_a, name="CRM sync")
    return Act(org.rep_a, lambda: api_token_revoke(token=token, actor=org.rep_a))


@pytest.mark.parametrize("action", sorted(CASES))
def test_a_sensitive_action_leaves_one_audit_row_with_actor_time_target_and_change(
    org: Org, action: str
) -> None:
    # given everything the action needs
    act = CASES[action](org)
    written = set(AuditEvent.objects.values_list("pk", flat=True))
    before = timezone.now()

    # when it is performed
    target = act.run()

    # then exactly its own row (and those of what it set off) is new...
    after = timezone.now()
    new = AuditEvent.objects.exclude(pk__in=written)
    assert Counter(new.values_list("action", flat=True)) == Counter([action, *act.also])
    event = new.get(action=action)
    # ...naming who, when, to what, and what changed
    assert (event.actor, event.actor_label) == (act.actor, act.actor.email)
    assert before <= event.created_at <= after
    assert event.target_type == ContentType.objects.get_for_model(target)
    assert event.target_id == str(target.pk)
    assert event.target_label == str(target)[:255]
    assert event.changes, "a sensitive action records what it changed"


def test_doing_nothing_new_writes_no_audit_row(org: Org) -> None:
    # given settings already as they will be set again
    subject = SubjectFactory()
    subject_validity_set(subject=subject, days_by_level={1: 365}, actor=org.enablement)
    token, _raw = api_token_create(user=org.rep_a, name="CRM sync")
    api_token_revoke(token=token, actor=org.rep_a)
    written = AuditEvent.objects.count()

    # when the same changes are made again
    subject_validity_set(subject=subject, days_by_level={1: 365}, actor=org.enablement)
    api_token_revoke(token=token, actor=org.rep_a)
    user_set_roles(user=org.rep_a, roles=["rep"], actor=org.admin)
    user_set_slice(user=org.rep_a, segment="", sales_role="", actor=org.admin)

    # then the trail records no non-event
    assert AuditEvent.objects.count() == written


# The admin: changes it makes are audited; the trail itself is read-only ------------------------


def _change_form(user: User, **changes: str) -> dict[str, Any]:
    data = {
        "email": user.email,
        "display_name": user.display_name,
        "team": user.team_id or "",
        "segment": user.segment,
        "sales_role": user.sales_role,
        "is_rep": "on",
        "is_active": "on",
        "time_zone": "UTC",
        "work_start": "09:00",
        "work_end": "17:30",
        "work_days": "[1, 2, 3, 4, 5]",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
    }
    return {**data, **changes}


def test_role_and_slice_edits_in_the_admin_are_audited_with_the_admin_as_actor(client, org):
    client.force_login(org.admin)
    url = reverse("admin:accounts_user_change", args=[org.rep_a.pk])
    written = set(AuditEvent.objects.values_list("pk", flat=True))

    response = client.post(
        url, _change_form(org.rep_a, is_manager="on", segment="Enterprise", sales_role="AE")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    new = {e.action: e for e in AuditEvent.objects.exclude(pk__in=written)}
    assert set(new) == {"user.roles_changed", "user.slice_changed"}
    assert {e.actor for e in new.values()} == {org.admin}
    assert new["user.slice_changed"].changes == {
        "segment": ["", "Enterprise"],
        "sales_role": ["", "AE"],
    }


@pytest.fixture
def superuser(db) -> User:
    return UserFactory(is_superuser=True, admin=True, display_name="Root")


def test_the_audit_trail_is_read_only_in_the_admin_even_for_a_superuser(client, org, superuser):
    event = audit_record(actor=org.admin, action="user.roles_changed", target=org.rep_a)
    client.force_login(superuser)
    changelist = reverse("admin:accounts_auditevent_changelist")

    listing = client.get(changelist)
    assert listing.status_code == 200
    assert listing.context["action_form"] is None  # no bulk action, so no "delete selected"
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    change = reverse("admin:accounts_auditevent_change", args=[event.pk])
    assert client.get(change).context["has_change_permission"] is False  # a view, no form
    assert client.post(change, {"action": "forged", "changes": "{}"}).status_code == 403
    delete = reverse("admin:accounts_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.post(
        changelist, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )

    event.refresh_from_db()
    assert (event.action, event.actor) == ("user.roles_changed", org.admin)


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[str]:
    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += _routes(pattern.url_patterns, route)
        else:
            routes.append(route)
    return routes


def test_no_page_or_api_outside_the_admin_touches_the_audit_trail(api_client, org):
    # No route but the read-only admin's is about audit events...
    routes = [route for route in _routes(get_resolver().url_patterns) if "audit" in route]
    assert routes, "the admin's audit pages should be found"
    assert all(route.startswith("admin/") for route in routes), routes
    # ...the API schema has no audit operation...
    api_client.force_authenticate(org.admin)
    schema = api_client.get(reverse("api-schema"), {"format": "json"})
    assert schema.status_code == 200
    paths = list(json.loads(schema.content)["paths"])
    assert paths, "the schema should list the API's paths"
    assert [path for path in paths if "audit" in path.lower()] == []
    # ...and only the audit service (and the expiry sweep's bulk insert) writes rows: no view,
    # serializer, form, task or command names the model.
    named = sorted(
        str(path.relative_to(PROJECT))
        for package in ("accounts", "certification", "config")
        for path in (PROJECT / package).rglob("*.py")
        if "migrations" not in path.parts and "AuditEvent" in path.read_text()
    )
    assert named == [
        "accounts/admin.py",  # the read-only admin
        "accounts/models.py",
        "accounts/selectors.py",  # reads
        "accounts/services.py",  # audit_record
        "certification/services/lifecycle.py",  # bulk_create in the expiry sweep
    ]


# The database: PostgreSQL refuses to change or delete a row ------------------------------------


@pytest.fixture
def postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")


@pytest.mark.usefixtures("postgresql")
@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda rows: rows.update(action="forged"), id="update-action"),
        pytest.param(lambda rows: rows.update(changes={}), id="update-changes"),
        pytest.param(lambda rows: rows.update(created_at=timezone.now()), id="update-time"),
        pytest.param(lambda rows: rows.update(actor_label="someone"), id="update-actor"),
        pytest.param(lambda rows: rows.delete(), id="delete"),
    ],
)
def test_postgresql_refuses_to_change_or_delete_an_audit_row(org, tamper) -> None:
    event = audit_record(
        actor=org.admin, action="user.roles_changed", target=org.rep_a, changes={"a": 1}
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        tamper(AuditEvent.objects.filter(pk=event.pk))
    event.refresh_from_db()
    assert (event.action, event.changes, event.actor_label) == (
        "user.roles_changed",
        {"a": 1},
        org.admin.email,
    )


@pytest.mark.usefixtures("postgresql")
def test_deleting_a_person_keeps_their_audit_rows_by_label(org) -> None:
    # Django sets the actor to NULL (on_delete=SET_NULL): the one update the trigger allows.
    leaver = UserFactory(display_name="Leaver")
    event = audit_record(actor=leaver, action="api_token.created", target=org.rep_a)
    leaver.delete()
    event.refresh_from_db()
    assert (event.actor, event.actor_label) == (None, leaver.email)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor=org.admin)
