"""Django admin for the admin role: people, teams, API tokens and the (read-only) audit trail.

Changes that are audited go through the same services as the pages and the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.models import ROLE_FIELDS, ApiToken, AuditEvent, Team, User
from accounts.services import (
    api_token_revoke,
    audit_record,
    team_check,
    team_create,
    team_update,
    user_password_changed,
    user_set_active,
    user_set_roles,
    user_set_slice,
    user_set_team,
)
from config.errors import ApplicationError

# Roles that see reps' results or run accounts: only a superuser grants them.
PRIVILEGED_ROLE_FIELDS = ("is_enablement", "is_admin")

admin.site.site_header = "RepReady administration"
admin.site.site_title = "RepReady admin"
admin.site.index_title = "Accounts, teams and schedules"


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "display_name", "team"]


class UserChangeForm(BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ["email", "display_name", "team", "role_list", "is_active", "last_login"]
    list_filter = ["is_active", *ROLE_FIELDS.values(), "team", "segment", "sales_role"]
    search_fields = ["email", "display_name"]
    ordering = ["display_name", "email"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]
    filter_horizontal = ()
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "display_name", "team", "segment", "sales_role", "password"]}),
        ("Roles", {"fields": [*ROLE_FIELDS.values(), "is_active"]}),
        ("Working hours", {"fields": ["time_zone", "work_start", "work_end", "work_days"]}),
        ("History", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "email",
                    "display_name",
                    "team",
                    "usable_password",
                    "password1",
                    "password2",
                ]
            },
        ),
        ("Roles", {"fields": list(ROLE_FIELDS.values())}),
    ]

    @admin.display(description="Roles")
    def role_list(self, user: User) -> str:
        return ", ".join(sorted(role.label for role in user.roles)) or "—"

    # An admin who is not a superuser manages accounts but cannot raise anyone (themself
    # included, through a second account) to a role that sees results or runs accounts, and
    # cannot touch superusers at all.

    def _locked_fields(self, request: HttpRequest, obj: User | None) -> list[str]:
        if request.user.is_superuser:
            return []
        locked = list(PRIVILEGED_ROLE_FIELDS)
        if obj is not None and obj.pk == request.user.pk:
            locked += [f for f in [*ROLE_FIELDS.values(), "is_active"] if f not in locked]
        return locked

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        users = super().get_queryset(request)
        return users if request.user.is_superuser else users.filter(is_superuser=False)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return fields + self._locked_fields(request, obj) if obj is not None else fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return super().get_fieldsets(request, obj)
        locked = self._locked_fields(request, None)
        return [
            (name, {"fields": [f for f in options["fields"] if f not in locked]})
            for name, options in self.add_fieldsets
        ]

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:  # noqa: A002
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, unquote(id))
            if user is not None:
                user_password_changed(user=user, actor=request.user, reason="set by an admin")  # type: ignore[arg-type]
        return response

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        actor = request.user
        if not change:
            super().save_model(request, obj, form, change)
            audit_record(
                actor=actor,
                action="user.created",
                target=obj,  # type: ignore[arg-type]
                changes={"roles": sorted(obj.roles), "team": obj.team.name if obj.team else None},
            )
            return
        # Audited fields go through their services; the rest is saved as edited.
        original = User.objects.get(pk=obj.pk)
        roles, team, active = obj.roles, obj.team, obj.is_active
        segment, sales_role = obj.segment, obj.sales_role
        if original.email != obj.email:
            audit_record(
                actor=actor,
                action="user.email_changed",
                target=obj,  # type: ignore[arg-type]
                changes={"before": original.email, "after": obj.email},
            )
        for field in ROLE_FIELDS.values():
            setattr(obj, field, getattr(original, field))
        obj.team, obj.is_active = original.team, original.is_active
        obj.segment, obj.sales_role = original.segment, original.sales_role
        super().save_model(request, obj, form, change)
        user_set_roles(user=obj, roles=roles, actor=actor)  # type: ignore[arg-type]
        user_set_team(user=obj, team=team, actor=actor)  # type: ignore[arg-type]
        user_set_active(user=obj, is_active=active, actor=actor)  # type: ignore[arg-type]
        user_set_slice(user=obj, segment=segment, sales_role=sales_role, actor=actor)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # People are deactivated, never deleted: their certifications and audit trail remain.
        return False


class TeamAdminForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "kind", "parent", "manager"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            team_check(
                name=data.get("name", ""),
                # The kind is read-only once a team exists, so it is not in the posted data.
                kind=data.get("kind", self.instance.kind),
                parent=data.get("parent"),
                manager=data.get("manager"),
                team=self.instance if self.instance.pk else None,
            )
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None
        return data


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    form = TeamAdminForm
    list_display = ["indented_name", "kind", "manager"]
    list_select_related = ["manager"]
    search_fields = ["name"]
    autocomplete_fields = ["parent", "manager"]
    readonly_fields = ["path"]

    @admin.display(description="Name", ordering="path")
    def indented_name(self, team: Team) -> str:
        return format_html("{}{}", "\u2003" * (team.depth - 1), team.name)

    def get_readonly_fields(self, request: HttpRequest, obj: Team | None = None) -> Any:
        return ["path", "kind"] if obj else ["path"]

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            team_update(
                team=obj,
                actor=request.user,
                name=data["name"],  # type: ignore[arg-type]
                parent=data["parent"],
                manager=data["manager"],
            )
        else:
            created = team_create(
                name=data["name"],
                kind=data["kind"],
                parent=data["parent"],
                manager=data["manager"],
                actor=request.user,
            )  # type: ignore[arg-type]
            obj.pk = created.pk

    def has_delete_permission(self, request: HttpRequest, obj: Team | None = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "user",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__email"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "name",
        "prefix",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    fields = readonly_fields
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
        messages.success(request, f"{queryset.count()} token(s) revoked.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people create their own tokens; the secret is shown only to them

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoke instead: the row stays for the audit trail


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor_label", "action", "target_label"]
    list_filter = ["action"]
    search_fields = ["actor_label", "target_label", "action"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
