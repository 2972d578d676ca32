"""Writes for readiness: customer-ready requirements, and the weekly headline report by email."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Team, User
from accounts.services import audit_record
from certification.models import (
    Level,
    ReadinessRequirement,
    ReportSubscription,
    RequiredCertification,
    Subject,
)
from certification.selectors.readiness import Headline, ReportFilters, readiness_headline
from config.errors import ApplicationError

logger = logging.getLogger(__name__)


def _requirement_snapshot(requirement: ReadinessRequirement) -> dict[str, object]:
    return {
        "offering": requirement.offering.name,
        "slice": requirement.slice_label,
        "items": sorted(f"{i.subject.name} L{i.level}" for i in requirement.items.all()),
    }


@transaction.atomic
def requirement_save(
    *,
    actor: User,
    offering: Subject,
    items: Sequence[tuple[Subject, int]],
    team: Team | None = None,
    segment: str = "",
    sales_role: str = "",
    requirement: ReadinessRequirement | None = None,
) -> ReadinessRequirement:
    """Create the offering's requirement for a slice of reps, or replace an existing one."""
    segment, sales_role = segment.strip(), sales_role.strip()
    errors: dict[str, list[str]] = {}
    if offering.kind != Subject.Kind.OFFERING or not offering.is_active:
        errors["offering"] = ["Choose an active offering."]
    chosen = {(subject.pk, level) for subject, level in items}
    if not chosen:
        errors["items"] = ["Choose at least one certification."]
    if any(level not in Level.values for _, level in chosen):
        errors["items"] = ["Levels are 1, 2 or 3."]
    if any(not subject.is_active for subject, _ in items):
        errors["items"] = ["Choose active subjects only."]
    if len(segment) > 60 or len(sales_role) > 60:
        errors["segment" if len(segment) > 60 else "sales_role"] = ["At most 60 characters."]
    if errors:
        raise ApplicationError("The requirement was not saved.", field_errors=errors)
    before = _requirement_snapshot(requirement) if requirement is not None else None
    if requirement is None:
        requirement = ReadinessRequirement(created_by=actor)
    requirement.offering = offering
    requirement.team = team
    requirement.segment = segment
    requirement.sales_role = sales_role
    requirement.updated_at = timezone.now()
    try:
        with transaction.atomic():
            requirement.save()
    except IntegrityError:
        message = (
            f"{offering.name} already has a requirement for {requirement.slice_label}: "
            "edit that one instead."
        )
        raise ApplicationError(message, field_errors={"offering": [message]}) from None
    requirement.items.exclude(
        pk__in=[
            item.pk for item in requirement.items.all() if (item.subject_id, item.level) in chosen
        ]
    ).delete()
    existing = set(requirement.items.values_list("subject_id", "level"))
    RequiredCertification.objects.bulk_create(
        RequiredCertification(requirement=requirement, subject_id=subject_id, level=level)
        for subject_id, level in sorted(chosen - existing)
    )
    requirement = ReadinessRequirement.objects.prefetch_related("items__subject").get(
        pk=requirement.pk
    )
    audit_record(
        actor=actor,
        action="readiness_requirement.saved" if before else "readiness_requirement.created",
        target=requirement,
        changes={"before": before, "after": _requirement_snapshot(requirement)},
    )
    return requirement


@transaction.atomic
def requirement_delete(*, actor: User, requirement: ReadinessRequirement) -> None:
    """Remove a requirement: the reps in its slice no longer need its items for the offering."""
    audit_record(
        actor=actor,
        action="readiness_requirement.deleted",
        target=requirement,
        changes={"before": _requirement_snapshot(requirement)},
    )
    requirement.delete()


# The weekly report ----------------------------------------------------------------------------


def subscription_set(*, user: User, is_active: bool, weekday: int) -> ReportSubscription:
    """Turn the weekly headline email on or off, and choose its day."""
    if not (user.is_enablement or user.is_manager):
        raise ApplicationError("Only enablement leads and managers receive the readiness report.")
    if weekday not in range(1, 8):
        raise ApplicationError("Choose a weekday.", field_errors={"weekday": ["1 to 7."]})
    subscription, _ = ReportSubscription.objects.update_or_create(
        user=user, defaults={"is_active": is_active, "weekday": weekday}
    )
    return subscription


def headline_text(*, user: User, headline: Headline, link: str, today: str) -> str:
    """The plain-text body of the weekly report."""
    lines = [
        f"Hello {user.get_short_name()},",
        "",
        f"Readiness on {today}, across the {headline.reps} reps you can see:",
        "",
    ]
    for row in headline.offerings:
        share = f"{row.percent}%" if row.percent is not None else "no rep in scope"
        lines.append(
            f"- {row.offering.name}: {row.ready} of {row.in_scope} customer ready ({share})"
        )
    if not headline.offerings:
        lines.append("- No customer-ready requirement is set yet.")
    tiers = ", ".join(f"{count} {tier}" for tier, count in headline.tiers.items())
    lines += [
        "",
        f"Tiers: {tiers}.",
        "Certifications expiring: "
        + ", ".join(f"{n} within {days} days" for days, n in headline.expiring.items())
        + ".",
        f"Reps with no activity for 90 days: {headline.inactive}.",
        "",
        f"The full report, with who is behind each figure: {link}",
        "",
        (
            "You receive this because you asked for the weekly readiness report; turn it off "
            "on the report page."
        ),
    ]
    return "\n".join(lines)


def weekly_reports_send(*, now: datetime | None = None) -> int:
    """Send each due weekly report once: on its weekday, within the recipient's working hours
    in their time zone. Returns how many were sent.

    Each subscription is locked while it is sent and stamped with the local date, so a task
    that runs twice (or two workers) send it once.
    """
    now = now or timezone.now()
    sent = 0
    due = ReportSubscription.objects.filter(is_active=True, user__is_active=True).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            subscription = (
                ReportSubscription.objects.select_for_update(skip_locked=True)
                .select_related("user")
                .filter(pk=pk)
                .first()
            )
            if subscription is None or not _due(subscription, now):
                continue
            user = subscription.user
            local = now.astimezone(ZoneInfo(user.time_zone))
            headline = readiness_headline(
                viewer=user, filters=ReportFilters.from_query(subscription.filters), now=now
            )
            link = settings.SITE_URL.rstrip("/") + reverse("certification:report_readiness")
            try:
                EmailMessage(
                    subject=f"Readiness report, week of {local:%d %b %Y}",
                    body=headline_text(
                        user=user, headline=headline, link=link, today=f"{local:%d %b %Y}"
                    ),
                    to=[user.email],
                ).send()
            except OSError:  # SMTP refused or unreachable: the others still get theirs
                logger.exception("weekly report to %s not sent", user.email)
                continue
            subscription.last_sent_on = local.date()
            subscription.save(update_fields=["last_sent_on"])
            sent += 1
    return sent


def _due(subscription: ReportSubscription, now: datetime) -> bool:
    user = subscription.user
    if not (user.is_enablement or user.is_manager):
        return False
    local = now.astimezone(ZoneInfo(user.time_zone))
    return (
        local.isoweekday() == subscription.weekday
        and subscription.last_sent_on != local.date()
        and user.work_start <= local.time() < user.work_end
    )
