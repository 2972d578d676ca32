"""Level 2: scenarios, scheduling a session under the panel rules, judges' scorecards,
releasing the combined result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.defaultfilters import pluralize
from django.utils import timezone

from accounts.models import User
from accounts.rules import is_manager_of
from accounts.services import audit_record
from certification.models import (
    AssessmentSession,
    CriterionRating,
    Guide,
    GuideVersion,
    PanelMember,
    Scenario,
    Scorecard,
    SessionResult,
    Subject,
)
from certification.rules import can_release_session, can_score_session
from certification.services.certifications import certification_issue
from certification.services.guides import current_version, lock_guide
from certification.services.notifications import (
    notify_assessment_scheduled,
    notify_feedback_released,
)
from certification.services.rubric import CriterionSpec, Outcome, Scale, evaluate
from config.errors import ApplicationError, ConflictError, NotFoundError

SCENARIO_FIELDS = (
    "title",
    "kind",
    "rep_brief",
    "buyer_brief",
    "min_judges",
    "manager_may_judge",
    "combination",
    "critical_majority_fails",
    "is_active",
)
# The rules that decide a scheduled session's result when it is released.
RESULT_RULES = ("combination", "critical_majority_fails")


def _scenario_check(values: Mapping[str, object]) -> None:
    for name, label in (
        ("title", "a title"),
        ("rep_brief", "a brief for the rep"),
        ("buyer_brief", "a buyer brief"),
    ):
        if not str(values.get(name) or "").strip():
            raise ApplicationError(f"A scenario needs {label}.", field_errors={name: ["Required."]})
    judges = values.get("min_judges", 2)
    if not isinstance(judges, int) or not 1 <= judges <= 9:
        raise ApplicationError(
            "A panel has between 1 and 9 judges.", field_errors={"min_judges": ["1 to 9."]}
        )
    if values.get("kind", Scenario.Kind.SALES_CALL) not in Scenario.Kind.values:
        raise ApplicationError("Unknown kind of scenario.", field_errors={"kind": ["Unknown."]})
    if values.get("combination", Scenario.Combination.MEAN) not in Scenario.Combination.values:
        raise ApplicationError(
            "Unknown combination rule.", field_errors={"combination": ["Unknown."]}
        )


@transaction.atomic
def scenario_create(
    *, subject: Subject, guide: Guide, actor: User | None, **values: object
) -> Scenario:
    """Create a role-play scenario judged with a guide."""
    unknown = set(values) - set(SCENARIO_FIELDS)
    if unknown:
        raise TypeError(f"Unknown scenario fields: {sorted(unknown)}")
    _scenario_check(values)
    scenario = Scenario.objects.create(subject=subject, guide=guide, created_by=actor, **values)
    audit_record(actor=actor, action="scenario.created", target=scenario)
    return scenario


@transaction.atomic
def scenario_update(
    *, scenario: Scenario, actor: User | None, guide: Guide | None = None, **values: object
) -> Scenario:
    """Change a scenario. Sessions already scheduled keep the guide version they have."""
    unknown = set(values) - set(SCENARIO_FIELDS)
    if unknown:
        raise TypeError(f"Unknown scenario fields: {sorted(unknown)}")
    merged = {name: getattr(scenario, name) for name in SCENARIO_FIELDS} | values
    _scenario_check(merged)
    changed = {
        name for name in RESULT_RULES if name in values and values[name] != getattr(scenario, name)
    }
    waiting = scenario.sessions.filter(status=AssessmentSession.Status.SCHEDULED).count()
    if changed and waiting:
        raise ConflictError(
            f"{waiting} scheduled session{pluralize(waiting)} will be decided by this scenario's "
            "current rules: change how scores combine once they are released or cancelled.",
            code="scenario_in_use",
        )
    for name, value in values.items():
        setattr(scenario, name, value)
    if guide is not None:
        scenario.guide = guide
    scenario.save()
    audit_record(
        actor=actor,
        action="scenario.updated",
        target=scenario,
        changes={
            "fields": sorted(values) + (["guide"] if guide else []),
            "values": {
                name: value for name, value in values.items() if isinstance(value, (str, int))
            },
        },
    )
    return scenario


# Scheduling ------------------------------------------------------------------------------------


def panel_problems(
    *,
    scenario: Scenario,
    rep: User,
    judges: Sequence[User],
    role_player: User | None,
    owner: User | None,
) -> list[str]:
    """Why this panel breaks the scenario's rules (empty when it does not)."""
    unique = {judge.pk: judge for judge in judges}
    problems = _judge_problems(scenario=scenario, rep=rep, judges=judges, unique=unique)
    problems += _other_role_problems(rep=rep, role_player=role_player, owner=owner, unique=unique)
    problems += _brief_problems(scenario=scenario, rep=rep, role_player=role_player, unique=unique)
    return problems


def _brief_problems(
    *, scenario: Scenario, rep: User, role_player: User | None, unique: dict[int, User]
) -> list[str]:
    """The buyer brief stays secret from the reps assessed on the scenario: a rep who has read
    it on a panel or as the buyer is not assessed on it, and a rep waiting for their own
    session on it does not sit on a panel or play the buyer."""
    problems = []
    live = AssessmentSession.objects.filter(scenario=scenario).exclude(
        status=AssessmentSession.Status.CANCELLED
    )
    if live.filter(Q(panel__judge=rep) | Q(role_player=rep)).exists():
        problems.append(
            f"{rep.display_name} has read this scenario's buyer brief (as a judge or the buyer) "
            "and cannot be assessed on it."
        )
    seats = {**unique, **({role_player.pk: role_player} if role_player else {})}
    waiting = live.filter(
        status=AssessmentSession.Status.SCHEDULED, rep_id__in=[pk for pk in seats if pk != rep.pk]
    ).values_list("rep__display_name", flat=True)
    if names := sorted(set(waiting)):
        problems.append(
            f"Not on the panel or as the buyer while they wait to be assessed on this scenario: "
            f"{', '.join(names)}."
        )
    return problems


def _judge_problems(
    *, scenario: Scenario, rep: User, judges: Sequence[User], unique: dict[int, User]
) -> list[str]:
    problems = []
    if len(unique) != len(judges):
        problems.append("A judge appears twice on the panel.")
    if len(unique) < scenario.min_judges:
        problems.append(
            f"This scenario needs at least {scenario.min_judges} judges; the panel has "
            f"{len(unique)}."
        )
    if rep.pk in unique:
        problems.append("The rep cannot judge their own assessment.")
    inactive = [j.display_name for j in unique.values() if not j.is_active]
    if inactive:
        problems.append(f"Inactive people cannot judge: {', '.join(inactive)}.")
    if not scenario.manager_may_judge:
        own_managers = [j.display_name for j in unique.values() if is_manager_of(j, rep)]
        if own_managers:
            problems.append(
                f"This scenario bars the rep's own manager from the panel: "
                f"{', '.join(own_managers)}."
            )
    return problems


def _other_role_problems(
    *, rep: User, role_player: User | None, owner: User | None, unique: dict[int, User]
) -> list[str]:
    problems = []
    if role_player is not None:
        if role_player.pk == rep.pk:
            problems.append("The rep cannot play the buyer.")
        elif not role_player.is_active:
            problems.append("The role-player's account is inactive.")
    if owner is not None and not (owner.is_enablement or owner.pk in unique):
        problems.append("The session's owner must be an enablement lead or a judge on it.")
    if owner is not None and owner.pk == rep.pk:
        problems.append("The rep cannot own their own session.")
    elif owner is not None and not owner.is_active:
        problems.append("The owner's account is inactive.")
    if not (rep.is_active and rep.is_rep):
        problems.append("Only an active rep can be assessed.")
    return problems


@transaction.atomic
def session_schedule(
    *,
    scenario: Scenario,
    rep: User,
    scheduled_at: datetime,
    judges: Sequence[User],
    owner: User,
    actor: User | None,
    lead: User | None = None,
    role_player: User | None = None,
    duration_minutes: int = 45,
    location: str = "",
    video_link: str = "",
    now: datetime | None = None,
) -> AssessmentSession:
    """Schedule a rep's role-play with a panel chosen under the scenario's rules.

    The session keeps the guide's current version: the rep reads it in advance and the judges
    score with it, whatever later edits do to the guide.
    """
    if not scenario.is_active:
        raise ApplicationError("This scenario is retired.", field_errors={"scenario": ["Retired."]})
    problems = panel_problems(
        scenario=scenario, rep=rep, judges=judges, role_player=role_player, owner=owner
    )
    if lead is not None and lead.pk not in {j.pk for j in judges}:
        problems.append("The lead judge must be on the panel.")
    if problems:
        raise ApplicationError(
            " ".join(problems), field_errors={"judges": problems}, code="panel_rules"
        )
    if not 5 <= duration_minutes <= 480:
        raise ApplicationError(
            "A session lasts between 5 minutes and 8 hours.",
            field_errors={"duration_minutes": ["5 to 480."]},
        )
    session = AssessmentSession.objects.create(
        scenario=scenario,
        rep=rep,
        guide_version=current_version(lock_guide(scenario.guide)),
        scheduled_at=scheduled_at,
        duration_minutes=duration_minutes,
        location=location.strip(),
        video_link=video_link.strip(),
        owner=owner,
        role_player=role_player,
        created_by=actor,
    )
    PanelMember.objects.bulk_create(
        PanelMember(session=session, judge=judge, is_lead=lead is not None and judge.pk == lead.pk)
        for judge in {j.pk: j for j in judges}.values()
    )
    audit_record(
        actor=actor,
        action="session.scheduled",
        target=session,
        changes={
            "rep": rep.email,
            "judges": sorted(j.email for j in judges),
            "role_player": role_player.email if role_player else None,
            "guide_version": session.guide_version_id,
        },
    )
    notify_assessment_scheduled(session=session, actor=actor, now=now or timezone.now())
    return session


@transaction.atomic
def session_cancel(*, session: AssessmentSession, reason: str, actor: User) -> AssessmentSession:
    """Cancel a session that has not been released."""
    locked = AssessmentSession.objects.select_for_update().get(pk=session.pk)
    if locked.rep_id == actor.pk:
        raise NotFoundError("You cannot cancel your own session.")
    if locked.status != AssessmentSession.Status.SCHEDULED:
        raise ConflictError("Only a scheduled session can be cancelled.", code="not_scheduled")
    if not reason.strip():
        raise ApplicationError(
            "Say why the session is cancelled.", field_errors={"reason": ["Required."]}
        )
    locked.status = AssessmentSession.Status.CANCELLED
    locked.save(update_fields=["status"])
    audit_record(
        actor=actor, action="session.cancelled", target=locked, changes={"reason": reason.strip()}
    )
    return locked


# Scoring ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingInput:
    rating: int | None
    comment: str = ""


def _version_scale(version: GuideVersion) -> Scale:
    return Scale(version.scale_min, version.scale_max, version.pass_level, version.pass_threshold)


def check_ratings(
    version: GuideVersion, ratings: Mapping[int, RatingInput], *, complete: bool
) -> None:
    """Refuse ratings off the scale or for other criteria; when complete, every criterion rated
    and a comment wherever the rating is below the pass level (feedback must be actionable)."""
    criteria = {c.pk: c for c in version.criteria.all()}
    unknown = set(ratings) - set(criteria)
    if unknown:
        raise ApplicationError(
            "Those criteria are not in this guide.",
            field_errors={"ratings": [f"Unknown criteria: {sorted(unknown)}."]},
        )
    errors: dict[str, list[str]] = {}
    for criterion_id, criterion in criteria.items():
        given = ratings.get(criterion_id)
        if given is None or given.rating is None:
            if complete:
                errors[f"criterion_{criterion_id}"] = [f"Rate “{criterion.title}”."]
            continue
        if not version.scale_min <= given.rating <= version.scale_max:
            errors[f"criterion_{criterion_id}"] = [
                f"Rate between {version.scale_min} and {version.scale_max}."
            ]
        elif complete and given.rating < version.pass_level and not given.comment.strip():
            # Below the pass level, feedback must say what to do differently.
            errors[f"criterion_{criterion_id}"] = [
                (
                    f"“{criterion.title}” is below the pass level: say what the rep should do "
                    "differently."
                )
            ]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ApplicationError(first, field_errors=errors, code="incomplete_scorecard")


@transaction.atomic
def scorecard_save(
    *,
    session: AssessmentSession,
    judge: User,
    ratings: Mapping[int, RatingInput],
    overall_comment: str = "",
    submit: bool = False,
    now: datetime | None = None,
) -> Scorecard:
    """Save a judge's ratings as a draft, or submit them (complete, with actionable comments).

    A submitted scorecard does not change. Only the session's panel scores, never the rep.
    """
    now = now or timezone.now()
    # Locked, as cancelling and releasing lock it: a cancellation committing meanwhile is
    # seen here and refuses the scores, instead of their landing on a cancelled session.
    session = (
        AssessmentSession.objects.select_for_update(of=("self",))
        .select_related("guide_version")
        .get(pk=session.pk)
    )
    if not can_score_session(judge, session):
        raise NotFoundError("You are not on this panel.")
    if session.status != AssessmentSession.Status.SCHEDULED:
        raise ConflictError("This session is closed to scoring.", code="session_closed")
    scorecard, _ = Scorecard.objects.select_for_update().get_or_create(session=session, judge=judge)
    if scorecard.status == Scorecard.Status.SUBMITTED:
        raise ConflictError("You have already submitted your scores.", code="already_submitted")
    check_ratings(session.guide_version, ratings, complete=submit)
    existing = {r.criterion_id: r for r in scorecard.ratings.all()}
    changed, created = [], []
    for criterion_id, given in ratings.items():
        row = existing.get(criterion_id)
        if row is None:
            created.append(
                CriterionRating(
                    scorecard=scorecard,
                    criterion_id=criterion_id,
                    rating=given.rating,
                    comment=given.comment.strip(),
                )
            )
        elif (row.rating, row.comment) != (given.rating, given.comment.strip()):
            row.rating, row.comment = given.rating, given.comment.strip()
            changed.append(row)
    CriterionRating.objects.bulk_create(created)
    CriterionRating.objects.bulk_update(changed, ["rating", "comment"])
    scorecard.overall_comment = overall_comment.strip()
    scorecard.updated_at = now
    if submit:
        check_ratings(
            session.guide_version,
            {r.criterion_id: RatingInput(r.rating, r.comment) for r in scorecard.ratings.all()},
            complete=True,
        )
        scorecard.status = Scorecard.Status.SUBMITTED
        scorecard.submitted_at = now
        audit_record(
            actor=judge,
            action="scorecard.submitted",
            target=session,
            changes={"ratings": {str(k): v.rating for k, v in ratings.items()}},
        )
    scorecard.save()
    return scorecard


def _judges_waiting(session: AssessmentSession) -> int:
    """How many of the panel's judges have not submitted their scorecard."""
    submitted = Scorecard.objects.filter(
        session=session, judge=OuterRef("judge"), status=Scorecard.Status.SUBMITTED
    )
    return session.panel.exclude(Exists(submitted)).count()


def session_outcome(session: AssessmentSession) -> Outcome | None:
    """The combined result, or None until every judge on the panel has submitted.

    Nothing partial is ever combined: a preview built from some judges' scores would show a
    judge who has not yet submitted (an owner on the panel, say) the others' ratings.
    """
    if _judges_waiting(session):
        return None
    version = session.guide_version
    criteria = list(version.criteria.all())
    ratings: dict[int, list[int]] = {c.pk: [] for c in criteria}
    submitted = CriterionRating.objects.filter(
        scorecard__session=session, scorecard__status=Scorecard.Status.SUBMITTED
    ).values_list("criterion_id", "rating")
    for criterion_id, rating in submitted:
        if rating is not None:  # a submitted scorecard rates everything
            ratings[criterion_id].append(rating)
    if not criteria or any(not given for given in ratings.values()):
        return None
    return evaluate(
        scale=_version_scale(version),
        criteria=[CriterionSpec(c.pk, c.weight, c.is_critical) for c in criteria],
        ratings=ratings,
        rule=session.scenario.combination,
        critical_majority_fails=session.scenario.critical_majority_fails,
    )


@transaction.atomic
def session_release(
    *, session: AssessmentSession, actor: User, now: datetime | None = None
) -> AssessmentSession:
    """Release the combined result to the rep once the whole panel has submitted.

    Passing issues the level-2 certification with the session as evidence. Releasing twice
    changes nothing.
    """
    now = now or timezone.now()
    locked = (
        AssessmentSession.objects.select_for_update(of=("self",))
        .select_related("scenario", "guide_version", "rep")
        .get(pk=session.pk)
    )
    if not can_release_session(actor, locked):
        raise NotFoundError("You cannot release this session.")
    if locked.status == AssessmentSession.Status.RELEASED:
        return locked
    if locked.status != AssessmentSession.Status.SCHEDULED:
        raise ConflictError("A cancelled session has no result.", code="session_closed")
    # The panel met the scenario's rules when it was chosen; a rule changed since then does
    # not hold the result back.
    if waiting := _judges_waiting(locked):
        raise ConflictError(
            f"{waiting} judge{pluralize(waiting)} {'has' if waiting == 1 else 'have'} not "
            "submitted their scores yet.",
            code="panel_incomplete",
        )
    outcome = session_outcome(locked)
    if outcome is None:
        raise ConflictError("The panel's scores are incomplete.", code="panel_incomplete")
    SessionResult.objects.bulk_create(
        SessionResult(
            session=locked,
            criterion_id=criterion_id,
            combined_rating=result.combined,
            met=result.met,
            failed_by_majority=result.failed_by_majority,
        )
        for criterion_id, result in outcome.criteria.items()
    )
    locked.score, locked.passed = outcome.score, outcome.passed
    locked.status = AssessmentSession.Status.RELEASED
    locked.released_at, locked.released_by = now, actor
    locked.save(update_fields=["score", "passed", "status", "released_at", "released_by"])
    audit_record(
        actor=actor,
        action="session.released",
        target=locked,
        changes={
            "score": str(outcome.score),
            "passed": outcome.passed,
            "vetoed_by": list(outcome.vetoed_by),
        },
    )
    notify_feedback_released(session=locked, actor=actor, now=now)
    if outcome.passed:
        certification_issue(
            rep=locked.rep, subject=locked.scenario.subject, level=2, now=now, session=locked
        )
    return locked
