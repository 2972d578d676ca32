"""Readiness summaries: one small row per rep of what the readiness headline counts.

At 100,000 reps the headline read ~4 million active certifications and ~4 million activity
rows on every view (7-15 s); with the summaries it reads one row per rep plus the live figures
of the few reps whose row is stale (docs/performance.md). The rows are derived data:

- triggers (migration 0011) mark a rep's row stale, in the same transaction, whenever its
  certifications, attempts, sessions, observations, team, segment or sales role change, and
  every row stale when a requirement or a team's path changes;
- ``readiness_summaries_refresh`` re-derives stale rows, from the same rules as the live
  figures (``requirement_applies``, ``active_certification_q``), every minute on the bulk
  queue and on demand (``manage.py refresh_readiness_summaries``);
- readers (``certification.selectors.readiness``) count only current rows and every other
  rep live, so a figure never depends on whether the refresh has caught up.

A refresh reads each row's version before it reads the facts, and marks the row current only
if its version is still that one when it writes: a change committed meanwhile has bumped it,
and one committed later clears ``current`` again, so a row is never current and wrong. It
writes only the rows it can lock without waiting (``SKIP LOCKED``), and the summary tables
carry no foreign-key constraints, so it does not wait on requests (only, for at most 200 ms,
on one creating a rep's first summary row) and cannot deadlock with them; a row it skipped
stays stale until the next run.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import OperationalError, connection, models, transaction
from django.db.models import DateTimeField, Max
from django.utils import timezone

from accounts.models import User
from certification.models import (
    Certification,
    OfferingReadinessSummary,
    ReadinessGeneration,
    ReadinessSummary,
)
from certification.selectors.readiness import (
    ACTIVITY,
    active_certification_q,
    current_summary,
    offering_items,
    readiness_requirements,
)

BATCH = 2_000

logger = logging.getLogger(__name__)

Item = tuple[int, int]  # (subject id, level)


@dataclass(frozen=True)
class RefreshResult:
    refreshed: int
    skipped: int
    seconds: float


def stale_rep_ids(*, now: datetime | None = None) -> list[int]:
    """Active reps whose summary is missing, behind its version or computed under an earlier
    requirements generation, by id."""
    current = ReadinessSummary.objects.filter(current_summary(now or timezone.now()))
    return list(
        User.objects.filter(is_rep=True, is_active=True)
        .exclude(pk__in=current.values("rep_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def readiness_summaries_refresh(
    *,
    rep_ids: Iterable[int] | None = None,
    time_budget: float | None = None,
    now: datetime | None = None,
) -> RefreshResult:
    """Re-derive the summaries of ``rep_ids`` (every stale rep when omitted), in batches of
    ``BATCH``, stopping after a batch once ``time_budget`` seconds have passed.

    ``now`` (default: the clock) is the moment the rows are computed for; a row counts for
    readers at or after it. An earlier moment is as exact: a ready row keeps the expiry its
    readiness depends on."""
    started = time.monotonic()
    ids = sorted(set(rep_ids)) if rep_ids is not None else stale_rep_ids(now=now)
    refreshed = skipped = 0
    for start in range(0, len(ids), BATCH):
        done, passed = _refresh_batch(ids[start : start + BATCH], now or timezone.now())
        refreshed += done
        skipped += passed
        if time_budget is not None and time.monotonic() - started > time_budget:
            skipped += max(0, len(ids) - start - BATCH)
            break
    return RefreshResult(refreshed, skipped, time.monotonic() - started)


def _refresh_batch(rep_ids: Sequence[int], now: datetime) -> tuple[int, int]:
    """Summarise one batch; returns (rows written, rows skipped because locked)."""
    _create_missing_rows(rep_ids)
    generation = _generation()
    versions = dict(
        ReadinessSummary.objects.filter(rep_id__in=rep_ids).values_list("rep_id", "version")
    )
    activity = _last_activity(rep_ids)
    offerings = _offering_readiness(rep_ids, now)
    with transaction.atomic():
        locked = set(
            ReadinessSummary.objects.select_for_update(skip_locked=True)
            .filter(rep_id__in=list(versions))
            .values_list("rep_id", flat=True)
        )
        ops = connection.ops
        stamp = ops.adapt_datetimefield_value(now)
        # Current only if no change has bumped the version since it was read: a change
        # committed meanwhile leaves the row stale instead of wrong.
        _insert(
            ReadinessSummary,
            [
                *("rep_id", "version", "current", "generation", "computed_at"),
                *("last_active_at", "last_observed_on"),
            ],
            [
                (
                    pk,
                    versions[pk],
                    True,
                    generation,
                    stamp,
                    ops.adapt_datetimefield_value(activity[pk][0]),
                    ops.adapt_datefield_value(activity[pk][1]),
                )
                for pk in sorted(locked)
            ],
            tail=(
                "ON CONFLICT (rep_id) DO UPDATE SET "
                "current = ({table}.version = excluded.version), "
                "generation = excluded.generation, computed_at = excluded.computed_at, "
                "last_active_at = excluded.last_active_at, "
                "last_observed_on = excluded.last_observed_on"
            ),
        )
        OfferingReadinessSummary.objects.filter(rep_id__in=locked).delete()
        _insert(
            OfferingReadinessSummary,
            ["rep_id", "offering_id", "ready", "ready_until"],
            [
                (pk, offering, ready, ops.adapt_datetimefield_value(until))
                for pk in sorted(locked)
                for offering, (ready, until) in offerings.get(pk, {}).items()
            ],
        )
    return len(locked), len(rep_ids) - len(locked)


def _create_missing_rows(rep_ids: Sequence[int]) -> None:
    """Every row exists (and is committed) before versions are read, so that from then on each
    change of these reps bumps a row the refresh can see. Only missing rows are inserted (over
    a row a request has changed, the insert would wait for the request), and on PostgreSQL a
    wait of more than a moment for a request creating the same row gives up: those reps have
    no row to lock, so this run skips them."""
    existing = set(
        ReadinessSummary.objects.filter(rep_id__in=rep_ids).values_list("rep_id", flat=True)
    )
    missing = [ReadinessSummary(rep_id=pk) for pk in rep_ids if pk not in existing]
    if not missing:
        return
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '200ms'")
            ReadinessSummary.objects.bulk_create(missing, ignore_conflicts=True)
    except OperationalError:
        logger.info("readiness summaries: %d new rows busy, left for the next run", len(missing))


def _generation() -> int:
    """The requirements generation: the one row the migration made, made again (past every
    generation a summary was computed under) if something such as a flush removed it."""
    row = ReadinessGeneration.objects.filter(pk=1).first()
    if row is not None:
        return row.value
    latest = ReadinessSummary.objects.aggregate(latest=Max("generation"))["latest"]
    return ReadinessGeneration.objects.get_or_create(pk=1, defaults={"value": (latest or 0) + 1})[
        0
    ].value


def _insert(
    model: type[models.Model], columns: list[str], rows: list[tuple[Any, ...]], *, tail: str = ""
) -> None:
    """Insert plain values: by ``COPY`` on PostgreSQL when there is no ``tail`` (such as an
    ``ON CONFLICT`` clause, which may name the table as ``{table}``), else one INSERT run for
    every row (``executemany``: parsed once, pipelined on PostgreSQL). The ORM's bulk methods
    cost ~2 ms of Python a row here."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    values = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not tail:  # COPY: ~10 times faster a row
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        cursor.executemany(
            # Names from the model and the code, values as parameters.
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}) "  # noqa: S608
            f"{tail.format(table=table)}",
            rows,
        )


def _last_activity(rep_ids: Sequence[int]) -> dict[int, tuple[datetime | None, date | None]]:
    """Per rep: the latest attempt start, session, or certification issued, and the latest
    field observation: what ``active_since`` asks about, reduced to two dates."""
    latest: dict[int, datetime | None] = dict.fromkeys(rep_ids)
    observed: dict[int, date | None] = {}
    for model, field in ACTIVITY:
        rows = (
            model._default_manager.filter(rep_id__in=rep_ids)
            .order_by()
            .values("rep_id")
            .annotate(last=Max(field))
            .values_list("rep_id", "last")
        )
        if not isinstance(model._meta.get_field(field), DateTimeField):
            observed.update(rows)
            continue
        for pk, last in rows:
            current = latest[pk]
            if current is None or last > current:
                latest[pk] = last
    return {pk: (latest[pk], observed.get(pk)) for pk in rep_ids}


def _offering_readiness(
    rep_ids: Sequence[int], now: datetime
) -> dict[int, dict[int, tuple[bool, datetime | None]]]:
    """Per rep and offering whose requirements apply to them: ready at ``now`` or not, and
    while ready, until when (the earliest of the latest expiries of each required item)."""
    requirements = readiness_requirements()
    if not requirements:
        return {}
    # Per rep and item held: its latest expiry, None when one of them never expires.
    expiry: dict[int, dict[Item, datetime | None]] = defaultdict(dict)
    held = Certification.objects.filter(
        active_certification_q(now), rep_id__in=rep_ids
    ).values_list("rep_id", "subject_id", "level", "expires_at")
    for pk, subject, level, expires_at in held:
        items = expiry[pk]
        item = (subject, level)
        if item in items:
            known = items[item]
            items[item] = None if known is None or expires_at is None else max(known, expires_at)
        else:
            items[item] = expires_at
    reps = User.objects.filter(pk__in=rep_ids).select_related("team")
    result: dict[int, dict[int, tuple[bool, datetime | None]]] = {}
    # What applies depends only on the rep's team path, segment and sales role: work it out
    # once per combination (a few hundred), not once per rep.
    applicable: dict[tuple[str, str, str], dict[int, set[Item]]] = {}
    for rep in reps.only("pk", "segment", "sales_role", "team", "team__path"):
        path = rep.team.path if rep.team_id and rep.team else ""
        key = (path, rep.segment, rep.sales_role)
        if key not in applicable:
            applicable[key] = offering_items(rep, requirements)
        needed = applicable[key]
        items = expiry.get(rep.pk, {})
        result[rep.pk] = {
            offering: _ready_until(required, items) for offering, required in needed.items()
        }
    return result


def _ready_until(
    required: set[Item], held: dict[Item, datetime | None]
) -> tuple[bool, datetime | None]:
    if not required <= held.keys():
        return False, None
    expiries = [end for item in required if (end := held[item]) is not None]
    return True, min(expiries) if expiries else None
