"""The demo organisation's people and teams, created through the services, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from django.contrib.auth.hashers import make_password

from accounts.models import ROLE_FIELDS, Role, Team, User
from accounts.services import (
    team_create,
    team_update,
    user_create,
    user_set_roles,
    user_set_slice,
    user_set_team,
)

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo credential; seed_demo refuses DEBUG off
DOMAIN = "demo.test"


@dataclass(frozen=True)
class DemoTeam:
    region: str
    name: str
    manager: tuple[str, str, str]  # email, name, time zone
    reps: tuple[str, ...]
    time_zones: tuple[str, ...]


REGIONS = {
    "EMEA": ("emea.director@demo.test", "Henrik Lindqvist", "Europe/Stockholm"),
    "North America": ("na.director@demo.test", "Dana Whitfield", "America/Chicago"),
}

TEAMS = (
    DemoTeam(
        "EMEA",
        "EMEA Enterprise",
        ("manager@demo.test", "Morgan Keane", "Europe/London"),
        (
            "Riley Okafor",
            "Amélie Laurent",
            "Tomasz Nowak",
            "Giulia Ferraro",
            "Sven Andersson",
            "Aisha Rahman",
            "Lukas Becker",
            "Chloé Martin",
            "Daniel O'Connor",
            "Nadia Haddad",
        ),
        ("Europe/London", "Europe/Paris", "Europe/Warsaw", "Europe/Rome", "Europe/Stockholm"),
    ),
    DemoTeam(
        "EMEA",
        "EMEA Mid-Market",
        ("sofia.marin@demo.test", "Sofia Marin", "Europe/Madrid"),
        (
            "Jonas Weber",
            "Inès Moreau",
            "Pieter de Vries",
            "Elena Petrova",
            "Mateo García",
            "Freya Nielsen",
            "Youssef Benali",
            "Hannah Schmidt",
            "Luca Bianchi",
            "Ingrid Solberg",
        ),
        ("Europe/Madrid", "Europe/Berlin", "Europe/Amsterdam", "Europe/Oslo", "Europe/Paris"),
    ),
    DemoTeam(
        "North America",
        "NA Enterprise",
        ("marcus.bell@demo.test", "Marcus Bell", "America/New_York"),
        (
            "Jordan Ellis",
            "Priya Shah",
            "Carlos Mendoza",
            "Emily Tran",
            "Marcus Johnson",
            "Sarah Kim",
            "Ethan Brooks",
            "Olivia Chen",
            "Noah Patel",
            "Grace Liu",
        ),
        (
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Los_Angeles",
            "America/Toronto",
        ),
    ),
    DemoTeam(
        "North America",
        "NA Commercial",
        ("keisha.grant@demo.test", "Keisha Grant", "America/Los_Angeles"),
        (
            "Tyler Morgan",
            "Ana Souza",
            "Kevin O'Brien",
            "Maya Goldberg",
            "Diego Ramírez",
            "Lauren Fischer",
            "Samuel Adeyemi",
            "Hailey Nguyen",
            "Ryan Cooper",
            "Zoe Williams",
        ),
        (
            "America/Los_Angeles",
            "America/Phoenix",
            "America/Chicago",
            "America/New_York",
            "America/Vancouver",
        ),
    ),
)

# The demo rep everyone signs in as is the first rep of the first team.
NAMED_REP = "rep@demo.test"
STAFF = (
    ("lead@demo.test", "Priya Natarajan", "Europe/London", [Role.ENABLEMENT]),
    ("tp@demo.test", "Owen Gallagher", "America/New_York", [Role.TELEPROSPECTING_LEAD]),
    ("admin@demo.test", "Alex Admin", "UTC", [Role.ADMIN]),
)


def _email_for(name: str) -> str:
    ascii_name = (
        name.lower()
        .replace("é", "e")
        .replace("è", "e")
        .replace("í", "i")
        .replace("á", "a")
        .replace("'", "")
        .replace(" ", ".")
    )
    return f"{ascii_name}@{DOMAIN}"


def _team(name: str, kind: str, parent: Team | None) -> Team:
    team = Team.objects.filter(name=name, parent=parent).first()
    return team or team_create(name=name, kind=kind, parent=parent)


def _person(
    email: str,
    *,
    name: str,
    time_zone: str,
    roles: list[Role],
    team: Team | None,
    password_hash: str,
    work_start: time = time(9, 0),
) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_create(
            email=email,
            display_name=name,
            team=team,
            roles=roles,
            time_zone=time_zone,
            password_hash=password_hash,
        )
    else:
        user_set_roles(user=user, roles=roles, actor=None)
        user_set_team(user=user, team=team, actor=None)
        user.password = password_hash
        user.save(update_fields=["password"])
    if user.work_start != work_start:
        user.work_start = work_start
        user.save(update_fields=["work_start"])
    return user


def seed() -> dict[str, Any]:
    """Create or refresh 2 regions, 4 teams with managers, 40 reps and the staff accounts."""
    # One hash for every demo account (hashing 50 would take most of a minute), with a fixed
    # salt so that re-seeding writes the same value and does not sign demo sessions out.
    password_hash = make_password(DEMO_PASSWORD, salt="repreadydemo")
    regions: dict[str, Team] = {}
    for region_name, (email, name, tz) in REGIONS.items():
        region = regions[region_name] = _team(region_name, Team.Kind.REGION, None)
        director = _person(
            email,
            name=name,
            time_zone=tz,
            roles=[Role.MANAGER],
            team=region,
            password_hash=password_hash,
        )
        team_update(team=region, actor=None, manager=director)
    reps = 0
    for spec in TEAMS:
        team = _team(spec.name, Team.Kind.TEAM, regions[spec.region])
        email, name, tz = spec.manager
        manager = _person(
            email,
            name=name,
            time_zone=tz,
            roles=[Role.MANAGER],
            team=regions[spec.region],
            password_hash=password_hash,
        )
        team_update(team=team, actor=None, manager=manager)
        for i, rep_name in enumerate(spec.reps):
            rep_email = NAMED_REP if spec is TEAMS[0] and i == 0 else _email_for(rep_name)
            start = time(8 + i % 3, 30 if i % 2 else 0)
            rep = _person(
                rep_email,
                name=rep_name,
                time_zone=spec.time_zones[i % len(spec.time_zones)],
                roles=[Role.REP],
                team=team,
                password_hash=password_hash,
                work_start=start,
            )
            user_set_slice(
                user=rep,
                segment=spec.name.split(" ", 1)[1],
                sales_role="Sales development rep" if i >= 8 else "Account executive",
                actor=None,
            )
            reps += 1
    for email, name, tz, roles in STAFF:
        _person(email, name=name, time_zone=tz, roles=roles, team=None, password_hash=password_hash)
    return {
        "regions": len(regions),
        "teams": len(TEAMS),
        "reps": reps,
        "people": User.objects.filter(email__endswith=f"@{DOMAIN}").count(),
        "roles": sorted(ROLE_FIELDS),
    }
