"""Verifiable credentials: the holder's downloads (VC-JWT, PDF certificate), the public
verification page and status, and the issuer's public key set."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from certification.models import Certification
from certification.selectors.credentials import (
    certification_get_for_holder,
    certification_verification,
)
from certification.services.certificate_pdf import certificate_pdf
from certification.services.credentials import credential_issue, credential_jwks
from config.errors import ConflictError, NotFoundError

VC_JWT_TYPE = "application/vc+jwt"


def _holders(request: HttpRequest, certification_id: int) -> Certification:
    try:
        return certification_get_for_holder(
            certification_id=certification_id,
            rep=request.user,  # type: ignore[arg-type]
        )
    except NotFoundError:
        raise Http404 from None


def _download(body: bytes | str, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def credential_download(request: HttpRequest, certification_id: int) -> HttpResponse:
    """The holder's Open Badges 3.0 credential as a VC-JWT file; only an active one."""
    certification = _holders(request, certification_id)
    try:
        signed = credential_issue(certification=certification, now=timezone.now())
    except ConflictError as exc:
        messages.error(request, exc.message)
        return redirect("certification:my_certifications")
    return _download(
        signed.jwt,
        content_type=VC_JWT_TYPE,
        filename=f"repready-credential-{certification.public_id}.jwt",
    )


@require_GET
@login_required
def certificate_download(request: HttpRequest, certification_id: int) -> HttpResponse:
    """The holder's printable PDF certificate; only an active one."""
    certification = _holders(request, certification_id)
    try:
        pdf = certificate_pdf(certification=certification, now=timezone.now())
    except ConflictError as exc:
        messages.error(request, exc.message)
        return redirect("certification:my_certifications")
    return _download(
        pdf,
        content_type="application/pdf",
        filename=f"repready-certificate-{certification.public_id}.pdf",
    )


@require_GET
@never_cache
def verify(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Public: whether the certification is current, read live; no scores, no results."""
    try:
        verification = certification_verification(public_id=public_id, now=timezone.now())
    except NotFoundError:
        raise Http404 from None
    response = render(
        request,
        "certification/verify_detail.html",
        {"verification": verification, "verify_url": request.build_absolute_uri()},
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_GET
@never_cache
def verify_status(request: HttpRequest, public_id: UUID) -> JsonResponse:  # noqa: ARG001
    """Public: the credential's live status as JSON (its credentialStatus id)."""
    try:
        verification = certification_verification(public_id=public_id, now=timezone.now())
    except NotFoundError:
        raise Http404 from None
    data = {
        "status": verification.status,
        "validFrom": verification.issued_at,
        "validUntil": verification.expires_at,
        "revokedAt": verification.revoked_at,
    }
    response = JsonResponse(data)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(public=True, max_age=3600)
def jwks(request: HttpRequest) -> JsonResponse:  # noqa: ARG001 - a view
    """Public: the key set that verifies every credential this deployment signs."""
    response = JsonResponse(credential_jwks())
    response["Access-Control-Allow-Origin"] = "*"
    return response
