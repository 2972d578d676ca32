"""Enablement pages for the certification lifecycle: a subject's validity periods and new
versions of an offering, and revoking a rep's certification.

Anyone but enablement gets 404. Views parse input with ``certification.forms_lifecycle``,
call one service, and render; a refused use case is shown on the fields it names.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.decorators import rule_required
from certification import rules
from certification.forms_lifecycle import OfferingVersionForm, RevokeForm, ValidityForm
from certification.models import Certification, Subject
from certification.selectors.certificates import offering_versions
from certification.services.certifications import certification_revoke
from certification.services.lifecycle import (
    offering_version_publish,
    subject_validity,
    subject_validity_set,
)
from certification.views.authoring import AuthorRequest, _apply_errors
from config.errors import ApplicationError


@rule_required(rules.can_manage_certifications)
def subject_lifecycle(request: AuthorRequest, subject_id: int) -> HttpResponse:
    """A subject's validity per level, and for an offering its versions: publish a new one."""
    subject = get_object_or_404(Subject, pk=subject_id)
    posted = request.POST.get("form", "") if request.method == "POST" else ""
    validity_form = ValidityForm(
        request.POST if posted == "validity" else None, days=subject_validity(subject=subject)
    )
    version_form = None
    if subject.kind == Subject.Kind.OFFERING:
        version_form = OfferingVersionForm(request.POST if posted == "version" else None)
    if posted == "validity" and validity_form.is_valid():
        try:
            subject_validity_set(
                subject=subject, days_by_level=validity_form.days_by_level(), actor=request.user
            )
        except ApplicationError as error:
            _apply_errors(validity_form, error)
        else:
            messages.success(request, f"Validity of {subject.name} is saved.")
            return redirect("certification:manage_subject_lifecycle", subject_id=subject.pk)
    elif posted == "version" and version_form is not None and version_form.is_valid():
        try:
            release = offering_version_publish(
                actor=request.user,
                offering=subject,
                now=timezone.now(),
                **version_form.cleaned_data,
            )
        except ApplicationError as error:
            _apply_errors(version_form, error)
        else:
            messages.success(
                request,
                f"{subject.name} {release.version} is published: "
                f"{release.affected_count} certifications must be re-earned.",
            )
            return redirect("certification:manage_subject_lifecycle", subject_id=subject.pk)
    elif posted and posted not in {"validity", "version"}:
        raise Http404
    return render(
        request,
        "certification/manage/subject_lifecycle.html",
        {
            "subject": subject,
            "renewal_days": settings.CERTIFICATION_RENEWAL_WINDOW_DAYS,
            "validity_form": validity_form,
            "version_form": version_form,
            "releases": offering_versions(offering=subject),
        },
    )


@rule_required(rules.can_manage_certifications)
@require_POST
def certification_revoke_page(request: AuthorRequest, certification_id: int) -> HttpResponse:
    """Revoke a rep's certification with a reason (from the rep's tier page)."""
    certification = get_object_or_404(
        Certification.objects.select_related("subject", "rep"), pk=certification_id
    )
    if certification.rep_id == request.user.pk:
        raise Http404  # nobody revokes their own certification
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Not revoked: the reason is at most 2000 characters.")
        return redirect("certification:manage_rep_tier", rep_id=certification.rep_id)
    try:
        certification_revoke(
            certification=certification,
            reason=form.cleaned_data["reason"],
            actor=request.user,
            now=timezone.now(),
        )
    except ApplicationError as error:
        messages.error(request, f"Not revoked: {error.message}")
    else:
        messages.success(
            request,
            f"{certification.rep.display_name}'s level {certification.level} on "
            f"{certification.subject.name} is revoked.",
        )
    return redirect("certification:manage_rep_tier", rep_id=certification.rep_id)
