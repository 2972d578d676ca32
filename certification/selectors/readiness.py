"""Reads for readiness reports: who is customer ready per offering, the headline figures, the
rep x subject matrix and gap list (paged by a keyset cursor) and the drill-downs behind each
figure.

Figures are aggregates computed by the database over the reps the viewer may see. The
per-rep detail of one page (which item is missing) is worked out in Python from three
queries, whatever the page size, the number of subjects or the filters; tests hold the two
to the same answer.

A certification counts while it is active and its expiry, if any, is still ahead: a lapsed
one counts as expired even before the expiry sweep marks it so.
"""

from __future__ import annotations

import base64
import binascii
import json
import operator
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.db import connections
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    FilteredRelation,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import Combinable
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.lookups import StartsWith

from accounts.models import Team, User
from accounts.selectors import managed_team_paths, reps_visible_to
from certification.models import (
    AssessmentSession,
    Attempt,
    Certification,
    FieldObservation,
    Level,
    OfferingReadinessSummary,
    ReadinessGeneration,
    ReadinessRequirement,
    ReportSubscription,
    RepTier,
    RequiredCertification,
    Subject,
    Tier,
)

INACTIVE_DAYS = 90
EXPIRY_WINDOWS = (30, 60, 90)
PAGE_SIZE = 100
MAX_PAGE_SIZE = 500

RepRef = Callable[[str], Any]


# Filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilters:
    """A slice of the sales force and, optionally, one figure's drill-down.

    ``region`` and ``team`` are team ids (a subtree each), ``manager`` a manager's id (the
    subtrees they lead). ``ready`` ("yes"/"no") needs ``offering``; ``expiring`` is a number
    of days; ``inactive`` keeps reps with no activity in the last ``INACTIVE_DAYS`` days.
    """

    region: int | None = None
    team: int | None = None
    manager: int | None = None
    tier: str = ""
    subject: int | None = None
    offering: int | None = None
    segment: str = ""
    sales_role: str = ""
    q: str = ""
    ready: str = ""
    expiring: int | None = None
    inactive: bool = False

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters (only those set), for links and export jobs."""
        query: dict[str, str] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value in (None, "", False):
                continue
            query[spec.name] = "1" if value is True else str(value)
        return query

    @classmethod
    def from_query(cls, data: dict[str, Any]) -> ReportFilters:
        """Rebuild filters saved by ``as_query`` (an export job's); unknown keys are ignored."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = data.get(spec.name)
            if raw in (None, ""):
                continue
            if spec.name in {"region", "team", "manager", "subject", "offering", "expiring"}:
                values[spec.name] = int(raw)
            elif spec.name == "inactive":
                values[spec.name] = raw in (True, "1", "true", "on")
            else:
                values[spec.name] = str(raw)
        return cls(**values)

    def without_drilldown(self) -> ReportFilters:
        return replace(self, ready="", expiring=None, inactive=False)

    def with_(self, **changes: Any) -> ReportFilters:
        return replace(self, **changes)


def active_certification_q(now: datetime, prefix: str = "") -> Q:
    """Certifications that count at ``now``: active and not past their expiry."""
    return Q(**{f"{prefix}status": Certification.Status.ACTIVE}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})
    )


def held_q(at: datetime, prefix: str = "", *, history: bool = False) -> Q:
    """Certifications held at ``at``. Live (``history=False``) this is
    ``active_certification_q``; with ``history`` it reads the dates instead of the status, so
    a past day counts what was held then (issued by then, not yet revoked or expired)."""
    if not history:
        return active_certification_q(at, prefix)
    return (
        Q(**{f"{prefix}issued_at__lte": at})
        & (Q(**{f"{prefix}revoked_at__isnull": True}) | Q(**{f"{prefix}revoked_at__gt": at}))
        & (Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": at}))
        & ~Q(
            **{f"{prefix}status": Certification.Status.EXPIRED, f"{prefix}expires_at__isnull": True}
        )
    )


def applies_to(rep: RepRef, prefix: str = "") -> Q:
    """Requirements (or their items, with ``prefix="requirement__"``) whose slice holds the rep
    that ``rep(field)`` refers to."""
    team_path = F(f"{prefix}team__path")
    return (
        (Q(**{f"{prefix}team__isnull": True}) | StartsWith(rep("team__path"), team_path))
        & (Q(**{f"{prefix}segment": ""}) | Q(**{f"{prefix}segment": rep("segment")}))
        & (Q(**{f"{prefix}sales_role": ""}) | Q(**{f"{prefix}sales_role": rep("sales_role")}))
    )


def _outer(field_name: str) -> OuterRef:
    return OuterRef(field_name)


def in_scope(offering: int | Combinable, rep: RepRef = _outer) -> Exists:
    """The offering has a requirement whose slice holds the rep."""
    return Exists(ReadinessRequirement.objects.filter(applies_to(rep), offering=offering))


def lacks_an_item(
    offering: int | Combinable, now: datetime, rep: RepRef = _outer, *, history: bool = False
) -> Exists:
    """An item the rep must hold for the offering is not held (active and unexpired)."""
    held = Certification.objects.filter(
        held_q(now, history=history),
        rep=OuterRef(rep("pk")),
        subject=OuterRef("subject"),
        level=OuterRef("level"),
    )
    return Exists(
        RequiredCertification.objects.filter(
            applies_to(rep, "requirement__"), requirement__offering=offering
        ).filter(~Exists(held))
    )


# What counts as a rep's activity: each model with its date field (an observation's is a date,
# the others' a moment). The readiness summaries keep the latest of each (and their triggers
# watch the same columns: tests/certification/services/test_readiness_summaries.py).
ACTIVITY: tuple[tuple[type[Model], str], ...] = (
    (Attempt, "started_at"),
    (AssessmentSession, "scheduled_at"),
    (FieldObservation, "observed_on"),
    (Certification, "issued_at"),
)


def active_since(since: datetime, rep: RepRef = _outer, *, until: datetime | None = None) -> Q:
    """The rep started a test, had an assessment or observation, or earned a certification
    (since ``since``, and up to ``until`` when given: a past day's window)."""
    conditions = []
    for model, field_name in ACTIVITY:
        moment = isinstance(model._meta.get_field(field_name), DateTimeField)
        window = {f"{field_name}__gte": since if moment else since.date()}
        if until is not None:
            window[f"{field_name}__lte"] = until if moment else until.date()
        conditions.append(Q(Exists(model._default_manager.filter(rep=rep("pk"), **window))))
    return reduce(operator.or_, conditions)


def _subtrees(paths: Sequence[str]) -> Q:
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(team__path__startswith=path)
    return condition


def report_reps(*, viewer: User, filters: ReportFilters, now: datetime) -> QuerySet[User]:
    """The reps the viewer may see within the filters, by name, with team and tier rows.

    Teams, regions and managers outside what the viewer may see narrow to no one.
    """
    reps = _slice(reps_visible_to(viewer).select_related("team", "tier"), filters)
    return _drilldown(reps, filters, now).order_by("display_name", "pk")


def _slice(reps: QuerySet[User], filters: ReportFilters) -> QuerySet[User]:
    for team_id in (filters.region, filters.team):
        if team_id is not None:
            path = Team.objects.filter(pk=team_id).values("path")[:1]
            reps = reps.filter(StartsWith(F("team__path"), Subquery(path)))
    if filters.manager is not None:
        manager = User.objects.filter(pk=filters.manager).first()
        paths = managed_team_paths(manager) if manager is not None else ()
        reps = reps.filter(_subtrees(paths))
    if filters.tier == Tier.NONE:
        reps = reps.filter(Q(tier__isnull=True) | Q(tier__tier=Tier.NONE))
    elif filters.tier:
        reps = reps.filter(tier__tier=filters.tier)
    if filters.segment:
        reps = reps.filter(segment=filters.segment)
    if filters.sales_role:
        reps = reps.filter(sales_role=filters.sales_role)
    if text := filters.q.strip():
        reps = reps.filter(Q(display_name__icontains=text) | Q(email__icontains=text))
    return reps


def _drilldown(reps: QuerySet[User], filters: ReportFilters, now: datetime) -> QuerySet[User]:
    if filters.offering is not None:
        reps = reps.filter(in_scope(filters.offering))
        if filters.ready == "yes":
            reps = reps.filter(~lacks_an_item(filters.offering, now))
        elif filters.ready == "no":
            reps = reps.filter(lacks_an_item(filters.offering, now))
    if filters.expiring is not None:
        expiring = Certification.objects.filter(
            active_certification_q(now),
            rep=OuterRef("pk"),
            expires_at__lte=now + timedelta(days=filters.expiring),
        )
        if filters.subject is not None:
            expiring = expiring.filter(subject=filters.subject)
        reps = reps.filter(Exists(expiring))
    if filters.inactive:
        reps = reps.exclude(active_since(now - timedelta(days=INACTIVE_DAYS)))
    return reps


# Headline figures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferingReadiness:
    offering: Subject
    in_scope: int
    ready: int

    @property
    def not_ready(self) -> int:
        return self.in_scope - self.ready

    @property
    def percent(self) -> int | None:
        return round(self.ready * 100 / self.in_scope) if self.in_scope else None


@dataclass(frozen=True)
class Headline:
    reps: int
    offerings: list[OfferingReadiness]
    tiers: dict[str, int]
    expiring: dict[int, int]
    inactive: int


def offerings_with_requirements(offering: int | None = None) -> list[Subject]:
    """The offerings readiness is measured on (those with a requirement), by name."""
    offerings = Subject.objects.filter(
        kind=Subject.Kind.OFFERING, readiness_requirements__isnull=False
    ).distinct()
    if offering is not None:
        offerings = offerings.filter(pk=offering)
    return list(offerings.order_by("name", "pk"))


def current_summary(now: datetime, prefix: str = "") -> Q:
    """``ReadinessSummary`` rows that count at ``now``: current (nothing changed since they
    were computed), computed under the current requirements generation, no later than ``now``."""
    return Q(
        **{
            f"{prefix}current": True,
            f"{prefix}generation": Subquery(
                ReadinessGeneration.objects.filter(pk=1).values("value")[:1]
            ),
            f"{prefix}computed_at__lte": now,
        }
    )


def readiness_headline(*, viewer: User, filters: ReportFilters, now: datetime) -> Headline:
    """The headline figures of the slice, in four queries whatever its size.

    Customer ready per offering and the tier distribution count reps; expiries count active
    certifications (of the filtered subject, if any) whose expiry falls in each window.
    Readiness and inactivity come from each rep's current summary (``ReadinessSummary``) and,
    for the reps whose summary is stale or missing, from the live rules: the same figures
    either way, and fast while most summaries are current.
    """
    offerings = offerings_with_requirements(filters.offering)
    since = now - timedelta(days=INACTIVE_DAYS)
    # Each rep with their current summary, if any (one LEFT JOIN, not a subquery per rep).
    reps = report_reps(viewer=viewer, filters=filters, now=now).annotate(
        summary=FilteredRelation(
            "readiness_summary", condition=current_summary(now, "readiness_summary__")
        )
    )
    summarised = Q(summary__rep__isnull=False)
    active = (
        Q(summary__last_active_at__gte=since)
        | Q(summary__last_observed_on__gte=since.date())
        | (~summarised & active_since(since))
    )
    aggregates: dict[str, Any] = {"reps": Count("pk"), "inactive": Count("pk", filter=~active)}
    for tier in (Tier.GOLD, Tier.SILVER, Tier.BRONZE):
        aggregates[f"tier_{tier}"] = Count("pk", filter=Q(tier__tier=tier))
    counts = reps.order_by().aggregate(**aggregates)
    readiness: dict[int, tuple[int, int]] = {}
    if offerings:
        readiness = _readiness_counts(reps.filter(~summarised), reps.filter(summarised), now)
    certifications = Certification.objects.filter(
        active_certification_q(now),
        expires_at__lte=now + timedelta(days=max(EXPIRY_WINDOWS)),
        rep__in=reps.order_by().values("pk"),
    )
    if filters.subject is not None:
        certifications = certifications.filter(subject=filters.subject)
    expiring = certifications.aggregate(
        **{
            f"within_{days}": Count("pk", filter=Q(expires_at__lte=now + timedelta(days=days)))
            for days in EXPIRY_WINDOWS
        }
    )
    tiers = {tier.value: counts[f"tier_{tier}"] for tier in (Tier.GOLD, Tier.SILVER, Tier.BRONZE)}
    tiers[Tier.NONE.value] = counts["reps"] - sum(tiers.values())
    return Headline(
        reps=counts["reps"],
        offerings=[OfferingReadiness(o, *readiness.get(o.pk, (0, 0))) for o in offerings],
        tiers=tiers,
        expiring={days: expiring[f"within_{days}"] for days in EXPIRY_WINDOWS},
        inactive=counts["inactive"],
    )


# Customer ready per offering over the whole slice at once: the requirements whose slice holds
# each rep, their items and the rep's certifications held, joined and grouped, instead of a
# subquery per rep and offering (many times slower on 10,000 reps; see docs/performance.md).
# Plain SQL that SQLite and PostgreSQL both run; the slice of reps comes from the ORM, so it is
# scoped and filtered exactly as every other figure. The per-rep twin is ``offering_statuses``
# and the drill-down filter is ``lacks_an_item``: tests hold the three to the same answer.
_READINESS_SQL = """
WITH slice AS (
    SELECT u.id, u.segment, u.sales_role, t.path
    FROM accounts_user u LEFT JOIN accounts_team t ON t.id = u.team_id
    WHERE u.id IN ({reps})
),
applies AS (
    SELECT s.id AS rep_id, q.id AS requirement_id, q.offering_id
    FROM slice s
    JOIN certification_readinessrequirement q
      ON (q.segment = '' OR q.segment = s.segment)
     AND (q.sales_role = '' OR q.sales_role = s.sales_role)
    LEFT JOIN accounts_team qt ON qt.id = q.team_id
    WHERE q.team_id IS NULL OR substr(s.path, 1, length(qt.path)) = qt.path
),
held AS (
    SELECT c.rep_id, c.subject_id, c.level
    FROM certification_certification c
    WHERE c.rep_id IN (SELECT id FROM slice)
      AND c.status = %s AND (c.expires_at IS NULL OR c.expires_at > %s)
),
per_rep AS (
    SELECT a.rep_id, a.offering_id,
           SUM(CASE WHEN i.id IS NOT NULL AND h.rep_id IS NULL THEN 1 ELSE 0 END) AS missing
    FROM applies a
    LEFT JOIN certification_requiredcertification i ON i.requirement_id = a.requirement_id
    LEFT JOIN held h
      ON h.rep_id = a.rep_id AND h.subject_id = i.subject_id AND h.level = i.level
    GROUP BY a.rep_id, a.offering_id
)
SELECT offering_id, SUM(scope), SUM(ready) FROM (
    SELECT offering_id, COUNT(*) AS scope, SUM(CASE WHEN missing = 0 THEN 1 ELSE 0 END) AS ready
    FROM per_rep GROUP BY offering_id
    UNION ALL
    {summarised}
) parts GROUP BY offering_id
"""


def _readiness_counts(
    live: QuerySet[User], summarised: QuerySet[User], now: datetime
) -> dict[int, tuple[int, int]]:
    """Per offering: how many of the reps its requirements apply to, and how many are ready,
    worked out from the facts for ``live`` reps and read from the current summaries of
    ``summarised`` ones, in one statement: both halves see the same moment, so a refresh
    committing meanwhile can neither count a rep twice nor drop one."""
    still_ready = Q(ready=True) & (Q(ready_until__isnull=True) | Q(ready_until__gt=now))
    summaries = (
        OfferingReadinessSummary.objects.filter(rep__in=summarised.order_by().values("pk"))
        .values("offering")
        .annotate(scope=Count("pk"), ready=Count("pk", filter=still_ready))
        .order_by()
        .values_list("offering", "scope", "ready")
    )
    reps_sql, reps_params = live.order_by().values("pk").query.sql_with_params()
    summary_sql, summary_params = summaries.query.sql_with_params()
    connection = connections[live.db]
    with connection.cursor() as cursor:
        cursor.execute(
            _READINESS_SQL.format(reps=reps_sql, summarised=summary_sql),
            [
                *reps_params,
                Certification.Status.ACTIVE.value,
                connection.ops.adapt_datetimefield_value(now),
                *summary_params,
            ],
        )
        return {offering: (int(scope), int(ready or 0)) for offering, scope, ready in cursor}


# One page of reps -------------------------------------------------------------------------


def _after(name: str, pk: int) -> TupleGreaterThan:
    """(display_name, id) > (name, pk): one row-value comparison, which the database answers
    from the (display_name, id) index wherever the page starts."""
    return TupleGreaterThan(Tuple(F("display_name"), F("pk")), (name, pk))


def _before(name: str, pk: int) -> TupleLessThan:
    return TupleLessThan(Tuple(F("display_name"), F("pk")), (name, pk))


class BadCursorError(ValueError):
    """The cursor was not made by this report."""


def encode_cursor(rep: User, *, backwards: bool = False) -> str:
    raw = json.dumps([rep.display_name, rep.pk, int(backwards)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int, bool]:
    problem = BadCursorError("This page link is no longer valid: start from the first page.")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, pk, backwards = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise problem from exc
    if not isinstance(name, str) or type(pk) is not int or backwards not in (0, 1):
        raise problem
    return name, pk, bool(backwards)


@dataclass(frozen=True)
class Cell:
    level: int
    expires_at: datetime | None


@dataclass(frozen=True)
class Gap:
    subject: Subject
    level: int

    @property
    def label(self) -> str:
        return f"{self.subject.name} level {self.level}"


@dataclass
class OfferingStatus:
    """What the rep lacks for one offering. ``missing`` is what is shown (of one subject, when
    the report is filtered by subject); ``lacking`` counts every missing item, so a rep is
    never shown ready because the filter hid what they lack."""

    offering: Subject
    missing: list[Gap] = field(default_factory=list)
    lacking: int = 0

    @property
    def ready(self) -> bool:
        return self.lacking == 0


@dataclass
class RepRow:
    rep: User
    cells: list[Cell | None]
    offerings: list[OfferingStatus]

    @property
    def tier(self) -> str:
        """The tier in force (an override included), as the tier filter and figures count."""
        row = getattr(self.rep, "tier", None)
        return row.tier if isinstance(row, RepTier) else Tier.NONE

    @property
    def tier_row(self) -> RepTier | None:
        row = getattr(self.rep, "tier", None)
        return row if isinstance(row, RepTier) else None

    @property
    def next_tier_missing(self) -> list[str]:
        row = self.tier_row
        return list(row.missing) if row is not None else []

    @property
    def not_ready(self) -> list[OfferingStatus]:
        return [status for status in self.offerings if not status.ready]


@dataclass
class ReportPage:
    rows: list[RepRow]
    subjects: list[Subject]
    offerings: list[Subject]
    next_cursor: str | None
    previous_cursor: str | None


def report_subjects(filters: ReportFilters) -> list[Subject]:
    """The matrix columns: every active subject, or the filtered one."""
    subjects = Subject.objects.filter(is_active=True)
    if filters.subject is not None:
        subjects = Subject.objects.filter(pk=filters.subject)
    return list(subjects.order_by("kind", "name", "pk"))


def readiness_requirements(offering: int | None = None) -> list[ReadinessRequirement]:
    """Every requirement (of one offering, when given) with its team, offering and items."""
    requirements = ReadinessRequirement.objects.select_related("team", "offering").prefetch_related(
        "items__subject"
    )
    if offering is not None:
        requirements = requirements.filter(offering=offering)
    return list(requirements.order_by("offering__name", "offering_id", "pk"))


def requirement_applies(requirement: ReadinessRequirement, rep: User) -> bool:
    """Whether the requirement's slice holds the rep (the Python twin of ``_applies_to``)."""
    if requirement.team_id is not None:
        rep_path = rep.team.path if rep.team_id and rep.team else ""
        if not rep_path.startswith(requirement.team.path):  # type: ignore[union-attr]
            return False
    if requirement.segment and requirement.segment != rep.segment:
        return False
    return not (requirement.sales_role and requirement.sales_role != rep.sales_role)


def offering_items(
    rep: User, requirements: Sequence[ReadinessRequirement]
) -> dict[int, set[tuple[int, int]]]:
    """Per offering whose requirements apply to the rep, every (subject id, level) they ask
    for (what ``offering_statuses`` checks, as plain ids for the readiness summaries)."""
    needed: dict[int, set[tuple[int, int]]] = {}
    for requirement in requirements:
        if requirement_applies(requirement, rep):
            items = needed.setdefault(requirement.offering_id, set())
            items.update((item.subject_id, item.level) for item in requirement.items.all())
    return needed


def offering_statuses(
    rep: User,
    requirements: Sequence[ReadinessRequirement],
    held: set[tuple[int, int]],
    subject: int | None = None,
) -> list[OfferingStatus]:
    """Per offering whose requirements apply to the rep, what they lack (of ``subject`` only,
    when given, for the gap list)."""
    statuses: dict[int, OfferingStatus] = {}
    seen: dict[int, set[Gap]] = defaultdict(set)
    for requirement in requirements:
        if not requirement_applies(requirement, rep):
            continue
        status = statuses.setdefault(requirement.offering_id, OfferingStatus(requirement.offering))
        for item in requirement.items.all():
            gap = Gap(item.subject, item.level)
            if (item.subject_id, item.level) in held or gap in seen[requirement.offering_id]:
                continue
            seen[requirement.offering_id].add(gap)
            status.lacking += 1
            if subject is None or item.subject_id == subject:
                status.missing.append(gap)
    for status in statuses.values():
        status.missing.sort(key=lambda gap: (gap.level, gap.subject.name))
    return list(statuses.values())


def _rows_for(
    reps: list[User],
    subjects: list[Subject],
    requirements: list[ReadinessRequirement],
    filters: ReportFilters,
    now: datetime,
) -> list[RepRow]:
    held: dict[int, set[tuple[int, int]]] = defaultdict(set)
    best: dict[tuple[int, int], Cell] = {}
    certifications = Certification.objects.filter(
        active_certification_q(now), rep__in=[rep.pk for rep in reps]
    ).values_list("rep_id", "subject_id", "level", "expires_at")
    for rep_id, subject_id, level, expires_at in certifications:
        held[rep_id].add((subject_id, level))
        current = best.get((rep_id, subject_id))
        if current is None or level > current.level:
            best[(rep_id, subject_id)] = Cell(level, expires_at)
    return [
        RepRow(
            rep=rep,
            cells=[best.get((rep.pk, subject.pk)) for subject in subjects],
            offerings=offering_statuses(rep, requirements, held[rep.pk], filters.subject),
        )
        for rep in reps
    ]


def readiness_page(
    *,
    viewer: User,
    filters: ReportFilters,
    now: datetime,
    cursor: str = "",
    size: int = PAGE_SIZE,
) -> ReportPage:
    """One page of the slice's reps with their matrix cells and readiness, after (or before)
    the cursor's rep in name order. Raises ``BadCursorError`` for a cursor it did not make."""
    size = max(1, min(size, MAX_PAGE_SIZE))
    reps = report_reps(viewer=viewer, filters=filters, now=now)
    backwards = False
    if cursor:
        name, pk, backwards = decode_cursor(cursor)
        if backwards:
            reps = reps.filter(_before(name, pk)).order_by("-display_name", "-pk")
        else:
            reps = reps.filter(_after(name, pk))
    fetched = list(reps[: size + 1])
    more = len(fetched) > size
    page = fetched[:size]
    if backwards:
        page.reverse()
    has_next = more if not backwards else True
    has_previous = bool(cursor) and (more if backwards else True)
    subjects = report_subjects(filters)
    requirements = readiness_requirements(filters.offering)
    return ReportPage(
        rows=_rows_for(page, subjects, requirements, filters, now),
        subjects=subjects,
        offerings=_offerings_of(requirements),
        next_cursor=encode_cursor(page[-1]) if page and has_next else None,
        previous_cursor=encode_cursor(page[0], backwards=True) if page and has_previous else None,
    )


def _offerings_of(requirements: list[ReadinessRequirement]) -> list[Subject]:
    seen: dict[int, Subject] = {}
    for requirement in requirements:
        seen.setdefault(requirement.offering_id, requirement.offering)
    return sorted(seen.values(), key=lambda offering: (offering.name, offering.pk))


def readiness_rows(
    *, viewer: User, filters: ReportFilters, now: datetime, chunk: int = 500
) -> Iterator[RepRow]:
    """Every row of the slice, a chunk at a time (for exports): memory stays flat."""
    subjects = report_subjects(filters)
    requirements = readiness_requirements(filters.offering)
    reps = report_reps(viewer=viewer, filters=filters, now=now)
    after: tuple[str, int] | None = None
    while True:
        batch = reps
        if after is not None:
            name, pk = after
            batch = reps.filter(_after(name, pk))
        page = list(batch[:chunk])
        if not page:
            return
        yield from _rows_for(page, subjects, requirements, filters, now)
        after = (page[-1].display_name, page[-1].pk)


def level_label(level: int) -> str:
    return str(Level(level).label)


def count_reps(*, viewer: User, filters: ReportFilters, now: datetime) -> int:
    """How many reps the slice holds (for an export's progress and its size)."""
    return report_reps(viewer=viewer, filters=filters, now=now).order_by().count()


def upcoming_assessments(*, viewer: User, now: datetime) -> QuerySet[AssessmentSession]:
    """Scheduled role-plays of the reps the viewer may see, soonest first."""
    return (
        AssessmentSession.objects.filter(
            status=AssessmentSession.Status.SCHEDULED,
            scheduled_at__gte=now - timedelta(days=1),
            rep__in=reps_visible_to(viewer).order_by().values("pk"),
        )
        .select_related("rep", "scenario")
        .order_by("scheduled_at", "pk")
    )


@dataclass(frozen=True)
class RepReadiness:
    """A rep's own readiness: per offering whose requirements apply, what is missing (the
    offering closest to ready first), and their certifications expiring soon."""

    offerings: list[OfferingStatus]
    expiring: list[Certification]

    @property
    def closest(self) -> OfferingStatus | None:
        waiting = [status for status in self.offerings if not status.ready]
        return waiting[0] if waiting else None


def rep_readiness(
    *, rep: User, now: datetime, within_days: int = EXPIRY_WINDOWS[-1]
) -> RepReadiness:
    """The rep's readiness per offering, fewest missing items first."""
    held = set(
        Certification.objects.filter(active_certification_q(now), rep=rep).values_list(
            "subject_id", "level"
        )
    )
    statuses = offering_statuses(rep, readiness_requirements(), held)
    statuses.sort(key=lambda status: (len(status.missing), status.offering.name))
    expiring = list(
        Certification.objects.filter(
            active_certification_q(now), rep=rep, expires_at__lte=now + timedelta(days=within_days)
        )
        .select_related("subject")
        .order_by("expires_at", "pk")
    )
    return RepReadiness(offerings=statuses, expiring=expiring)


def requirements_visible_to(viewer: User) -> list[ReadinessRequirement]:
    """The requirements the viewer may read: every one for enablement; for a manager those
    that can apply to their reps (for every team, or a team above, at or under one they lead),
    so no other team's name shows."""
    requirements = list(
        ReadinessRequirement.objects.select_related("offering", "team")
        .prefetch_related("items__subject")
        .order_by("offering__name", "team__path", "segment", "sales_role", "pk")
    )
    if viewer.is_enablement:
        return requirements
    paths = managed_team_paths(viewer)
    return [
        requirement
        for requirement in requirements
        if requirement.team is None
        or any(
            path.startswith(requirement.team.path) or requirement.team.path.startswith(path)
            for path in paths
        )
    ]


def expiring_certifications(
    *, viewer: User, now: datetime, within_days: int = EXPIRY_WINDOWS[-1], limit: int = 20
) -> list[Certification]:
    """The soonest-expiring certifications held by the reps the viewer may see."""
    reps = report_reps(viewer=viewer, filters=ReportFilters(), now=now).order_by().values("pk")
    return list(
        Certification.objects.filter(
            active_certification_q(now),
            rep__in=reps,
            expires_at__lte=now + timedelta(days=within_days),
        )
        .select_related("rep", "subject")
        .order_by("expires_at", "pk")[:limit]
    )


def report_subscription_of(user: User) -> ReportSubscription | None:
    """The person's weekly report subscription, if they ever set one."""
    return ReportSubscription.objects.filter(user=user).first()
