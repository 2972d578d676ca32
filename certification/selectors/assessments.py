"""Reads for levels 2 and 3: guides as each party may see them, sessions per role, scorecards a
judge may see, the rep's feedback, observations and sign-offs, judge calibration.

The buyer brief and judge notes are read only through ``session_for``/``guide_for_judges``,
which leave them out for the rep (rules.can_see_buyer_brief, can_see_judge_notes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.functions import Abs, Cast

from accounts.models import User
from accounts.selectors import reps_visible_to
from certification import rules
from certification.models import (
    AssessmentSession,
    Criterion,
    CriterionRating,
    FieldObservation,
    GuideVersion,
    PanelMember,
    Scorecard,
    SessionResult,
    SignOff,
)
from config.errors import NotFoundError

# Calibration: a judge is flagged beyond these, once they have MIN_RATINGS ratings in the period.
CALIBRATION_MAX_MEAN_DEVIATION = 0.5
CALIBRATION_MIN_WITHIN_ONE = 0.8
CALIBRATION_MIN_RATINGS = 10


# Guides ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuideCriterion:
    id: int
    title: str
    description: str
    weight: Decimal
    is_critical: bool
    descriptors: list[tuple[int, str]]
    judge_notes: str | None  # None: not for this reader


@dataclass(frozen=True)
class GuideView:
    version: GuideVersion
    name: str
    introduction: str
    points: list[int]
    pass_level: int
    pass_threshold: Decimal
    criteria: list[GuideCriterion]


def _guide_view(version: GuideVersion, *, with_notes: bool) -> GuideView:
    criteria = version.criteria.all()
    return GuideView(
        version=version,
        name=version.guide.name,
        introduction=version.introduction,
        points=version.points,
        pass_level=version.pass_level,
        pass_threshold=version.pass_threshold,
        criteria=[
            GuideCriterion(
                id=c.pk,
                title=c.title,
                description=c.rep_description,
                weight=c.weight,
                is_critical=c.is_critical,
                descriptors=[(p, c.descriptors.get(str(p), "")) for p in version.points],
                judge_notes=c.judge_notes if with_notes else None,
            )
            for c in criteria
        ],
    )


def guide_for_rep(version: GuideVersion) -> GuideView:
    """The rep-facing side: criteria, descriptors, weights, critical flags; no judge notes."""
    return _guide_view(version, with_notes=False)


def guide_for_judges(version: GuideVersion) -> GuideView:
    """Everything, judge notes included."""
    return _guide_view(version, with_notes=True)


# Sessions --------------------------------------------------------------------------------------


def _sessions() -> QuerySet[AssessmentSession]:
    return AssessmentSession.objects.select_related(
        "scenario__subject", "rep__team", "owner", "role_player", "guide_version__guide"
    ).prefetch_related(
        Prefetch("panel", queryset=PanelMember.objects.select_related("judge")),
        Prefetch("guide_version__criteria", queryset=Criterion.objects.order_by("position")),
    )


def session_get_for(*, session_id: int, user: User) -> AssessmentSession:
    """A session the user may see (rep, panel, role-player, owner, the rep's managers,
    enablement); anything else is 404."""
    session = _sessions().filter(pk=session_id).first()
    if session is None or not rules.can_view_session(user, session):
        raise NotFoundError("No such session.")
    return session


@dataclass
class SessionView:
    """What one person may see of a session."""

    session: AssessmentSession
    guide: GuideView
    buyer_brief: str | None
    can_score: bool
    can_release: bool
    is_rep: bool
    can_see_result: bool


def session_view(*, session: AssessmentSession, user: User) -> SessionView:
    """The session for this user: the buyer brief and judge notes only for those allowed."""
    notes = rules.can_see_judge_notes(user, session)
    return SessionView(
        session=session,
        guide=guide_for_judges(session.guide_version)
        if notes
        else guide_for_rep(session.guide_version),
        buyer_brief=session.scenario.buyer_brief
        if rules.can_see_buyer_brief(user, session)
        else None,
        can_score=bool(rules.can_score_session(user, session))
        and session.status == AssessmentSession.Status.SCHEDULED,
        can_release=bool(rules.can_release_session(user, session))
        and session.status == AssessmentSession.Status.SCHEDULED,
        is_rep=session.rep_id == user.pk,
        can_see_result=bool(rules.can_see_session_result(user, session)),
    )


def sessions_for_rep(*, rep: User) -> QuerySet[AssessmentSession]:
    """The rep's own sessions (scheduled and released), newest first."""
    return _sessions().filter(rep=rep).exclude(status=AssessmentSession.Status.CANCELLED)


def sessions_for_judge(*, judge: User) -> QuerySet[AssessmentSession]:
    """Sessions the user judges, plays the buyer in, or owns, with their own scorecard state."""
    mine = Scorecard.objects.filter(session=OuterRef("pk"), judge=judge)
    return (
        _sessions()
        .filter(Q(panel__judge=judge) | Q(role_player=judge) | Q(owner=judge))
        .exclude(status=AssessmentSession.Status.CANCELLED)
        .annotate(
            submitted_by_me=Exists(mine.filter(status=Scorecard.Status.SUBMITTED)),
            submitted_count=Count(
                "scorecards",
                filter=Q(scorecards__status=Scorecard.Status.SUBMITTED),
                distinct=True,
            ),
        )
        .distinct()
    )


def sessions_for_manager(*, manager: User) -> QuerySet[AssessmentSession]:
    """Sessions of the reps the user may see (their subtree), newest first."""
    return _sessions().filter(rep__in=reps_visible_to(manager).values("pk"))


def sessions_for_enablement(*, status: str = "") -> QuerySet[AssessmentSession]:
    """All sessions, with how many judges have submitted."""
    sessions = _sessions().annotate(
        submitted_count=Count(
            "scorecards", filter=Q(scorecards__status="submitted"), distinct=True
        ),
        panel_size=Count("panel", distinct=True),
    )
    return sessions.filter(status=status) if status else sessions


# Scorecards ------------------------------------------------------------------------------------


@dataclass
class CardView:
    judge: User
    status: str
    ratings: dict[int, CriterionRating] = field(default_factory=dict)
    overall_comment: str = ""


def scorecards_visible_to(*, session: AssessmentSession, user: User) -> list[CardView]:
    """The scorecards this user may read: their own always; the others' once their own is
    submitted (a judge is not swayed by the panel), or all for the owner and enablement once
    submitted. The rep sees none (only the released, combined feedback)."""
    cards = list(
        Scorecard.objects.filter(session=session)
        .select_related("judge")
        .prefetch_related("ratings")
    )
    mine = next((c for c in cards if c.judge_id == user.pk), None)
    reviewer = rules.can_release_session(user, session) and not rules.is_on_panel(user, session)
    submitted_own = mine is not None and mine.status == Scorecard.Status.SUBMITTED
    visible = []
    for card in cards:
        own = card.judge_id == user.pk
        if own or (card.status == Scorecard.Status.SUBMITTED and (submitted_own or reviewer)):
            visible.append(
                CardView(
                    card.judge,
                    card.status,
                    {r.criterion_id: r for r in card.ratings.all()},
                    card.overall_comment,
                )
            )
    return visible


@dataclass(frozen=True)
class FeedbackLine:
    criterion: GuideCriterion
    combined: Decimal
    met: bool
    comments: list[str]


def session_feedback(*, session: AssessmentSession) -> list[FeedbackLine]:
    """The released result per criterion: combined rating and the judges' comments (without
    their names). Nothing before release."""
    if session.status != AssessmentSession.Status.RELEASED:
        return []
    guide = guide_for_rep(session.guide_version)
    results = {r.criterion_id: r for r in SessionResult.objects.filter(session=session)}
    comments: dict[int, list[str]] = {}
    for criterion_id, comment in (
        CriterionRating.objects.filter(
            scorecard__session=session, scorecard__status=Scorecard.Status.SUBMITTED
        )
        .exclude(comment="")
        .order_by("scorecard__submitted_at")
        .values_list("criterion_id", "comment")
    ):
        comments.setdefault(criterion_id, []).append(comment)
    return [
        FeedbackLine(c, results[c.id].combined_rating, results[c.id].met, comments.get(c.id, []))
        for c in guide.criteria
        if c.id in results
    ]


def session_overall_comments(*, session: AssessmentSession) -> list[str]:
    """The judges' overall comments on a released session (without their names), in the
    order they were submitted. Nothing before release."""
    if session.status != AssessmentSession.Status.RELEASED:
        return []
    return list(
        Scorecard.objects.filter(session=session, status=Scorecard.Status.SUBMITTED)
        .exclude(overall_comment="")
        .order_by("submitted_at")
        .values_list("overall_comment", flat=True)
    )


# Observations and sign-offs --------------------------------------------------------------------


def observations_by(*, observer: User) -> QuerySet[FieldObservation]:
    """The observations the user has recorded, drafts first."""
    return (
        FieldObservation.objects.filter(observer=observer)
        .select_related("rep", "subject", "guide_version__guide")
        .order_by("status", "-observed_on")
    )


def observation_get_for_observer(*, observation_id: int, observer: User) -> FieldObservation:
    """The observer's own observation; 404 otherwise."""
    observation = (
        FieldObservation.objects.select_related("rep", "subject", "guide_version__guide")
        .prefetch_related("ratings")
        .filter(pk=observation_id, observer=observer)
        .first()
    )
    if observation is None:
        raise NotFoundError("No such observation.")
    return observation


def signoffs_for_rep(*, rep: User) -> QuerySet[SignOff]:
    """The rep's sign-offs with their state: current, superseded or revoked."""
    return (
        SignOff.objects.filter(rep=rep)
        .select_related(
            "subject", "signed_by", "observation", "revocation", "acknowledgement", "superseded_by"
        )
        .order_by("-signed_at")
    )


def signoffs_visible_to(*, user: User) -> QuerySet[SignOff]:
    """Sign-offs of the reps the user may see (a manager's subtree, enablement all), and
    those the user signed (a delegate's)."""
    return (
        SignOff.objects.filter(Q(rep__in=reps_visible_to(user).values("pk")) | Q(signed_by=user))
        .select_related(
            "rep", "subject", "signed_by", "revocation", "acknowledgement", "superseded_by"
        )
        .order_by("-signed_at")
    )


# Judge calibration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeCalibration:
    judge_id: int
    judge: str
    sessions: int
    ratings: int
    mean_deviation: float  # signed: above 0 the judge rates higher than the panel
    mean_absolute_deviation: float
    within_one: float  # share of ratings within one point of the panel
    flagged: bool
    reasons: tuple[str, ...]


def judge_calibration(
    *, since: datetime | None = None, until: datetime | None = None
) -> list[JudgeCalibration]:
    """How far each judge's ratings sit from their panels' combined ratings, criterion by
    criterion, over released sessions (one aggregate query)."""
    ratings = CriterionRating.objects.filter(
        scorecard__status=Scorecard.Status.SUBMITTED,
        scorecard__session__status=AssessmentSession.Status.RELEASED,
        scorecard__session__results__criterion=F("criterion"),
    )
    if since is not None:
        ratings = ratings.filter(scorecard__session__released_at__gte=since)
    if until is not None:
        ratings = ratings.filter(scorecard__session__released_at__lt=until)
    combined = F("scorecard__session__results__combined_rating")
    deviation = Cast(F("rating"), FloatField()) - Cast(combined, FloatField())
    rows = (
        ratings.values("scorecard__judge_id", "scorecard__judge__display_name")
        .annotate(
            n=Count("pk"),
            sessions=Count("scorecard__session", distinct=True),
            mean=Avg(deviation),
            mean_abs=Avg(Abs(deviation)),
            within=Count("pk", filter=Q(rating__gte=combined - 1, rating__lte=combined + 1)),
        )
        .order_by("scorecard__judge__display_name")
    )
    result = []
    for row in rows:
        share = row["within"] / row["n"] if row["n"] else 0.0
        reasons = []
        if row["n"] >= CALIBRATION_MIN_RATINGS:
            if abs(row["mean"]) > CALIBRATION_MAX_MEAN_DEVIATION:
                reasons.append(
                    "rates higher than the panel"
                    if row["mean"] > 0
                    else "rates lower than the panel"
                )
            if share < CALIBRATION_MIN_WITHIN_ONE:
                reasons.append("often more than a point from the panel")
        result.append(
            JudgeCalibration(
                judge_id=row["scorecard__judge_id"],
                judge=row["scorecard__judge__display_name"],
                sessions=row["sessions"],
                ratings=row["n"],
                mean_deviation=row["mean"] or 0.0,
                mean_absolute_deviation=row["mean_abs"] or 0.0,
                within_one=share,
                flagged=bool(reasons),
                reasons=tuple(reasons),
            )
        )
    return result
