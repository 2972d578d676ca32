"""API for levels 2 and 3: sessions as each participant may see them, scorecards, release,
observations and sign-offs; and enablement's guides, scenarios, scheduling, delegations and
calibration. The same services and selectors as the pages."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.pagination import CursorPagination
from accounts.models import Team, User
from accounts.rules import is_authenticated_person
from accounts.selectors import reps_visible_to, teams_visible_to, users_visible_to
from certification import rules
from certification.api.permissions import rule
from certification.models import (
    AssessmentSession,
    FieldObservation,
    Guide,
    InteractionKind,
    ObserverDelegation,
    Scenario,
    SignOff,
    Subject,
)
from certification.selectors.assessment_admin import guides_with_current_version
from certification.selectors.assessments import (
    guide_for_judges,
    judge_calibration,
    observation_get_for_observer,
    observations_by,
    scorecards_visible_to,
    session_feedback,
    session_get_for,
    session_overall_comments,
    session_view,
    sessions_for_enablement,
    sessions_for_judge,
    sessions_for_rep,
    signoffs_visible_to,
)
from certification.selectors.participation import observable_reps, signoff_get_for
from certification.services.assessments import (
    SCENARIO_FIELDS,
    RatingInput,
    scenario_create,
    scenario_update,
    scorecard_save,
    session_cancel,
    session_outcome,
    session_release,
    session_schedule,
)
from certification.services.guides import (
    CriterionInput,
    GuideContent,
    current_version,
    guide_create,
    guide_update,
)
from certification.services.signoffs import (
    delegation_create,
    delegation_remove,
    observation_create,
    observation_save,
    observation_sign,
    signoff_acknowledge,
    signoff_correct,
    signoff_revoke,
    signoff_state,
)

# Output shapes -----------------------------------------------------------------------------------


class GuideCriterionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    weight = serializers.DecimalField(max_digits=6, decimal_places=2)
    is_critical = serializers.BooleanField()
    descriptors = serializers.ListField(child=serializers.ListField())
    judge_notes = serializers.CharField(
        allow_null=True, help_text="Null for the rep and role-players."
    )


class GuideViewOutput(serializers.Serializer):
    version_id = serializers.IntegerField(source="version.pk")
    version = serializers.IntegerField(source="version.number")
    name = serializers.CharField()
    introduction = serializers.CharField(allow_blank=True)
    points = serializers.ListField(child=serializers.IntegerField())
    pass_level = serializers.IntegerField()
    pass_threshold = serializers.DecimalField(max_digits=5, decimal_places=2)
    criteria = GuideCriterionOutput(many=True)


class PersonOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class FeedbackLineOutput(serializers.Serializer):
    criterion_id = serializers.IntegerField(source="criterion.id")
    title = serializers.CharField(source="criterion.title")
    combined = serializers.DecimalField(max_digits=6, decimal_places=3)
    met = serializers.BooleanField()
    comments = serializers.ListField(child=serializers.CharField())


class SessionOutput(serializers.Serializer):
    """A session as the asking person may see it."""

    id = serializers.IntegerField()
    scenario = serializers.CharField(source="scenario.title")
    subject = serializers.CharField(source="scenario.subject.name")
    rep = PersonOutput()
    scheduled_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    location = serializers.CharField(allow_blank=True)
    video_link = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    rep_brief = serializers.CharField(source="scenario.rep_brief")
    buyer_brief = serializers.CharField(
        allow_null=True, help_text="Only for the panel, role-player and owner."
    )
    guide = GuideViewOutput()
    panel = PersonOutput(many=True)
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    passed = serializers.BooleanField(allow_null=True)
    feedback = FeedbackLineOutput(many=True)
    overall_comments = serializers.ListField(
        child=serializers.CharField(), help_text="The judges' overall comments, once released."
    )
    can_score = serializers.BooleanField()
    can_release = serializers.BooleanField()


def session_payload(
    session: AssessmentSession, user: User, *, with_feedback: bool = True
) -> dict[str, Any]:
    """One session for one person: nothing of the buyer brief or judge notes for the rep, no
    result before release (and none ever for the role-player). Lists leave the per-criterion
    feedback to the detail."""
    view = session_view(session=session, user=user)
    # The result only to those who may see it: never to the role-player.
    released = session.status == AssessmentSession.Status.RELEASED and view.can_see_result
    data = {
        "id": session.pk,
        "scenario": session.scenario,
        "rep": session.rep,
        "scheduled_at": session.scheduled_at,
        "duration_minutes": session.duration_minutes,
        "location": session.location,
        "video_link": session.video_link,
        "status": session.status,
        "buyer_brief": view.buyer_brief,
        "guide": view.guide,
        "panel": [member.judge for member in session.panel.all()],
        "score": session.score if released else None,
        "passed": session.passed if released else None,
        "feedback": session_feedback(session=session) if released and with_feedback else [],
        "overall_comments": session_overall_comments(session=session)
        if released and with_feedback
        else [],
        "can_score": view.can_score,
        "can_release": view.can_release,
    }
    return dict(SessionOutput(data).data)


class RatingInputSerializer(serializers.Serializer):
    criterion = serializers.IntegerField()
    rating = serializers.IntegerField(allow_null=True, required=False, min_value=0, max_value=100)
    comment = serializers.CharField(allow_blank=True, required=False, default="", max_length=5000)


def _ratings(rows: list[dict[str, Any]]) -> dict[int, RatingInput]:
    return {
        row["criterion"]: RatingInput(row.get("rating"), row.get("comment", "")) for row in rows
    }


class ScorecardOutput(serializers.Serializer):
    judge = PersonOutput()
    status = serializers.CharField()
    overall_comment = serializers.CharField(allow_blank=True)
    ratings = serializers.SerializerMethodField()

    def get_ratings(self, card: Any) -> list[dict[str, Any]]:
        return [
            {"criterion": cid, "rating": r.rating, "comment": r.comment}
            for cid, r in sorted(card.ratings.items())
        ]


class NewestFirstPagination(CursorPagination):
    """The project's cursor paging, newest first: for lists that only grow (sessions,
    delegations), the first page holds the latest rows."""

    ordering = "-id"


def session_page(view: generics.GenericAPIView, sessions: QuerySet[AssessmentSession]) -> Response:
    """One page of sessions as the asking person may see them, without per-criterion feedback
    (the selectors prefetch what the payload reads: a fixed number of queries per page)."""
    user = view.request.user
    page = view.paginate_queryset(sessions) or []
    return view.get_paginated_response(
        [session_payload(s, user, with_feedback=False) for s in page]  # type: ignore[arg-type]
    )


# Participants ------------------------------------------------------------------------------------


class MySessionListApi(generics.GenericAPIView):
    """My sessions as the rep being assessed: upcoming and released (never the buyer brief),
    newest first, paged."""

    permission_classes = rule(rules.can_take_tests)
    pagination_class = NewestFirstPagination

    @extend_schema(responses=SessionOutput(many=True))
    def get(self, request: Request) -> Response:
        return session_page(self, sessions_for_rep(rep=request.user))  # type: ignore[arg-type]


class JudgingSessionListApi(generics.GenericAPIView):
    """Sessions I judge, play the buyer in, or own, newest first, paged."""

    permission_classes = rule(is_authenticated_person)
    pagination_class = NewestFirstPagination

    @extend_schema(responses=SessionOutput(many=True))
    def get(self, request: Request) -> Response:
        return session_page(self, sessions_for_judge(judge=request.user))  # type: ignore[arg-type]


class SessionDetailApi(APIView):
    """One session, as I may see it."""

    @extend_schema(responses=SessionOutput)
    def get(self, request: Request, session_id: int) -> Response:
        session = session_get_for(session_id=session_id, user=request.user)  # type: ignore[arg-type]
        return Response(session_payload(session, request.user))  # type: ignore[arg-type]


class ScorecardApi(APIView):
    """My scorecard for a session I judge: GET the scorecards I may see, PUT mine (draft, or
    submit: complete, with a comment wherever a rating is below the pass level)."""

    class ScorecardInput(serializers.Serializer):
        ratings = RatingInputSerializer(many=True, max_length=100)
        overall_comment = serializers.CharField(
            allow_blank=True, required=False, default="", max_length=10000
        )
        submit = serializers.BooleanField(required=False, default=False)

    @extend_schema(responses=ScorecardOutput(many=True))
    def get(self, request: Request, session_id: int) -> Response:
        session = session_get_for(session_id=session_id, user=request.user)  # type: ignore[arg-type]
        cards = scorecards_visible_to(session=session, user=request.user)  # type: ignore[arg-type]
        return Response(ScorecardOutput(cards, many=True).data)

    @extend_schema(request=ScorecardInput, responses=ScorecardOutput(many=True))
    def put(self, request: Request, session_id: int) -> Response:
        session = session_get_for(session_id=session_id, user=request.user)  # type: ignore[arg-type]
        data = self.ScorecardInput(data=request.data)
        data.is_valid(raise_exception=True)
        scorecard_save(
            session=session,
            judge=request.user,  # type: ignore[arg-type]
            ratings=_ratings(data.validated_data["ratings"]),
            overall_comment=data.validated_data["overall_comment"],
            submit=data.validated_data["submit"],
        )
        cards = scorecards_visible_to(session=session, user=request.user)  # type: ignore[arg-type]
        return Response(ScorecardOutput(cards, many=True).data)


class SessionReleaseApi(APIView):
    """Release the combined result (the owner or enablement, once the panel has submitted)."""

    class PreviewOutput(serializers.Serializer):
        score = serializers.DecimalField(max_digits=5, decimal_places=2)
        passed = serializers.BooleanField()
        vetoed_by = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(
        responses={
            200: PreviewOutput,
            409: OpenApiResponse(
                description="The panel has not finished scoring: `code` is panel_incomplete."
            ),
        }
    )
    def get(self, request: Request, session_id: int) -> Response:
        session = session_get_for(session_id=session_id, user=request.user)  # type: ignore[arg-type]
        if not rules.can_release_session(request.user, session):
            raise NotFound
        outcome = session_outcome(session)
        if outcome is None:
            return Response(
                {"detail": "The panel has not finished scoring.", "code": "panel_incomplete"},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(self.PreviewOutput(outcome).data)

    @extend_schema(request=None, responses=SessionOutput)
    def post(self, request: Request, session_id: int) -> Response:
        session = session_get_for(session_id=session_id, user=request.user)  # type: ignore[arg-type]
        released = session_release(session=session, actor=request.user)  # type: ignore[arg-type]
        fresh = session_get_for(session_id=released.pk, user=request.user)  # type: ignore[arg-type]
        return Response(session_payload(fresh, request.user))  # type: ignore[arg-type]


class ObservationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    rep = PersonOutput()
    subject = serializers.CharField(source="subject.name")
    guide_version_id = serializers.IntegerField()
    observed_on = serializers.DateField()
    kind = serializers.CharField()
    crm_reference = serializers.CharField()
    contact_title = serializers.CharField()
    comment = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    ratings = serializers.SerializerMethodField()

    def get_ratings(self, observation: FieldObservation) -> list[dict[str, Any]]:
        return [
            {"criterion": r.criterion_id, "rating": r.rating, "comment": r.comment}
            for r in observation.ratings.all()
        ]


class SignOffOutput(serializers.Serializer):
    id = serializers.IntegerField()
    rep = PersonOutput()
    subject = serializers.CharField(source="subject.name")
    signed_by = PersonOutput()
    signed_at = serializers.DateTimeField()
    score = serializers.DecimalField(max_digits=5, decimal_places=2)
    passed = serializers.BooleanField()
    ratings = serializers.ListField(child=serializers.DictField())
    comment = serializers.CharField(allow_blank=True)
    state = serializers.SerializerMethodField()
    supersedes_id = serializers.IntegerField(allow_null=True)
    correction_reason = serializers.CharField(allow_blank=True)
    acknowledged = serializers.SerializerMethodField()

    def get_state(self, signoff: SignOff) -> str:
        return signoff_state(signoff)

    def get_acknowledged(self, signoff: SignOff) -> bool:
        return hasattr(signoff, "acknowledgement")


class ObservationListApi(generics.ListAPIView):
    """Observations I have recorded; POST starts one for a rep I may observe."""

    serializer_class = ObservationOutput
    permission_classes = rule(is_authenticated_person)

    class ObservationInput(serializers.Serializer):
        rep = serializers.IntegerField()
        subject = serializers.PrimaryKeyRelatedField(queryset=Subject.objects.all())
        guide = serializers.PrimaryKeyRelatedField(queryset=Guide.objects.all())
        observed_on = serializers.DateField()
        kind = serializers.ChoiceField(choices=InteractionKind.choices)
        crm_reference = serializers.CharField(max_length=100)
        contact_title = serializers.CharField(max_length=150)
        comment = serializers.CharField(allow_blank=True, required=False, default="")

    def get_queryset(self) -> QuerySet[FieldObservation]:
        return observations_by(observer=self.request.user).prefetch_related("ratings")  # type: ignore[arg-type]

    @extend_schema(request=ObservationInput, responses={201: ObservationOutput})
    def post(self, request: Request) -> Response:
        data = self.ObservationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        rep = observable_reps(user=request.user).filter(pk=values.pop("rep")).first()  # type: ignore[arg-type]
        if rep is None:
            raise NotFound
        observation = observation_create(rep=rep, observer=request.user, **values)  # type: ignore[arg-type]
        return Response(ObservationOutput(observation).data, status=status.HTTP_201_CREATED)


class ObservationDetailApi(APIView):
    """My observation: GET it, PUT its draft ratings, POST .../sign/ to sign it off."""

    class DraftInput(serializers.Serializer):
        ratings = RatingInputSerializer(many=True, max_length=100)
        comment = serializers.CharField(allow_blank=True, required=False, default="")

    @extend_schema(responses=ObservationOutput)
    def get(self, request: Request, observation_id: int) -> Response:
        observation = observation_get_for_observer(
            observation_id=observation_id, observer=request.user
        )  # type: ignore[arg-type]
        return Response(ObservationOutput(observation).data)

    @extend_schema(request=DraftInput, responses=ObservationOutput)
    def put(self, request: Request, observation_id: int) -> Response:
        observation = observation_get_for_observer(
            observation_id=observation_id, observer=request.user
        )  # type: ignore[arg-type]
        data = self.DraftInput(data=request.data)
        data.is_valid(raise_exception=True)
        saved = observation_save(
            observation=observation,
            actor=request.user,  # type: ignore[arg-type]
            ratings=_ratings(data.validated_data["ratings"]),
            comment=data.validated_data["comment"],
        )
        return Response(ObservationOutput(saved).data)


class ObservationSignApi(APIView):
    """Sign off my observation: it becomes immutable evidence."""

    @extend_schema(request=None, responses={201: SignOffOutput})
    def post(self, request: Request, observation_id: int) -> Response:
        observation = observation_get_for_observer(
            observation_id=observation_id, observer=request.user
        )  # type: ignore[arg-type]
        signoff = observation_sign(observation=observation, actor=request.user)  # type: ignore[arg-type]
        return Response(SignOffOutput(signoff).data, status=status.HTTP_201_CREATED)


class SignOffListApi(generics.ListAPIView):
    """Sign-offs I may see: my own as a rep, my reps' as a manager, all as enablement."""

    serializer_class = SignOffOutput

    def get_queryset(self) -> QuerySet[SignOff]:
        return signoffs_visible_to(user=self.request.user)  # type: ignore[arg-type]


def _signoff_for(user: Any, signoff_id: int) -> SignOff:
    # The pages' selector: one 404 whether the sign-off is someone else's or is not there.
    return signoff_get_for(signoff_id=signoff_id, user=user)


class SignOffDetailApi(APIView):
    """One sign-off I may see: the rep, the signer, the rep's managers, enablement."""

    @extend_schema(responses=SignOffOutput)
    def get(self, request: Request, signoff_id: int) -> Response:
        return Response(SignOffOutput(_signoff_for(request.user, signoff_id)).data)


class SignOffAcknowledgeApi(APIView):
    """As the rep, say I have read the feedback."""

    @extend_schema(request=None, responses=SignOffOutput)
    def post(self, request: Request, signoff_id: int) -> Response:
        signoff = _signoff_for(request.user, signoff_id)
        signoff_acknowledge(signoff=signoff, rep=request.user)  # type: ignore[arg-type]
        return Response(SignOffOutput(_signoff_for(request.user, signoff_id)).data)


class SignOffCorrectApi(APIView):
    """Correct a sign-off (its signer or enablement): a new sign-off supersedes it."""

    class CorrectInput(serializers.Serializer):
        ratings = RatingInputSerializer(many=True, max_length=100)
        reason = serializers.CharField(max_length=2000)
        comment = serializers.CharField(allow_blank=True, required=False, default="")

    @extend_schema(request=CorrectInput, responses={201: SignOffOutput})
    def post(self, request: Request, signoff_id: int) -> Response:
        signoff = _signoff_for(request.user, signoff_id)
        data = self.CorrectInput(data=request.data)
        data.is_valid(raise_exception=True)
        new = signoff_correct(
            signoff=signoff,
            actor=request.user,  # type: ignore[arg-type]
            ratings=_ratings(data.validated_data["ratings"]),
            reason=data.validated_data["reason"],
            comment=data.validated_data["comment"],
        )
        return Response(SignOffOutput(new).data, status=status.HTTP_201_CREATED)


class SignOffRevokeApi(APIView):
    """Revoke a sign-off with a reason (its signer or enablement)."""

    class RevokeInput(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=RevokeInput, responses=SignOffOutput)
    def post(self, request: Request, signoff_id: int) -> Response:
        signoff = _signoff_for(request.user, signoff_id)
        data = self.RevokeInput(data=request.data)
        data.is_valid(raise_exception=True)
        signoff_revoke(
            signoff=signoff,
            actor=request.user,  # type: ignore[arg-type]
            reason=data.validated_data["reason"],
        )
        return Response(SignOffOutput(_signoff_for(request.user, signoff_id)).data)


# Enablement --------------------------------------------------------------------------------------


class ManageAssessmentsApi(APIView):
    permission_classes = rule(rules.can_manage_assessments)


class CriterionInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=150)
    rep_description = serializers.CharField()
    judge_notes = serializers.CharField(allow_blank=True, required=False, default="")
    weight = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        default=Decimal(1),
    )
    is_critical = serializers.BooleanField(required=False, default=False)
    descriptors = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text='A descriptor per point: {"1": "..."}.',
    )


class GuideContentInput(serializers.Serializer):
    introduction = serializers.CharField(allow_blank=True, required=False, default="")
    scale_min = serializers.IntegerField(min_value=0, max_value=20, required=False, default=1)
    scale_max = serializers.IntegerField(min_value=1, max_value=20, required=False, default=4)
    pass_level = serializers.IntegerField(min_value=0, max_value=20, required=False, default=3)
    pass_threshold = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, default=Decimal(70)
    )
    criteria = CriterionInputSerializer(many=True, min_length=1, max_length=50)

    def to_content(self) -> GuideContent:
        content_fields = (
            "introduction",
            "scale_min",
            "scale_max",
            "pass_level",
            "pass_threshold",
            "criteria",
        )
        data = {k: v for k, v in self.validated_data.items() if k in content_fields}
        criteria = []
        for row in data.pop("criteria"):
            descriptors = {}
            for key, text in row.pop("descriptors").items():
                try:
                    descriptors[int(key)] = text
                except ValueError:
                    raise serializers.ValidationError(
                        {"criteria": [f"Descriptor keys are points of the scale, not {key!r}."]}
                    ) from None
            criteria.append(CriterionInput(descriptors=descriptors, **row))
        return GuideContent(criteria=criteria, **data)


class GuideCreateInput(GuideContentInput):
    name = serializers.CharField(max_length=150)
    subject = serializers.PrimaryKeyRelatedField(
        queryset=Subject.objects.all(), required=False, allow_null=True, default=None
    )


class GuideListApi(generics.GenericAPIView, ManageAssessmentsApi):
    """Guides with their current version, paged; POST creates one (version 1)."""

    serializer_class = GuideCreateInput  # what OPTIONS describes for POST

    @extend_schema(responses=GuideViewOutput(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(guides_with_current_version()) or []
        versions = [v for g in page for v in g.current_versions[:1]]  # type: ignore[attr-defined]
        return self.get_paginated_response(
            GuideViewOutput([guide_for_judges(v) for v in versions], many=True).data
        )

    @extend_schema(request=GuideCreateInput, responses={201: GuideViewOutput})
    def post(self, request: Request) -> Response:
        data = GuideCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        guide = guide_create(
            name=data.validated_data["name"],
            content=data.to_content(),
            subject=data.validated_data["subject"],
            actor=request.user,
        )  # type: ignore[arg-type]
        return Response(
            GuideViewOutput(guide_for_judges(current_version(guide))).data,
            status=status.HTTP_201_CREATED,
        )


class GuideDetailApi(ManageAssessmentsApi):
    """One guide's current version; PUT new content (a new version if the current one is used)."""

    @extend_schema(responses=GuideViewOutput)
    def get(self, request: Request, guide_id: int) -> Response:
        guide = get_object_or_404(Guide, pk=guide_id)
        return Response(GuideViewOutput(guide_for_judges(current_version(guide))).data)

    @extend_schema(request=GuideContentInput, responses=GuideViewOutput)
    def put(self, request: Request, guide_id: int) -> Response:
        guide = get_object_or_404(Guide, pk=guide_id)
        data = GuideContentInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = guide_update(guide=guide, content=data.to_content(), actor=request.user)  # type: ignore[arg-type]
        return Response(GuideViewOutput(guide_for_judges(version)).data)


class ScenarioOutput(serializers.ModelSerializer):
    class Meta:
        model = Scenario
        fields = ["id", "subject", "guide", *SCENARIO_FIELDS]


class ScenarioInput(serializers.ModelSerializer):
    class Meta:
        model = Scenario
        fields = ["subject", "guide", *SCENARIO_FIELDS]


class ScenarioListApi(generics.ListAPIView, ManageAssessmentsApi):
    """Scenarios, paged; POST creates one."""

    serializer_class = ScenarioOutput

    def get_queryset(self) -> QuerySet[Scenario]:
        return Scenario.objects.all()

    @extend_schema(request=ScenarioInput, responses={201: ScenarioOutput})
    def post(self, request: Request) -> Response:
        data = ScenarioInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        scenario = scenario_create(
            subject=values.pop("subject"), guide=values.pop("guide"), actor=request.user, **values
        )  # type: ignore[arg-type]
        return Response(ScenarioOutput(scenario).data, status=status.HTTP_201_CREATED)


class ScenarioDetailApi(ManageAssessmentsApi):
    """One scenario; PATCH changes it."""

    @extend_schema(responses=ScenarioOutput)
    def get(self, request: Request, scenario_id: int) -> Response:
        return Response(ScenarioOutput(get_object_or_404(Scenario, pk=scenario_id)).data)

    @extend_schema(request=ScenarioInput, responses=ScenarioOutput)
    def patch(self, request: Request, scenario_id: int) -> Response:
        scenario = get_object_or_404(Scenario, pk=scenario_id)
        data = ScenarioInput(scenario, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values.pop("subject", None)
        scenario = scenario_update(
            scenario=scenario,
            actor=request.user,  # type: ignore[arg-type]
            guide=values.pop("guide", None),
            **values,
        )
        return Response(ScenarioOutput(scenario).data)


class ScheduleInput(serializers.Serializer):
    scenario = serializers.PrimaryKeyRelatedField(queryset=Scenario.objects.all())
    rep = serializers.IntegerField()
    scheduled_at = serializers.DateTimeField()
    judges = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=12)
    lead = serializers.IntegerField(required=False, allow_null=True, default=None)
    role_player = serializers.IntegerField(required=False, allow_null=True, default=None)
    owner = serializers.IntegerField(required=False, allow_null=True, default=None)
    duration_minutes = serializers.IntegerField(required=False, default=45)
    location = serializers.CharField(allow_blank=True, required=False, default="", max_length=200)
    video_link = serializers.URLField(allow_blank=True, required=False, default="")


class SessionListApi(generics.GenericAPIView, ManageAssessmentsApi):
    """All sessions (filter ?status=), paged; POST schedules one under the panel rules."""

    serializer_class = ScheduleInput  # what OPTIONS describes for POST

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=AssessmentSession.Status.values)],
        responses=SessionOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        status_filter = request.query_params.get("status", "")
        if status_filter and status_filter not in AssessmentSession.Status.values:
            raise serializers.ValidationError({"status": ["Unknown status."]})
        page = self.paginate_queryset(sessions_for_enablement(status=status_filter))
        return self.get_paginated_response(
            [session_payload(s, request.user, with_feedback=False) for s in page or []]  # type: ignore[arg-type]
        )

    @extend_schema(request=ScheduleInput, responses={201: SessionOutput})
    def post(self, request: Request) -> Response:
        data = ScheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        people = users_visible_to(request.user)  # type: ignore[arg-type]

        def person(pk: int | None, field: str) -> User | None:
            if pk is None:
                return None
            found = people.filter(pk=pk).first()
            if found is None:
                raise serializers.ValidationError({field: ["Unknown person."]})
            return found

        rep = reps_visible_to(request.user).filter(pk=values["rep"]).first()  # type: ignore[arg-type]
        if rep is None:
            raise serializers.ValidationError({"rep": ["Unknown rep."]})
        judges = [person(pk, "judges") for pk in values["judges"]]
        session = session_schedule(
            scenario=values["scenario"],
            rep=rep,
            scheduled_at=values["scheduled_at"],
            judges=judges,  # type: ignore[arg-type]
            lead=person(values["lead"], "lead"),
            role_player=person(values["role_player"], "role_player"),
            owner=person(values["owner"], "owner") or request.user,  # type: ignore[arg-type]
            duration_minutes=values["duration_minutes"],
            location=values["location"],
            video_link=values["video_link"],
            actor=request.user,  # type: ignore[arg-type]
        )
        fresh = session_get_for(session_id=session.pk, user=request.user)  # type: ignore[arg-type]
        return Response(
            session_payload(fresh, request.user),  # type: ignore[arg-type]
            status=status.HTTP_201_CREATED,
        )


class SessionCancelApi(ManageAssessmentsApi):
    """Cancel a scheduled session, with a reason."""

    class CancelInput(serializers.Serializer):
        reason = serializers.CharField(max_length=2000)

    @extend_schema(request=CancelInput, responses={204: None})
    def post(self, request: Request, session_id: int) -> Response:
        session = get_object_or_404(AssessmentSession, pk=session_id)
        data = self.CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        session_cancel(session=session, reason=data.validated_data["reason"], actor=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class CalibrationOutput(serializers.Serializer):
    judge_id = serializers.IntegerField()
    judge = serializers.CharField()
    sessions = serializers.IntegerField()
    ratings = serializers.IntegerField()
    mean_deviation = serializers.FloatField()
    mean_absolute_deviation = serializers.FloatField()
    within_one = serializers.FloatField()
    flagged = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


class CalibrationApi(ManageAssessmentsApi):
    """How far each judge rates from their panels over a period (released sessions)."""

    class PeriodInput(serializers.Serializer):
        since = serializers.DateTimeField(required=False, allow_null=True, default=None)
        until = serializers.DateTimeField(required=False, allow_null=True, default=None)

    @extend_schema(
        parameters=[OpenApiParameter("since", datetime), OpenApiParameter("until", datetime)],
        responses=CalibrationOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        period = self.PeriodInput(data=request.query_params)
        period.is_valid(raise_exception=True)
        rows = judge_calibration(
            since=period.validated_data["since"], until=period.validated_data["until"]
        )
        return Response(CalibrationOutput(rows, many=True).data)


class DelegationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    delegate = PersonOutput()
    rep_id = serializers.IntegerField(allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class DelegationListApi(generics.ListAPIView, ManageAssessmentsApi):
    """Who may observe reps besides their managers, newest first, paged; POST names a delegate
    for a rep or team."""

    serializer_class = DelegationOutput
    pagination_class = NewestFirstPagination

    class DelegationInput(serializers.Serializer):
        delegate = serializers.IntegerField()
        rep = serializers.IntegerField(required=False, allow_null=True, default=None)
        team = serializers.IntegerField(required=False, allow_null=True, default=None)
        expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def get_queryset(self) -> QuerySet[ObserverDelegation]:
        return ObserverDelegation.objects.select_related("delegate")

    @extend_schema(request=DelegationInput, responses={201: DelegationOutput})
    def post(self, request: Request) -> Response:
        data = self.DelegationInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        delegate = users_visible_to(request.user).filter(pk=values["delegate"]).first()  # type: ignore[arg-type]
        rep = (
            reps_visible_to(request.user).filter(pk=values["rep"]).first()
            if values["rep"]
            else None
        )  # type: ignore[arg-type]
        team: Team | None = (
            teams_visible_to(request.user).filter(pk=values["team"]).first()
            if values["team"]
            else None
        )  # type: ignore[arg-type]
        if delegate is None or (values["rep"] and rep is None) or (values["team"] and team is None):
            raise serializers.ValidationError({"delegate": ["Unknown person, rep or team."]})
        delegation = delegation_create(
            delegate=delegate,
            rep=rep,
            team=team,
            expires_at=values["expires_at"],
            actor=request.user,
        )  # type: ignore[arg-type]
        return Response(DelegationOutput(delegation).data, status=status.HTTP_201_CREATED)


class DelegationDetailApi(ManageAssessmentsApi):
    """Withdraw a delegation."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, delegation_id: int) -> Response:
        delegation_remove(
            delegation=get_object_or_404(ObserverDelegation, pk=delegation_id), actor=request.user
        )  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)
