"""Teleprospecting support pages: a rep's status and request form (/support/), and the
teleprospecting lead's periods, allocation board, usage and outcomes (/teleprospecting/).

Each page checks sign-in, then the role's predicate (404 otherwise, as if there were no
page); views parse input with ``certification.forms_support``, call one service or selector
and render. A refused use case is shown on the fields it names.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.decorators import rule_required
from accounts.models import User
from certification import rules
from certification.forms_support import PeriodForm, SupportRequestForm, UsageForm
from certification.models import SupportPeriod, SupportRequest
from certification.selectors.support import (
    allocation_board,
    entitlement,
    hours_text,
    period_latest,
    period_with_figures,
    periods_with_figures,
    request_options,
    requesting_reps,
    support_outcomes_by_rep,
    support_request_get_for_rep,
    support_requests_of,
    usages_of_period,
)
from certification.services.support import (
    period_create,
    period_update,
    support_allocate,
    support_request_create,
    support_request_withdraw,
    support_usage_record,
)
from config.errors import ApplicationError, NotFoundError

PAGE_SIZE = 20


class SignedInRequest(HttpRequest):
    """A request from a signed-in person: ``rule_required`` has checked."""

    user: User


def _paginate(request: HttpRequest, items: QuerySet[Any], param: str = "page") -> Page:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get(param))


# The rep ----------------------------------------------------------------------------------------


def support_status(*, rep: User, today: Any) -> dict[str, Any]:
    """What the rep's status panel shows; the 'my tier' page can include the same partial
    (``certification/support/partials/rep_status.html``) with this context."""
    answer = entitlement(rep=rep, today=today)
    return {"entitlement": answer}


@rule_required(rules.can_request_support)
def my_support(request: SignedInRequest) -> HttpResponse:
    """The rep's support this period (eligible or why not, hours allocated, used and left),
    a request form for the current or next period, and their requests so far."""
    rep = request.user
    today = timezone.localdate()
    options = request_options(rep=rep, today=today)
    form = SupportRequestForm(request.POST or None, periods=options.askable)
    if request.method == "POST":
        if not options.askable:
            messages.error(request, "There is no period you can ask for support in.")
            return redirect("certification:support")
        if form.is_valid():
            try:
                support_request_create(
                    rep=rep,
                    period=form.cleaned_data["period"],
                    purpose=form.cleaned_data["purpose"],
                    hours_requested=form.cleaned_data["hours_requested"],
                )
            except ApplicationError as error:
                form.apply_error(error)
            else:
                messages.success(
                    request,
                    "Support requested. The allocation decides the hours; the reason appears here.",
                )
                return redirect("certification:support")
    history = _paginate(request, support_requests_of(rep=rep))
    context = {
        **support_status(rep=rep, today=today),
        "form": form if options.askable else None,
        "not_askable": options.not_askable,
        "tier": options.tier,
        "history": history,
        "today": today,
        "currency": settings.BASE_CURRENCY,
    }
    return render(request, "certification/support/my_support.html", context)


@rule_required(rules.can_request_support)
@require_POST
def support_withdraw(request: SignedInRequest, request_id: int) -> HttpResponse:
    """The rep withdraws one of their requests."""
    try:
        found = support_request_get_for_rep(request_id=request_id, rep=request.user)
        support_request_withdraw(support_request=found, rep=request.user)
    except NotFoundError:
        raise Http404 from None
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Request withdrawn.")
    return redirect("certification:support")


# The teleprospecting lead -----------------------------------------------------------------------


@rule_required(rules.can_lead_teleprospecting)
def tp_periods(request: SignedInRequest) -> HttpResponse:
    """Every period with its capacity, hours allocated and used, requests and waiting list."""
    page = _paginate(request, periods_with_figures())
    return render(
        request,
        "certification/support/period_list.html",
        {"periods": page, "today": timezone.localdate()},
    )


def _period(period_id: int) -> SupportPeriod:
    try:
        return period_with_figures(period_id=period_id)
    except NotFoundError:
        raise Http404 from None


@rule_required(rules.can_lead_teleprospecting)
def tp_period_new(request: SignedInRequest) -> HttpResponse:
    """Open a period: dates, capacity and eligible tiers with their weights."""
    latest = period_latest()
    today = timezone.localdate()
    starts = max(latest.ends_on + timedelta(days=1), today) if latest else today
    form = PeriodForm(
        request.POST or None,
        initial={"starts_on": starts, "ends_on": starts + timedelta(days=6), "capacity_hours": 60},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            period = period_create(
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                capacity_hours=data["capacity_hours"],
                tier_weights=form.tier_weights(),
                actor=request.user,
            )
        except ApplicationError as error:
            form.apply_error(error)
        else:
            messages.success(request, "Period opened. Reps of the eligible tiers can now ask.")
            return redirect("certification:tp_period", period_id=period.pk)
    return render(request, "certification/support/period_form.html", {"form": form})


@rule_required(rules.can_lead_teleprospecting)
def tp_period_edit(request: SignedInRequest, period_id: int) -> HttpResponse:
    """Change a period's dates, capacity or weights (a made allocation follows the change
    before the period starts)."""
    period = _period(period_id)
    form = PeriodForm.for_period(period, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            period_update(
                period=period,
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                capacity_hours=data["capacity_hours"],
                tier_weights=form.tier_weights(),
                actor=request.user,
            )
        except ApplicationError as error:
            form.apply_error(error)
        else:
            messages.success(request, "Period saved.")
            return redirect("certification:tp_period", period_id=period.pk)
    return render(
        request, "certification/support/period_form.html", {"form": form, "period": period}
    )


@rule_required(rules.can_lead_teleprospecting)
def tp_period(request: SignedInRequest, period_id: int) -> HttpResponse:
    """A period's allocation board (tier, outcome score, hours, status, reason, waiting list),
    the Run allocation button, and usage: the form to record it and what was recorded."""
    period = _period(period_id)
    form = UsageForm(
        request.POST or None,
        reps=requesting_reps(period=period),
        currency=settings.BASE_CURRENCY,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = support_usage_record(
                actor=request.user,
                rep=data["rep"],
                period=period,
                hours=data["hours"],
                meetings_set=data["meetings_set"],
                pipeline_amount=data["pipeline_amount"],
                idempotency_key=data["idempotency_key"],
            )
        except ApplicationError as error:
            form.apply_error(error)
        else:
            note = "Usage recorded." if result.created else "Already recorded; kept once."
            messages.success(request, note)
            return redirect("certification:tp_period", period_id=period.pk)
    rows = allocation_board(period=period)
    today = timezone.localdate()
    context = {
        "period": period,
        "rows": rows,
        "waiting": [row for row in rows if row.request.status == SupportRequest.Status.WAITING],
        "form": form,
        "usages": _paginate(request, usages_of_period(period=period), "usage"),
        "remaining": max(period.capacity_hours - period.hours_allocated, 0),  # type: ignore[attr-defined]
        "can_allocate": period.ends_on >= today,
        "started": period.starts_on <= today,
        "currency": settings.BASE_CURRENCY,
    }
    return render(request, "certification/support/period_board.html", context)


@rule_required(rules.can_lead_teleprospecting)
@require_POST
def tp_allocate(request: SignedInRequest, period_id: int) -> HttpResponse:
    """Run the allocation now (the same service the nightly task calls)."""
    period = _period(period_id)
    try:
        result = support_allocate(period=period, actor=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Allocated {hours_text(result.allocated)} of {hours_text(result.capacity)} h to "
            f"{result.allocated_count} request{'s' if result.allocated_count != 1 else ''}; "
            f"{result.waiting_count} waiting, {result.ineligible_count} not eligible.",
        )
    return redirect("certification:tp_period", period_id=period.pk)


@rule_required(rules.can_lead_teleprospecting)
def tp_outcomes(request: SignedInRequest) -> HttpResponse:
    """Outcomes per rep across every period: hours used, meetings, pipeline, per hour."""
    page = _paginate(request, support_outcomes_by_rep())
    return render(
        request,
        "certification/support/outcomes.html",
        {"reps": page, "currency": settings.BASE_CURRENCY},
    )
