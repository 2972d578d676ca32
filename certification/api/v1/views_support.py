"""Teleprospecting support for a dialer or CRM: a rep's entitlement, and usage recording.

Both endpoints need the ``support`` scope when called with an API token (and only that: a
dialer's token needs no ``read`` or ``write``); a token without it is refused with 403.
Signed-in sessions are not limited by scopes. Who may ask about whom follows the pages: a rep
about themself, a manager about their teams' reps, enablement and the teleprospecting lead
about anyone; any other rep answers 404. Only the teleprospecting lead records usage.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken, User
from accounts.rules import is_authenticated_person
from certification import rules
from certification.api.permissions import rule
from certification.models import SupportPeriod
from certification.selectors.support import entitlement, support_rep_get
from certification.services.support import support_usage_record
from config.errors import NotFoundError

SUPPORT_SCOPE = ApiToken.Scope.SUPPORT.value


class PeriodRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()


class RepRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    display_name = serializers.CharField()


class EntitlementOutput(serializers.Serializer):
    rep = RepRefOutput()
    eligible = serializers.BooleanField(help_text="Whether the rep is entitled to support now.")
    why = serializers.CharField(help_text="The reason, in a sentence.")
    tier = serializers.CharField(help_text="The rep's tier in force: none, bronze, silver, gold.")
    period = PeriodRefOutput(allow_null=True, help_text="The period containing today, if any.")
    request_status = serializers.CharField(
        source="request.status", allow_null=True, default=None, help_text="Null without one."
    )
    hours_allocated = serializers.DecimalField(max_digits=8, decimal_places=2)
    hours_used = serializers.DecimalField(max_digits=8, decimal_places=2)
    hours_remaining = serializers.DecimalField(max_digits=8, decimal_places=2)


class UsageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    rep = serializers.EmailField(source="rep.email")
    period = serializers.IntegerField(source="period_id")
    hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    meetings_set = serializers.IntegerField()
    pipeline_amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    idempotency_key = serializers.CharField()
    recorded_at = serializers.DateTimeField()


class EntitlementApi(APIView):
    """Is this rep entitled to support now, and how many hours are left this period?"""

    permission_classes = rule(is_authenticated_person, token_scope=SUPPORT_SCOPE)

    class EntitlementQuery(serializers.Serializer):
        # An EmailField refuses a NUL, which PostgreSQL cannot compare (was a 500).
        rep = serializers.EmailField(
            error_messages={
                "required": "The rep's email is required.",
                "blank": "The rep's email is required.",
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "rep", OpenApiTypes.EMAIL, required=True, description="The rep's email."
            )
        ],
        responses={200: EntitlementOutput, 404: OpenApiResponse(description="No such rep.")},
        summary="A rep's support entitlement this period",
    )
    def get(self, request: Request) -> Response:
        query = self.EntitlementQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rep = support_rep_get(viewer=request.user, email=query.validated_data["rep"])
        if not rules.can_view_support_of(request.user, rep):
            raise NotFoundError("No such rep.")
        answer = entitlement(rep=rep, today=timezone.localdate())
        return Response(EntitlementOutput(answer).data)


class UsageRecordApi(APIView):
    """Record support hours used and their outcomes (the teleprospecting lead or their dialer).
    Idempotent on ``idempotency_key``: 201 the first time, 200 with the same record when the
    same content comes again, 409 when the key comes back with different content."""

    permission_classes = rule(rules.can_lead_teleprospecting, token_scope=SUPPORT_SCOPE)

    class UsageInput(serializers.Serializer):
        rep = serializers.EmailField(help_text="The rep's email.")
        hours = serializers.DecimalField(max_digits=6, decimal_places=2, min_value=0)
        meetings_set = serializers.IntegerField(min_value=0, default=0)
        pipeline_amount = serializers.DecimalField(
            max_digits=16, decimal_places=2, min_value=0, default=0
        )
        idempotency_key = serializers.CharField(max_length=100)
        period = serializers.IntegerField(
            required=False, help_text="The period's id; the one containing today by default."
        )

    @extend_schema(
        request=UsageInput,
        responses={
            201: UsageOutput,
            200: OpenApiResponse(UsageOutput, description="The same record, sent again."),
            409: OpenApiResponse(description="The key was used for different content."),
        },
        summary="Record support usage and outcomes",
    )
    def post(self, request: Request) -> Response:
        data = self.UsageInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        rep = User.objects.filter(email__iexact=values["rep"], is_rep=True).first()
        if rep is None:
            raise NotFoundError("No such rep.")
        period = None
        if "period" in values:
            period = SupportPeriod.objects.filter(pk=values["period"]).first()
            if period is None:
                raise NotFoundError("No such period.")
        result = support_usage_record(
            actor=request.user,  # type: ignore[arg-type]
            rep=rep,
            hours=values["hours"],
            meetings_set=values["meetings_set"],
            pipeline_amount=values["pipeline_amount"],
            idempotency_key=values["idempotency_key"],
            period=period,
        )
        return Response(
            UsageOutput(result.usage).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
