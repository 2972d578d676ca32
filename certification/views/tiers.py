"""Tier pages: the rep's tier and the checklist to the next one, a manager's team, and for
enablement the rule, the reps (with overrides) and the history of every change.

Anyone else gets 404. Views parse input with ``certification.forms_tiers``, call one service
or selector, and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import rules as account_rules
from accounts.decorators import rule_required
from accounts.models import User
from certification.forms_tiers import TierFilterForm, TierOverrideForm, TierRuleForm
from certification.models import Tier, TierOverride
from certification.selectors import tiers as selectors
from certification.selectors.certificates import certifications_of
from certification.selectors.support import entitlement
from certification.services import tiers as services
from certification.views.authoring import _filters, _paginate
from config.errors import ApplicationError

can_manage_tiers = account_rules.is_enablement
sees_team_tiers = account_rules.is_manager | account_rules.is_enablement


def _checklist(missing: list[str]) -> list[dict[str, str]]:
    """Each missing item with where to act on it."""
    items = []
    for text in missing:
        if text.startswith("level 1"):
            where = "certification:my_tests"
        elif text.startswith(("level 2", "level 3")):
            where = "certification:assessments" if "level 2" in text else "certification:field"
        else:
            where = ""
        items.append({"text": text, "where": where})
    return items


@rule_required(account_rules.is_rep)
def my_tier(request: HttpRequest) -> HttpResponse:
    """The rep's tier, why, what the next tier needs, and how it changed."""
    rep: User = request.user  # type: ignore[assignment]
    row = selectors.tier_of(rep)
    return render(
        request,
        "certification/tiers/my_tier.html",
        {
            "row": row,
            "next_tier": _next_tier(row.computed),
            "checklist": _checklist(row.missing),
            "override": selectors.active_override(rep=rep),
            "history": selectors.tier_history(rep=rep)[:20],
            "entitlement": entitlement(rep=rep, today=timezone.localdate()),
        },
    )


def _next_tier(tier: str) -> str:
    order = [t.value for t in Tier]
    index = order.index(tier)
    return Tier(order[index + 1]).label if index + 1 < len(order) else ""


@rule_required(sees_team_tiers)
def team_tiers(request: HttpRequest) -> HttpResponse:
    """The tiers of the reps one may see (a manager's subtree; everyone for enablement)."""
    viewer: User = request.user  # type: ignore[assignment]
    form = TierFilterForm(request.GET or None)
    filters = _filters(form)
    reps = selectors.reps_with_tiers(
        viewer=viewer, tier=filters.get("tier", ""), text=filters.get("q", "")
    )
    page, query = _paginate(request, reps)  # type: ignore[arg-type]
    return render(
        request,
        "certification/tiers/team_tiers.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "distribution": selectors.tier_distribution(viewer=viewer),
            "can_manage": can_manage_tiers(viewer),
        },
    )


@rule_required(can_manage_tiers)
def tier_rule_edit(request: HttpRequest) -> HttpResponse:
    """The tier rule in force; saving it recomputes every rep."""
    rule = services.tier_rule()
    form = TierRuleForm(request.POST or None, rule=rule)
    if request.method == "POST" and form.is_valid():
        try:
            services.tier_rule_update(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ApplicationError as error:
            for field, problems in (error.field_errors or {}).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
            if not error.field_errors:
                form.add_error(None, error.message)
        else:
            messages.success(request, "Tier rule saved. Every rep's tier is being recomputed.")
            return redirect("certification:manage_tiers")
    viewer: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "certification/tiers/rule_form.html",
        {
            "form": form,
            "rule": rule,
            "offerings": services.rule_view().offerings,
            "distribution": selectors.tier_distribution(viewer=viewer),
        },
    )


@rule_required(can_manage_tiers)
def tier_history_list(request: HttpRequest) -> HttpResponse:
    """Every tier change, newest first, with its reasons and cause."""
    form = TierFilterForm(request.GET or None)
    filters = _filters(form)
    changes = selectors.tier_changes(rep_text=filters.get("q", ""), tier=filters.get("tier", ""))
    page, query = _paginate(request, changes)  # type: ignore[arg-type]
    return render(
        request,
        "certification/tiers/history.html",
        {"form": form, "page": page, "query": query, "filtered": bool(filters)},
    )


@rule_required(account_rules.is_authenticated_person)
def rep_tier(request: HttpRequest, rep_id: int) -> HttpResponse:
    """One rep's tier, reasons and history (their managers and enablement); enablement sets
    or ends an override here."""
    rep = get_object_or_404(User, pk=rep_id, is_rep=True)
    viewer: User = request.user  # type: ignore[assignment]
    if not account_rules.can_view_rep_records(viewer, rep) or viewer.pk == rep.pk:
        raise Http404
    manage = can_manage_tiers(viewer)
    form = TierOverrideForm(request.POST or None) if manage else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                services.tier_override_set(rep=rep, actor=viewer, **form.cleaned_data)
            except ApplicationError as error:
                for field, problems in (error.field_errors or {}).items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
            else:
                messages.success(request, f"{rep.display_name}'s tier is set by hand.")
                return redirect("certification:manage_rep_tier", rep_id=rep.pk)
    row = selectors.tier_of(rep)
    return render(
        request,
        "certification/tiers/rep_tier.html",
        {
            "rep": rep,
            "row": row,
            "next_tier": _next_tier(row.computed),
            "override": selectors.active_override(rep=rep),
            "history": selectors.tier_history(rep=rep)[:50],
            "form": form,
            # Enablement revokes a certification from here (views.lifecycle).
            "certifications": certifications_of(rep=rep, now=timezone.now()),
            "can_revoke": manage,
        },
    )


@rule_required(can_manage_tiers)
@require_POST
def override_end(request: HttpRequest, override_id: int) -> HttpResponse:
    override = get_object_or_404(TierOverride.objects.select_related("rep"), pk=override_id)
    if override.rep_id == request.user.pk:
        raise Http404  # nobody ends an override of their own tier
    services.tier_override_end(override=override, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, "Override ended: the computed tier applies again.")
    return redirect("certification:manage_rep_tier", rep_id=override.rep_id)
