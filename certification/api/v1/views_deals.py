"""Deals from the CRM for enablement: bulk import (the same service as the upload page and
``import_deals``) and the paged list. 404 for anyone but enablement leads; importing needs a
token with the ``write`` scope."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.schema import ErrorOutput
from accounts.models import User
from certification import rules
from certification.api.permissions import rule
from certification.importers.deals import CANONICAL, DealRow, check_size, header_key
from certification.models import Deal
from certification.selectors.deals import deals_for_enablement
from certification.services.deals import RowError, deals_import

REJECTED_SHOWN = 1000  # a response lists at most this many rejected rows (and counts them all)


class DealInput(serializers.Serializer):
    """One deal of the bulk list. Keys are matched like the CSV header (case and spaces do
    not matter; other keys are ignored); numbers are accepted as JSON numbers or strings."""

    opportunity_id = serializers.CharField(max_length=100, help_text="The CRM's id; unique.")
    rep_email = serializers.EmailField(help_text="The owning rep's email (any case).")
    amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Required and 0 or more on a won deal; optional on open and lost deals.",
    )
    currency = serializers.CharField(
        required=False,
        allow_blank=True,
        min_length=3,
        max_length=3,
        help_text="ISO 4217 code with a configured rate; the base currency when omitted.",
    )
    close_date = serializers.DateField(help_text="YYYY-MM-DD.")
    stage = serializers.CharField(
        help_text='won, lost or open ("Closed Won" and "Closed Lost" are accepted).'
    )


class DealImportOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    imported = serializers.IntegerField(help_text="created + updated + unchanged.")
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField(help_text="Always 0 here: any rejection answers 400.")


class RejectedDealOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="The deal's position in the list, from 0.")
    opportunity_id = serializers.CharField()
    reason = serializers.CharField()


class DealImportRejectedOutput(ErrorOutput):
    """Any refusal; when deals were rejected, `code` is `deals_rejected` and `rejected` lists
    them (a request that is not a list of deals at all is refused like any other)."""

    rejected_count = serializers.IntegerField(required=False)
    rejected = RejectedDealOutput(
        many=True, required=False, help_text=f"The first {REJECTED_SHOWN}, by index."
    )


class DealRepOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    display_name = serializers.CharField()


class DealOutput(serializers.ModelSerializer):
    rep = DealRepOutput()

    class Meta:
        model = Deal
        fields = [
            "id",
            "opportunity_id",
            "rep",
            "amount",
            "currency",
            "amount_base",
            "close_date",
            "stage",
            "imported_at",
            "updated_at",
        ]


def _text(value: Any) -> str | None:
    """A JSON value as the text a CSV cell would hold; None for objects, lists and booleans."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value).strip()


def _rows(items: list[Any]) -> tuple[list[DealRow], list[RowError]]:
    """The list's deals as rows numbered by index, and the items that are not deal objects."""
    rows: list[DealRow] = []
    malformed: list[RowError] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            malformed.append(RowError(index, "", "not an object"))
            continue
        values = {header_key(str(key)): _text(value) for key, value in item.items()}
        wrong = [name for name in CANONICAL if name in values and values[name] is None]
        opportunity_id = values.get("opportunity_id") or ""
        if wrong:
            reason = "; ".join(f"{name} must be a string or a number" for name in wrong)
            malformed.append(RowError(index, opportunity_id, reason))
            continue
        rows.append(DealRow(index, *(values.get(name) or "" for name in CANONICAL)))
    return rows, malformed


class DealBulkApi(APIView):
    """Import deals from a JSON list: all or none, upserted on ``opportunity_id``."""

    permission_classes = rule(rules.can_manage_deals)
    parser_classes = [JSONParser]

    class Options(serializers.Serializer):
        dry_run = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        request=DealInput(many=True),
        parameters=[
            OpenApiParameter("dry_run", bool, description="Validate and count; write nothing.")
        ],
        responses={200: DealImportOutput, 400: DealImportRejectedOutput},
    )
    def post(self, request: Request) -> Response:
        check_size(_content_length(request), limit=_max_bytes(), what="The request")
        options = self.Options(data=request.query_params)
        options.is_valid(raise_exception=True)
        dry_run = options.validated_data["dry_run"]
        if not isinstance(request.data, list):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a JSON list of deals."]}, code="not_a_list"
            )
        rows, malformed = _rows(request.data)
        actor: User = request.user  # type: ignore[assignment]
        result = deals_import(
            rows, dry_run=dry_run or bool(malformed), actor=actor, source="api", where="index"
        )
        rejected = sorted([*malformed, *result.rejected], key=lambda error: error.row)
        if rejected:
            body = {
                "detail": (
                    f"{len(rejected)} of {len(request.data)} deals were rejected; "
                    "nothing was imported."
                ),
                "code": "deals_rejected",
                "rejected_count": len(rejected),
                "rejected": [
                    {"index": e.row, "opportunity_id": e.opportunity_id, "reason": e.reason}
                    for e in rejected[:REJECTED_SHOWN]
                ],
            }
            return Response(DealImportRejectedOutput(body).data, status=status.HTTP_400_BAD_REQUEST)
        body = {
            "dry_run": dry_run,
            "imported": result.imported,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "rejected": 0,
        }
        return Response(DealImportOutput(body).data)


def _max_bytes() -> int:
    return settings.DEALS_IMPORT_MAX_BYTES


def _content_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class DealListApi(generics.ListAPIView):
    """Deals, paged (filter ?q= on the rep or opportunity id, ?stage=)."""

    permission_classes = rule(rules.can_manage_deals)
    serializer_class = DealOutput

    class DealFilter(serializers.Serializer):
        # A CharField refuses a NUL, which PostgreSQL cannot compare (was a 500).
        q = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
        stage = serializers.ChoiceField(
            choices=Deal.Stage.choices, required=False, allow_blank=True
        )

    def get_queryset(self) -> QuerySet[Deal]:
        filters = self.DealFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return deals_for_enablement(
            text=filters.validated_data.get("q", ""), stage=filters.validated_data.get("stage", "")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Part of the rep's name or email, or the id."),
            OpenApiParameter("stage", str, enum=Deal.Stage.values),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
