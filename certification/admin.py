"""Django admin for raw data. Certification apps are not in ADMIN_ROLE_APPS, so only
superusers see these; evidence (attempts, certifications) is read-only here, as it is
changed only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet, Subquery
from django.http import HttpRequest

from certification.models import (
    Attempt,
    AttemptQuestion,
    Certification,
    CertificationValidity,
    Choice,
    CurrencyRate,
    Deal,
    DealColumnMapping,
    Exam,
    ExamAssignment,
    ExamSection,
    Notification,
    NotificationPreference,
    OfferingReadinessSummary,
    OfferingVersion,
    OutboxMessage,
    Question,
    QuestionBank,
    ReadinessGeneration,
    ReadinessRequirement,
    ReadinessSnapshot,
    ReadinessSummary,
    Subject,
)
from certification.models.reports import ExportJob
from certification.models.support import SupportPeriod, SupportRequest, SupportUsage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "current_version", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0


@admin.register(QuestionBank)
class QuestionBankAdmin(admin.ModelAdmin):
    list_display = ["name", "subject", "created_at"]
    search_fields = ["name"]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["title", "bank", "category", "kind", "is_active"]
    list_filter = ["kind", "is_active", "bank"]
    search_fields = ["title", "text", "category"]
    inlines = [ChoiceInline]
    list_select_related = ["bank"]


class SectionInline(admin.TabularInline):
    model = ExamSection
    extra = 0


class AssignmentInline(admin.TabularInline):
    model = ExamAssignment
    extra = 0
    raw_id_fields = ["team", "rep", "assigned_by"]


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    list_display = ["title", "subject", "status", "pass_mark", "time_limit_minutes"]
    list_filter = ["status", "subject"]
    search_fields = ["title"]
    inlines = [SectionInline, AssignmentInline]


class AttemptQuestionInline(admin.TabularInline):
    model = AttemptQuestion
    extra = 0
    can_delete = False
    readonly_fields = ["question", "position", "selected", "score", "answered_at"]
    exclude = ["snapshot"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ["exam", "rep", "number", "status", "score", "passed", "finished_at"]
    list_filter = ["status", "passed", "exam"]
    search_fields = ["rep__email", "exam__title"]
    list_select_related = ["exam", "rep"]
    inlines = [AttemptQuestionInline]


@admin.register(Certification)
class CertificationAdmin(ReadOnlyAdmin):
    list_display = ["rep", "subject", "level", "status", "issued_at", "expires_at"]
    list_filter = ["status", "level", "subject"]
    search_fields = ["rep__email", "subject__name"]
    list_select_related = ["rep", "subject"]


# Deals from the CRM: changed only by imports and the enablement pages, read-only here.


@admin.register(Deal)
class DealAdmin(ReadOnlyAdmin):
    list_display = ["opportunity_id", "rep", "stage", "close_date", "amount", "currency"]
    list_filter = ["stage", "currency"]
    search_fields = ["opportunity_id", "rep__email", "rep__display_name"]
    list_select_related = ["rep"]
    date_hierarchy = "close_date"


@admin.register(CurrencyRate)
class CurrencyRateAdmin(ReadOnlyAdmin):
    list_display = ["currency", "rate_to_base", "updated_at"]
    search_fields = ["currency"]


@admin.register(DealColumnMapping)
class DealColumnMappingAdmin(ReadOnlyAdmin):
    list_display = ["name", "created_by", "created_at"]
    search_fields = ["name"]
    list_select_related = ["created_by"]


# Teleprospecting support: periods are changed through the lead's pages (validation, audit,
# re-allocation); here they are read, as are the requests and usage they decide.


@admin.register(SupportPeriod)
class SupportPeriodAdmin(ReadOnlyAdmin):
    list_display = ["starts_on", "ends_on", "capacity_hours", "tier_weights", "allocated_at"]
    date_hierarchy = "starts_on"


@admin.register(SupportRequest)
class SupportRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "period",
        "rep",
        "status",
        "hours_requested",
        "hours_allocated",
        "tier_at_allocation",
    ]
    list_filter = ["status", "tier_at_allocation"]
    search_fields = ["rep__email", "purpose"]
    list_select_related = ["period", "rep"]


@admin.register(SupportUsage)
class SupportUsageAdmin(ReadOnlyAdmin):
    list_display = ["period", "rep", "hours", "meetings_set", "pipeline_amount", "recorded_at"]
    search_fields = ["rep__email", "idempotency_key"]
    list_select_related = ["period", "rep"]


# Report exports: made and purged by the services; read here (the files are the owner's alone).


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    list_display = ["pk", "owner", "table", "format", "status", "total_rows", "created_at"]
    list_filter = ["status", "table", "format"]
    search_fields = ["owner__email"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    exclude = ["file"]


# Lifecycle, notifications and readiness: written by the services (audited there); read here.


@admin.register(CertificationValidity)
class CertificationValidityAdmin(ReadOnlyAdmin):
    list_display = ["subject", "level", "days"]
    list_select_related = ["subject"]


@admin.register(OfferingVersion)
class OfferingVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "offering",
        "version",
        "previous_version",
        "relevel_levels",
        "grace_ends_at",
        "affected_count",
        "published_by",
    ]
    list_select_related = ["offering", "published_by"]
    date_hierarchy = "published_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "recipient", "kind", "title", "created_at", "read_at", "emailed_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter), "email_skipped"]
    search_fields = ["recipient__email", "title", "event_key"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "email"]
    list_filter = ["kind", "email"]
    search_fields = ["user__email"]
    list_select_related = ["user"]


@admin.register(ReadinessRequirement)
class ReadinessRequirementAdmin(ReadOnlyAdmin):
    list_display = ["offering", "team", "segment", "sales_role"]
    list_select_related = ["offering", "team"]


@admin.register(ReadinessSnapshot)
class ReadinessSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["taken_on", "team", "offering", "reps", "ready"]
    list_filter = ["taken_on"]
    list_select_related = ["team", "offering"]


# The task outbox: written and sent by config/celery.py; read here to see what an outage held
# back (unsent rows, their attempts and last error).


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["pk", "task_name", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter), "task_name"]
    search_fields = ["task_name"]
    date_hierarchy = "created_at"


# Readiness summaries: derived rows kept by triggers and the refresh task (see
# certification/services/readiness_summaries.py); read here to see how far behind they are.


class OfferingReadinessSummaryInline(admin.TabularInline):
    model = OfferingReadinessSummary
    fields = ["offering", "ready", "ready_until"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReadinessSummary)
class ReadinessSummaryAdmin(ReadOnlyAdmin):
    list_display = [
        "rep",
        "is_current",
        "version",
        "generation",
        "computed_at",
        "last_active_at",
        "last_observed_on",
    ]
    list_select_related = ["rep"]
    search_fields = ["rep__email"]
    inlines = [OfferingReadinessSummaryInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReadinessSummary]:
        generation = ReadinessGeneration.objects.filter(pk=1).values("value")[:1]
        return super().get_queryset(request).annotate(current_generation=Subquery(generation))

    @admin.display(boolean=True, description="current")
    def is_current(self, obj: ReadinessSummary) -> bool:
        return obj.current and obj.generation == getattr(obj, "current_generation", None)
