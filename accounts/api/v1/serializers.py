"""Output shapes shared by the accounts API views."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ApiToken, Team, User
from accounts.rules import can_view_user


class TeamRefOutput(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "kind"]


class PersonRefOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "display_name", "email"]


class TeamOutput(serializers.ModelSerializer):
    parent = TeamRefOutput(read_only=True, allow_null=True)
    manager = serializers.SerializerMethodField(
        help_text="Null when there is none, or when the directory does not show you this person."
    )

    class Meta:
        model = Team
        fields = ["id", "name", "kind", "parent", "manager"]

    @extend_schema_field(PersonRefOutput(allow_null=True))
    def get_manager(self, team: Team) -> dict[str, object] | None:
        # A list never shows a person the directory would refuse (users/{id} answers 404).
        viewer = self.context["request"].user
        if team.manager is None or not can_view_user(viewer, team.manager):
            return None
        return PersonRefOutput(team.manager).data


class UserOutput(serializers.ModelSerializer):
    team = TeamRefOutput(read_only=True, allow_null=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "team",
            "segment",
            "sales_role",
            "roles",
            "is_active",
        ]

    def get_roles(self, user: User) -> list[str]:
        return sorted(user.roles)


class MeOutput(UserOutput):
    roles = serializers.SerializerMethodField()

    class Meta(UserOutput.Meta):
        fields = [*UserOutput.Meta.fields, "time_zone", "work_start", "work_end", "work_days"]

    def get_roles(self, user: User) -> list[str]:
        return sorted(user.roles)


class ApiTokenOutput(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
