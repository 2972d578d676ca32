"""People, teams, roles, API tokens and the audit trail."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time
from functools import cache
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone


class Role(models.TextChoices):
    """What a person does in RepReady. A person may hold several."""

    REP = "rep", "Rep"
    MANAGER = "manager", "Manager"
    ENABLEMENT = "enablement", "Enablement lead"
    TELEPROSPECTING_LEAD = "teleprospecting_lead", "Teleprospecting lead"
    ADMIN = "admin", "Admin"


ROLE_FIELDS: dict[Role, str] = {
    Role.REP: "is_rep",
    Role.MANAGER: "is_manager",
    Role.ENABLEMENT: "is_enablement",
    Role.TELEPROSPECTING_LEAD: "is_teleprospecting_lead",
    Role.ADMIN: "is_admin",
}

ISO_WEEKDAYS = [
    (1, "Monday"),
    (2, "Tuesday"),
    (3, "Wednesday"),
    (4, "Thursday"),
    (5, "Friday"),
    (6, "Saturday"),
    (7, "Sunday"),
]


@cache
def time_zone_names() -> tuple[str, ...]:
    """Return the IANA time zone names this system knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(value: str) -> None:
    """Refuse a name that is not an IANA time zone."""
    if value not in time_zone_names():
        raise ValidationError(f"{value!r} is not a known time zone, e.g. Europe/Paris.")


def validate_work_days(value: object) -> None:
    """Refuse anything but a non-empty list of distinct ISO weekdays (1 = Monday)."""
    if (
        not isinstance(value, list)
        or not value
        or len(set(value)) != len(value)
        or not all(isinstance(day, int) and 1 <= day <= 7 for day in value)
    ):
        raise ValidationError("Working days must be distinct weekdays from 1 (Monday) to 7.")


def default_work_days() -> list[int]:
    return [1, 2, 3, 4, 5]


class Team(models.Model):
    """A region or a team. Teams sit under a region or another team; regions are roots."""

    class Kind(models.TextChoices):
        REGION = "region", "Region"
        TEAM = "team", "Team"

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEAM)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    manager = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
    )
    # Materialised path of primary keys, e.g. "000001/000007/": a subtree is one prefix match.
    path = models.CharField(max_length=255, editable=False, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["path"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["parent", "name"], name="team_name_unique_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="region_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind="region", parent__isnull=True)
                | Q(kind="team", parent__isnull=False),
                name="team_kind_matches_parent",
            ),
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["path"], name="team_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/")


class UserManager(BaseUserManager["User"]):
    """Create users keyed by a case-insensitive email."""

    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=self.normalize_email(username))

    def create_user(self, email: str, password: str | None = None, **fields: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> User:
        fields.update(is_admin=True, is_superuser=True)
        fields.setdefault("display_name", email.split("@", maxsplit=1)[0])
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=150)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    # Slices for readiness requirements and reports, e.g. "Enterprise" / "Account executive".
    segment = models.CharField(max_length=60, blank=True, db_index=True)
    sales_role = models.CharField("sales role", max_length=60, blank=True, db_index=True)
    is_active = models.BooleanField(default=True)
    is_rep = models.BooleanField("rep", default=False)
    is_manager = models.BooleanField("manager", default=False)
    is_enablement = models.BooleanField("enablement lead", default=False)
    is_teleprospecting_lead = models.BooleanField("teleprospecting lead", default=False)
    is_admin = models.BooleanField(
        "admin", default=False, help_text="Manages users, teams, API tokens and the audit trail."
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    work_start = models.TimeField(default=time(9, 0))
    work_end = models.TimeField(default=time(17, 30))
    work_days = models.JSONField(default=default_work_days, validators=[validate_work_days])
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]

    class Meta:
        ordering = ["display_name", "email"]
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=Q(work_start__lt=models.F("work_end")), name="user_work_hours_ordered"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["team", "is_rep"], name="user_team_rep"),
            # Reports page through reps by name with a keyset cursor.
            models.Index(fields=["display_name", "id"], name="user_name_order"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>"

    def clean(self) -> None:
        super().clean()
        self.email = UserManager.normalize_email(self.email)
        if self.work_start and self.work_end and self.work_start >= self.work_end:
            raise ValidationError({"work_end": "The working day must end after it starts."})

    @property
    def is_staff(self) -> bool:
        """Only admins use Django's admin site."""
        return self.is_admin or self.is_superuser

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(role for role, field in ROLE_FIELDS.items() if getattr(self, field))

    @property
    def role_labels(self) -> list[str]:
        return [str(role.label) for role in Role if getattr(self, ROLE_FIELDS[role])]

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name.split(" ")[0] if self.display_name else self.email


class ApiToken(models.Model):
    """A revocable API credential. Only a SHA-256 digest of the secret is stored."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"
        # For a dialer or CRM: support entitlements and usage, and nothing else.
        SUPPORT = "support", "Teleprospecting support"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The public part of the token: shown in lists, used to find the row.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AuditEvent(models.Model):
    """Who did what to which object, when. Written by services, never edited."""

    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action}"
