"""Django admin for raw data. Certification apps are not in ADMIN_ROLE_APPS, so only
superusers see these; evidence (attempts, certifications) is read-only here, as it is
changed only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from certification.models import (
    Attempt,
    AttemptQuestion,
    Certification,
    Choice,
    Exam,
    ExamAssignment,
    ExamSection,
    Question,
    QuestionBank,
    Subject,
)


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
