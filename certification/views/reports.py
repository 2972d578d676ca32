"""Readiness report pages: the headline figures, the rep x subject matrix and the gap list
(each figure links to the reps behind it), the customer-ready requirements, a manager's team
page and a rep's own readiness.

Enablement sees everyone; a manager sees their subtree (the selectors scope every row and
figure); anyone else gets 404. Views parse the filters, call a selector or service, render.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import rules as account_rules
from accounts.decorators import rule_required
from accounts.models import ISO_WEEKDAYS, User
from certification.forms_reports import ReportFilterForm, RequirementForm, SubscriptionForm
from certification.models import ReadinessRequirement, Tier
from certification.selectors import readiness as selectors
from certification.selectors.participation import assessment_todo
from certification.selectors.readiness import (
    EXPIRY_WINDOWS,
    INACTIVE_DAYS,
    BadCursorError,
    ReportFilters,
)
from certification.services import readiness as services
from certification.views.authoring import _apply_errors
from certification.views.charts import bar_chart
from config.errors import ApplicationError

reads_reports = account_rules.is_enablement | account_rules.is_manager
# The filters that pick the reps behind a figure: the gap list and matrix take them; the
# summary's figures are of the whole slice, so its form leaves them out.
DRILLDOWN_FIELDS = ("ready", "expiring", "inactive")
manages_requirements = account_rules.is_enablement


def _filters(request: HttpRequest, viewer: User) -> tuple[ReportFilterForm, ReportFilters]:
    """The filter form bound to the query string, and the filters it yields. With invalid
    filters pages show the errors and no figures: never the unfiltered report in their place."""
    data = request.GET.copy()
    for key in ("cursor", "page_size"):
        data.pop(key, None)
    form = ReportFilterForm(data or None, viewer=viewer)
    return form, form.to_filters()


def _invalid(form: ReportFilterForm) -> bool:
    return form.is_bound and not form.is_valid()


def _link(name: str, filters: ReportFilters, **changes: Any) -> str:
    """The URL of a report page showing ``filters`` changed by ``changes``."""
    query = filters.with_(**changes).as_query()
    return reverse(f"certification:{name}") + (f"?{urlencode(query)}" if query else "")


def _figure_links(headline: selectors.Headline, filters: ReportFilters) -> dict[str, Any]:
    """For each headline figure, the gap-list link that lists the reps behind it."""
    base = filters.without_drilldown()
    return {
        "offerings": [
            {
                "row": row,
                "ready": _link("report_gaps", base, offering=row.offering.pk, ready="yes"),
                "not_ready": _link("report_gaps", base, offering=row.offering.pk, ready="no"),
                "in_scope": _link("report_gaps", base, offering=row.offering.pk),
            }
            for row in headline.offerings
        ],
        "tiers": [
            {"tier": tier, "count": count, "link": _link("report_gaps", base, tier=tier)}
            for tier, count in headline.tiers.items()
        ],
        "expiring": [
            {"days": days, "count": count, "link": _link("report_gaps", base, expiring=days)}
            for days, count in headline.expiring.items()
        ],
        "inactive": _link("report_gaps", base, inactive=True),
        "all": _link("report_gaps", base),
    }


def _export_fields(filters: ReportFilters) -> list[tuple[str, str]]:
    return list(filters.as_query().items())


@rule_required(reads_reports)
def readiness_report(request: HttpRequest) -> HttpResponse:
    """Headline figures of the slice, each a link to the reps behind it."""
    viewer: User = request.user  # type: ignore[assignment]
    form, filters = _filters(request, viewer)
    if _invalid(form):
        return render(
            request,
            "certification/reports/readiness.html",
            {"tab": "summary", "form": form, "invalid": True},
        )
    # The figures of the slice; a drill-down (ready, expiring, inactive) narrows the lists
    # the figures link to, not the figures themselves.
    filters = filters.without_drilldown()
    headline = selectors.readiness_headline(viewer=viewer, filters=filters, now=timezone.now())
    links = _figure_links(headline, filters)
    return render(
        request,
        "certification/reports/readiness.html",
        {
            "offering_chart": bar_chart(
                "Share of reps customer ready, per offering",
                [
                    (i["row"].offering.name, i["row"].percent, i["ready"])
                    for i in links["offerings"]
                ],
                "%",
                max_value=100,
            ),
            "tier_chart": bar_chart(
                "Reps per tier",
                [(str(Tier(t["tier"]).label), t["count"], t["link"]) for t in links["tiers"]],
            ),
            "tab": "summary",
            "drilldown_fields": DRILLDOWN_FIELDS,
            "form": form,
            "filters": filters,
            "headline": headline,
            "links": links,
            "export_fields": _export_fields(filters),
            "inactive_days": INACTIVE_DAYS,
            "query": urlencode(filters.as_query()),
            "weekdays": ISO_WEEKDAYS,
            "subscription": selectors.report_subscription_of(viewer),
            "can_manage": manages_requirements(viewer),
        },
    )


def _page(request: HttpRequest, viewer: User, filters: ReportFilters) -> selectors.ReportPage:
    try:
        size = int(request.GET.get("page_size", selectors.PAGE_SIZE))
    except ValueError:
        size = selectors.PAGE_SIZE
    try:
        return selectors.readiness_page(
            viewer=viewer,
            filters=filters,
            now=timezone.now(),
            cursor=request.GET.get("cursor", ""),
            size=size,
        )
    except BadCursorError as error:
        messages.warning(request, str(error))
        return selectors.readiness_page(viewer=viewer, filters=filters, now=timezone.now())


def _paged(request: HttpRequest, template: str, tab: str) -> HttpResponse:
    viewer: User = request.user  # type: ignore[assignment]
    form, filters = _filters(request, viewer)
    if _invalid(form):
        return render(request, template, {"tab": tab, "form": form, "invalid": True})
    page = _page(request, viewer, filters)
    query = QueryDict(mutable=True)
    query.update(filters.as_query())
    if "page_size" in request.GET:
        query["page_size"] = request.GET["page_size"]
    return render(
        request,
        template,
        {
            "tab": tab,
            "form": form,
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
            "export_fields": _export_fields(filters),
            "soon": timezone.now() + timedelta(days=EXPIRY_WINDOWS[0]),
        },
    )


@rule_required(reads_reports)
def readiness_matrix(request: HttpRequest) -> HttpResponse:
    """Reps x subjects: the highest active level and its expiry, a page of reps at a time."""
    return _paged(request, "certification/reports/matrix.html", "matrix")


@rule_required(reads_reports)
def readiness_gaps(request: HttpRequest) -> HttpResponse:
    """Per rep, what is missing for customer readiness and for the next tier."""
    return _paged(request, "certification/reports/gaps.html", "gaps")


# Requirements ---------------------------------------------------------------------------------


@rule_required(reads_reports)
def requirement_list(request: HttpRequest) -> HttpResponse:
    """The customer-ready requirements, per offering (managers read them; enablement edits)."""
    requirements = selectors.requirements_visible_to(request.user)  # type: ignore[arg-type]
    return render(
        request,
        "certification/reports/requirement_list.html",
        {"requirements": requirements, "can_manage": manages_requirements(request.user)},
    )


@rule_required(manages_requirements)
def requirement_edit(request: HttpRequest, requirement_id: int | None = None) -> HttpResponse:
    """Create a requirement, or change one (its slice and its certifications)."""
    requirement = (
        get_object_or_404(ReadinessRequirement, pk=requirement_id)
        if requirement_id is not None
        else None
    )
    form = RequirementForm(request.POST or None, requirement=requirement)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.requirement_save(
                actor=request.user,  # type: ignore[arg-type]
                offering=data["offering"],
                team=data["team"],
                segment=data["segment"],
                sales_role=data["sales_role"],
                items=data["items"],
                requirement=requirement,
            )
        except ApplicationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Requirement saved: {saved}.")
            return redirect("certification:report_requirements")
    return render(
        request,
        "certification/reports/requirement_form.html",
        {"form": form, "requirement": requirement},
    )


@require_POST
@rule_required(manages_requirements)
def requirement_delete(request: HttpRequest, requirement_id: int) -> HttpResponse:
    requirement = get_object_or_404(ReadinessRequirement, pk=requirement_id)
    label = str(requirement)
    services.requirement_delete(actor=request.user, requirement=requirement)  # type: ignore[arg-type]
    messages.success(request, f"Requirement removed: {label}.")
    return redirect("certification:report_requirements")


@require_POST
@rule_required(reads_reports)
def subscription_update(request: HttpRequest) -> HttpResponse:
    """Turn the weekly headline email on or off."""
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        try:
            services.subscription_set(
                user=request.user,  # type: ignore[arg-type]
                is_active=form.cleaned_data["is_active"],
                weekday=form.cleaned_data["weekday"],
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                "Weekly report on." if form.cleaned_data["is_active"] else "Weekly report off.",
            )
    else:
        messages.error(request, "Choose a weekday for the weekly report.")
    return redirect("certification:report_readiness")


# A manager's team and a rep's own readiness -------------------------------------------------


@rule_required(account_rules.is_manager)
def team_readiness(request: HttpRequest) -> HttpResponse:
    """My team: its readiness, upcoming expiries, and what waits for me."""
    viewer: User = request.user  # type: ignore[assignment]
    now = timezone.now()
    filters = ReportFilters()
    headline = selectors.readiness_headline(viewer=viewer, filters=filters, now=now)
    expiring = selectors.expiring_certifications(
        viewer=viewer, now=now, within_days=EXPIRY_WINDOWS[-1]
    )
    return render(
        request,
        "certification/reports/team.html",
        {
            "headline": headline,
            "links": _figure_links(headline, filters),
            "expiring": expiring,
            "window": EXPIRY_WINDOWS[-1],
            "todo": assessment_todo(user=viewer),
            "upcoming": selectors.upcoming_assessments(viewer=viewer, now=now)[:10],
            "inactive_days": INACTIVE_DAYS,
        },
    )


@rule_required(account_rules.is_rep)
def my_readiness(request: HttpRequest) -> HttpResponse:
    """My readiness per offering, and the shortest path to customer ready."""
    rep: User = request.user  # type: ignore[assignment]
    now = timezone.now()
    readiness = selectors.rep_readiness(rep=rep, now=now)
    return render(
        request,
        "certification/reports/my_readiness.html",
        {"readiness": readiness, "soon": now + timedelta(days=EXPIRY_WINDOWS[-1])},
    )
