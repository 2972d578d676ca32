"""Pages for levels 2 and 3 as the participants use them: the rep, the judges and role-player
of a panel, the session's owner, managers and the delegates who observe reps in the field.

Every page checks sign-in, then a predicate on the object; anyone else gets 404, as if there
were nothing there. The views parse input with ``certification.forms_assessing``, call one
service or selector, and render; a refused use case is shown on the fields it names.
The buyer brief and judge notes reach a template only through ``session_view`` and
``guide_for_judges``, which leave them out for the rep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rules as predicates
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import rule_required
from accounts.models import User
from certification import rules
from certification.forms_assessing import CorrectionForm, ObservationForm, RatingForm, RevokeForm
from certification.models import AssessmentSession, FieldObservation, SignOff
from certification.selectors.assessments import (
    guide_for_judges,
    observation_get_for_observer,
    scorecards_visible_to,
    session_feedback,
    session_get_for,
    session_overall_comments,
    session_view,
    sessions_for_manager,
    sessions_for_rep,
    signoffs_for_rep,
    signoffs_visible_to,
)
from certification.selectors.participation import (
    card_lines,
    current_signoff_id,
    feedback_rows,
    judge_rows,
    may_observe_anyone,
    observable_reps,
    observations_with_signoff,
    outcome_lines,
    panel_progress,
    session_certification,
    sessions_to_judge,
    signed_initial,
    signoff_detail,
    signoff_get_for,
    takes_part_in_assessments,
    takes_part_in_field,
)
from certification.services import assessments as assessment_services
from certification.services import signoffs as signoff_services
from config.errors import ApplicationError, ConflictError, NotFoundError

PAGE_SIZE = 20
SCHEDULED = AssessmentSession.Status.SCHEDULED
RELEASED = AssessmentSession.Status.RELEASED


class SignedInRequest(HttpRequest):
    """A request from a signed-in person: ``rule_required`` has checked."""

    user: User


# Helpers ------------------------------------------------------------------------------------


def _paginate(request: HttpRequest, items: QuerySet[Any], param: str) -> Page:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


def _session(request: SignedInRequest, session_id: int) -> AssessmentSession:
    try:
        return session_get_for(session_id=session_id, user=request.user)
    except NotFoundError:
        raise Http404 from None


def _signoff(request: SignedInRequest, signoff_id: int) -> SignOff:
    try:
        return signoff_get_for(signoff_id=signoff_id, user=request.user)
    except NotFoundError:
        raise Http404 from None


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _autosaved(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    """The status line an htmx autosave swaps in beside the buttons."""
    return render(
        request,
        "certification/assess/partials/autosave_status.html",
        {"error": error, "saved_at": None if error else timezone.now()},
        status=status,
    )


def _post_ratings(
    request: HttpRequest,
    form: RatingForm,
    *,
    save: Callable[[bool], tuple[str, str]],
    final: str,
    page: str,
) -> HttpResponse | None:
    """Handle a posted rating form. ``save(final)`` saves a draft, or submits / signs when the
    button named ``final`` was pressed, and says what to tell the person and where to go.

    An htmx autosave (always a draft) gets a status line back. A full post redirects with a
    message, or returns None so the page is shown again with the errors on the criteria.
    """
    htmx = bool(request.htmx)  # type: ignore[attr-defined]
    if not form.is_valid():
        return (
            _autosaved(request, error="Not saved: check the ratings.", status=400) if htmx else None
        )
    try:
        message, target = save(final in request.POST and not htmx)
    except NotFoundError:
        raise Http404 from None
    except ApplicationError as error:
        if htmx:
            return _autosaved(request, error=error.message, status=400)
        if isinstance(error, ConflictError):
            messages.error(request, error.message)
            return redirect(page)
        form.apply_error(error)
        return None
    if htmx:
        return _autosaved(request)
    messages.success(request, message)
    return redirect(target)


# Level 2: the hub ---------------------------------------------------------------------------


@rule_required(takes_part_in_assessments)
def assessments(request: SignedInRequest) -> HttpResponse:
    """One section per role: the rep's sessions and results, the sessions to judge, play or
    own, and a manager's team."""
    user = request.user
    context: dict[str, Any] = {"now": timezone.now()}
    if user.is_rep:
        own = list(sessions_for_rep(rep=user))
        context["rep_upcoming"] = sorted(
            (s for s in own if s.status == SCHEDULED), key=lambda s: s.scheduled_at
        )
        context["rep_results"] = [s for s in own if s.status == RELEASED]
    seats = sessions_to_judge(user=user)
    to_judge = judge_rows(seats.filter(status=SCHEDULED).order_by("scheduled_at"), user=user)
    judged = _paginate(
        request, seats.filter(status=RELEASED).order_by("-scheduled_at", "-pk"), "judged"
    )
    judged_rows = judge_rows(judged.object_list, user=user)
    context.update(
        show_judging=bool(to_judge or judged_rows or user.is_manager or user.is_enablement),
        to_judge=to_judge,
        judged=judged,
        judged_rows=judged_rows,
    )
    if user.is_manager:
        team = sessions_for_manager(manager=user)
        context["team_upcoming"] = list(team.filter(status=SCHEDULED).order_by("scheduled_at"))
        context["team_past"] = _paginate(
            request, team.exclude(status=SCHEDULED).order_by("-scheduled_at", "-pk"), "team"
        )
    return render(request, "certification/assess/assessment_list.html", context)


# Level 2: a session -------------------------------------------------------------------------


@rule_required(predicates.is_authenticated)
def session(request: SignedInRequest, session_id: int) -> HttpResponse:
    """The session as this person may see it: logistics and briefs, the guide, the result
    once released, and for the owner a preview of the combined result and a Release button."""
    found = _session(request, session_id)
    user = request.user
    view = session_view(session=found, user=user)
    on_panel = bool(rules.is_on_panel(user, found)) and not view.is_rep
    reviews = bool(rules.can_release_session(user, found))
    context: dict[str, Any] = {
        "view": view,
        "session": found,
        "on_panel": on_panel,
        "now": timezone.now(),
    }
    if found.status == RELEASED and view.can_see_result:
        context["feedback"] = feedback_rows(session_feedback(session=found))
        context["overall_comments"] = session_overall_comments(session=found)
        context["certification"] = session_certification(session=found)
    progress = panel_progress(session=found) if on_panel or reviews else []
    context["progress"] = progress
    # An owner who also judges sees the combined result (the other judges' ratings, in effect)
    # only once their own scores are in, as on the scoring screen: a judge is not swayed.
    own_pending = on_panel and any(
        seat.member.judge_id == user.pk and seat.status != "submitted" for seat in progress
    )
    context["own_pending"] = own_pending
    if view.can_release and not own_pending:
        preview = assessment_services.session_outcome(found)
        context["preview"] = preview
        context["preview_lines"] = outcome_lines(preview, view.guide) if preview else []
    if reviews:
        guide = view.guide
        context["cards"] = [
            (card, card_lines(card, guide))
            for card in scorecards_visible_to(session=found, user=user)
            if card.status == "submitted"
        ]
    return render(request, "certification/assess/session_detail.html", context)


@rule_required(predicates.is_authenticated)
def session_score(request: SignedInRequest, session_id: int) -> HttpResponse:
    """A judge's scoring screen: the guide beside the form; once submitted, their scores
    read-only and the other judges' submitted scorecards."""
    found = _session(request, session_id)
    user = request.user
    if not rules.can_score_session(user, found):
        raise Http404
    view = session_view(session=found, user=user)
    cards = scorecards_visible_to(session=found, user=user)
    mine = next((card for card in cards if card.judge.pk == user.pk), None)
    form = RatingForm(
        request.POST or None,
        guide=view.guide,
        initial_ratings={cid: (r.rating, r.comment) for cid, r in mine.ratings.items()}
        if mine
        else {},
        overall_initial=mine.overall_comment if mine else "",
    )
    page = reverse("certification:session_score", args=[found.pk])

    def save(submit: bool) -> tuple[str, str]:
        assessment_services.scorecard_save(
            session=found,
            judge=user,
            ratings=form.ratings(),
            overall_comment=form.cleaned_data["overall_comment"],
            submit=submit,
        )
        if submit:
            return "Your scores are submitted.", page
        return "Draft saved. Submit when every criterion is rated.", page

    if request.method == "POST":
        done = _post_ratings(request, form, save=save, final="submit", page=page)
        if done is not None:
            return done
    editable = view.can_score and (mine is None or mine.status == "draft")
    others = [card for card in cards if card.judge.pk != user.pk and card.status == "submitted"]
    progress = panel_progress(session=found)
    return render(
        request,
        "certification/assess/scorecard_form.html",
        {
            "view": view,
            "session": found,
            "form": form,
            "editable": editable,
            "mine": mine,
            "mine_lines": card_lines(mine, view.guide) if mine and not editable else [],
            "others": [(card, card_lines(card, view.guide)) for card in others],
            "progress": progress,
            "submitted_count": sum(seat.status == "submitted" for seat in progress),
        },
    )


@rule_required(predicates.is_authenticated)
@require_POST
def session_release(request: SignedInRequest, session_id: int) -> HttpResponse:
    """Release the combined result to the rep (owner or enablement, whole panel submitted)."""
    found = _session(request, session_id)
    if not rules.can_release_session(request.user, found):
        raise Http404
    try:
        released = assessment_services.session_release(session=found, actor=request.user)
    except NotFoundError:
        raise Http404 from None
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        verdict = "passed" if released.passed else "did not pass"
        messages.success(
            request,
            f"Result released: {released.score}%, {verdict}. "
            f"{released.rep.display_name} can now read the feedback.",
        )
    return redirect("certification:session", session_id=found.pk)


# Level 3: the field page and observations ---------------------------------------------------


@rule_required(takes_part_in_field)
def field(request: SignedInRequest) -> HttpResponse:
    """Observations recorded (drafts first) and sign-offs of the reps one may see; for a rep,
    their own sign-offs with an Acknowledge button."""
    user = request.user
    observations = _paginate(request, observations_with_signoff(observer=user), "page")
    can_record = may_observe_anyone(user)
    context: dict[str, Any] = {
        "observations": observations,
        "can_record": can_record,
        "show_observations": can_record or observations.paginator.count > 0,
    }
    state = signoff_services.signoff_state
    if user.is_rep:
        context["own_signoffs"] = [(s, state(s)) for s in signoffs_for_rep(rep=user)]
    if user.is_manager or user.is_enablement:
        page = _paginate(request, signoffs_visible_to(user=user).exclude(rep=user), "signoffs")
        context["team_signoffs"] = page
        context["team_rows"] = [(s, state(s)) for s in page.object_list]
    return render(request, "certification/assess/field_list.html", context)


@rule_required(may_observe_anyone)
def observation_new(request: SignedInRequest) -> HttpResponse:
    """Record a field observation of a rep one may observe; score it on the next page."""
    form = ObservationForm(
        request.POST or None,
        reps=observable_reps(user=request.user),
        initial={"rep": request.GET.get("rep"), "subject": request.GET.get("subject")},
    )
    if request.method == "POST":
        if form.has_error("rep", "invalid_choice"):
            raise Http404  # a rep this person may not observe: as if there were none
        if form.is_valid():
            try:
                observation = signoff_services.observation_create(
                    observer=request.user, **form.cleaned_data
                )
            except NotFoundError:
                raise Http404 from None
            except ApplicationError as error:
                form.apply_error(error)
            else:
                messages.success(request, "Observation recorded. Score it with the guide.")
                return redirect("certification:observation", observation_id=observation.pk)
    return render(request, "certification/assess/observation_form.html", {"form": form})


@rule_required(predicates.is_authenticated)
def observation(request: SignedInRequest, observation_id: int) -> HttpResponse:
    """The observer's draft scored with the guide; Save draft or Sign off. Once signed, the
    sign-off is the record."""
    try:
        found = observation_get_for_observer(observation_id=observation_id, observer=request.user)
    except NotFoundError:
        raise Http404 from None
    if found.status == FieldObservation.Status.SIGNED:
        return redirect("certification:signoff", signoff_id=current_signoff_id(observation=found))
    guide = guide_for_judges(found.guide_version)
    form = RatingForm(
        request.POST or None,
        guide=guide,
        initial_ratings={r.criterion_id: (r.rating, r.comment) for r in found.ratings.all()},
        overall_initial=found.comment,
    )
    page = reverse("certification:observation", args=[found.pk])

    def save(sign: bool) -> tuple[str, str]:
        # The draft is saved first and kept when signing is refused: nothing the observer
        # wrote is lost, and nothing is signed.
        saved = signoff_services.observation_save(
            observation=found,
            actor=request.user,
            ratings=form.ratings(),
            comment=form.cleaned_data["overall_comment"],
        )
        if not sign:
            return "Draft saved. Sign off when every criterion is rated.", page
        signed = signoff_services.observation_sign(observation=saved, actor=request.user)
        return (
            "Signed off. The rep is asked to acknowledge it.",
            reverse("certification:signoff", args=[signed.pk]),
        )

    if request.method == "POST":
        done = _post_ratings(request, form, save=save, final="sign", page=page)
        if done is not None:
            return done
    return render(
        request,
        "certification/assess/observation_detail.html",
        {"observation": found, "guide": guide, "form": form},
    )


# Level 3: sign-offs -------------------------------------------------------------------------


def _signoff_page(
    request: SignedInRequest, signoff: SignOff, *, revoke_form: RevokeForm | None = None
) -> HttpResponse:
    user = request.user
    state = signoff_services.signoff_state(signoff)
    amend = bool(rules.can_amend_signoff(user, signoff)) and state == "current"
    return render(
        request,
        "certification/assess/signoff_detail.html",
        {
            "detail": signoff_detail(signoff=signoff),
            "signoff": signoff,
            "state": state,
            "is_rep": signoff.rep_id == user.pk,
            "acknowledged": hasattr(signoff, "acknowledgement"),
            "can_amend": amend,
            "revoke_form": revoke_form or (RevokeForm() if amend else None),
        },
    )


@rule_required(predicates.is_authenticated)
def signoff(request: SignedInRequest, signoff_id: int) -> HttpResponse:
    """A sign-off: the frozen ratings and comments, its state, the correction chain."""
    return _signoff_page(request, _signoff(request, signoff_id))


@rule_required(predicates.is_authenticated)
@require_POST
def signoff_acknowledge(request: SignedInRequest, signoff_id: int) -> HttpResponse:
    """The rep confirms having read the sign-off's feedback."""
    found = _signoff(request, signoff_id)
    if found.rep_id != request.user.pk:
        raise Http404
    try:
        signoff_services.signoff_acknowledge(signoff=found, rep=request.user)
    except NotFoundError:
        raise Http404 from None
    messages.success(request, "Thank you: the feedback is marked as read.")
    return redirect(_safe_next(request, reverse("certification:signoff", args=[found.pk])))


def _amendable(request: SignedInRequest, signoff_id: int) -> SignOff:
    found = _signoff(request, signoff_id)
    if not rules.can_amend_signoff(request.user, found):
        raise Http404
    return found


@rule_required(predicates.is_authenticated)
def signoff_correct(request: SignedInRequest, signoff_id: int) -> HttpResponse:
    """Correct a sign-off: a new one supersedes it, with a reason; the original stays."""
    found = _amendable(request, signoff_id)
    state = signoff_services.signoff_state(found)
    if state != "current":
        messages.error(request, f"This sign-off is {state}; correct the current one.")
        return redirect("certification:signoff", signoff_id=found.pk)
    guide = guide_for_judges(found.guide_version)
    form = CorrectionForm(
        request.POST or None,
        guide=guide,
        initial_ratings=signed_initial(found),
        overall_initial=found.comment,
    )
    if request.method == "POST" and form.is_valid():
        try:
            new = signoff_services.signoff_correct(
                signoff=found,
                actor=request.user,
                ratings=form.ratings(),
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["overall_comment"],
            )
        except NotFoundError:
            raise Http404 from None
        except ConflictError as error:
            messages.error(request, error.message)
            return redirect("certification:signoff", signoff_id=found.pk)
        except ApplicationError as error:
            form.apply_error(error)
        else:
            messages.success(request, "Corrected. The new sign-off supersedes the original.")
            return redirect("certification:signoff", signoff_id=new.pk)
    return render(
        request,
        "certification/assess/signoff_form.html",
        {"signoff": found, "guide": guide, "form": form},
    )


@rule_required(predicates.is_authenticated)
@require_POST
def signoff_revoke(request: SignedInRequest, signoff_id: int) -> HttpResponse:
    """Revoke a sign-off with a reason (and the certification it earned)."""
    found = _amendable(request, signoff_id)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            signoff_services.signoff_revoke(
                signoff=found, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except NotFoundError:
            raise Http404 from None
        except ConflictError as error:
            messages.error(request, error.message)
        except ApplicationError as error:
            form.add_error("reason", error.message)
            return _signoff_page(request, found, revoke_form=form)
        else:
            messages.success(request, "Sign-off revoked. It stays on record with your reason.")
        return redirect("certification:signoff", signoff_id=found.pk)
    return _signoff_page(request, found, revoke_form=form)
