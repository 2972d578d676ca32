"""Readiness for enablement and managers: the per-rep report (cursor paged), its headline
figures, and the customer-ready requirements. The same selectors and services as the pages;
managers get their subtree, anyone else 404. Filters are the report page's query parameters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rules as account_rules
from accounts.models import Team
from certification.api.permissions import rule
from certification.forms_reports import ReportFilterForm
from certification.models import ReadinessRequirement, Subject
from certification.selectors import readiness as selectors
from certification.selectors.readiness import BadCursorError, ReportFilters
from certification.services import readiness as services
from config.errors import ApplicationError

reads_reports = account_rules.is_enablement | account_rules.is_manager

FILTER_PARAMETERS = [
    OpenApiParameter("region", int, description="A region's team id: its whole subtree."),
    OpenApiParameter("team", int, description="A team id: the team and every team under it."),
    OpenApiParameter("manager", int, description="A manager's id: the subtrees they lead."),
    OpenApiParameter("segment", str),
    OpenApiParameter("sales_role", str),
    OpenApiParameter("tier", str, enum=["none", "bronze", "silver", "gold"]),
    OpenApiParameter(
        "offering", int, description="Only reps this offering's requirements apply to."
    ),
    OpenApiParameter("subject", int, description="Matrix cells and gaps of this subject only."),
    OpenApiParameter("q", str, description="Part of the rep's name or email."),
    OpenApiParameter("ready", str, enum=["yes", "no"], description="Needs `offering`."),
    OpenApiParameter(
        "expiring",
        int,
        enum=[30, 60, 90],
        description="Holds a certification expiring within so many days.",
    ),
    OpenApiParameter("inactive", bool, description="No activity in the last 90 days."),
]


def parse_filters(request: Request) -> ReportFilters:
    """The report filters of the query string, validated as the page validates them."""
    data = request.query_params.copy()
    for key in ("cursor", "page_size"):
        data.pop(key, None)
    # The page's checkbox takes anything as "on"; the API takes a boolean and nothing else.
    if data.get("inactive", "").lower() not in {"", "true", "false"}:
        raise ValidationError({"inactive": ["true or false."]})
    form = ReportFilterForm(data, viewer=request.user)  # type: ignore[arg-type]
    if not form.is_valid():
        raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
    return form.to_filters()


class RefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class GapOutput(serializers.Serializer):
    subject = RefOutput()
    level = serializers.IntegerField()


class OfferingStatusOutput(serializers.Serializer):
    offering = RefOutput()
    ready = serializers.BooleanField()
    missing = GapOutput(many=True)


class CellOutput(serializers.Serializer):
    subject = serializers.IntegerField(help_text="The subject's id.")
    level = serializers.IntegerField(help_text="The highest level held, active.")
    expires_at = serializers.DateTimeField(allow_null=True)


class RepReadinessOutput(serializers.Serializer):
    id = serializers.IntegerField(source="rep.pk")
    display_name = serializers.CharField(source="rep.display_name")
    email = serializers.EmailField(source="rep.email")
    team = serializers.SerializerMethodField()
    segment = serializers.CharField(source="rep.segment")
    sales_role = serializers.CharField(source="rep.sales_role")
    tier = serializers.CharField()
    next_tier_missing = serializers.ListField(child=serializers.CharField())
    offerings = OfferingStatusOutput(many=True)
    certifications = serializers.SerializerMethodField()

    @extend_schema_field(RefOutput(allow_null=True))
    def get_team(self, row: selectors.RepRow) -> dict[str, Any] | None:
        team: Team | None = row.rep.team
        return {"id": team.pk, "name": team.name} if team is not None else None

    @extend_schema_field(CellOutput(many=True))
    def get_certifications(self, row: selectors.RepRow) -> list[dict[str, Any]]:
        subjects: list[Subject] = self.context["subjects"]
        return [
            {"subject": subject.pk, "level": cell.level, "expires_at": cell.expires_at}
            for subject, cell in zip(subjects, row.cells, strict=True)
            if cell is not None
        ]


class ReadinessPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RepReadinessOutput(many=True)


class ReadinessReportApi(APIView):
    """Per rep of the slice: tier, what the next tier needs, readiness per offering with what
    is missing, and the highest active level per subject. Paged by name with a cursor: the
    millionth row costs what the first does."""

    permission_classes = rule(reads_reports)

    @extend_schema(
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("cursor", str, description="From `next` or `previous`."),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": selectors.MAX_PAGE_SIZE},
                description=f"1 to {selectors.MAX_PAGE_SIZE}; default {selectors.PAGE_SIZE}.",
            ),
        ],
        responses={200: ReadinessPageOutput},
    )
    def get(self, request: Request) -> Response:
        filters = parse_filters(request)
        try:
            size = int(request.query_params.get("page_size") or selectors.PAGE_SIZE)
        except ValueError:
            raise ValidationError({"page_size": ["A whole number."]}) from None
        if not 1 <= size <= selectors.MAX_PAGE_SIZE:
            raise ValidationError({"page_size": [f"From 1 to {selectors.MAX_PAGE_SIZE}."]})
        try:
            page = selectors.readiness_page(
                viewer=request.user,  # type: ignore[arg-type]
                filters=filters,
                now=timezone.now(),
                cursor=request.query_params.get("cursor", ""),
                size=size,
            )
        except BadCursorError as error:
            raise ValidationError({"cursor": [str(error)]}) from None

        def link(cursor: str | None) -> str | None:
            if cursor is None:
                return None
            query = {**filters.as_query(), "cursor": cursor}
            if "page_size" in request.query_params:
                query["page_size"] = str(size)
            return request.build_absolute_uri(f"{request.path}?{urlencode(query)}")

        rows = RepReadinessOutput(page.rows, many=True, context={"subjects": page.subjects})
        return Response(
            {
                "next": link(page.next_cursor),
                "previous": link(page.previous_cursor),
                "results": rows.data,
            }
        )


class OfferingFigureOutput(serializers.Serializer):
    offering = RefOutput()
    in_scope = serializers.IntegerField(help_text="Reps its requirements apply to.")
    ready = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True)


class HeadlineOutput(serializers.Serializer):
    reps = serializers.IntegerField()
    offerings = OfferingFigureOutput(many=True)
    tiers = serializers.DictField(child=serializers.IntegerField())
    expiring = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Active certifications expiring within 30, 60 and 90 days.",
    )
    inactive = serializers.IntegerField(help_text="Reps with no activity in the last 90 days.")


class ReadinessSummaryApi(APIView):
    """The headline figures of the slice, computed by the database."""

    permission_classes = rule(reads_reports)

    @extend_schema(parameters=FILTER_PARAMETERS, responses={200: HeadlineOutput})
    def get(self, request: Request) -> Response:
        headline = selectors.readiness_headline(
            viewer=request.user,  # type: ignore[arg-type]
            filters=parse_filters(request),
            now=timezone.now(),
        )
        return Response(
            HeadlineOutput(
                {
                    "reps": headline.reps,
                    "offerings": [
                        {
                            "offering": {"id": row.offering.pk, "name": row.offering.name},
                            "in_scope": row.in_scope,
                            "ready": row.ready,
                            "percent": row.percent,
                        }
                        for row in headline.offerings
                    ],
                    "tiers": headline.tiers,
                    "expiring": {str(days): n for days, n in headline.expiring.items()},
                    "inactive": headline.inactive,
                }
            ).data
        )


# Requirements ---------------------------------------------------------------------------------


class RequiredItemIO(serializers.Serializer):
    subject = serializers.PrimaryKeyRelatedField(queryset=Subject.objects.filter(is_active=True))
    level = serializers.IntegerField(min_value=1, max_value=3)


class ItemOutput(serializers.Serializer):
    subject = serializers.IntegerField()
    level = serializers.IntegerField()


class RequirementOutput(serializers.Serializer):
    id = serializers.IntegerField()
    offering = RefOutput()
    team = RefOutput(allow_null=True)
    segment = serializers.CharField()
    sales_role = serializers.CharField()
    items = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(ItemOutput(many=True))
    def get_items(self, requirement: ReadinessRequirement) -> list[dict[str, int]]:
        return [{"subject": i.subject_id, "level": i.level} for i in requirement.items.all()]


class RequirementInput(serializers.Serializer):
    offering = serializers.PrimaryKeyRelatedField(
        queryset=Subject.objects.filter(kind=Subject.Kind.OFFERING)
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), allow_null=True, required=False
    )
    segment = serializers.CharField(max_length=60, allow_blank=True, required=False, default="")
    sales_role = serializers.CharField(max_length=60, allow_blank=True, required=False, default="")
    items = RequiredItemIO(many=True, allow_empty=False)


def _requirements() -> Any:
    return ReadinessRequirement.objects.select_related("offering", "team").prefetch_related("items")


def _save(request: Request, requirement: ReadinessRequirement | None) -> ReadinessRequirement:
    data = RequirementInput(data=request.data)
    data.is_valid(raise_exception=True)
    values = data.validated_data
    try:
        return services.requirement_save(
            actor=request.user,  # type: ignore[arg-type]
            offering=values["offering"],
            team=values.get("team"),
            segment=values["segment"],
            sales_role=values["sales_role"],
            items=[(item["subject"], item["level"]) for item in values["items"]],
            requirement=requirement,
        )
    except ApplicationError as error:
        raise ValidationError(error.field_errors or {"detail": [error.message]}) from None


class RequirementListApi(APIView):
    """Customer-ready requirements: everyone who reads reports may list; enablement creates."""

    permission_classes = rule(reads_reports)

    @extend_schema(responses={200: RequirementOutput(many=True)})
    def get(self, request: Request) -> Response:
        requirements = selectors.requirements_visible_to(request.user)  # type: ignore[arg-type]
        return Response(RequirementOutput(requirements, many=True).data)

    @extend_schema(request=RequirementInput, responses={201: RequirementOutput})
    def post(self, request: Request) -> Response:
        if not account_rules.is_enablement(request.user):
            raise NotFound
        requirement = _save(request, None)
        return Response(RequirementOutput(requirement).data, status=status.HTTP_201_CREATED)


class RequirementDetailApi(APIView):
    permission_classes = rule(account_rules.is_enablement)

    @extend_schema(responses={200: RequirementOutput})
    def get(self, request: Request, requirement_id: int) -> Response:
        return Response(
            RequirementOutput(get_object_or_404(_requirements(), pk=requirement_id)).data
        )

    @extend_schema(request=RequirementInput, responses={200: RequirementOutput})
    def put(self, request: Request, requirement_id: int) -> Response:
        requirement = get_object_or_404(_requirements(), pk=requirement_id)
        return Response(RequirementOutput(_save(request, requirement)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, requirement_id: int) -> Response:
        requirement = get_object_or_404(_requirements(), pk=requirement_id)
        services.requirement_delete(actor=request.user, requirement=requirement)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
