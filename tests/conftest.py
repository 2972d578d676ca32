"""Fixtures shared by the whole suite: factories and a small organisation to reason about."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.models import Team, User
from tests.factories.accounts import RegionFactory, TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: throttle counters must not leak between tests."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _celery_as_configured() -> None:
    """Each test starts with Celery as the settings configure it: eager, on the configured
    broker, outside a worker, with no broker outage remembered. Tests that change these (a
    real broker, a test worker, an outage) cannot leak them into the next test."""
    from celery._state import _set_task_join_will_block
    from django.conf import settings

    import config.celery

    _set_task_join_will_block(False)  # noqa: FBT003 - Celery's own signature
    conf = config.celery.app.conf
    wanted = {
        "task_always_eager": settings.CELERY_TASK_ALWAYS_EAGER,
        "broker_url": settings.CELERY_BROKER_URL,
    }
    if any(conf[key] != value for key, value in wanted.items()):
        conf.update(wanted)
        config.celery.app._pool = None
        config.celery.app.amqp._producer_pool = None
    config.celery._broker_down_until = 0.0


def require_service(name: str, env_var: str) -> str:
    """Return the service URL, or skip (fail in CI, where REPREADY_REQUIRE_SERVICES=1)."""
    url = os.environ.get(env_var, "")
    if not url:
        reason = f"needs {name}: set {env_var}"
        if os.environ.get("REPREADY_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
def user_factory(db: None) -> type[UserFactory]:
    return UserFactory


@pytest.fixture
def team_factory(db: None) -> type[TeamFactory]:
    return TeamFactory


@pytest.fixture
def region_factory(db: None) -> type[RegionFactory]:
    return RegionFactory


@dataclass
class Org:
    """Two regions. North holds Alpha (with sub-team Alpha-1) and Beta; South holds Gamma.

    director leads North; manager_a leads Alpha (so also Alpha-1); manager_a1 leads Alpha-1;
    manager_b leads Beta; manager_c leads Gamma.
    """

    north: Team
    south: Team
    alpha: Team
    alpha1: Team
    beta: Team
    gamma: Team
    director: User
    manager_a: User
    manager_a1: User
    manager_b: User
    manager_c: User
    rep_a: User
    rep_a1: User
    rep_b: User
    rep_c: User
    inactive_rep: User
    enablement: User
    tp_lead: User
    admin: User
    no_role: User

    @property
    def people(self) -> list[User]:
        return [
            self.director,
            self.manager_a,
            self.manager_a1,
            self.manager_b,
            self.manager_c,
            self.rep_a,
            self.rep_a1,
            self.rep_b,
            self.rep_c,
            self.inactive_rep,
            self.enablement,
            self.tp_lead,
            self.admin,
            self.no_role,
        ]

    @property
    def teams(self) -> list[Team]:
        return [self.north, self.south, self.alpha, self.alpha1, self.beta, self.gamma]


@pytest.fixture
def org(db: None) -> Org:
    return build_org()


def build_org() -> Org:
    """Build the organisation the ``org`` fixture returns (for fixtures of a wider scope)."""
    director = UserFactory(manager=True, display_name="Director North")
    manager_a = UserFactory(manager=True, display_name="Manager Alpha")
    manager_a1 = UserFactory(manager=True, display_name="Manager Alpha-1")
    manager_b = UserFactory(manager=True, display_name="Manager Beta")
    manager_c = UserFactory(manager=True, display_name="Manager Gamma")
    north = RegionFactory(name="North", manager=director)
    south = RegionFactory(name="South")
    alpha = TeamFactory(name="Alpha", parent=north, manager=manager_a)
    alpha1 = TeamFactory(name="Alpha-1", parent=alpha, manager=manager_a1)
    beta = TeamFactory(name="Beta", parent=north, manager=manager_b)
    gamma = TeamFactory(name="Gamma", parent=south, manager=manager_c)
    for manager, team in (
        (director, north),
        (manager_a, alpha),
        (manager_a1, alpha1),
        (manager_b, beta),
        (manager_c, gamma),
    ):
        manager.team = team
        manager.save(update_fields=["team"])
    return Org(
        north=north,
        south=south,
        alpha=alpha,
        alpha1=alpha1,
        beta=beta,
        gamma=gamma,
        director=director,
        manager_a=manager_a,
        manager_a1=manager_a1,
        manager_b=manager_b,
        manager_c=manager_c,
        rep_a=UserFactory(rep=True, team=alpha, display_name="Rep Alpha"),
        rep_a1=UserFactory(rep=True, team=alpha1, display_name="Rep Alpha-1"),
        rep_b=UserFactory(rep=True, team=beta, display_name="Rep Beta"),
        rep_c=UserFactory(rep=True, team=gamma, display_name="Rep Gamma"),
        inactive_rep=UserFactory(rep=True, team=alpha, is_active=False, display_name="Former Rep"),
        enablement=UserFactory(enablement=True, display_name="Enablement Lead"),
        tp_lead=UserFactory(teleprospecting_lead=True, display_name="TP Lead"),
        admin=UserFactory(admin=True, display_name="Admin"),
        no_role=UserFactory(display_name="No Role"),
    )


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def exam_for(db: None):
    """Build a published test assigned to the given reps or teams: exam_for(rep, questions=5)."""
    from tests.factories.certification import make_exam

    def build(*targets, **kwargs):
        return make_exam(assign_to=list(targets), **kwargs)

    return build
