"""Factories for people and teams. Teams go through the service, which owns their paths."""

from __future__ import annotations

from typing import Any

import factory

from accounts.models import Team, User
from accounts.services import team_create

PASSWORD = "correct-horse-battery"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Region {n}")
    kind = Team.Kind.REGION
    parent = None
    manager = None

    @classmethod
    def _create(cls, _model_class: type[Team], *_args: Any, **kwargs: Any) -> Team:
        return team_create(**kwargs)


class TeamFactory(RegionFactory):
    name = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.TEAM
    parent = factory.SubFactory(RegionFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.django.Password(PASSWORD)
    team = None

    class Params:
        rep = factory.Trait(is_rep=True)
        manager = factory.Trait(is_manager=True)
        enablement = factory.Trait(is_enablement=True)
        teleprospecting_lead = factory.Trait(is_teleprospecting_lead=True)
        admin = factory.Trait(is_admin=True)
