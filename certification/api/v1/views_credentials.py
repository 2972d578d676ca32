"""Rep API for verifiable credentials: my certification as a signed Open Badges 3.0 credential."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from certification.selectors.credentials import certification_get_for_holder
from certification.services.credentials import credential_issue


class CredentialOutput(serializers.Serializer):
    jwt = serializers.CharField(
        help_text="The credential signed as a VC-JWT (ES256 or EdDSA); its `kid` names the key "
        "in /.well-known/jwks.json."
    )
    credential = serializers.JSONField(
        help_text="The Open Badges 3.0 AchievementCredential the JWT carries, decoded."
    )


class MyCredentialApi(APIView):
    """My certification as a signed Open Badges 3.0 credential (holder only; active only)."""

    @extend_schema(
        responses={
            200: CredentialOutput,
            404: OpenApiResponse(description="Not your certification, or no such thing."),
            409: OpenApiResponse(
                description="The certification is not active: `code` is certification_expired "
                "or certification_revoked."
            ),
        }
    )
    def get(self, request: Request, certification_id: int) -> Response:
        rep: User = request.user  # type: ignore[assignment]
        certification = certification_get_for_holder(certification_id=certification_id, rep=rep)
        signed = credential_issue(certification=certification, now=timezone.now())
        return Response(CredentialOutput({"jwt": signed.jwt, "credential": signed.credential}).data)
