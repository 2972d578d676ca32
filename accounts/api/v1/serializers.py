"""Output shapes shared by the accounts API views."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import ApiToken, Role, Team, User


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
    manager = PersonRefOutput(read_only=True, allow_null=True)

    class Meta:
        model = Team
        fields = ["id", "name", "kind", "parent", "manager"]


class UserOutput(serializers.ModelSerializer):
    team = TeamRefOutput(read_only=True, allow_null=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "team", "roles", "is_active"]

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


ROLE_CHOICES = Role.choices
