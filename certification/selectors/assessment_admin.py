"""Reads for enablement's level-2 and level-3 pages: guides and their versions, scenarios,
sessions, observer delegations, and the people to pick from when scheduling.

Counts are correlated subqueries (as in ``selectors.authoring``), so a list page runs the same
few queries whether it shows five rows or fifty.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from accounts.models import User
from accounts.selectors import people_search, reps_visible_to
from certification.models import (
    AssessmentSession,
    Criterion,
    FieldObservation,
    Guide,
    GuideVersion,
    ObserverDelegation,
    Scenario,
)
from certification.selectors.assessments import sessions_for_enablement
from certification.selectors.authoring import count_per_parent, subquery_count

READY_TO_RELEASE = "ready"  # a status filter: scheduled, and every judge has submitted

# Guides ----------------------------------------------------------------------------------------


def _current_version_of(guide_ref: OuterRef) -> QuerySet[GuideVersion]:
    return GuideVersion.objects.filter(guide=guide_ref).order_by("-number")


def guides_for_admin(*, text: str = "", subject_id: int | None = None) -> QuerySet[Guide]:
    """Guides with their current version's number and criteria, and how many sessions and
    observations have used any of their versions, filtered by name and subject."""
    current = _current_version_of(OuterRef("pk"))
    guides = Guide.objects.select_related("subject").annotate(
        current_number=Subquery(current.values("number")[:1], output_field=IntegerField()),
        criteria_count=subquery_count(
            Criterion.objects.filter(
                version=Subquery(_current_version_of(OuterRef(OuterRef("pk"))).values("pk")[:1])
            )
        ),
        version_count=count_per_parent(GuideVersion, "guide"),
        session_count=count_per_parent(AssessmentSession, "guide_version__guide"),
        observation_count=count_per_parent(FieldObservation, "guide_version__guide"),
    )
    if text := text.strip():
        guides = guides.filter(name__icontains=text)
    if subject_id is not None:
        guides = guides.filter(subject_id=subject_id)
    return guides.order_by("name", "pk")


def guides_with_current_version() -> QuerySet[Guide]:
    """Every guide with its current (newest) version as ``current_versions`` (a list of one)
    and that version's criteria in order: two prefetches, however many guides are read."""
    newest = _current_version_of(OuterRef("guide")).values("number")[:1]
    current = GuideVersion.objects.filter(number=Subquery(newest)).prefetch_related(
        Prefetch("criteria", queryset=Criterion.objects.order_by("position", "pk"))
    )
    return Guide.objects.prefetch_related(
        Prefetch("versions", queryset=current, to_attr="current_versions")
    )


def guides_for_choice() -> QuerySet[Guide]:
    """Every guide with its subject and current version number, for a scenario's guide picker."""
    current = _current_version_of(OuterRef("pk"))
    return (
        Guide.objects.select_related("subject")
        .annotate(
            current_number=Subquery(current.values("number")[:1], output_field=IntegerField())
        )
        .order_by("name", "pk")
    )


def guide_versions(*, guide: Guide) -> QuerySet[GuideVersion]:
    """The guide's versions, newest first, with their criteria and what has used them."""
    return (
        GuideVersion.objects.filter(guide=guide)
        .select_related("created_by", "guide")
        .annotate(
            criteria_count=count_per_parent(Criterion, "version"),
            session_count=count_per_parent(AssessmentSession, "guide_version"),
            observation_count=count_per_parent(FieldObservation, "guide_version"),
        )
        .order_by("-number")
    )


def guide_version_with_criteria(*, guide: Guide, number: int | None = None) -> GuideVersion | None:
    """One version of the guide (the current one unless a number is given), criteria in order."""
    versions = (
        GuideVersion.objects.filter(guide=guide)
        .select_related("guide", "created_by")
        .prefetch_related("criteria")
    )
    if number is not None:
        versions = versions.filter(number=number)
    return versions.order_by("-number").first()


# Scenarios -------------------------------------------------------------------------------------


def scenarios_for_admin(
    *,
    text: str = "",
    subject_id: int | None = None,
    active: bool | None = None,
    guide_id: int | None = None,
) -> QuerySet[Scenario]:
    """Scenarios with their subject, guide and how many sessions, filtered."""
    scenarios = Scenario.objects.select_related("subject", "guide").annotate(
        session_count=count_per_parent(AssessmentSession, "scenario"),
    )
    if guide_id is not None:
        scenarios = scenarios.filter(guide_id=guide_id)
    if text := text.strip():
        scenarios = scenarios.filter(title__icontains=text)
    if subject_id is not None:
        scenarios = scenarios.filter(subject_id=subject_id)
    if active is not None:
        scenarios = scenarios.filter(is_active=active)
    return scenarios.order_by("-is_active", "subject__name", "title", "pk")


def scenarios_for_choice(*, active_only: bool = True) -> QuerySet[Scenario]:
    """Scenarios to pick from, with the subject and guide their labels name."""
    scenarios = Scenario.objects.select_related("subject", "guide")
    if active_only:
        scenarios = scenarios.filter(is_active=True)
    return scenarios.order_by("subject__name", "title", "pk")


# Sessions --------------------------------------------------------------------------------------


def sessions_for_admin(
    *, status: str = "", scenario_id: int | None = None, rep_text: str = ""
) -> QuerySet[AssessmentSession]:
    """Every session with its panel size and submitted scorecards, filtered by status,
    scenario and the rep's name or email; the latest scheduled first."""
    if status == READY_TO_RELEASE:
        sessions = sessions_for_enablement(status=AssessmentSession.Status.SCHEDULED).filter(
            panel_size__gt=0, submitted_count=F("panel_size")
        )  # type: ignore[misc]  # annotations made by sessions_for_enablement
    else:
        sessions = sessions_for_enablement(status=status)
    if scenario_id is not None:
        sessions = sessions.filter(scenario_id=scenario_id)
    if text := rep_text.strip():
        sessions = sessions.filter(
            Q(rep__display_name__icontains=text) | Q(rep__email__icontains=text)
        )
    return sessions.order_by("-scheduled_at", "-pk")


def people_matching(
    *, viewer: User, text: str = "", limit: int = 50, reps_only: bool = False
) -> tuple[list[User], int]:
    """Up to ``limit`` people the viewer may pick (active reps only if asked), matching a
    name or email, and how many match in all."""
    if reps_only:
        people = reps_visible_to(viewer)
        if text := text.strip():
            people = people.filter(Q(display_name__icontains=text) | Q(email__icontains=text))
    else:
        people = people_search(viewer=viewer, text=text).filter(is_active=True)
    people = people.order_by("display_name", "pk")
    return list(people[:limit]), people.count()


# Delegations -----------------------------------------------------------------------------------


def delegations_for_admin(
    *, status: str = "", text: str = "", now: datetime | None = None
) -> QuerySet[ObserverDelegation]:
    """Observer delegations, current ones first, with ``is_current``; filtered by status
    (current or expired) and the delegate's, rep's or team's name."""
    now = now or timezone.now()
    current = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    delegations = ObserverDelegation.objects.select_related(
        "delegate", "rep__team", "team", "named_by"
    ).annotate(is_current=ExpressionWrapper(current, output_field=BooleanField()))
    if status == "current":
        delegations = delegations.filter(current)
    elif status == "expired":
        delegations = delegations.exclude(current)
    if text := text.strip():
        delegations = delegations.filter(
            Q(delegate__display_name__icontains=text)
            | Q(delegate__email__icontains=text)
            | Q(rep__display_name__icontains=text)
            | Q(rep__email__icontains=text)
            | Q(team__name__icontains=text)
        )
    return delegations.order_by("-is_current", "-named_at", "-pk")


def people_by_ids(ids: list[int]) -> list[User]:
    """The people with these ids (with their team), by name: what a form has ticked."""
    if not ids:
        return []
    return list(User.objects.select_related("team").filter(pk__in=ids).order_by("display_name"))
