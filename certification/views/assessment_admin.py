"""Enablement pages for levels 2 and 3: assessment guides, role-play scenarios, scheduling
sessions, observer delegations, and judge calibration.

Every page is for enablement leads only (anyone else gets 404, as if there were no page). The
views parse input with ``certification.forms_assessment_admin``, call one service or selector,
and render; a refused use case (``ApplicationError``) is shown on the fields it names.

Forms that pick people among thousands, or whose fields follow the guide's scale, re-render as
a *draft* (``action=find``, ``scale``, ``add``): what was typed is kept, nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from accounts.decorators import rule_required
from accounts.models import User
from accounts.selectors import reps_visible_to, teams_visible_to, users_visible_to
from certification import rules
from certification.forms_assessment_admin import (
    CalibrationFilterForm,
    DelegationFilterForm,
    DelegationForm,
    GuideFilterForm,
    GuideForm,
    ScenarioFilterForm,
    ScenarioForm,
    SessionCancelForm,
    SessionFilterForm,
    SessionForm,
    chosen_id,
    chosen_ids,
    criterion_formset,
    version_content,
    with_extra_row,
)
from certification.models import AssessmentSession, Guide, GuideVersion, ObserverDelegation
from certification.selectors import assessment_admin as selectors
from certification.selectors import assessments as assessment_selectors
from certification.selectors.authoring import subjects_for_choice
from certification.services import assessments as assessment_services
from certification.services import signoffs as signoff_services
from certification.services.assessments import (
    panel_problems,
    scenario_create,
    scenario_update,
    session_schedule,
)
from certification.services.guides import guide_create, guide_rename, guide_update
from certification.views.authoring import AuthorRequest, _filters, _paginate, _pk, _safe_next
from config.errors import ApplicationError

PEOPLE_SHOWN = 50
DRAFT_ACTIONS = {"find", "scale", "add"}
# session_schedule refuses a lead judge off the panel, but panel_problems does not check it.
LEAD_NOT_ON_PANEL = "The lead judge must be on the panel."

can_manage = rules.can_manage_assessments


# Helpers --------------------------------------------------------------------------------------


def _apply_errors(
    form: forms.Form, error: ApplicationError, formset: forms.BaseFormSet | None = None
) -> None:
    """Show a refused use case: field errors on their fields (criteria on the formset), and
    the message above the form unless a field already says it."""
    placed: list[str] = []
    for field, errors in error.field_errors.items():
        for message in errors:
            if field in form.fields:
                form.add_error(field, message)
            elif formset is not None and field == "criteria":
                formset.non_form_errors().append(message)
            else:
                continue
            placed.append(message)
    if error.message not in placed:
        form.add_error(None, error.message)


def _action(request: AuthorRequest) -> str:
    """What a POST asks for: save (the default), check, or a draft re-render."""
    return request.POST.get("action", "save") if request.method == "POST" else ""


# Guides ---------------------------------------------------------------------------------------


@rule_required(can_manage)
def guide_list(request: AuthorRequest) -> HttpResponse:
    """List guides with their current version, criteria and how often they have been used."""
    filter_form = GuideFilterForm(
        request.GET or None, subjects=subjects_for_choice(active_only=False)
    )
    filters = _filters(filter_form)
    guides = selectors.guides_for_admin(
        text=filters.get("q", ""), subject_id=_pk(filters.get("subject"))
    )
    page, query = _paginate(request, guides)
    return render(
        request,
        "certification/manage/guide_list.html",
        {
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
        },
    )


def _save_guide(
    request: AuthorRequest,
    *,
    guide: Guide | None,
    version: GuideVersion | None,
    form: GuideForm,
    formset: Any,
) -> tuple[Guide, str]:
    """Create the guide, or rename it and change its content; say what happened."""
    name, subject = form.cleaned_data["name"], form.cleaned_data["subject"]
    content = form.content(formset.criteria())
    if guide is None or version is None:
        guide = guide_create(name=name, subject=subject, content=content, actor=request.user)
        return guide, f"Guide “{guide.name}” is created."
    # Two use cases, one outcome: a refused content keeps the old name too.
    with transaction.atomic():
        renamed = (name.strip(), subject) != (guide.name, guide.subject)
        if renamed:
            guide_rename(guide=guide, name=name, subject=subject, actor=request.user)
        if content == version_content(version):
            return guide, (
                f"Guide “{guide.name}” is renamed; its content is unchanged."
                if renamed
                else "Nothing changed."
            )
        saved = guide_update(guide=guide, content=content, actor=request.user)
    if saved.pk != version.pk:
        return guide, (
            f"Saved as version {saved.number} of “{guide.name}”. Sessions and observations "
            f"that used version {version.number} keep it."
        )
    return guide, f"Guide “{guide.name}” is saved (version {version.number})."


def _guide_form_page(
    request: AuthorRequest, *, guide: Guide | None, version: GuideVersion | None
) -> HttpResponse:
    action = _action(request)
    draft = action in DRAFT_ACTIONS
    data = request.POST if request.method == "POST" else None
    if action == "add":
        data = with_extra_row(data)
    subjects = subjects_for_choice(active_only=guide is None)
    if guide is None or version is None:
        form = GuideForm(data=data, subjects=subjects, draft=draft)
    else:
        form = GuideForm.for_guide(guide, version, subjects=subjects, data=data, draft=draft)
    points = form.shown_points()
    formset = criterion_formset(data=data, version=version, points=points, draft=draft)
    if data is not None and not draft and form.is_valid() and formset.is_valid():
        try:
            saved, message = _save_guide(
                request, guide=guide, version=version, form=form, formset=formset
            )
        except ApplicationError as error:
            _apply_errors(form, error, formset)
        else:
            messages.success(request, message)
            return redirect("certification:manage_guide", guide_id=saved.pk)
    usage = None
    if guide is not None:
        usage = selectors.guide_versions(guide=guide).first()
    return render(
        request,
        "certification/manage/guide_form.html",
        {
            "form": form,
            "formset": formset,
            "guide": guide,
            "version": usage,
            "in_use": bool(usage and (usage.session_count or usage.observation_count)),
            "points": points,
            "draft": draft,
        },
    )


@rule_required(can_manage)
def guide_new(request: AuthorRequest) -> HttpResponse:
    """Write a new guide: its scale, pass rules and criteria."""
    return _guide_form_page(request, guide=None, version=None)


def _guide(guide_id: int) -> Guide:
    return get_object_or_404(Guide.objects.select_related("subject", "created_by"), pk=guide_id)


@rule_required(can_manage)
def guide_detail(request: AuthorRequest, guide_id: int) -> HttpResponse:
    """A guide's current version (or an older one) in full, its history and its scenarios."""
    guide = _guide(guide_id)
    wanted = request.GET.get("version", "")
    number = int(wanted) if wanted.isdigit() else None
    version = selectors.guide_version_with_criteria(guide=guide, number=number)
    if version is None:
        raise Http404
    versions = list(selectors.guide_versions(guide=guide))
    view = assessment_selectors.guide_for_judges(version)
    return render(
        request,
        "certification/manage/guide_detail.html",
        {
            "guide": guide,
            "view": view,
            "has_critical": any(c.is_critical for c in view.criteria),
            "version": version,
            "current": versions[0],
            "versions": versions,
            "scenarios": selectors.scenarios_for_admin(guide_id=guide.pk),
        },
    )


@rule_required(can_manage)
def guide_edit(request: AuthorRequest, guide_id: int) -> HttpResponse:
    """Change a guide; a version already used stays as it was and the change becomes a new one."""
    guide = _guide(guide_id)
    version = selectors.guide_version_with_criteria(guide=guide)
    if version is None:
        raise Http404
    return _guide_form_page(request, guide=guide, version=version)


# Scenarios ------------------------------------------------------------------------------------


@rule_required(can_manage)
def scenario_list(request: AuthorRequest) -> HttpResponse:
    """List scenarios, filtered by title, subject and whether they are active."""
    filter_form = ScenarioFilterForm(
        request.GET or None, subjects=subjects_for_choice(active_only=False)
    )
    filters = _filters(filter_form)
    status = filters.get("status", "")
    scenarios = selectors.scenarios_for_admin(
        text=filters.get("q", ""),
        subject_id=_pk(filters.get("subject")),
        active={"active": True, "retired": False}.get(status),
    )
    page, query = _paginate(request, scenarios)
    return render(
        request,
        "certification/manage/scenario_list.html",
        {
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
        },
    )


@rule_required(can_manage)
def scenario_new(request: AuthorRequest) -> HttpResponse:
    """Write a role-play scenario: its guide, the briefs and the panel rules."""
    form = ScenarioForm(
        data=request.POST or None,
        guides=selectors.guides_for_choice(),
        subjects=subjects_for_choice(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            scenario = scenario_create(
                subject=form.cleaned_data["subject"],
                guide=form.cleaned_data["guide"],
                actor=request.user,
                **form.settings(),
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Scenario “{scenario.title}” is created.")
            return redirect("certification:manage_scenarios")
    return render(
        request, "certification/manage/scenario_form.html", {"form": form, "scenario": None}
    )


@rule_required(can_manage)
def scenario_edit(request: AuthorRequest, scenario_id: int) -> HttpResponse:
    """Change a scenario; sessions already scheduled keep their guide version."""
    scenario = get_object_or_404(selectors.scenarios_for_admin(), pk=scenario_id)
    form = ScenarioForm.for_scenario(
        scenario, guides=selectors.guides_for_choice(), data=request.POST or None
    )
    if request.method == "POST" and form.is_valid():
        guide = form.cleaned_data["guide"]
        try:
            scenario_update(
                scenario=scenario,
                actor=request.user,
                guide=guide if guide.pk != scenario.guide_id else None,
                **form.settings(),
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Scenario “{scenario.title}” is saved.")
            return redirect("certification:manage_scenarios")
    return render(
        request,
        "certification/manage/scenario_form.html",
        {"form": form, "scenario": scenario},
    )


# Sessions -------------------------------------------------------------------------------------


@rule_required(can_manage)
def session_list(request: AuthorRequest) -> HttpResponse:
    """Every session with its panel's progress, filtered by status, scenario and rep."""
    filter_form = SessionFilterForm(
        request.GET or None, scenarios=selectors.scenarios_for_choice(active_only=False)
    )
    filters = _filters(filter_form)
    sessions = selectors.sessions_for_admin(
        status=filters.get("status", ""),
        scenario_id=_pk(filters.get("scenario")),
        rep_text=filters.get("rep", ""),
    )
    page, query = _paginate(request, sessions)
    return render(
        request,
        "certification/manage/session_list.html",
        {
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
            "here": request.get_full_path(),
        },
    )


def _session_form(request: AuthorRequest, *, draft: bool) -> SessionForm:
    """The scheduling form, listing the reps and people the searches found plus those chosen."""
    viewer = request.user
    data = request.POST if request.method == "POST" else None
    source = data if data is not None else request.GET
    reps = reps_visible_to(viewer)
    shown_reps, rep_matches = selectors.people_matching(
        viewer=viewer, text=source.get("rep_q", ""), limit=PEOPLE_SHOWN, reps_only=True
    )
    rep_id = chosen_id(source, "rep")
    if rep_id is not None and rep_id not in {rep.pk for rep in shown_reps}:
        shown_reps = [*reps.filter(pk=rep_id), *shown_reps]
    shown_people, people_matches = selectors.people_matching(
        viewer=viewer, text=source.get("people_q", ""), limit=PEOPLE_SHOWN
    )
    initial: dict[str, Any] = {}
    if data is None:  # a link may name the scenario and the rep, or search
        initial = {
            name: value
            for name in ("scenario", "rep")
            if (value := chosen_id(request.GET, name)) is not None
        }
        initial.update(rep_q=request.GET.get("rep_q", ""), people_q=request.GET.get("people_q", ""))
    form = SessionForm(
        data=data,
        initial=initial,
        viewer=viewer,
        scenarios=selectors.scenarios_for_choice(),
        reps=reps,
        shown_reps=shown_reps,
        shown_people=shown_people,
        chosen_judges=selectors.people_by_ids(chosen_ids(data, "judges")),
        draft=draft,
    )
    form.search_counts = {  # type: ignore[attr-defined]
        "reps": rep_matches,
        "reps_shown": len(shown_reps),
        "people": people_matches,
        "people_shown": len(shown_people),
    }
    return form


def _panel_problems(form: SessionForm, viewer: User) -> list[str]:
    """What breaks the scenario's rules in the chosen panel (call after ``is_valid``)."""
    data = form.cleaned_data
    judges = list(data["judges"])
    problems = panel_problems(
        scenario=data["scenario"],
        rep=data["rep"],
        judges=judges,
        role_player=data["role_player"],
        owner=data["owner"] or viewer,
    )
    if data["lead"] is not None and data["lead"].pk not in {j.pk for j in judges}:
        problems.append(LEAD_NOT_ON_PANEL)
    return problems


@rule_required(can_manage)
def session_new(request: AuthorRequest) -> HttpResponse:
    """Schedule a rep's role-play with a panel chosen under the scenario's rules.

    The panel is checked against the rules before anything is saved ("Check the panel", and
    again on scheduling); the service refuses a panel that breaks them in any case.
    """
    action = _action(request)
    form = _session_form(request, draft=action in DRAFT_ACTIONS)
    problems: list[str] = []
    if request.method == "POST" and action in {"save", "check"} and form.is_valid():
        problems = _panel_problems(form, request.user)
        data = form.cleaned_data
        if not problems and action == "save":
            try:
                session = session_schedule(
                    scenario=data["scenario"],
                    rep=data["rep"],
                    scheduled_at=data["scheduled_at"],
                    judges=list(data["judges"]),
                    owner=data["owner"] or request.user,
                    actor=request.user,
                    lead=data["lead"],
                    role_player=data["role_player"],
                    duration_minutes=data["duration_minutes"],
                    location=data["location"],
                    video_link=data["video_link"],
                )
            except ApplicationError as error:
                _apply_errors(form, error)
            else:
                when = date_format(timezone.localtime(session.scheduled_at), "j M Y, H:i")
                messages.success(
                    request,
                    f"{session.rep.display_name} is scheduled for “{session.scenario.title}” on "
                    f"{when}. They can read the guide now.",
                )
                return redirect("certification:manage_sessions")
    return render(
        request,
        "certification/manage/session_form.html",
        {
            "form": form,
            "problems": problems,
            "checked": action == "check" and form.is_valid() and not problems,
            "draft": action in DRAFT_ACTIONS,
            "counts": form.search_counts,  # type: ignore[attr-defined]
        },
    )


@rule_required(can_manage)
@require_POST
def session_cancel(request: AuthorRequest, session_id: int) -> HttpResponse:
    """Cancel a scheduled session, saying why."""
    session = get_object_or_404(
        AssessmentSession.objects.select_related("scenario", "rep"), pk=session_id
    )
    back = _safe_next(request, reverse("certification:manage_sessions"))
    form = SessionCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the session is cancelled; it is still scheduled.")
        return redirect(back)
    try:
        assessment_services.session_cancel(
            session=session, reason=form.cleaned_data["reason"], actor=request.user
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"The session of {session.rep.display_name} for “{session.scenario.title}” is "
            "cancelled.",
        )
    return redirect(back)


# Delegations ----------------------------------------------------------------------------------


def _delegation_form(request: AuthorRequest, *, draft: bool) -> DelegationForm:
    viewer = request.user
    data = request.POST if request.method == "POST" else None
    source = data if data is not None else {}
    reps = reps_visible_to(viewer)
    shown_people, people_matches = selectors.people_matching(
        viewer=viewer, text=source.get("delegate_q", ""), limit=PEOPLE_SHOWN
    )
    shown_reps, rep_matches = selectors.people_matching(
        viewer=viewer, text=source.get("rep_q", ""), limit=PEOPLE_SHOWN, reps_only=True
    )
    # Keep what was chosen listed, even when the search no longer finds it.
    delegate_id, rep_id = chosen_id(source, "delegate"), chosen_id(source, "rep")
    if delegate_id is not None and delegate_id not in {p.pk for p in shown_people}:
        shown_people = [*selectors.people_by_ids([delegate_id]), *shown_people]
    if rep_id is not None and rep_id not in {r.pk for r in shown_reps}:
        shown_reps = [*reps.filter(pk=rep_id), *shown_reps]
    form = DelegationForm(
        data=data,
        people=users_visible_to(viewer),
        shown_people=shown_people,
        reps=reps,
        shown_reps=shown_reps,
        teams=teams_visible_to(viewer),
        draft=draft,
    )
    form.search_counts = {  # type: ignore[attr-defined]
        "people": people_matches,
        "people_shown": len(shown_people),
        "reps": rep_matches,
        "reps_shown": len(shown_reps),
    }
    return form


@rule_required(can_manage)
def delegation_list(request: AuthorRequest) -> HttpResponse:
    """Observer delegations, current and expired, and a form to name a new delegate."""
    action = _action(request)
    form = _delegation_form(request, draft=action in DRAFT_ACTIONS)
    if request.method == "POST" and action == "save" and form.is_valid():
        data = form.cleaned_data
        try:
            delegation = signoff_services.delegation_create(
                delegate=data["delegate"],
                actor=request.user,
                rep=data["rep"],
                team=data["team"],
                expires_at=data["ends_on"],
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            whom = delegation.rep.display_name if delegation.rep else f"team {delegation.team}"
            messages.success(request, f"{delegation.delegate.display_name} may now observe {whom}.")
            return redirect("certification:manage_delegations")
    filter_form = DelegationFilterForm(request.GET or None)
    filters = _filters(filter_form)
    delegations = selectors.delegations_for_admin(
        status=filters.get("status", ""), text=filters.get("q", "")
    )
    page, query = _paginate(request, delegations)
    return render(
        request,
        "certification/manage/delegation_list.html",
        {
            "form": form,
            "counts": form.search_counts,  # type: ignore[attr-defined]
            "draft": action in DRAFT_ACTIONS,
            "filter_form": filter_form,
            "filtered": any(filters.values()),
            "page": page,
            "query": query,
        },
    )


@rule_required(can_manage)
@require_POST
def delegation_remove(request: AuthorRequest, delegation_id: int) -> HttpResponse:
    """Withdraw a delegation; sign-offs already made stay."""
    delegation = get_object_or_404(
        ObserverDelegation.objects.select_related("delegate", "rep", "team"), pk=delegation_id
    )
    delegate = delegation.delegate.display_name
    whom = delegation.rep.display_name if delegation.rep else f"team {delegation.team}"
    signoff_services.delegation_remove(delegation=delegation, actor=request.user)
    messages.success(request, f"{delegate} no longer observes {whom}. Sign-offs already made stay.")
    return redirect("certification:manage_delegations")


# Calibration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationLine:
    """One judge's figures as the page writes them."""

    row: assessment_selectors.JudgeCalibration
    mean: str  # signed, two decimals: "+0.50"
    direction: str
    mean_absolute: str
    within_one: int  # percent


def _two_decimals(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _calibration_line(row: assessment_selectors.JudgeCalibration) -> CalibrationLine:
    mean = _two_decimals(row.mean_deviation)
    if mean > 0:
        direction = "higher than the panel"
    elif mean < 0:
        direction = "lower than the panel"
    else:
        direction = "in line with the panel"
    signed = f"+{mean}" if mean > 0 else (f"\u2212{-mean}" if mean < 0 else "0.00")
    within = int((Decimal(str(row.within_one)) * 100).quantize(Decimal(1), ROUND_HALF_UP))
    return CalibrationLine(
        row=row,
        mean=signed,
        direction=direction,
        mean_absolute=str(_two_decimals(row.mean_absolute_deviation)),
        within_one=within,
    )


@rule_required(can_manage)
def calibration(request: AuthorRequest) -> HttpResponse:
    """How far each judge rates from their panels, over a period, flagged beyond thresholds."""
    form = CalibrationFilterForm(request.GET or None)
    since, until, period = form.window(timezone.localdate())
    rows = assessment_selectors.judge_calibration(since=since, until=until)
    page, query = _paginate(request, [_calibration_line(row) for row in rows])
    return render(
        request,
        "certification/manage/calibration_list.html",
        {
            "form": form,
            "period": period,
            "page": page,
            "query": query,
            "max_mean": assessment_selectors.CALIBRATION_MAX_MEAN_DEVIATION,
            "min_within": round(assessment_selectors.CALIBRATION_MIN_WITHIN_ONE * 100),
            "min_ratings": assessment_selectors.CALIBRATION_MIN_RATINGS,
        },
    )
