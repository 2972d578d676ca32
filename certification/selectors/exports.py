"""Reads for export jobs: a person's own jobs (nobody else's, whatever their role), whether a
job's file may still be downloaded, and its filters in words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db.models import QuerySet

from accounts.models import Team, User
from certification.models import ExportJob, Subject, Tier
from config.errors import NotFoundError


def export_jobs_of(*, owner: User) -> QuerySet[ExportJob]:
    """The owner's export jobs, newest first."""
    return ExportJob.objects.filter(owner=owner).order_by("-created_at", "-pk")


def export_job_get(*, owner: User, job_id: int) -> ExportJob:
    """One of the owner's jobs; ``NotFoundError`` for anyone else's (even enablement's)."""
    job = export_jobs_of(owner=owner).filter(pk=job_id).first()
    if job is None:
        raise NotFoundError("There is no such export.")
    return job


def export_downloadable(job: ExportJob, now: datetime) -> bool:
    """The job's file is there and still within its retention."""
    return (
        job.status == ExportJob.Status.DONE
        and bool(job.file)
        and (job.expires_at is None or job.expires_at > now)
    )


def export_state(job: ExportJob, now: datetime) -> str:
    """The job's status as its owner should read it: a finished job past its retention reads
    as expired before the hourly purge catches up."""
    if job.status == ExportJob.Status.DONE and not export_downloadable(job, now):
        return ExportJob.Status.EXPIRED.value
    return job.status


# The filters that name a row, with the model whose name shows them.
_NAMED = (
    ("region", "Region", "team"),
    ("team", "Team", "team"),
    ("manager", "Manager", "user"),
    ("offering", "Offering", "subject"),
    ("subject", "Subject", "subject"),
)
_TEXT = (("segment", "Segment"), ("sales_role", "Sales role"), ("q", "Name or email"))
_READY = {"yes": "Customer ready", "no": "Not ready"}


def _names(jobs: Sequence[ExportJob]) -> dict[str, dict[int, str]]:
    """The names of the teams, people and subjects the jobs' filters refer to."""
    ids: dict[str, set[int]] = {"team": set(), "user": set(), "subject": set()}
    for job in jobs:
        for key, _label, kind in _NAMED:
            value = _int(job.filters.get(key))
            if value is not None:
                ids[kind].add(value)
    sources = {
        "team": Team.objects.values_list("pk", "name"),
        "user": User.objects.values_list("pk", "display_name"),
        "subject": Subject.objects.values_list("pk", "name"),
    }
    return {
        kind: dict(sources[kind].filter(pk__in=wanted).order_by()) if wanted else {}
        for kind, wanted in ids.items()
    }


def _label(filters: dict[str, object], names: dict[str, dict[int, str]]) -> str:
    parts: list[str] = []
    for key, label, kind in _NAMED:
        value = _int(filters.get(key))
        if value is not None:
            parts.append(f"{label}: {names[kind].get(value, 'unknown')}")
    tier = str(filters.get("tier") or "")
    if tier:
        parts.append(f"Tier: {Tier(tier).label if tier in Tier.values else tier}")
    parts += [f"{label}: {filters[key]}" for key, label in _TEXT if filters.get(key)]
    if str(filters.get("ready") or "") in _READY:
        parts.append(_READY[str(filters["ready"])])
    if filters.get("expiring"):
        parts.append(f"Expiring within {filters['expiring']} days")
    if filters.get("inactive"):
        parts.append("No recent activity")
    return " · ".join(parts) or "Everyone you may see"


def export_filter_labels(jobs: Sequence[ExportJob]) -> dict[int, str]:
    """Each job's filters in words ("Team: Alpha · Tier: Gold"), in three queries at most
    whatever the number of jobs."""
    names = _names(jobs)
    return {job.pk: _label(job.filters, names) for job in jobs}


def _int(value: object) -> int | None:
    try:
        return int(value) if value not in (None, "") else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
