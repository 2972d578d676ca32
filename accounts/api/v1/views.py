"""Accounts API: tokens, the signed-in person, and scoped team and people listings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.api.v1.serializers import ApiTokenOutput, MeOutput, TeamOutput, UserOutput
from accounts.models import ApiToken, Role, Team, User
from accounts.selectors import api_tokens_of, people_search, teams_visible_to, users_visible_to
from accounts.services import api_token_create, api_token_revoke


class TokenCreateApi(APIView):
    """Exchange an email and password for a new API token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    class TokenCreateInput(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
        name = serializers.CharField(max_length=100, required=False, default="API token")
        scopes = serializers.ListField(
            child=serializers.ChoiceField(choices=ApiToken.Scope.choices),
            required=False,
            allow_empty=False,
            min_length=1,  # allow_empty does not reach the schema; min_length does
        )
        expires_in_days = serializers.IntegerField(
            required=False, min_value=1, max_value=settings.API_TOKEN_MAX_DAYS
        )

    class TokenCreateOutput(ApiTokenOutput):
        token = serializers.CharField(help_text="The secret. It is shown only this once.")

        class Meta(ApiTokenOutput.Meta):
            fields = [*ApiTokenOutput.Meta.fields, "token"]

    @extend_schema(
        request=TokenCreateInput,
        responses={201: TokenCreateOutput},
        auth=[],
        summary="Create an API token",
    )
    def post(self, request: Request) -> Response:
        data = self.TokenCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,  # django-axes records failures on the Django request
            username=data.validated_data["email"],
            password=data.validated_data["password"],
        )
        # A locked-out pair never reaches here as a success: django-axes refuses it, and its
        # middleware answers 429 in JSON (accounts.security.lockout_response).
        if user is None:
            return Response(
                {"detail": "Unable to sign in with that email and password."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        token, raw = api_token_create(
            user=user,
            name=data.validated_data["name"],
            scopes=data.validated_data.get("scopes"),
            expires_in_days=data.validated_data.get("expires_in_days"),
        )
        token.token = raw  # type: ignore[attr-defined]
        return Response(self.TokenCreateOutput(token).data, status=status.HTTP_201_CREATED)


class TokenListApi(generics.ListAPIView):
    """List my API tokens (never their secrets)."""

    serializer_class = ApiTokenOutput

    def get_queryset(self) -> QuerySet[ApiToken]:
        return api_tokens_of(self.request.user)  # type: ignore[arg-type]


class TokenRevokeApi(APIView):
    """Revoke one of my API tokens at once."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        token = get_object_or_404(api_tokens_of(request.user), pk=token_id)  # type: ignore[arg-type]
        api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    """Who am I, with my roles, team, time zone and working hours."""

    # Any token may ask who it belongs to, a dialer's support-only one too (it only reads).
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        return Response(MeOutput(request.user).data)


class TeamListApi(generics.ListAPIView):
    """List the teams I may see."""

    serializer_class = TeamOutput

    def get_queryset(self) -> QuerySet[Team]:
        return teams_visible_to(self.request.user).select_related("manager__team")


class TeamDetailApi(generics.RetrieveAPIView):
    """One team I may see (404 otherwise)."""

    serializer_class = TeamOutput
    lookup_url_kwarg = "team_id"

    def get_queryset(self) -> QuerySet[Team]:
        return teams_visible_to(self.request.user).select_related("manager__team")


class UserListApi(generics.ListAPIView):
    """List the people I may see, optionally by team subtree, role or text."""

    serializer_class = UserOutput

    class UserFilter(serializers.Serializer):
        team = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
        role = serializers.ChoiceField(choices=Role.choices, required=False, allow_blank=True)
        q = serializers.CharField(required=False, allow_blank=True, max_length=100)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "team",
                {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                description="Only this team and its sub-teams.",
            ),
            OpenApiParameter("role", str, enum=Role.values),
            OpenApiParameter("q", str, description="Part of a name or email."),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[User]:
        filters = self.UserFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return people_search(
            viewer=self.request.user,
            team_id=filters.validated_data.get("team"),
            role=filters.validated_data.get("role") or None,
            text=filters.validated_data.get("q", ""),
        )


class UserDetailApi(generics.RetrieveAPIView):
    """One person I may see (404 otherwise)."""

    serializer_class = UserOutput
    lookup_url_kwarg = "user_id"

    def get_queryset(self) -> QuerySet[User]:
        return users_visible_to(self.request.user)
