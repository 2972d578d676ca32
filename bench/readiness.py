"""Readiness bench: the report's headline, its 100-rep matrix page and the full XLSX export of
the matrix, on a 10,000-rep x 50-subject x 3-level organisation in PostgreSQL.

    .venv/bin/python bench/readiness.py [--reps 10000] [--runs 7] [--database NAME]

Drops and recreates the database, migrates it, creates the small things through the services
(the enablement lead, 4 regions and 40 teams with their managers, 50 subjects of which 10 are
offerings, a test per subject, a guide and a scenario per subject) and the readiness
requirements of the 10 offerings, then streams the large tables in with COPY, 1,000 reps at a
time: the reps (segment, sales role, team), their certifications at levels 1-3 with the
evidence each level needs (a passed attempt, a released session, a signed observation and its
sign-off), their CRM deals, and their tier rows (and overrides). Every rep's rows come from a
generator seeded by the rep's number, so the load is linear in ``--reps`` and holds a few
chunks in memory; a child process generates while this one writes, and indexes and foreign
keys are built and checked after the load.

Then it times each figure (one unmeasured warm-up, then ``--runs`` runs or as many as fit in
30 s, at least 3; the median) next to a hand-written SQL floor computing the same figure, and
checks that the two agree: it stops with an error when they do not.

- headline: ``readiness_headline`` for the whole organisation, as configured, then again with
  ``SET jit = off`` for the session (a diagnostic). Floor: three set-based SQL aggregates
  (reps, tiers and inactivity; expiries; in scope and customer ready per offering). Target:
  under 1 s.
- matrix page: the first 100 reps through ``readiness_page``, a page three quarters down the
  list reached by cursor, and the page itself (``certification:report_matrix``) through the
  test client as the enablement lead. Floor: one SQL query fetching the same 100 reps with
  their highest active level and its expiry per subject. The cells and the readiness per
  offering are checked against SQL (the latter with NOT EXISTS). Target (the page): 300 ms.
- export: ``export_start`` + ``export_run`` of the matrix as XLSX in a child process that
  does nothing else, with its wall time and peak RSS (``ru_maxrss``). The children start
  before this process loads anything, because Linux carries ru_maxrss over fork and exec.
  Floors, each in its own child: a COPY of the same matrix to /dev/null, and the same rows
  from a server-side cursor written by XlsxWriter in constant memory (its first 100 rows
  are compared with the export's, cell by cell). Targets: under 60 s and 300 MB.
- nightly jobs (``--org-timings``, the default): ``readiness_snapshot_take`` once (target
  60 s), then ``recompute_all_tiers`` sent through the outbox to a real Celery worker with
  ``--workers`` (2) pool processes on both queues, timed until every active rep's tier row is
  rewritten and the queues are empty (target 10 min).

Each figure also records how much CPU something else on the machine used meanwhile (column
``other``, % of one core; a warning above 25%). When a target is missed the EXPLAIN ANALYZE
of the slowest query is summarised; the plans are in full in the results. Prints one table
and writes ``bench/results/readiness-<timestamp>.json`` (with ``summary_rows``: one dict per
figure, the shape every bench's results share). Exits 0 whatever the figures (a
missed target shows as FAIL), non-zero when the run broke or the figures disagree.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import cpu  # noqa: E402
from bench.setup_data import PG_HOST, PG_PORT, django_setup, recreate_database  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
REDIS_DB = 14  # its own Redis db (the load bench uses 15)
SEED = 2026
CHUNK = 1000
PAGE = 100
TARGET_PAGE_MS = 300.0
TARGET_HEADLINE_MS = 1000.0
TARGET_EXPORT_S = 60.0
TARGET_EXPORT_MB = 300.0
TARGET_SNAPSHOT_S = 60.0
TARGET_RECOMPUTE_S = 600.0

# The organisation ---------------------------------------------------------------------------

REGIONS = ("North", "South", "East", "West")
TEAMS_PER_REGION = 10
OFFERINGS = (
    "Backup",
    "Payments",
    "Analytics",
    "Identity",
    "Messaging",
    "Storage",
    "Observability",
    "Search",
    "Edge",
    "Ledger",
)
COMPANY = 20  # company-knowledge subjects
SKILLS = 20  # selling skills
SEGMENTS = (("Enterprise", 0.2), ("Mid-market", 0.35), ("SMB", 0.45))
ROLES = (("Account executive", 0.5), ("Sales engineer", 0.2), ("Business development", 0.3))
# Names: split from text, so duplicates occur (the cursor breaks ties by id).
FIRST = (  # noqa: SIM905 - names read better as text
    "Ada Alan Alba Amir Ana Anders Anya Aria Ben Bea Carla Chen Chloe Dara David Dina Eli Elena "
    "Emma Eva Farid Femi Gina Hana Hugo Ian Ines Ivan Jana Jon Julia Kai Kemal Kira Lars Lea Leo "
    "Lina Luca Mara Marco Maya Mei Mila Nadia Nia Noah Nora Omar Otto Paula Pia Quinn Rafael Rosa "
    "Ruth Sam Sara Sven Tara Theo Uma Vera Wen Yara Yusuf Zoe"
).split()
LAST = (  # noqa: SIM905
    "Abbott Adeyemi Alvarez Andersen Bakker Banerjee Becker Berg Bianchi Brown Castro Chen "
    "Costa Dahl Diaz Dubois Eriksen Evans Fischer Fontaine Garcia Gomez Gupta Haddad Hansen "
    "Hoffmann Horvat Ibrahim Ito Jansen Jensen Kaur Keller Kim Kowalski Kruger Larsen Laurent "
    "Lee Lopez Martin Meyer Moreau Muller Murphy Nakamura Nguyen Novak Okafor Olsen Ortiz Park "
    "Patel Perez Petrov Popescu Quinn Rao Reyes Richter Rossi Santos Sato Schmidt Silva Singh "
    "Smith Sorensen Suzuki Tanaka Torres Tran Vargas Vogel Walsh Weber Wong Yilmaz Young Zhang"
).split()
# Validity of a certification by subject kind (days); company knowledge does not expire.
VALIDITY = {"offering": 730, "skill": 1095, "company": None}
# P(level 1) per subject is this times the rep's diligence; then P(level 2 | level 1) and
# P(level 3 | level 2), also times the diligence.
P_LEVEL1 = {"offering": 1.35, "company": 0.9, "skill": 0.7}  # capped at 0.99
P_LEVEL2 = {"offering": 0.45, "company": 0.06, "skill": 0.2}
P_LEVEL3 = {"offering": 0.3, "company": 0.0, "skill": 0.2}
HISTORY_DAYS = 900
# P(a lapsed level 1 was renewed since): reps renew the offerings they sell.
RENEWED = {"offering": 0.85, "company": 0.6, "skill": 0.6}
# CRM deals: stages and how far back they closed; the gold revenue threshold and window of
# the tier rule build_fixed sets.
DEAL_STAGES = (("won", 0.35), ("lost", 0.35), ("open", 0.3))
DEAL_HISTORY_DAYS = 450
GOLD_THRESHOLD = 150_000
GOLD_WINDOW_DAYS = 365


def log(message: str) -> None:
    print(f"readiness bench: {message}", flush=True)


@dataclass
class Org:
    """What the services created, and the id bases for the streamed tables."""

    now: datetime
    lead_id: int
    team_ids: list[int]
    team_manager: dict[int, int]
    subjects: list[tuple[int, str]]  # (id, kind) in creation order
    exam_of: dict[int, int]
    scenario_of: dict[int, int]
    guide_version_id: int
    password: str
    base: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def set_tier_rule(first_offering: Any) -> None:
    """The tier rule the generated tier rows follow (``Loader._tier``)."""
    from certification.services.tiers import tier_rule  # noqa: PLC0415

    rule = tier_rule()
    rule.silver_level2_subjects.set([first_offering])
    rule.gold_level3_subject = first_offering
    rule.gold_revenue_threshold = Decimal(GOLD_THRESHOLD)
    rule.gold_window_days = GOLD_WINDOW_DAYS
    rule.save()


def build_fixed(now: datetime) -> Org:
    """The lead, regions, teams, managers, subjects, tests, guide, scenarios, requirements."""
    from django.contrib.auth.hashers import make_password  # noqa: PLC0415
    from django.db import transaction  # noqa: PLC0415

    from accounts.models import Team  # noqa: PLC0415
    from accounts.services import team_create, user_create  # noqa: PLC0415
    from certification.models import (  # noqa: PLC0415
        ReadinessRequirement,
        RequiredCertification,
        Subject,
    )
    from certification.services.assessments import scenario_create  # noqa: PLC0415
    from certification.services.catalog import subject_create  # noqa: PLC0415
    from certification.services.exams import exam_create  # noqa: PLC0415
    from certification.services.guides import (  # noqa: PLC0415
        CriterionInput,
        GuideContent,
        guide_create,
    )

    with transaction.atomic():
        lead = user_create(
            email="lead@readiness.test", display_name="Enablement Lead", roles=["enablement"]
        )
        team_ids: list[int] = []
        team_manager: dict[int, int] = {}
        teams: list[Team] = []
        for r, region_name in enumerate(REGIONS):
            boss = user_create(
                email=f"region{r}@readiness.test",
                display_name=f"{region_name} Director",
                roles=["manager"],
            )
            region = team_create(
                name=f"{region_name} region", kind=Team.Kind.REGION, manager=boss, actor=lead
            )
            for t in range(TEAMS_PER_REGION):
                manager = user_create(
                    email=f"manager{r}{t:02d}@readiness.test",
                    display_name=f"{region_name} Manager {t + 1}",
                    roles=["manager"],
                )
                team = team_create(
                    name=f"{region_name} {t + 1}", parent=region, manager=manager, actor=lead
                )
                teams.append(team)
                team_ids.append(team.pk)
                team_manager[team.pk] = manager.pk
        subjects: list[Subject] = [
            subject_create(
                name=f"Offering {name}",
                kind=Subject.Kind.OFFERING,
                current_version="1.0",
                actor=lead,
            )
            for name in OFFERINGS
        ]
        subjects += [
            subject_create(name=f"Company {n + 1:02d}", kind=Subject.Kind.COMPANY, actor=lead)
            for n in range(COMPANY)
        ]
        subjects += [
            subject_create(name=f"Skill {n + 1:02d}", kind=Subject.Kind.SKILL, actor=lead)
            for n in range(SKILLS)
        ]
        exam_of = {
            s.pk: exam_create(subject=s, actor=lead, title=f"{s.name} test").pk for s in subjects
        }
        content = GuideContent(
            criteria=[
                CriterionInput(
                    title="Discovery",
                    rep_description="Finds the buyer's problem.",
                    descriptors={1: "Poor", 2: "Weak", 3: "Good", 4: "Strong"},
                )
            ]
        )
        guide = guide_create(name="Readiness bench guide", content=content, actor=lead)
        version = guide.versions.get()
        scenario_of = {
            s.pk: scenario_create(
                subject=s,
                guide=guide,
                actor=lead,
                title=f"{s.name} call",
                rep_brief="Run the call.",
                buyer_brief="Secret.",
                min_judges=1,
            ).pk
            for s in subjects
        }
        offerings = subjects[: len(OFFERINGS)]
        company = subjects[len(OFFERINGS) : len(OFFERINGS) + COMPANY]
        skills = subjects[len(OFFERINGS) + COMPANY :]
        north = teams[0].parent
        # Every offering: its own level 1 plus one company subject and one skill at level 1,
        # for every rep (except the last offering, which only Enterprise sells). Then
        # narrower slices ask for more: Enterprise level 2, sales engineers level 2 and a
        # skill, the North region level 2, one team a level 3, Enterprise account executives
        # level 3 on the last-but-one offering.
        requirements: list[tuple[Subject, Any, str, str, list[tuple[Subject, int]]]] = []
        for k, offering in enumerate(offerings):
            base = [(offering, 1), (company[k], 1), (skills[k], 1)]
            if k < len(offerings) - 1:
                requirements.append((offering, None, "", "", base))
            if k < 5 or k == len(offerings) - 1:
                requirements.append((offering, None, "Enterprise", "", [*base, (offering, 2)]))
        requirements.extend(
            (offerings[k], None, "", "Sales engineer", [(offerings[k], 2), (skills[10], 1)])
            for k in range(3)
        )
        requirements.append((offerings[5], north, "", "", [(offerings[5], 2)]))
        requirements.append((offerings[6], teams[3], "", "", [(skills[6], 3)]))
        requirements.append(
            (offerings[8], None, "Enterprise", "Account executive", [(offerings[8], 3)])
        )
        set_tier_rule(offerings[0])
        for offering, team, segment, role, items in requirements:
            requirement = ReadinessRequirement.objects.create(
                offering=offering, team=team, segment=segment, sales_role=role, created_by=lead
            )
            RequiredCertification.objects.bulk_create(
                RequiredCertification(requirement=requirement, subject=subject, level=level)
                for subject, level in items
            )
    return Org(
        now=now,
        lead_id=lead.pk,
        team_ids=team_ids,
        team_manager=team_manager,
        subjects=[(s.pk, s.kind) for s in subjects],
        exam_of=exam_of,
        scenario_of=scenario_of,
        guide_version_id=version.pk,
        password=make_password(None),
    )


# Streaming the large tables -------------------------------------------------------------------

TABLES = {
    "user": (
        "accounts_user",
        (
            "id, password, is_superuser, email, display_name, is_active, is_rep, is_manager, "
            "is_enablement, is_teleprospecting_lead, is_admin, time_zone, work_start, work_end, "
            "work_days, date_joined, team_id, sales_role, segment"
        ),
    ),
    "attempt": (
        "certification_attempt",
        "id, number, status, started_at, deadline, finished_at, score, passed, rep_id, exam_id",
    ),
    "session": (
        "certification_assessmentsession",
        (
            "id, scheduled_at, duration_minutes, location, video_link, status, score, passed, "
            "released_at, created_at, owner_id, rep_id, guide_version_id, scenario_id"
        ),
    ),
    "observation": (
        "certification_fieldobservation",
        (
            "id, observed_on, kind, crm_reference, contact_title, comment, status, created_at, "
            "updated_at, observer_id, rep_id, subject_id, guide_version_id"
        ),
    ),
    "signoff": (
        "certification_signoff",
        (
            "id, signed_at, ratings, comment, score, passed, correction_reason, guide_version_id, "
            "observation_id, rep_id, signed_by_id, subject_id"
        ),
    ),
    "certification": (
        "certification_certification",
        (
            "id, level, status, issued_at, expires_at, subject_version, attempt_id, session_id, "
            "signoff_id, rep_id, subject_id, revoked_at, revoked_reason, public_id"
        ),
    ),
    "deal": (
        "certification_deal",
        (
            "id, opportunity_id, rep_id, amount, currency, amount_base, close_date, stage, "
            "imported_at, updated_at"
        ),
    ),
    "override": (
        "certification_tieroverride",
        "id, tier, reason, ends_on, created_at, ended_at, created_by_id, rep_id",
    ),
    "tier": ("certification_reptier", "rep_id, tier, computed, reasons, missing, computed_at"),
}
ORDER = tuple(TABLES)  # parents before children
NULL = r"\N"
TIER_LABELS = {"none": "No tier yet", "bronze": "Bronze", "silver": "Silver", "gold": "Gold"}


def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for value, weight in choices:
        if x < weight:
            return value
        x -= weight
    return choices[-1][0]


def _ts(moment: datetime) -> str:
    return moment.isoformat()


@dataclass
class RepDraw:
    """One rep being generated: their id, who observes them, their generator, the rows."""

    id: int
    observer: int
    rng: random.Random
    out: dict[str, list[str]]
    held: set[tuple[int, int]] = field(default_factory=set)  # (subject, level) held now


class Loader:
    """Generates each rep's rows from a generator seeded by the rep's number, ``CHUNK`` reps
    at a time; ids are assigned here, from ``org.base``."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.next = dict(org.base)
        self.counts = dict.fromkeys(TABLES, 0)

    def rep_rows(self, i: int, out: dict[str, list[str]]) -> None:
        """Rep number ``i``: their user row, certifications with evidence, deals, and tier row
        (with the override that set it, for 1% of reps)."""
        rng = random.Random(SEED * 1_000_003 + i)
        rep = self._user(i, rng, out)
        diligence = rng.betavariate(5, 2)
        dormant = rng.random() < 0.04  # nothing at all in the last 120 days
        for subject_id, kind in self.org.subjects:
            self._subject(rep, subject_id, kind, diligence, dormant)
        won, revenue = self._deals(rep, i, diligence)
        if rng.random() < 0.05:  # never computed: no tier row (counts as no tier)
            return
        computed, missing = self._tier(rep.held, won, revenue)
        tier = computed
        if rng.random() < 0.01:  # an override in force
            tier = "silver" if computed in ("none", "bronze") else "gold"
            out["override"].append(
                "\t".join(
                    (
                        str(self._id("override")),
                        tier,
                        "Bench: strategic account",
                        (self.org.now + timedelta(days=rng.randint(1, 120))).date().isoformat(),
                        _ts(self.org.now - timedelta(days=rng.randint(1, 60))),
                        NULL,
                        str(self.org.lead_id),
                        str(rep.id),
                    )
                )
            )
        self.counts["tier"] += 1
        computed_at = _ts(self.org.now - timedelta(hours=3))
        out["tier"].append(
            "\t".join((str(rep.id), tier, computed, "[]", json.dumps(missing), computed_at))
        )

    def _deals(self, rep: RepDraw, i: int, diligence: float) -> tuple[int, int]:
        """The rep's CRM deals over the last 15 months (about 5.5 on average, a third won, a
        fifth in EUR): their number won to date and the revenue won in the rule's window, in
        whole base-currency units. A generator of its own, so the certifications do not
        depend on it."""
        rng = random.Random(f"deals-{SEED}-{i}")
        today = self.org.now.date()
        window_from = today - timedelta(days=GOLD_WINDOW_DAYS - 1)
        imported = _ts(self.org.now - timedelta(days=1))
        won = revenue = 0
        for n in range(rng.randint(0, int(4 + 10 * diligence))):
            stage = _weighted(rng, DEAL_STAGES)
            if stage == "open":
                close = today + timedelta(days=rng.randint(0, 90))
            else:
                close = today - timedelta(days=rng.randint(0, DEAL_HISTORY_DAYS))
            amount = int(rng.lognormvariate(10.2 + diligence, 0.8)) // 100 * 100 + 100
            currency, base = ("EUR", amount * 108 // 100) if rng.random() < 0.2 else ("USD", amount)
            if stage == "won" and close <= today:
                won += 1
                if close >= window_from:
                    revenue += base
            rep.out["deal"].append(
                "\t".join(
                    (
                        str(self._id("deal")),
                        f"CRM-{i:06d}-{n:02d}",
                        str(rep.id),
                        f"{amount}.00",
                        currency,
                        f"{base}.00",
                        close.isoformat(),
                        stage,
                        imported,
                        imported,
                    )
                )
            )
        return won, revenue

    def _tier(self, held: set[tuple[int, int]], won: int, revenue: int) -> tuple[str, list[str]]:
        """The tier the rule in force gives (``build_fixed`` sets it): bronze is level 1 on
        every offering; silver adds a won deal and level 2 on the first offering; gold adds
        the revenue threshold in the window and level 3 on the first offering. What the nightly
        recompute would have stored last night, so tonight's changes only what changed."""
        org = self.org
        offerings = [pk for pk, kind in org.subjects if kind == "offering"]
        if any((pk, 1) not in held for pk in offerings):
            return "none", ["level 1 on every active offering"]
        if not won or (offerings[0], 2) not in held:
            return "bronze", ["a first closed-won deal and level 2 on the first offering"]
        if revenue < GOLD_THRESHOLD or (offerings[0], 3) not in held:
            return "silver", ["the revenue threshold and level 3 on the first offering"]
        return "gold", []

    def _user(self, i: int, rng: random.Random, out: dict[str, list[str]]) -> RepDraw:
        org = self.org
        rep_id = self._id("user")
        team_id: int | None = None
        if rng.random() >= 0.005:  # a few new hires are in no team yet
            team_id = org.team_ids[rng.randrange(len(org.team_ids))]
        observer = org.team_manager[team_id] if team_id else org.lead_id
        active = rng.random() >= 0.015  # a few have left: inactive accounts, not in reports
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        out["user"].append(
            "\t".join(
                (
                    str(rep_id),
                    org.password,
                    "f",
                    f"rep{i:06d}@readiness.test",
                    name,
                    "t" if active else "f",
                    "t",
                    "f",
                    "f",
                    "f",
                    "f",
                    "UTC",
                    "09:00",
                    "17:30",
                    "[1, 2, 3, 4, 5]",
                    _ts(org.now - timedelta(days=HISTORY_DAYS)),
                    str(team_id) if team_id else NULL,
                    _weighted(rng, ROLES),
                    _weighted(rng, SEGMENTS),
                )
            )
        )
        return RepDraw(rep_id, observer, rng, out)

    def _subject(
        self, rep: RepDraw, subject_id: int, kind: str, diligence: float, dormant: bool
    ) -> None:
        """The rep's certifications on one subject, level by level."""
        rng = rep.rng
        if rng.random() >= min(0.99, P_LEVEL1[kind] * diligence):
            return
        latest = 120.0 if dormant else 0.0
        ago = rng.uniform(latest, HISTORY_DAYS)
        status = self._certify(rep, subject_id=subject_id, kind=kind, level=1, ago=ago)
        if status == "expired" and not dormant and rng.random() < RENEWED[kind]:
            ago = rng.uniform(0, ago - (VALIDITY[kind] or 0))
            status = self._certify(
                rep, subject_id=subject_id, kind=kind, level=1, ago=ago, number=2
            )
        for level, chance in ((2, P_LEVEL2[kind] * 1.3), (3, P_LEVEL3[kind])):
            if rng.random() >= chance * diligence:
                return
            ago = rng.uniform(latest, ago)  # after the level below
            self._certify(rep, subject_id=subject_id, kind=kind, level=level, ago=ago)

    def _certify(
        self,
        rep: RepDraw,
        *,
        subject_id: int,
        kind: str,
        level: int,
        ago: float,
        number: int = 1,
    ) -> str:
        """One certification with its evidence; returns its status."""
        org, now, rng, out = self.org, self.org.now, rep.rng, rep.out
        issued = now - timedelta(days=ago)
        validity = VALIDITY[kind]
        expires = issued + timedelta(days=validity) if validity else None
        status, revoked = "active", None
        if expires is not None and expires <= now - timedelta(days=3):
            status = "expired"  # the nightly sweep has marked it; a younger lapse has not
        elif rng.random() < 0.01:
            status, revoked = "revoked", issued + (now - issued) * rng.random()
        score = f"{rng.randint(70, 100)}.00"
        attempt = session = signoff = NULL
        if level == 1:
            attempt = str(self._id("attempt"))
            started = issued - timedelta(minutes=40)
            out["attempt"].append(
                "\t".join(
                    (
                        attempt,
                        str(number),
                        "finished",
                        _ts(started),
                        _ts(started + timedelta(minutes=60)),
                        _ts(issued),
                        score,
                        "t",
                        str(rep.id),
                        str(org.exam_of[subject_id]),
                    )
                )
            )
        elif level == 2:
            session = str(self._id("session"))
            scheduled = issued - timedelta(hours=2)
            out["session"].append(
                "\t".join(
                    (
                        session,
                        _ts(scheduled),
                        "60",
                        "",
                        "",
                        "released",
                        score,
                        "t",
                        _ts(issued),
                        _ts(scheduled - timedelta(days=7)),
                        str(org.lead_id),
                        str(rep.id),
                        str(org.guide_version_id),
                        str(org.scenario_of[subject_id]),
                    )
                )
            )
        else:
            observation = str(self._id("observation"))
            signoff = str(self._id("signoff"))
            observed = issued - timedelta(days=1)
            out["observation"].append(
                "\t".join(
                    (
                        observation,
                        observed.date().isoformat(),
                        "meeting",
                        f"OPP-{observation}",
                        "CFO",
                        "",
                        "signed",
                        _ts(observed),
                        _ts(issued),
                        str(rep.observer),
                        str(rep.id),
                        str(subject_id),
                        str(org.guide_version_id),
                    )
                )
            )
            out["signoff"].append(
                "\t".join(
                    (
                        signoff,
                        _ts(issued),
                        "[]",
                        "",
                        score,
                        "t",
                        "",
                        str(org.guide_version_id),
                        observation,
                        str(rep.id),
                        str(rep.observer),
                        str(subject_id),
                    )
                )
            )
        certification = self._id("certification")
        out["certification"].append(
            "\t".join(
                (
                    str(certification),
                    str(level),
                    status,
                    _ts(issued),
                    _ts(expires) if expires else NULL,
                    "1.0" if kind == "offering" else "",
                    attempt,
                    session,
                    signoff,
                    str(rep.id),
                    str(subject_id),
                    _ts(revoked) if revoked else NULL,
                    "Bench: revoked" if revoked else "",
                    f"00000000-0000-4000-8000-{certification:012x}",  # unique, as the id is
                )
            )
        )
        if status == "active" and (expires is None or expires > now):
            rep.held.add((subject_id, level))
        return status

    def _id(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        self.counts[table] += 1
        return value

    def chunks(self, reps: int) -> Iterator[dict[str, bytes]]:
        """The rows of ``CHUNK`` reps at a time, per table, as COPY text."""
        for start in range(0, reps, CHUNK):
            out: dict[str, list[str]] = {table: [] for table in ORDER}
            for i in range(start, min(reps, start + CHUNK)):
                self.rep_rows(i, out)
            yield {table: ("\n".join(rows) + "\n").encode() for table, rows in out.items() if rows}


def _produce(org: Org, reps: int, queue: Any) -> None:
    """The generating process: every chunk onto the queue, then the row counts."""
    loader = Loader(org)
    for chunk in loader.chunks(reps):
        queue.put(chunk)
    queue.put(loader.counts)


def load_organisation(org: Org, reps: int, database: str) -> dict[str, Any]:
    """Generate and COPY the reps' rows, then build the indexes, check the foreign keys and
    ``VACUUM (ANALYZE)``. Returns the rows per table and the seconds of each step."""
    import psycopg  # noqa: PLC0415

    timings: dict[str, float] = {}
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=database) as conn:
        for table, (name, _) in TABLES.items():
            key = "rep_id" if table == "tier" else "id"
            query = f"SELECT coalesce(max({key}), 0) + 1 FROM {name}"  # noqa: S608 - constants
            value = conn.execute(query).fetchone()
            org.base[table] = value[0] if value else 1
        indexes, foreign_keys = _defer_indexes(conn)
        # A bulk load, as a restore is: no row triggers (the readiness summaries' would upsert
        # a row per loaded row); the summaries are built afterwards and timed (``summaries``).
        conn.execute("SET session_replication_role = replica")
        counts = _copy_rows(conn, org, reps, timings)
        for table, (name, _) in TABLES.items():
            if table != "tier":
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {name}))"
                )
        conn.commit()
        conn.autocommit = True
        started = time.perf_counter()
        conn.execute("SET maintenance_work_mem = '256MB'")
        for _, definition in indexes:
            conn.execute(definition)
        timings["indexes"] = time.perf_counter() - started
        started = time.perf_counter()
        for table_name, constraint, definition in foreign_keys:
            conn.execute(f"ALTER TABLE {table_name} ADD CONSTRAINT {constraint} {definition}")
        timings["foreign_keys"] = time.perf_counter() - started
        # What autovacuum would have done by the time anyone reads the report (and statistics
        # for the small tables, which autovacuum's thresholds may never reach).
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        timings["vacuum_analyze"] = time.perf_counter() - started
    org.counts = counts
    return {"counts": counts, "seconds": {k: round(v, 1) for k, v in timings.items()}}


def _defer_indexes(conn: Any) -> tuple[list[Any], list[Any]]:
    """As pg_restore does, indexes are built and foreign keys checked once after the load
    instead of row by row during it: drop every index of the loaded tables that does not back
    a constraint (primary keys and unique constraints stay) and every foreign key of theirs,
    and return their definitions. Unique indexes are checked as they are built again, foreign
    keys as they are added back (one join each, over every row)."""
    loaded = [name for name, _ in TABLES.values()]
    indexes = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (loaded,),
    ).fetchall()
    foreign_keys = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
        (loaded,),
    ).fetchall()
    for table_name, constraint, _ in foreign_keys:
        conn.execute(f"ALTER TABLE {table_name} DROP CONSTRAINT {constraint}")
    for index, _ in indexes:
        conn.execute(f"DROP INDEX {index}")
    conn.commit()
    return indexes, foreign_keys


def _copy_rows(conn: Any, org: Org, reps: int, timings: dict[str, float]) -> dict[str, int]:
    """A child process generates the rows (Python, one core) while this one writes the
    previous chunk with COPY (PostgreSQL, the other core), at most a few chunks apart, so
    memory stays flat; one transaction per chunk. Returns the rows per table."""
    import multiprocessing  # noqa: PLC0415
    import queue as queues  # noqa: PLC0415

    timings["waiting_for_rows"] = timings["copy"] = 0.0
    context = multiprocessing.get_context("fork")  # the child only computes: no Django
    pending = context.Queue(maxsize=3)
    producer = context.Process(target=_produce, args=(org, reps, pending), daemon=True)
    producer.start()
    try:
        while True:
            started = time.perf_counter()
            try:
                item = pending.get(timeout=5)
            except queues.Empty:
                if not producer.is_alive():
                    raise SystemExit("readiness bench: the row generator died") from None
                continue
            finally:
                timings["waiting_for_rows"] += time.perf_counter() - started
            if all(isinstance(v, int) for v in item.values()):
                return item
            started = time.perf_counter()
            with conn.cursor() as cur:
                for table in ORDER:
                    if table in item:
                        name, columns = TABLES[table]
                        with cur.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                            copy.write(item[table])
            conn.commit()
            timings["copy"] += time.perf_counter() - started
    finally:
        producer.join(timeout=10)
        if producer.is_alive():
            producer.kill()


# The hand-written SQL floors ----------------------------------------------------------------
#
# Each computes the same figure as the selector it stands next to, as directly as SQL allows.

# Inactive reps by a hashed anti-join: ``id NOT IN (SELECT ...)`` over more rows than
# work_mem holds becomes a plain subplan scanned once per rep (minutes at 100,000 reps).
HEADLINE_REPS_SQL = """
WITH reps AS (
    SELECT u.id, rt.tier FROM accounts_user u
    LEFT JOIN certification_reptier rt ON rt.rep_id = u.id
    WHERE u.is_rep AND u.is_active
),
busy AS (
    SELECT rep_id FROM certification_attempt WHERE started_at >= %(since)s
    UNION SELECT rep_id FROM certification_assessmentsession WHERE scheduled_at >= %(since)s
    UNION SELECT rep_id FROM certification_fieldobservation WHERE observed_on >= %(since_day)s
    UNION SELECT rep_id FROM certification_certification WHERE issued_at >= %(since)s
)
SELECT count(*),
       count(*) FILTER (WHERE tier = 'gold'),
       count(*) FILTER (WHERE tier = 'silver'),
       count(*) FILTER (WHERE tier = 'bronze'),
       count(*) FILTER (WHERE busy.rep_id IS NULL)
FROM reps LEFT JOIN busy ON busy.rep_id = reps.id"""

HEADLINE_EXPIRING_SQL = """
SELECT count(*) FILTER (WHERE c.expires_at <= %(now)s + interval '30 days'),
       count(*) FILTER (WHERE c.expires_at <= %(now)s + interval '60 days'),
       count(*) FILTER (WHERE c.expires_at <= %(now)s + interval '90 days')
FROM certification_certification c JOIN accounts_user u ON u.id = c.rep_id
WHERE u.is_rep AND u.is_active AND c.status = 'active'
  AND c.expires_at > %(now)s AND c.expires_at <= %(now)s + interval '90 days'"""

# The headline's floor when the summaries are current: the same figures read from them.
HEADLINE_SUMMARY_REPS_SQL = """
SELECT count(*),
       count(*) FILTER (WHERE rt.tier = 'gold'),
       count(*) FILTER (WHERE rt.tier = 'silver'),
       count(*) FILTER (WHERE rt.tier = 'bronze'),
       count(*) FILTER (WHERE NOT coalesce(
           s.last_active_at >= %(since)s OR s.last_observed_on >= %(since_day)s, false))
FROM accounts_user u
JOIN certification_readinesssummary s ON s.rep_id = u.id
LEFT JOIN certification_reptier rt ON rt.rep_id = u.id
WHERE u.is_rep AND u.is_active"""

HEADLINE_SUMMARY_READY_SQL = """
SELECT o.offering_id, count(*),
       count(*) FILTER (WHERE o.ready AND (o.ready_until IS NULL OR o.ready_until > %(now)s))
FROM certification_offeringreadinesssummary o JOIN accounts_user u ON u.id = o.rep_id
WHERE u.is_rep AND u.is_active
GROUP BY o.offering_id"""

# Customer ready per offering without a subquery per rep: every (subject, level) any
# requirement names gets a bit; each requirement is the mask of its items, each rep the mask
# of what they hold active. A rep is ready for an offering when every requirement of it whose
# slice holds them is inside their mask. (At most 64 distinct items: checked before use.)
HEADLINE_READY_SQL = """
WITH pairs AS (
    SELECT subject_id, level, (row_number() OVER (ORDER BY subject_id, level) - 1)::int AS bit
    FROM (SELECT DISTINCT subject_id, level FROM certification_requiredcertification) p
),
need AS (
    SELECT r.id, r.offering_id, r.segment, r.sales_role, t.path,
           coalesce(bit_or(1::bigint << p.bit), 0) AS mask
    FROM certification_readinessrequirement r
    LEFT JOIN accounts_team t ON t.id = r.team_id
    LEFT JOIN certification_requiredcertification i ON i.requirement_id = r.id
    LEFT JOIN pairs p ON p.subject_id = i.subject_id AND p.level = i.level
    GROUP BY r.id, t.path
),
held AS (
    SELECT c.rep_id, bit_or(1::bigint << p.bit) AS mask
    FROM certification_certification c
    JOIN pairs p ON p.subject_id = c.subject_id AND p.level = c.level
    WHERE c.status = 'active' AND (c.expires_at IS NULL OR c.expires_at > %(now)s)
    GROUP BY c.rep_id
),
reps AS MATERIALIZED (  -- so that the join with the slices cannot be estimated apart
    SELECT u.id, u.segment, u.sales_role, t.path, coalesce(h.mask, 0) AS mask
    FROM accounts_user u
    LEFT JOIN accounts_team t ON t.id = u.team_id
    LEFT JOIN held h ON h.rep_id = u.id
    WHERE u.is_rep AND u.is_active
),
per_rep AS (
    SELECT reps.id, n.offering_id, bool_and(n.mask & ~reps.mask = 0) AS ready
    FROM reps JOIN need n
      ON (n.path IS NULL OR starts_with(reps.path, n.path))
     AND (n.segment = '' OR n.segment = reps.segment)
     AND (n.sales_role = '' OR n.sales_role = reps.sales_role)
    GROUP BY reps.id, n.offering_id
)
SELECT offering_id, count(*), count(*) FILTER (WHERE ready) FROM per_rep GROUP BY offering_id"""

PAGE_SQL = """
WITH page AS (
    SELECT u.id, u.display_name, u.email, t.name AS team, coalesce(rt.tier, 'none') AS tier
    FROM accounts_user u
    LEFT JOIN accounts_team t ON t.id = u.team_id
    LEFT JOIN certification_reptier rt ON rt.rep_id = u.id
    WHERE u.is_rep AND u.is_active
    ORDER BY u.display_name, u.id
    LIMIT %(size)s
)
SELECT p.id, p.display_name, p.email, p.team, p.tier, b.subject_id, b.level, b.expires_at
FROM page p LEFT JOIN LATERAL (
    SELECT DISTINCT ON (c.subject_id) c.subject_id, c.level, c.expires_at
    FROM certification_certification c
    WHERE c.rep_id = p.id AND c.status = 'active'
      AND (c.expires_at IS NULL OR c.expires_at > %(now)s)
    ORDER BY c.subject_id, c.level DESC
) b ON true
ORDER BY p.display_name, p.id"""

# Not timed: a second, independent formulation (NOT EXISTS) to check the page's readiness.
READY_OF_SQL = """
WITH reps AS (
    SELECT u.id, u.segment, u.sales_role, t.path
    FROM accounts_user u LEFT JOIN accounts_team t ON t.id = u.team_id
    WHERE u.id = ANY(%(ids)s)
),
applies AS (
    SELECT reps.id AS rep_id, r.id AS requirement_id, r.offering_id
    FROM reps JOIN certification_readinessrequirement r
      ON (r.team_id IS NULL OR starts_with(
              reps.path, (SELECT t.path FROM accounts_team t WHERE t.id = r.team_id)))
     AND (r.segment = '' OR r.segment = reps.segment)
     AND (r.sales_role = '' OR r.sales_role = reps.sales_role)
)
SELECT a.rep_id, a.offering_id, bool_and(NOT EXISTS (
    SELECT 1 FROM certification_requiredcertification i
    WHERE i.requirement_id = a.requirement_id AND NOT EXISTS (
        SELECT 1 FROM certification_certification c
        WHERE c.rep_id = a.rep_id AND c.subject_id = i.subject_id AND c.level = i.level
          AND c.status = 'active' AND (c.expires_at IS NULL OR c.expires_at > %(now)s))))
FROM applies a GROUP BY a.rep_id, a.offering_id"""


def matrix_sql(subject_ids: list[int]) -> str:
    """The export's matrix: every rep in name order with team, segment, sales role and tier,
    then per subject the highest active level and its expiry."""
    cells = ",\n       ".join(
        f"max(b.level) FILTER (WHERE b.subject_id = {int(s)}), "
        f"max(b.expires_at) FILTER (WHERE b.subject_id = {int(s)})"
        for s in subject_ids
    )
    return f"""
WITH best AS (
    SELECT DISTINCT ON (c.rep_id, c.subject_id) c.rep_id, c.subject_id, c.level, c.expires_at
    FROM certification_certification c
    WHERE c.status = 'active' AND (c.expires_at IS NULL OR c.expires_at > %(now)s)
    ORDER BY c.rep_id, c.subject_id, c.level DESC
)
SELECT u.display_name, u.email, coalesce(t.name, ''), u.segment, u.sales_role,
       coalesce(rt.tier, 'none'),
       {cells}
FROM accounts_user u
LEFT JOIN accounts_team t ON t.id = u.team_id
LEFT JOIN certification_reptier rt ON rt.rep_id = u.id
LEFT JOIN best b ON b.rep_id = u.id
WHERE u.is_rep AND u.is_active
GROUP BY u.id, t.name, rt.tier
ORDER BY u.display_name, u.id"""  # noqa: S608 - ids only, from the database


def raw_headline(conn: Any, now: datetime, *, summaries: bool = False) -> dict[str, Any]:
    """The headline by hand-written SQL: from the facts (live), or from the summaries."""
    since = now - timedelta(days=90)
    params = {"now": now, "since": since, "since_day": since.date()}
    with conn.cursor() as cur:
        cur.execute(HEADLINE_SUMMARY_REPS_SQL if summaries else HEADLINE_REPS_SQL, params)
        reps, gold, silver, bronze, inactive = cur.fetchone()
        cur.execute(HEADLINE_EXPIRING_SQL, params)
        within = cur.fetchone()
        cur.execute(HEADLINE_SUMMARY_READY_SQL if summaries else HEADLINE_READY_SQL, params)
        offerings = {str(o): [scope, ready] for o, scope, ready in sorted(cur.fetchall())}
    return {
        "reps": reps,
        "tiers": {"gold": gold, "silver": silver, "bronze": bronze},
        "inactive": inactive,
        "expiring": {"30": within[0], "60": within[1], "90": within[2]},
        "offerings": offerings,
    }


def raw_page(conn: Any, now: datetime) -> dict[int, dict[int, tuple[int, Any]]]:
    """The first page's reps, in order, with their cells: {rep: {subject: (level, expiry)}}."""
    page: dict[int, dict[int, tuple[int, Any]]] = {}
    with conn.cursor() as cur:
        cur.execute(PAGE_SQL, {"now": now, "size": PAGE})
        for rep_id, _name, _email, _team, _tier, subject_id, level, expires in cur:
            cells = page.setdefault(rep_id, {})
            if subject_id is not None:
                cells[subject_id] = (level, expires)
    return page


# Timing -------------------------------------------------------------------------------------


def timed_runs(
    func: Callable[[], Any], runs: int, budget: float = 30.0, *, warm_up: bool = True
) -> tuple[float, list[float], Any]:
    """One unmeasured warm-up, then up to ``runs`` timed calls (at least 3, fewer once
    ``budget`` seconds are spent): the median and every time, in ms."""
    result = func() if warm_up else None
    times: list[float] = []
    spent = 0.0
    while len(times) < runs and (len(times) < 3 or spent < budget):
        started = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - started
        spent += elapsed
        times.append(elapsed * 1000)
    return statistics.median(times), times, result


class CpuWatch:
    """How much of the machine's CPU went to something other than this bench (its process,
    its children, PostgreSQL) while a figure was measured: in % of one core."""

    def __init__(self, pids: set[int], database: str) -> None:
        self.pids, self.database = pids, database
        self.before: dict[str, Any] = {}
        self.started = 0.0

    def start(self) -> None:
        self.before = cpu.snapshot(driver=self.pids, server=None, database=self.database)
        self.started = time.perf_counter()

    def other(self) -> float | None:
        after = cpu.snapshot(driver=self.pids, server=None, database=self.database)
        used = cpu.shares(cpu.seconds_used(self.before, after), time.perf_counter() - self.started)
        return used.get("other")


@dataclass
class Row:
    figure: str
    value: float | None  # in ``unit``
    unit: str
    floor: float | None
    target: float | None
    note: str = ""
    runs: list[float] = field(default_factory=list)
    other_cpu: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.floor:
            return None
        return self.value / self.floor

    @property
    def result(self) -> str:
        if self.target is None:
            return "-"
        if self.value is None:
            return "n/a"
        return "PASS" if self.value < self.target else "FAIL"


def headline_figures(headline: Any) -> dict[str, Any]:
    return {
        "reps": headline.reps,
        "tiers": {k: headline.tiers[k] for k in ("gold", "silver", "bronze")},
        "inactive": headline.inactive,
        "expiring": {str(days): count for days, count in sorted(headline.expiring.items())},
        "offerings": {
            str(o.offering.pk): [o.in_scope, o.ready]
            for o in sorted(headline.offerings, key=lambda o: o.offering.pk)
        },
    }


def check(what: str, ours: Any, theirs: Any) -> None:
    """Stop the bench, loudly, when the selector and the raw SQL disagree."""
    if ours != theirs:
        raise SystemExit(
            f"readiness bench: {what} DISAGREE\n  selector: {ours}\n  raw SQL:  {theirs}"
        )
    log(f"{what}: the selector and the raw SQL agree")


def explain(sql: str) -> str:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cur:
        cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cur.fetchall())


def plan_summary(plan: str) -> str:
    """The top node, JIT's timing and the execution time of a plan."""
    lines = plan.splitlines()
    keep = [lines[0]] if lines else []
    keep += [
        line.strip()
        for line in lines
        if line.strip().startswith(("Timing:", "Functions:", "Execution Time"))
    ]
    return "\n  ".join(keep)


def captured(func: Callable[[], Any]) -> list[dict[str, Any]]:
    """The SQL a call runs, slowest first."""
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    with CaptureQueriesContext(connection) as queries:
        func()
    return sorted(queries.captured_queries, key=lambda q: -float(q["time"]))


# Children: each runs one export and nothing else -------------------------------------------------
#
# They are started first thing, before this process imports Django or loads anything: Linux
# carries ru_maxrss over fork and exec, so a child started later would report this process's
# size as its own peak. Each waits for one line on stdin saying what to do.


def peak_rss() -> dict[str, float]:
    """This process's peak RSS in MB: ru_maxrss (KiB on Linux) and /proc's VmHWM."""
    peak = {"ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak["vmhwm_mb"] = int(line.split()[1]) / 1024
    return peak


def child_main(database: str) -> int:
    line = sys.stdin.readline()
    if not line.strip():  # the bench ended before it needed this child
        return 0
    spec = json.loads(line)
    runners = {"export": child_export, "copy": child_copy, "xlsx-raw": child_raw_xlsx}
    result = runners[spec["kind"]](database, spec["lead"], Path(spec["out"]))
    print(json.dumps(result, default=str))
    return 0


def _matrix_columns(database: str) -> tuple[list[int], list[str]]:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=database) as conn:
        subjects = conn.execute(
            "SELECT id, name FROM certification_subject WHERE is_active ORDER BY kind, name, id"
        ).fetchall()
    header = ["Rep", "Email", "Team", "Segment", "Sales role", "Tier"]
    for _, name in subjects:
        header += [name, f"{name} expires"]
    return [s for s, _ in subjects], header


def child_copy(database: str, _lead: int, _out: Path) -> dict[str, Any]:
    """Floor: the matrix as CSV by COPY, read and thrown away."""
    import psycopg  # noqa: PLC0415

    subjects, _ = _matrix_columns(database)
    before = peak_rss()
    started = time.perf_counter()
    size = 0
    with (
        psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=database) as conn,
        psycopg.ClientCursor(conn) as cur,
        Path(os.devnull).open("wb") as sink,
    ):
        query = cur.mogrify(matrix_sql(subjects), {"now": datetime.now(UTC)})
        with cur.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for block in copy:
                size += len(block)
                sink.write(block)
    return {
        "seconds": time.perf_counter() - started,
        "before": before,
        **peak_rss(),
        "bytes": size,
    }


def child_raw_xlsx(database: str, _lead: int, out: Path) -> dict[str, Any]:
    """Floor: the matrix from a server-side cursor, written by XlsxWriter in constant memory
    with the export's cell types (text, and dates for expiries)."""
    import psycopg  # noqa: PLC0415
    import xlsxwriter  # noqa: PLC0415

    subjects, header = _matrix_columns(database)
    before = peak_rss()
    started = time.perf_counter()
    rows = 0
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=database) as conn:
        workbook = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        sheet = workbook.add_worksheet("Matrix")
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_row(0, 0, header)
        with conn.cursor(name="matrix") as cur:
            cur.itersize = 2000
            cur.execute(matrix_sql(subjects), {"now": datetime.now(UTC)})
            for record in cur:
                rows += 1
                sheet.write_row(rows, 0, (*record[:5], TIER_LABELS[record[5]]))
                for n in range(6, len(record), 2):
                    if record[n] is not None:
                        sheet.write_string(rows, n, f"L{record[n]}")
                        if record[n + 1] is not None:
                            sheet.write_datetime(rows, n + 1, record[n + 1].date(), day)
        workbook.close()
    return {
        "seconds": time.perf_counter() - started,
        "before": before,
        **peak_rss(),
        "rows": rows,
        "bytes": out.stat().st_size,
    }


def child_export(database: str, lead: int, out: Path) -> dict[str, Any]:
    """The app's export of the whole matrix as XLSX: ``export_start`` then ``export_run``
    (what the Celery task runs), with its file under a scratch MEDIA_ROOT."""
    django_setup(database)
    from django.test.utils import override_settings  # noqa: PLC0415

    from accounts.models import User  # noqa: PLC0415
    from certification.selectors.readiness import ReportFilters  # noqa: PLC0415

    try:
        from certification.services.exports import export_run, export_start  # noqa: PLC0415
    except ImportError as exc:
        return {"missing": f"certification.services.exports: {exc}"}
    owner = User.objects.get(pk=lead)
    with override_settings(MEDIA_ROOT=str(out.parent)):
        before = peak_rss()
        started = time.perf_counter()
        job = export_start(owner=owner, table="matrix", format="xlsx", filters=ReportFilters())
        queued = time.perf_counter() - started
        job = export_run(job_id=job.pk)
        seconds = time.perf_counter() - started
        peak = peak_rss()
        path = Path(job.file.path) if job is not None and job.file else None
        return {
            "seconds": seconds,
            "start_seconds": queued,
            "before": before,
            **peak,
            "status": job.status if job is not None else None,
            "error": job.error if job is not None else "no job",
            "rows": job.total_rows if job is not None else None,
            "path": str(path) if path else None,
            "bytes": path.stat().st_size if path and path.exists() else None,
        }


class Child:
    """A waiting child process (see above)."""

    def __init__(self, database: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--child", "--database", database],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, kind: str, lead: int, out: Path) -> dict[str, Any]:
        spec = json.dumps({"kind": kind, "lead": lead, "out": str(out)})
        stdout, stderr = self.process.communicate(spec + "\n")
        if self.process.returncode != 0 or not stdout.strip():
            return {"error": (stderr or stdout).strip()[-2000:] or "no output"}
        return json.loads(stdout.strip().splitlines()[-1])

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError, ValueError):
                self.process.communicate("\n", timeout=10)


def xlsx_rows(path: Path) -> int:
    """Rows in the workbook's first sheet, counted in its XML without loading it."""
    with zipfile.ZipFile(path) as book:
        sheets = sorted(n for n in book.namelist() if n.startswith("xl/worksheets/sheet"))
        count = 0
        with book.open(sheets[0]) as sheet:
            tail = b""
            while block := sheet.read(1 << 20):
                data = tail + block
                count += data.count(b"<row ") - tail.count(b"<row ")
                tail = data[-4:]
        return count


def first_difference(ours: Path, theirs: Path, rows: int = PAGE + 1) -> str:
    """Compare the first rows of two workbooks cell by cell: "" when equal."""
    from openpyxl import load_workbook  # noqa: PLC0415

    def head(path: Path) -> list[tuple[Any, ...]]:
        book = load_workbook(path, read_only=True)
        try:
            sheet = book.worksheets[0]
            return list(sheet.iter_rows(min_row=1, max_row=rows, values_only=True))
        finally:
            book.close()

    a, b = head(ours), head(theirs)
    for n, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"row {n + 1}: export {x[:8]}... floor {y[:8]}..."
    return "" if len(a) == len(b) else f"{len(a)} rows against {len(b)}"


# Measuring ------------------------------------------------------------------------------------


@dataclass
class Bench:
    args: argparse.Namespace
    lead_id: int
    children: dict[str, Child]
    work: Path
    watch: CpuWatch
    rows: list[Row] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    plans: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from django.db import connection  # noqa: PLC0415

        from accounts.models import User  # noqa: PLC0415
        from certification.selectors.readiness import ReportFilters  # noqa: PLC0415

        self.lead = User.objects.get(pk=self.lead_id)
        self.now = datetime.now(UTC)
        self.filters = ReportFilters()
        connection.ensure_connection()
        self.raw = connection.connection  # the same psycopg connection, without the ORM

    def time(
        self, func: Callable[[], Any], runs: int = 0, *, warm_up: bool = True
    ) -> tuple[float, list[float], Any, float | None]:
        self.watch.start()
        median, times, result = timed_runs(func, runs or self.args.runs, warm_up=warm_up)
        return median, times, result, self.watch.other()

    def headline(self) -> None:
        from django.db import connection  # noqa: PLC0415

        from certification.models import RequiredCertification  # noqa: PLC0415
        from certification.selectors.readiness import readiness_headline  # noqa: PLC0415

        pairs = RequiredCertification.objects.values("subject", "level").distinct().count()
        if pairs > 64:
            raise SystemExit(
                f"readiness bench: {pairs} distinct required items; the floor takes 64"
            )

        def selector() -> Any:
            return readiness_headline(viewer=self.lead, filters=self.filters, now=self.now)

        ms, runs, headline, other = self.time(selector)
        floor_ms, floor_runs, floor, _ = self.time(
            lambda: raw_headline(self.raw, self.now, summaries=True)
        )
        live_ms, live_runs, live, _ = self.time(
            lambda: raw_headline(self.raw, self.now), 1, warm_up=False
        )
        ours = headline_figures(headline)
        check("headline figures (summaries)", ours, floor)
        check("headline figures (live, from the facts)", ours, live)
        self.extra["headline"] = ours
        self.extra["headline_floor_runs"] = floor_runs
        self.extra["headline_live_floor_runs"] = live_runs
        self.rows.append(
            Row(
                "headline (readiness_headline)",
                ms,
                "ms",
                floor_ms,
                TARGET_HEADLINE_MS,
                "summaries current; floor: 3 SQL aggregates over the summaries (from the facts "
                f"instead: {live_ms:,.0f} ms, the same figures)",
                runs,
                other,
            )
        )
        self.stale_headline(selector, floor_ms)
        queries = captured(selector)
        self.extra["headline_queries"] = len(queries)
        if ms >= TARGET_HEADLINE_MS:
            self.plans["headline, slowest query"] = explain(queries[0]["sql"])
        with self.raw.cursor() as cur:
            params = {"now": self.now}
            self.plans["headline floor: ready per offering"] = explain(
                cur.mogrify(HEADLINE_READY_SQL, params)
            )
        # The same with PostgreSQL's JIT off for the session: what JIT costs here (the
        # application's connections already run with it off: config/env.py).
        if not self.args.jit_diagnostic:
            return
        with connection.cursor() as cur:
            cur.execute("SET jit = off")
        try:
            ms_off, runs_off, _, other_off = self.time(selector, 3, warm_up=False)
        finally:
            with connection.cursor() as cur:
                cur.execute("RESET jit")
        self.rows.append(
            Row(
                "  the same with jit = off (diagnostic)",
                ms_off,
                "ms",
                floor_ms,
                TARGET_HEADLINE_MS,
                "SET jit = off for the session only",
                runs_off,
                other_off,
            )
        )

    def summaries(self) -> None:
        """Build every rep's readiness summary (after the bulk load, which ran without
        triggers), as ``refresh_readiness_summaries --all`` does: one process."""
        from certification.services.readiness_summaries import (  # noqa: PLC0415
            readiness_summaries_refresh,
        )
        from certification.services.tiers import all_rep_ids  # noqa: PLC0415

        ids = all_rep_ids()
        self.watch.start()
        result = readiness_summaries_refresh(rep_ids=ids)
        other = self.watch.other()
        with self.raw.cursor() as cur:  # what autovacuum does soon after a load this size
            cur.execute("ANALYZE certification_readinesssummary")
            cur.execute("ANALYZE certification_offeringreadinesssummary")
        self.raw.commit()
        self.now = datetime.now(UTC)  # summaries count from the moment they were computed
        self.extra["summaries"] = {"reps": len(ids), "refreshed": result.refreshed}
        self.rows.append(
            Row(
                "readiness summaries, full build (refresh_readiness_summaries --all)",
                result.seconds,
                "s",
                None,
                TARGET_RECOMPUTE_S,
                f"{result.refreshed:,} reps, one process, batches of 2,000",
                [result.seconds * 1000],
                other,
            )
        )

    def stale_headline(self, selector: Callable[[], Any], floor_ms: float) -> None:
        """The headline when 2,000 reps (a boot camp) changed since the last refresh: their
        summaries are stale and counted live; then the every-minute refresh catches up."""
        from certification.services.readiness_summaries import (  # noqa: PLC0415
            readiness_summaries_refresh,
            stale_rep_ids,
        )

        changed = 2_000
        with self.raw.cursor() as cur:
            # A real change to each rep's facts (a second more on one certification's expiry),
            # so the triggers, not the bench, mark the summaries stale.
            cur.execute(
                "UPDATE certification_certification SET expires_at = expires_at "
                "+ interval '1 second' WHERE id IN (SELECT DISTINCT ON (c.rep_id) c.id "
                "FROM certification_certification c JOIN accounts_user u ON u.id = c.rep_id "
                "WHERE u.is_rep AND u.is_active AND c.expires_at IS NOT NULL "
                "ORDER BY c.rep_id, c.id LIMIT %s)",
                (changed,),
            )
        self.raw.commit()
        stale = len(stale_rep_ids(now=self.now))
        ms, runs, headline, other = self.time(selector)
        check(
            f"headline figures with {stale:,} stale summaries (live, from the facts)",
            headline_figures(headline),
            raw_headline(self.raw, self.now),
        )
        self.rows.append(
            Row(
                f"headline, {stale:,} reps changed since the last refresh",
                ms,
                "ms",
                floor_ms,
                TARGET_HEADLINE_MS,
                "their summaries stale, counted live; floor: the current summaries'",
                runs,
                other,
            )
        )
        self.watch.start()
        result = readiness_summaries_refresh()
        other = self.watch.other()
        self.now = datetime.now(UTC)
        self.rows.append(
            Row(
                "readiness summaries, refresh of the changed reps (every minute)",
                result.seconds,
                "s",
                None,
                45.0,
                f"{result.refreshed:,} reps; the task stops after 45 s and goes on a minute later",
                [result.seconds * 1000],
                other,
            )
        )

    def pages(self) -> None:
        from certification.selectors.readiness import (  # noqa: PLC0415
            encode_cursor,
            readiness_page,
            report_reps,
        )

        def first() -> Any:
            return readiness_page(viewer=self.lead, filters=self.filters, now=self.now, size=PAGE)

        ms, runs, page, other = self.time(first)
        floor_ms, floor_runs, raw_cells, _ = self.time(lambda: raw_page(self.raw, self.now))
        self.floor_page_ms = floor_ms
        self.extra["page_floor_runs"] = floor_runs
        selector_cells = {
            row.rep.pk: {
                subject.pk: (cell.level, cell.expires_at)
                for subject, cell in zip(page.subjects, row.cells, strict=True)
                if cell is not None
            }
            for row in page.rows
        }
        check("page: reps in order", [row.rep.pk for row in page.rows], list(raw_cells))
        check("page: highest active level and expiry per cell", selector_cells, raw_cells)
        with self.raw.cursor() as cur:
            cur.execute(READY_OF_SQL, {"now": self.now, "ids": list(raw_cells)})
            raw_ready = {(rep, offering): ok for rep, offering, ok in cur.fetchall()}
        page_ready = {
            (row.rep.pk, status.offering.pk): status.ready
            for row in page.rows
            for status in row.offerings
        }
        check("page: customer ready per rep and offering", page_ready, raw_ready)
        self.page_ms = ms
        self.rows.append(
            Row(
                f"matrix page, first {PAGE} reps (readiness_page)",
                ms,
                "ms",
                floor_ms,
                None,
                f"{len(page.subjects)} subjects; floor: 1 SQL query",
                runs,
                other,
            )
        )
        queries = captured(first)
        self.extra["page_selector_queries"] = len(queries)
        self.plans["page selector, slowest query"] = explain(queries[0]["sql"])
        # A page deep in the list, by cursor: three quarters of the way down.
        reps = report_reps(viewer=self.lead, filters=self.filters, now=self.now)
        self.total = reps.order_by().count()
        position = self.total * 3 // 4
        cursor = encode_cursor(reps[position - 1])

        def deep() -> Any:
            return readiness_page(
                viewer=self.lead, filters=self.filters, now=self.now, cursor=cursor, size=PAGE
            )

        ms, runs, page, other = self.time(deep)
        plan = explain(next(q["sql"] for q in captured(deep) if 'FROM "accounts_user"' in q["sql"]))
        self.plans[f"page from rep {position:,} by cursor: the reps query"] = plan
        skipped = [line for line in plan.splitlines() if "Rows Removed by Filter" in line]
        walked = (
            f"; its reps query filters out {int(skipped[0].split(':')[1]):,} rows"
            if skipped
            else ""
        )
        self.rows.append(
            Row(
                f"matrix page from rep {position:,} (by cursor)",
                ms,
                "ms",
                floor_ms,
                None,
                f"{len(page.rows)} rows{walked}; floor: the first page's",
                runs,
                other,
            )
        )

    def view(self) -> None:
        from django.test import Client, override_settings  # noqa: PLC0415
        from django.urls import NoReverseMatch, reverse  # noqa: PLC0415

        try:
            url = reverse("certification:report_matrix")
        except NoReverseMatch:
            self.rows.append(
                Row(
                    f"matrix page, {PAGE} reps (GET)",
                    None,
                    "ms",
                    self.floor_page_ms,
                    TARGET_PAGE_MS,
                    "certification:report_matrix is not routed yet",
                )
            )
            return
        # Production settings expect collected static files and their manifest; the bench
        # has none, so templates build static URLs without it.
        with override_settings(
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            }
        ):
            client = Client(HTTP_HOST="127.0.0.1")
            client.force_login(self.lead)

            def get() -> Any:
                response = client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"readiness bench: GET {url} answered {response.status_code}")
                return response

            ms, runs, response, other = self.time(get)
            queries = captured(get)
        self.extra["page_queries"] = len(queries)
        if ms >= TARGET_PAGE_MS:
            self.plans["GET, slowest query"] = explain(queries[0]["sql"])
        self.rows.append(
            Row(
                f"matrix page, {PAGE} reps (GET {url})",
                ms,
                "ms",
                self.floor_page_ms,
                TARGET_PAGE_MS,
                f"{len(queries)} queries, {len(response.content) // 1024} KiB of HTML; "
                f"the selector is {self.page_ms:.0f} ms of it",
                runs,
                other,
            )
        )

    def export(self) -> None:
        self.watch.start()
        exported = self.children["export"].run("export", self.lead_id, self.work / "export.xlsx")
        other = self.watch.other()
        copied = self.children["copy"].run("copy", self.lead_id, self.work / "copy.csv")
        floor_path = self.work / "xlsx-raw.xlsx"
        written = self.children["xlsx-raw"].run("xlsx-raw", self.lead_id, floor_path)
        self.extra["export"] = {"django": exported, "copy": copied, "raw_xlsx": written}
        note, seconds, peak = "", None, None
        if "missing" in exported:
            note = f"not built yet ({exported['missing']})"
        elif "seconds" not in exported:
            note = "broke: " + exported.get("error", "").splitlines()[-1][:120]
        else:
            seconds, peak = exported["seconds"], exported["ru_maxrss_mb"]
            if exported.get("status") != "done":
                note = f"job {exported.get('status')}: {exported.get('error', '')[:100]}"
            elif exported.get("path"):
                counted = xlsx_rows(Path(exported["path"])) - 1
                exported["sheet_rows"] = counted
                note = f"{counted:,} rows, {exported['bytes'] / 1e6:.1f} MB"
                if counted != self.total:
                    note += f" (the report has {self.total:,} reps!)"
                if "seconds" in written:
                    difference = first_difference(Path(exported["path"]), floor_path)
                    exported["first_rows_equal_floor"] = not difference
                    if difference:
                        note += f"; differs from the floor at {difference}"
                    else:
                        log(f"export: its first {PAGE} rows equal the floor's, cell by cell")
        self.rows.append(
            Row(
                f"full XLSX export of the matrix ({self.total:,} reps)",
                seconds,
                "s",
                written.get("seconds"),
                TARGET_EXPORT_S,
                note + "; floor: raw cursor -> XlsxWriter",
                other_cpu=other,
            )
        )
        before = exported.get("before", {}).get("ru_maxrss_mb")
        self.rows.append(
            Row(
                "  peak RSS of the export process",
                peak,
                "MB",
                written.get("ru_maxrss_mb"),
                TARGET_EXPORT_MB,
                f"{before:.0f} MB after Django's imports" if before else "",
            )
        )
        for label, result, unit_note in (
            ("  floor: COPY of the same matrix to /dev/null", copied, "of CSV"),
            ("  floor: raw cursor -> XlsxWriter (constant memory)", written, "of XLSX"),
        ):
            detail = (
                f"{result['bytes'] / 1e6:.1f} MB {unit_note}, peak RSS "
                f"{result['ru_maxrss_mb']:.0f} MB"
                if "seconds" in result
                else result.get("error", "")[-120:]
            )
            self.rows.append(Row(label, result.get("seconds"), "s", None, None, detail))

    def snapshot(self) -> None:
        """The nightly readiness snapshot (the task's body), once: a batch job, not warmed."""
        from certification.models import ReadinessSnapshot  # noqa: PLC0415
        from certification.services.snapshots import readiness_snapshot_take  # noqa: PLC0415

        self.watch.start()
        started = time.perf_counter()
        written = readiness_snapshot_take(day=self.now.date(), now=self.now)
        seconds = time.perf_counter() - started
        other = self.watch.other()
        rows = ReadinessSnapshot.objects.filter(taken_on=self.now.date()).count()
        self.extra["snapshot"] = {"seconds": seconds, "rows_written": written, "rows": rows}
        self.rows.append(
            Row(
                "nightly readiness snapshot (readiness_snapshot_take)",
                seconds,
                "s",
                None,
                TARGET_SNAPSHOT_S,
                f"{rows} rows (the org and {len(self.org_team_ids())} teams, overall and per "
                "offering); one run",
                [seconds * 1000],
                other,
            )
        )

    def org_team_ids(self) -> list[int]:
        from accounts.models import Team  # noqa: PLC0415

        return list(Team.objects.values_list("pk", flat=True))

    def recompute(self) -> None:
        """``recompute_all_tiers`` sent through the outbox to real Celery worker processes
        (``--workers`` of them, on both queues), timed from sending until every active rep's
        tier row is written by this run and the queues are empty."""
        import redis  # noqa: PLC0415
        from django.conf import settings  # noqa: PLC0415
        from django.db import connection  # noqa: PLC0415

        from certification.models import OutboxMessage, TierChange  # noqa: PLC0415
        from config.celery import enqueue_task_on_commit  # noqa: PLC0415

        broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        broker.flushdb()  # the bench's own db: nothing left from an earlier run
        log_path = self.work / "worker.log"
        worker = start_worker(self.args.database, self.args.workers, log_path)
        try:
            ready_by = time.monotonic() + 60
            while b"ready." not in log_path.read_bytes():
                if worker.poll() is not None or time.monotonic() > ready_by:
                    raise SystemExit(
                        "readiness bench: the Celery worker did not start:\n"
                        + log_path.read_text(errors="replace")[-2000:]
                    )
                time.sleep(0.2)
            with connection.cursor() as cur:
                cur.execute("SELECT count(*) FROM accounts_user WHERE is_rep AND is_active")
                (reps,) = cur.fetchone()
            changes_before = TierChange.objects.count()
            pids = {os.getpid(), *(c.process.pid for c in self.children.values())}
            before = cpu.snapshot(driver=pids, server=worker.pid, database=self.args.database)
            sent_at = datetime.now(UTC)
            started = time.perf_counter()
            enqueue_task_on_commit("certification.recompute_all_tiers", cause="bench nightly")
            done = wait_for_recompute(broker, worker, sent_at, reps, started)
            seconds = time.perf_counter() - started
            after = cpu.snapshot(driver=pids, server=worker.pid, database=self.args.database)
        finally:
            stop_worker(worker)
        used = cpu.shares(cpu.seconds_used(before, after), seconds)
        output = log_path.read_text(errors="replace")
        tasks = OutboxMessage.objects.filter(
            task_name="certification.recompute_tiers_bulk", created_at__gte=sent_at
        ).count()
        succeeded = sum(
            1
            for line in output.splitlines()
            if "recompute_tiers_bulk[" in line and " succeeded in " in line
        )
        failed = output.count("raised unexpected") + output.count("WorkerLostError")
        changes = TierChange.objects.count() - changes_before
        self.extra["recompute"] = {
            "seconds": seconds,
            "reps": reps,
            "done": done,
            "tasks": tasks,
            "succeeded": succeeded,
            "failed": failed,
            "changes": changes,
            "workers": self.args.workers,
            "cpu_percent": used,
            "worker_log_tail": output[-3000:],
        }
        if failed or done < reps:
            raise SystemExit(
                f"readiness bench: the recompute failed ({failed} errors, {done:,} of "
                f"{reps:,} reps):\n{output[-2000:]}"
            )
        self.rows.append(
            Row(
                f"full tier recompute (recompute_all_tiers, {self.args.workers} worker processes)",
                seconds,
                "s",
                None,
                TARGET_RECOMPUTE_S,
                f"{reps:,} reps, {succeeded} of {tasks} bulk tasks, {changes:,} tier changes; "
                f"workers {used.get('gunicorn', 0):.0f}%, PostgreSQL "
                f"{used.get('postgres', 0):.0f}% of a core",
                [seconds * 1000],
                used.get("other"),
            )
        )


def wait_for_recompute(
    broker: Any, worker: subprocess.Popen[bytes], sent_at: datetime, reps: int, started: float
) -> int:
    """Poll until every active rep's tier row was written after ``sent_at`` and no task is
    queued or running; return how many were."""
    from django.db import connection  # noqa: PLC0415

    done = 0
    while True:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM certification_reptier rt "
                "JOIN accounts_user u ON u.id = rt.rep_id "
                "WHERE u.is_rep AND u.is_active AND rt.computed_at >= %s",
                [sent_at],
            )
            (done,) = cur.fetchone()
        queued = broker.llen("bulk") + broker.llen("interactive") + broker.hlen("unacked")
        if done >= reps and not queued:
            return done
        if worker.poll() is not None:
            raise SystemExit("readiness bench: the Celery worker died")
        if time.perf_counter() - started > TARGET_RECOMPUTE_S * 3:
            log(f"recompute: gave up after {TARGET_RECOMPUTE_S * 3:.0f} s ({done:,} done)")
            return done
        time.sleep(0.5)


def start_worker(database: str, processes: int, log_path: Path) -> subprocess.Popen[bytes]:
    """A Celery worker on both queues with ``processes`` pool processes, on the bench's
    settings, database and Redis db, in a session of its own (its CPU is counted apart)."""
    from django.conf import settings  # noqa: PLC0415

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_DATABASE": database,
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "PYTHONPATH": str(ROOT),
    }
    command = [
        str(Path(sys.executable).parent / "celery"),
        *("-A", "config.celery", "worker", "-Q", "bulk,interactive"),
        *("--concurrency", str(processes), "--pool", "prefork"),
        *("--loglevel", "INFO", "--without-heartbeat", "--without-gossip"),
        *("--without-mingle", "--hostname", "bench-readiness@%h"),
    ]
    with log_path.open("wb") as out:
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Stop the worker and its pool processes (its session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def show(rows: list[Row]) -> None:
    print()
    print(
        f"{'figure':<56} {'measured':>11} {'floor':>10} {'ratio':>6}  {'target':>10} "
        f"{'result':<6} {'other':>6}  note"
    )
    for row in rows:
        value = "-" if row.value is None else f"{row.value:,.1f} {row.unit}"
        floor = "-" if row.floor is None else f"{row.floor:,.1f} {row.unit}"
        ratio = "-" if row.ratio is None else f"{row.ratio:.1f}x"
        target = "-" if row.target is None else f"<{row.target:,.0f} {row.unit}"
        other = "" if row.other_cpu is None else f"{row.other_cpu:.0f}%"
        print(
            f"{row.figure:<56} {value:>11} {floor:>10} {ratio:>6}  {target:>10} "
            f"{row.result:<6} {other:>6}  {row.note}"
        )
    busy = [row for row in rows if (row.other_cpu or 0) > 25]
    if busy:
        print(
            f"\nWARNING: something else used over 25% of a core during {len(busy)} figure(s) "
            "(column 'other', % of one core): those times are inflated."
        )


def target_text(target: float | None, unit: str) -> str | None:
    """A target as people write it: "< 1 s", "< 300 ms", "< 10 min"."""
    if target is None:
        return None
    if unit == "ms" and target >= 1000:
        target, unit = target / 1000, "s"
    if unit == "s" and target >= 600:
        target, unit = target / 60, "min"
    return f"< {target:g} {unit}"


def summary_rows(bench: str, rows: list[Row]) -> list[dict[str, Any]]:
    """One dict per measured figure, in the shape every bench's results share."""
    return [
        {
            "bench": bench,
            "figure": row.figure.strip(),
            "measured": round(row.value, 2),
            "unit": row.unit,
            "floor": None if row.floor is None else round(row.floor, 2),
            "ratio": None if row.ratio is None else round(row.ratio, 2),
            "target": target_text(row.target, row.unit),
            "passed": None if row.target is None else row.value < row.target,
            "other_cpu_percent": row.other_cpu,
        }
        for row in rows
        if row.value is not None
    ]


def build(args: argparse.Namespace) -> tuple[int, dict[str, Any]]:
    """The organisation: the lead's id and what was loaded."""
    from django.db import connection  # noqa: PLC0415

    started = time.perf_counter()
    org = build_fixed(datetime.now(UTC))
    services = time.perf_counter() - started
    started = time.perf_counter()
    load = load_organisation(org, args.reps, args.database)
    counts = load["counts"]
    loaded = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute(
            "SELECT level, status, count(*) FROM certification_certification GROUP BY 1, 2 "
            "ORDER BY 1, 2"
        )
        by_level = [list(r) for r in cur.fetchall()]
    log(
        f"built in {services:.1f} s (services) + {loaded:.1f} s (COPY of "
        f"{sum(counts.values()):,} rows, then VACUUM ANALYZE: {load['seconds']}): {counts}"
    )
    log(f"certifications by level and status: {by_level}")
    return org.lead_id, {
        "rows_loaded": counts,
        "certifications_by_level_status": by_level,
        "build_seconds": round(services, 1),
        "load_seconds": round(loaded, 1),
        "load_split_seconds": load["seconds"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure (median)")
    parser.add_argument("--database", default="repready_bench_readiness")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument(
        "--org-timings",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time the nightly snapshot and the full tier recompute on Celery workers",
    )
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument(
        "--jit-diagnostic", action="store_true", help="time the headline with jit = off too"
    )
    parser.add_argument("--reuse", action="store_true", help="measure the existing database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args.database)

    os.environ.setdefault("BENCH_REDIS_DB", str(REDIS_DB))
    # An empty static root, as the load bench has: no collected files are needed.
    static = tempfile.TemporaryDirectory(prefix="repready-readiness-static-")
    os.environ.setdefault("STATIC_ROOT", static.name)
    children = {} if args.skip_export else {k: Child(args.database) for k in CHILD_KINDS}
    try:
        return run(args, children)
    finally:
        for worker in children.values():
            worker.close()
        static.cleanup()


CHILD_KINDS = ("export", "copy", "xlsx-raw")


def run(args: argparse.Namespace, children: dict[str, Child]) -> int:
    from bench.run import ensure_services, machine  # noqa: PLC0415

    started = time.perf_counter()
    ensure_services(REDIS_DB)
    info = machine()
    if not args.reuse:
        recreate_database(args.database)
    django_setup(args.database)
    from django.core.management import call_command  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    subjects = len(OFFERINGS) + COMPANY + SKILLS
    log(f"{args.reps:,} reps x {subjects} subjects x 3 levels")
    loaded: dict[str, Any] = {}
    if args.reuse:
        from accounts.models import User  # noqa: PLC0415

        lead_id = User.objects.get(email="lead@readiness.test").pk
    else:
        lead_id, loaded = build(args)
    pids = {os.getpid(), *(worker.process.pid for worker in children.values())}
    with tempfile.TemporaryDirectory(prefix="repready-readiness-") as scratch:
        bench = Bench(args, lead_id, children, Path(scratch), CpuWatch(pids, args.database))
        bench.summaries()
        bench.headline()
        bench.pages()
        bench.view()
        if not args.skip_export:
            bench.export()
        if args.org_timings:
            bench.snapshot()
            bench.recompute()
    show(bench.rows)
    headline = bench.extra["headline"]
    print(
        f"\nheadline: {headline['reps']:,} reps; tiers {headline['tiers']}; inactive "
        f"{headline['inactive']}; expiring {headline['expiring']}; (in scope, ready) per "
        f"offering {headline['offerings']}"
    )
    print(
        f"queries: headline {bench.extra.get('headline_queries')}, page selector "
        f"{bench.extra.get('page_selector_queries')}, page GET {bench.extra.get('page_queries')}"
    )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"readiness-{stamp}.json"
    if any(row.result == "FAIL" for row in bench.rows):
        print(
            f'\nA target was missed. Query plans (EXPLAIN ANALYZE, in full under "plans" in '
            f"{out.relative_to(ROOT)}):"
        )
        for name, plan in bench.plans.items():
            print(f"- {name}: {plan_summary(plan)}")
    info["loadavg_after"] = os.getloadavg()
    payload = {
        "reps": args.reps,
        "subjects": subjects,
        "runs": args.runs,
        **loaded,
        "machine": info,
        "figures": [
            {
                "figure": r.figure.strip(),
                "value": None if r.value is None else round(r.value, 2),
                "unit": r.unit,
                "floor": None if r.floor is None else round(r.floor, 2),
                "ratio": None if r.ratio is None else round(r.ratio, 2),
                "target": r.target,
                "result": r.result,
                "other_cpu_percent": r.other_cpu,
                "note": r.note,
                "runs": [round(t, 2) for t in r.runs],
            }
            for r in bench.rows
        ],
        "summary_rows": summary_rows(f"organisation {args.reps:,} reps", bench.rows),
        **bench.extra,
        "plans": {name: plan.splitlines() for name, plan in bench.plans.items()},
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    out.write_text(json.dumps(payload, indent=2, default=str))
    log(f"results: {out.relative_to(ROOT)}; {time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
