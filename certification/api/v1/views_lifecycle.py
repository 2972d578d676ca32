"""Enablement API for the certification lifecycle: validity periods per level, new versions
of an offering, and revoking a certification. Enablement only (404 for anyone else, as on
the pages); the same services as the pages.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from certification import rules
from certification.api.permissions import rule
from certification.api.v1.serializers import SubjectRefOutput
from certification.api.v1.views_manage import ManageApi, ManageListApi
from certification.models import Certification, Level, OfferingVersion, Subject
from certification.services.certifications import certification_revoke
from certification.services.lifecycle import (
    offering_version_publish,
    subject_validity,
    subject_validity_set,
)


class LifecycleApi(ManageApi):
    permission_classes = rule(rules.can_manage_certifications)


class ValidityIO(serializers.Serializer):
    level_1_days = serializers.IntegerField(
        allow_null=True, help_text="Days a level 1 certification stays valid; null: no expiry."
    )
    level_2_days = serializers.IntegerField(allow_null=True)
    level_3_days = serializers.IntegerField(allow_null=True)


def _validity_payload(days: dict[int, int | None]) -> dict[str, int | None]:
    return {f"level_{level}_days": days[level] for level in Level.values}


class SubjectValidityApi(LifecycleApi):
    """How long each level of the subject stays valid; PUT sets all three (null: no expiry).
    New certifications get the new period; held ones keep their expiry."""

    @extend_schema(responses=ValidityIO)
    def get(self, request: Request, subject_id: int) -> Response:
        subject = get_object_or_404(Subject, pk=subject_id)
        return Response(_validity_payload(subject_validity(subject=subject)))

    @extend_schema(request=ValidityIO, responses=ValidityIO)
    def put(self, request: Request, subject_id: int) -> Response:
        subject = get_object_or_404(Subject, pk=subject_id)
        data = ValidityIO(data=request.data)
        data.is_valid(raise_exception=True)
        days = subject_validity_set(
            subject=subject,
            days_by_level={
                level: data.validated_data[f"level_{level}_days"] for level in Level.values
            },
            actor=self.actor,
        )
        return Response(_validity_payload(days))


class OfferingVersionOutput(serializers.ModelSerializer):
    offering = SubjectRefOutput()
    published_by = serializers.CharField(
        source="published_by.display_name", allow_null=True, default=None
    )

    class Meta:
        model = OfferingVersion
        fields = [
            "id",
            "offering",
            "version",
            "previous_version",
            "relevel_levels",
            "grace_days",
            "grace_ends_at",
            "affected_count",
            "published_by",
            "published_at",
        ]


class OfferingVersionInput(serializers.Serializer):
    version = serializers.CharField(max_length=40, help_text="e.g. 2.0 or 2025.1")
    relevel = serializers.ListField(
        child=serializers.IntegerField(), help_text="The levels holders must re-earn, e.g. [1]."
    )
    grace_days = serializers.IntegerField(
        help_text="Held certifications at those levels expire this many days from now, at the "
        "latest, unless re-earned."
    )


class OfferingVersionListApi(ManageListApi, LifecycleApi):
    """The versions published for an offering, newest first; POST publishes a new one."""

    serializer_class = OfferingVersionOutput

    def get_queryset(self) -> QuerySet[OfferingVersion]:
        subject = get_object_or_404(Subject, pk=self.kwargs["subject_id"])
        return OfferingVersion.objects.filter(offering=subject).select_related(
            "offering", "published_by"
        )

    @extend_schema(request=OfferingVersionInput, responses={201: OfferingVersionOutput})
    def post(self, request: Request, subject_id: int) -> Response:
        subject = get_object_or_404(Subject, pk=subject_id)
        data = OfferingVersionInput(data=request.data)
        data.is_valid(raise_exception=True)
        release = offering_version_publish(
            actor=self.actor, offering=subject, now=timezone.now(), **data.validated_data
        )
        return Response(OfferingVersionOutput(release).data, status=status.HTTP_201_CREATED)


class RevokedCertificationOutput(serializers.ModelSerializer):
    subject = SubjectRefOutput()
    status = serializers.CharField(help_text="active, expired or revoked")

    class Meta:
        model = Certification
        fields = [
            "id",
            "rep",
            "subject",
            "level",
            "status",
            "issued_at",
            "expires_at",
            "revoked_at",
            "revoked_reason",
        ]


class CertificationRevokeApi(LifecycleApi):
    """Revoke a rep's active certification with a reason (audited; tiers are recomputed)."""

    class CertificationRevokeInput(serializers.Serializer):
        reason = serializers.CharField(max_length=2000, allow_blank=True)

    @extend_schema(request=CertificationRevokeInput, responses=RevokedCertificationOutput)
    def post(self, request: Request, certification_id: int) -> Response:
        certification = get_object_or_404(
            Certification.objects.select_related("subject").exclude(rep=self.actor),
            pk=certification_id,
        )
        data = self.CertificationRevokeInput(data=request.data)
        data.is_valid(raise_exception=True)
        certification = certification_revoke(
            certification=certification,
            reason=data.validated_data["reason"],
            actor=self.actor,
            now=timezone.now(),
        )
        return Response(RevokedCertificationOutput(certification).data)
