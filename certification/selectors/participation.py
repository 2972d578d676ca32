"""Reads for the pages people use to take part in levels 2 and 3: who may reach the hubs, the
rows of a judge's sessions, a panel's progress, the reps a person may observe, observations
with their current sign-off, and a sign-off as its readers see it.

Everything is read in a fixed number of queries, whatever the number of sessions, criteria or
sign-offs; the buyer brief and judge notes are never read here (see ``assessments``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import User
from accounts.selectors import managed_team_paths
from certification import rules
from certification.models import (
    AssessmentSession,
    Certification,
    Criterion,
    FieldObservation,
    ObserverDelegation,
    PanelMember,
    Scorecard,
    SignOff,
)
from certification.selectors.assessments import (
    CardView,
    FeedbackLine,
    GuideCriterion,
    GuideView,
    sessions_for_judge,
)
from certification.selectors.authoring import subquery_count
from certification.services.rubric import CriterionOutcome, Outcome
from config.errors import NotFoundError

# Who reaches the hubs ----------------------------------------------------------------------------


def _signed_in(user: object) -> User | None:
    return user if isinstance(user, User) and user.is_active else None


def _active_delegations(user: User) -> QuerySet[ObserverDelegation]:
    return ObserverDelegation.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()), delegate=user
    )


def takes_part_in_assessments(user: object) -> bool:
    """The person has something on the assessments hub: a rep, manager or enablement role, or
    a seat on a session (judge, role-player, owner) whatever their role."""
    person = _signed_in(user)
    if person is None:
        return False
    if person.is_rep or person.is_manager or person.is_enablement:
        return True
    return AssessmentSession.objects.filter(
        Q(panel__judge=person) | Q(role_player=person) | Q(owner=person)
    ).exists()


def takes_part_in_field(user: object) -> bool:
    """The person has something on the field page: a rep (their sign-offs), a manager or a
    named delegate (observations), enablement (sign-offs), or observations of their own."""
    person = _signed_in(user)
    if person is None:
        return False
    if person.is_rep or person.is_manager or person.is_enablement:
        return True
    return (
        _active_delegations(person).exists()
        or FieldObservation.objects.filter(observer=person).exists()
    )


# Level 2: a judge's sessions and a panel's progress ----------------------------------------------


@dataclass(frozen=True)
class JudgeRow:
    """One session as a panel member, role-player or owner sees it on the hub."""

    session: AssessmentSession
    on_panel: bool
    is_lead: bool
    plays_buyer: bool
    owns: bool
    my_status: str  # "submitted", "draft", "not_started" (or "" off the panel)
    submitted: int
    panel_size: int


def sessions_to_judge(*, user: User) -> QuerySet[AssessmentSession]:
    """The user's seats (judge, role-player, owner), annotated with their own scorecard's
    state and the number of submitted scorecards."""
    return sessions_for_judge(judge=user).annotate(
        has_my_card=Exists(Scorecard.objects.filter(session=OuterRef("pk"), judge=user))
    )


def judge_rows(sessions: Iterable[AssessmentSession], *, user: User) -> list[JudgeRow]:
    """Rows for sessions from ``sessions_to_judge`` (panels are prefetched: no query)."""
    rows = []
    for session in sessions:
        seat = next((m for m in session.panel.all() if m.judge_id == user.pk), None)
        if seat is None:
            status = ""
        elif getattr(session, "submitted_by_me", False):
            status = "submitted"
        elif getattr(session, "has_my_card", False):
            status = "draft"
        else:
            status = "not_started"
        rows.append(
            JudgeRow(
                session=session,
                on_panel=seat is not None,
                is_lead=bool(seat and seat.is_lead),
                plays_buyer=session.role_player_id == user.pk,
                owns=session.owner_id == user.pk,
                my_status=status,
                submitted=getattr(session, "submitted_count", 0),
                panel_size=len(session.panel.all()),
            )
        )
    return rows


@dataclass(frozen=True)
class PanelSeat:
    member: PanelMember
    status: str  # "submitted", "draft", "not_started"


def panel_progress(*, session: AssessmentSession) -> list[PanelSeat]:
    """Each judge on the panel with the state of their scorecard (never their ratings)."""
    states = dict(Scorecard.objects.filter(session=session).values_list("judge_id", "status"))
    return [
        PanelSeat(member, states.get(member.judge_id, "not_started"))
        for member in session.panel.all()
    ]


@dataclass(frozen=True)
class CardLine:
    """One criterion of a judge's scorecard, with the descriptor of the point given."""

    criterion: GuideCriterion
    rating: int | None
    descriptor: str
    comment: str
    below_pass: bool


def card_lines(card: CardView, guide: GuideView) -> list[CardLine]:
    """A scorecard from ``scorecards_visible_to`` laid out along the guide (no query)."""
    lines = []
    for criterion in guide.criteria:
        given = card.ratings.get(criterion.id)
        rating = given.rating if given is not None else None
        lines.append(
            CardLine(
                criterion=criterion,
                rating=rating,
                descriptor=dict(criterion.descriptors).get(rating, "") if rating else "",
                comment=given.comment if given is not None else "",
                below_pass=rating is not None and rating < guide.pass_level,
            )
        )
    return lines


@dataclass(frozen=True)
class PointMark:
    point: int
    descriptor: str
    near: bool  # the combined rating sits on this point or between it and the next


@dataclass(frozen=True)
class FeedbackRow:
    """A released criterion with the scale laid out around the panel's combined rating."""

    line: FeedbackLine
    points: list[PointMark]


def feedback_rows(lines: Iterable[FeedbackLine]) -> list[FeedbackRow]:
    """``session_feedback`` lines, each with its descriptors and the points the combined
    rating lies on (one point) or between (two), so the rep reads what the number means."""
    rows = []
    for line in lines:
        low, high = math.floor(line.combined), math.ceil(line.combined)
        rows.append(
            FeedbackRow(
                line=line,
                points=[
                    PointMark(point, descriptor, point in {low, high})
                    for point, descriptor in line.criterion.descriptors
                ],
            )
        )
    return rows


@dataclass(frozen=True)
class OutcomeLine:
    criterion: GuideCriterion
    outcome: CriterionOutcome
    vetoed: bool


def outcome_lines(outcome: Outcome, guide: GuideView) -> list[OutcomeLine]:
    """A preview from ``session_outcome`` laid out along the guide (no query)."""
    return [
        OutcomeLine(c, outcome.criteria[c.id], c.id in outcome.vetoed_by)
        for c in guide.criteria
        if c.id in outcome.criteria
    ]


def session_certification(*, session: AssessmentSession) -> Certification | None:
    """The level-2 certification this released session issued, if it passed."""
    if session.status != AssessmentSession.Status.RELEASED or not session.passed:
        return None
    return Certification.objects.filter(session=session, level=2).select_related("subject").first()


# Level 3: whom a person may observe --------------------------------------------------------------


def observable_reps(*, user: User) -> QuerySet[User]:
    """The active reps this person may observe (rules.can_observe): the reps of the subtrees
    they lead as manager and those enablement has delegated to them, never themself."""
    person = _signed_in(user)
    reps = User.objects.filter(is_rep=True, is_active=True).select_related("team")
    if person is None:
        return reps.none()
    condition = Q(pk__in=[])
    for path in managed_team_paths(person):
        condition |= Q(team__path__startswith=path)
    for rep_id, team_path in _active_delegations(person).values_list("rep_id", "team__path"):
        if rep_id is not None:
            condition |= Q(pk=rep_id)
        elif team_path:
            condition |= Q(team__path__startswith=team_path)
    return reps.filter(condition).exclude(pk=person.pk).order_by("display_name", "email")


def may_observe_anyone(user: object) -> bool:
    """The person may observe at least one rep (and so record an observation)."""
    person = _signed_in(user)
    return person is not None and observable_reps(user=person).exists()


def observations_with_signoff(*, observer: User) -> QuerySet[FieldObservation]:
    """The observer's observations, drafts first, each with its current sign-off's id."""
    newest = SignOff.objects.filter(observation=OuterRef("pk")).order_by("-signed_at", "-pk")
    return (
        FieldObservation.objects.filter(observer=observer)
        .select_related("rep", "subject")
        .annotate(current_signoff_id=Subquery(newest.values("pk")[:1]))
        .order_by("status", "-observed_on", "-pk")
    )


def current_signoff_id(*, observation: FieldObservation) -> int | None:
    """The newest sign-off of an observation (the one a correction chain ends with)."""
    return (
        SignOff.objects.filter(observation=observation)
        .order_by("-signed_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


# Level 3: a sign-off as its readers see it -------------------------------------------------------


def signoff_get_for(*, signoff_id: int, user: User) -> SignOff:
    """A sign-off the user may read (the rep, the signer, the rep's managers, enablement);
    anything else is 404."""
    signoff = (
        SignOff.objects.select_related(
            "rep__team",
            "subject",
            "signed_by",
            "guide_version__guide",
            "observation",
            "revocation__revoked_by",
            "acknowledgement",
            "superseded_by",
        )
        .filter(pk=signoff_id)
        .first()
    )
    if signoff is None or not rules.can_view_signoff(user, signoff):
        raise NotFoundError("No such sign-off.")
    return signoff


@dataclass(frozen=True)
class SignedRating:
    criterion_id: int
    title: str
    weight: Decimal
    is_critical: bool
    rating: int | None
    descriptor: str
    comment: str
    met: bool


@dataclass(frozen=True)
class ChainLink:
    signoff: SignOff
    state: str  # "current", "superseded", "revoked"


def _state(signoff: SignOff, superseded: set[int], revoked: set[int]) -> str:
    if signoff.pk in revoked:
        return "revoked"
    if signoff.pk in superseded:
        return "superseded"
    return "current"


@dataclass(frozen=True)
class SignOffDetail:
    signoff: SignOff
    ratings: list[SignedRating]
    chain: list[ChainLink]  # every sign-off of the observation, oldest first


def signoff_detail(*, signoff: SignOff) -> SignOffDetail:
    """The frozen ratings with each point's descriptor, and the whole correction chain."""
    descriptors = dict(
        Criterion.objects.filter(version=signoff.guide_version_id).values_list("pk", "descriptors")
    )
    ratings = []
    for frozen in signoff.ratings:
        criterion_id = int(frozen["criterion_id"])
        rating = frozen.get("rating")
        ratings.append(
            SignedRating(
                criterion_id=criterion_id,
                title=str(frozen.get("title", "")),
                weight=Decimal(str(frozen.get("weight", "1"))),
                is_critical=bool(frozen.get("is_critical")),
                rating=rating,
                descriptor=str(descriptors.get(criterion_id, {}).get(str(rating), "")),
                comment=str(frozen.get("comment", "")),
                met=bool(frozen.get("met")),
            )
        )
    chain = list(
        SignOff.objects.filter(observation=signoff.observation_id)
        .select_related("signed_by", "revocation")
        .order_by("signed_at", "pk")
    )
    superseded = {s.supersedes_id for s in chain if s.supersedes_id is not None}
    revoked = {s.pk for s in chain if hasattr(s, "revocation")}
    return SignOffDetail(
        signoff=signoff,
        ratings=ratings,
        chain=[ChainLink(s, _state(s, superseded, revoked)) for s in chain],
    )


def signed_initial(signoff: SignOff) -> dict[int, tuple[int | None, str]]:
    """The frozen ratings as (rating, comment) per criterion, to prefill a correction."""
    return {
        int(frozen["criterion_id"]): (frozen.get("rating"), str(frozen.get("comment", "")))
        for frozen in signoff.ratings
    }


# The home page's to-do list ----------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentTodo:
    """What levels 2 and 3 ask of a person now, for the home page (a fixed number of queries)."""

    upcoming: list[AssessmentSession]  # the rep's own scheduled sessions, soonest first
    unacknowledged: int  # the rep's current sign-offs not yet acknowledged
    to_score: int  # scheduled sessions where the person's scorecard is not submitted
    to_release: int  # scheduled sessions the person may release whose panel has all submitted
    drafts: int  # field observations the person recorded and has not signed


def assessment_todo(*, user: User) -> AssessmentTodo:
    scheduled = AssessmentSession.Status.SCHEDULED
    upcoming: list[AssessmentSession] = []
    unacknowledged = 0
    if user.is_rep:
        upcoming = list(
            AssessmentSession.objects.filter(rep=user, status=scheduled)
            .select_related("scenario")
            .order_by("scheduled_at")[:5]
        )
        unacknowledged = (
            SignOff.objects.filter(rep=user, acknowledgement__isnull=True, revocation__isnull=True)
            .exclude(superseded_by__isnull=False)
            .count()
        )
    submitted = Scorecard.objects.filter(session=OuterRef("pk"), status=Scorecard.Status.SUBMITTED)
    to_score = AssessmentSession.objects.filter(status=scheduled, panel__judge=user).exclude(
        Exists(submitted.filter(judge=user))
    )
    releasable = AssessmentSession.objects.filter(status=scheduled).exclude(
        # a panel member without a submitted scorecard
        Exists(
            PanelMember.objects.filter(session=OuterRef("pk")).exclude(
                Exists(
                    Scorecard.objects.filter(
                        session=OuterRef("session"),
                        judge=OuterRef("judge"),
                        status=Scorecard.Status.SUBMITTED,
                    )
                )
            )
        )
    )
    if not user.is_enablement:  # the rules of ``rules.can_release_session``
        releasable = releasable.filter(owner=user)
    drafts = FieldObservation.objects.filter(observer=user, status=FieldObservation.Status.DRAFT)
    # The three figures in one query.
    counts = User.objects.filter(pk=user.pk).aggregate(
        to_score=Max(subquery_count(to_score)),
        to_release=Max(subquery_count(releasable.exclude(rep=user))),
        drafts=Max(subquery_count(drafts)),
    )
    return AssessmentTodo(
        upcoming=upcoming,
        unacknowledged=unacknowledged,
        to_score=counts["to_score"] or 0,
        to_release=counts["to_release"] or 0,
        drafts=counts["drafts"] or 0,
    )
