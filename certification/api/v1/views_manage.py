"""Enablement API for level 1: subjects, banks, questions, imports, tests, assignment, results.

Every endpoint is for enablement leads only (404 for anyone else, as on the pages) and calls
the same services as the enablement pages.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import reps_visible_to, teams_visible_to
from certification import rules
from certification.api.permissions import rule
from certification.api.v1.serializers import (
    AssignmentOutput,
    BankOutput,
    ExamOutput,
    ImportReportOutput,
    ItemStatisticsOutput,
    QuestionOutput,
    ResultOutput,
    SubjectRefOutput,
)
from certification.api.v1.views import attempt_payload
from certification.models import Attempt, Exam, ExamAssignment, Question, QuestionBank, Subject
from certification.selectors.authoring import banks_for_authoring
from certification.selectors.exams import exam_results, item_analysis, questions_of_bank
from certification.services.catalog import subject_create, subject_update
from certification.services.exams import (
    EDITABLE,
    SectionInput,
    exam_archive,
    exam_assign,
    exam_create,
    exam_problems,
    exam_publish,
    exam_set_sections,
    exam_unassign,
    exam_update,
)
from certification.services.imports import FORMATS, questions_import
from certification.services.questions import (
    ChoiceInput,
    QuestionInput,
    bank_create,
    bank_update,
    question_create,
    question_set_active,
    question_update,
)


class ManageApi(APIView):
    permission_classes = rule(rules.can_author)

    @property
    def actor(self) -> User:
        return self.request.user  # type: ignore[return-value]


class ManageListApi(generics.ListAPIView, ManageApi):
    pass


# Subjects ------------------------------------------------------------------------------------


class SubjectInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=Subject.Kind.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    current_version = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=40
    )


class SubjectListApi(ManageListApi):
    """Subjects; create one with POST."""

    serializer_class = SubjectRefOutput

    def get_queryset(self) -> QuerySet[Subject]:
        return Subject.objects.order_by("kind", "name")

    @extend_schema(request=SubjectInput, responses={201: SubjectRefOutput})
    def post(self, request: Request) -> Response:
        data = SubjectInput(data=request.data)
        data.is_valid(raise_exception=True)
        subject = subject_create(actor=self.actor, **data.validated_data)
        return Response(SubjectRefOutput(subject).data, status=status.HTTP_201_CREATED)


class SubjectDetailApi(ManageApi):
    """One subject; PATCH its name, description or whether it is active."""

    class SubjectPatch(serializers.Serializer):
        name = serializers.CharField(max_length=120, required=False)
        description = serializers.CharField(required=False, allow_blank=True)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(responses=SubjectRefOutput)
    def get(self, request: Request, subject_id: int) -> Response:
        return Response(SubjectRefOutput(get_object_or_404(Subject, pk=subject_id)).data)

    @extend_schema(request=SubjectPatch, responses=SubjectRefOutput)
    def patch(self, request: Request, subject_id: int) -> Response:
        subject = get_object_or_404(Subject, pk=subject_id)
        data = self.SubjectPatch(data=request.data)
        data.is_valid(raise_exception=True)
        values = {
            "name": subject.name,
            "description": subject.description,
            "is_active": subject.is_active,
            **data.validated_data,
        }
        subject = subject_update(subject=subject, actor=self.actor, **values)
        return Response(SubjectRefOutput(subject).data)


# Banks and questions ---------------------------------------------------------------------------


class BankInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    subject = serializers.PrimaryKeyRelatedField(
        queryset=Subject.objects.all(), required=False, allow_null=True, default=None
    )


class BankListApi(ManageListApi):
    """Question banks with their question counts; create one with POST."""

    serializer_class = BankOutput

    def get_queryset(self) -> QuerySet[QuestionBank]:
        return banks_for_authoring()

    @extend_schema(request=BankInput, responses={201: BankOutput})
    def post(self, request: Request) -> Response:
        data = BankInput(data=request.data)
        data.is_valid(raise_exception=True)
        bank = bank_create(actor=self.actor, **data.validated_data)
        return Response(BankOutput(bank).data, status=status.HTTP_201_CREATED)


class BankDetailApi(ManageApi):
    """One bank; PATCH its name, description or subject."""

    class BankPatch(BankInput):
        name = serializers.CharField(max_length=120, required=False)

    @extend_schema(responses=BankOutput)
    def get(self, request: Request, bank_id: int) -> Response:
        return Response(BankOutput(get_object_or_404(banks_for_authoring(), pk=bank_id)).data)

    @extend_schema(request=BankPatch, responses=BankOutput)
    def patch(self, request: Request, bank_id: int) -> Response:
        bank = get_object_or_404(QuestionBank, pk=bank_id)
        data = self.BankPatch(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {
            "name": bank.name,
            "description": bank.description,
            "subject": bank.subject,
            **data.validated_data,
        }
        return Response(BankOutput(bank_update(bank=bank, actor=self.actor, **values)).data)


class ChoiceInputSerializer(serializers.Serializer):
    text = serializers.CharField()
    weight = serializers.DecimalField(
        max_digits=8, decimal_places=5, min_value=Decimal(-100), max_value=Decimal(100)
    )
    feedback = serializers.CharField(required=False, allow_blank=True, default="")


class QuestionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    text = serializers.CharField(help_text="HTML is sanitised.")
    category = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    general_feedback = serializers.CharField(required=False, allow_blank=True, default="")
    mark = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        required=False,
        default=Decimal(1),
        min_value=Decimal("0.01"),
    )
    choices = ChoiceInputSerializer(many=True, min_length=2, max_length=20)

    def to_input(self) -> QuestionInput:
        data = dict(self.validated_data)
        choices = [ChoiceInput(**choice) for choice in data.pop("choices")]
        return QuestionInput(choices=choices, **data)


class BankQuestionListApi(ManageListApi):
    """A bank's questions (with the key), by ?category= and ?q=; add one with POST."""

    serializer_class = QuestionOutput

    class QuestionFilter(serializers.Serializer):
        # CharFields refuse a NUL, which PostgreSQL cannot compare (was a 500).
        category = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
        q = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str, description="This category and those under it."),
            OpenApiParameter("q", str, description="Part of the title or text."),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Question]:
        bank = get_object_or_404(QuestionBank, pk=self.kwargs["bank_id"])
        filters = self.QuestionFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return questions_of_bank(
            bank_id=bank.pk,
            category=filters.validated_data.get("category", ""),
            text=filters.validated_data.get("q", ""),
        ).prefetch_related("choices")

    @extend_schema(request=QuestionInputSerializer, responses={201: QuestionOutput})
    def post(self, request: Request, bank_id: int) -> Response:
        bank = get_object_or_404(QuestionBank, pk=bank_id)
        data = QuestionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = question_create(bank=bank, data=data.to_input(), actor=self.actor)
        return Response(QuestionOutput(question).data, status=status.HTTP_201_CREATED)


class QuestionDetailApi(ManageApi):
    """One question with its key; PUT replaces it; PATCH retires or restores it."""

    class QuestionActivePatch(serializers.Serializer):
        is_active = serializers.BooleanField()

    @extend_schema(responses=QuestionOutput)
    def get(self, request: Request, question_id: int) -> Response:
        return Response(QuestionOutput(get_object_or_404(Question, pk=question_id)).data)

    @extend_schema(request=QuestionInputSerializer, responses=QuestionOutput)
    def put(self, request: Request, question_id: int) -> Response:
        question = get_object_or_404(Question, pk=question_id)
        data = QuestionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        question = question_update(question=question, data=data.to_input(), actor=self.actor)
        return Response(QuestionOutput(question).data)

    @extend_schema(request=QuestionActivePatch, responses=QuestionOutput)
    def patch(self, request: Request, question_id: int) -> Response:
        question = get_object_or_404(Question, pk=question_id)
        data = self.QuestionActivePatch(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if "is_active" in data.validated_data:  # a PATCH without it changes nothing
            question = question_set_active(
                question=question, actor=self.actor, is_active=data.validated_data["is_active"]
            )
        return Response(QuestionOutput(question).data)


class BankImportApi(ManageApi):
    """Import a GIFT or Moodle XML file into the bank (dry_run to preview)."""

    parser_classes = [MultiPartParser]

    class ImportInput(serializers.Serializer):
        file = serializers.FileField()
        format = serializers.ChoiceField(choices=FORMATS, required=False)
        dry_run = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        request={"multipart/form-data": ImportInput},
        responses={200: ImportReportOutput, 201: ImportReportOutput},
    )
    def post(self, request: Request, bank_id: int) -> Response:
        bank = get_object_or_404(QuestionBank, pk=bank_id)
        data = self.ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        report = questions_import(
            bank=bank,
            data=upload.read(),
            fmt=data.validated_data.get("format"),
            dry_run=data.validated_data["dry_run"],
            actor=self.actor,
        )
        body = ImportReportOutput(
            {
                "format": report.format,
                "dry_run": report.dry_run,
                "summary": report.summary,
                "added": [dataclasses.asdict(q) for q in report.added],
                "unchanged": [dataclasses.asdict(q) for q in report.unchanged],
                "skipped": [dataclasses.asdict(q) for q in report.skipped],
            }
        ).data
        created = not report.dry_run and report.added
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# Tests -------------------------------------------------------------------------------------


class ExamSettingsInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    pass_mark = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, min_value=Decimal(0), max_value=Decimal(100)
    )
    time_limit_minutes = serializers.IntegerField(required=False, min_value=1, max_value=600)
    max_attempts = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=100
    )
    cooldown_minutes = serializers.IntegerField(required=False, min_value=0, max_value=525600)
    available_from = serializers.DateTimeField(required=False, allow_null=True)
    available_until = serializers.DateTimeField(required=False, allow_null=True)
    layout = serializers.ChoiceField(choices=Exam.Layout.choices, required=False)
    shuffle_questions = serializers.BooleanField(required=False)
    review_policy = serializers.ChoiceField(choices=Exam.Review.choices, required=False)
    review_after_pass_only = serializers.BooleanField(required=False)


class ExamCreateInput(ExamSettingsInput):
    subject = serializers.PrimaryKeyRelatedField(queryset=Subject.objects.all())


def _exam(exam_id: int) -> Exam:
    return get_object_or_404(
        Exam.objects.select_related("subject").prefetch_related("sections__bank"), pk=exam_id
    )


class ExamListApi(ManageListApi):
    """All tests; create a draft with POST."""

    serializer_class = ExamOutput

    def get_queryset(self) -> QuerySet[Exam]:
        return Exam.objects.select_related("subject").prefetch_related("sections__bank")

    @extend_schema(request=ExamCreateInput, responses={201: ExamOutput})
    def post(self, request: Request) -> Response:
        data = ExamCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        exam = exam_create(subject=values.pop("subject"), actor=self.actor, **values)
        return Response(ExamOutput(_exam(exam.pk)).data, status=status.HTTP_201_CREATED)


class ExamDetailApi(ManageApi):
    """One test with its sections and what stops it being taken; PATCH its settings."""

    class DetailOutput(ExamOutput):
        problems = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses=DetailOutput)
    def get(self, request: Request, exam_id: int) -> Response:
        exam = _exam(exam_id)
        exam.problems = exam_problems(exam)  # type: ignore[attr-defined]
        return Response(self.DetailOutput(exam).data)

    @extend_schema(request=ExamSettingsInput, responses=ExamOutput)
    def patch(self, request: Request, exam_id: int) -> Response:
        exam = _exam(exam_id)
        data = ExamSettingsInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        settings = {k: v for k, v in data.validated_data.items() if k in EDITABLE}
        exam_update(exam=exam, actor=self.actor, **settings)
        return Response(ExamOutput(_exam(exam_id)).data)


class ExamSectionsApi(ManageApi):
    """Replace what the test draws: N questions per bank (or bank category)."""

    class SectionInputSerializer(serializers.Serializer):
        bank = serializers.PrimaryKeyRelatedField(queryset=QuestionBank.objects.all())
        category = serializers.CharField(required=False, allow_blank=True, default="")
        count = serializers.IntegerField(min_value=1, max_value=200)

    @extend_schema(request=SectionInputSerializer(many=True), responses=ExamOutput)
    def put(self, request: Request, exam_id: int) -> Response:
        exam = _exam(exam_id)
        data = self.SectionInputSerializer(data=request.data, many=True)
        data.is_valid(raise_exception=True)
        exam_set_sections(
            exam=exam,
            actor=self.actor,
            sections=[
                SectionInput(s["bank"], s["count"], s["category"]) for s in data.validated_data
            ],
        )
        return Response(ExamOutput(_exam(exam_id)).data)


class ExamPublishApi(ManageApi):
    """Publish a draft test (409-free: a test that is not ready answers 400 with why)."""

    @extend_schema(request=None, responses=ExamOutput)
    def post(self, request: Request, exam_id: int) -> Response:
        exam_publish(exam=_exam(exam_id), actor=self.actor)
        return Response(ExamOutput(_exam(exam_id)).data)


class ExamArchiveApi(ManageApi):
    """Withdraw a test: no new attempts; results and certifications stay."""

    @extend_schema(request=None, responses=ExamOutput)
    def post(self, request: Request, exam_id: int) -> Response:
        exam_archive(exam=_exam(exam_id), actor=self.actor)
        return Response(ExamOutput(_exam(exam_id)).data)


class ExamAssignmentListApi(ManageListApi):
    """The test's assignments; POST assigns it to teams (and their sub-teams) and reps."""

    serializer_class = AssignmentOutput

    class AssignInput(serializers.Serializer):
        teams = serializers.ListField(
            child=serializers.IntegerField(), required=False, default=list, max_length=500
        )
        reps = serializers.ListField(
            child=serializers.IntegerField(), required=False, default=list, max_length=5000
        )
        due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def get_queryset(self) -> QuerySet[ExamAssignment]:
        return _exam(self.kwargs["exam_id"]).assignments.order_by("pk")

    @extend_schema(request=AssignInput, responses={201: AssignmentOutput(many=True)})
    def post(self, request: Request, exam_id: int) -> Response:
        exam = _exam(exam_id)
        data = self.AssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        teams = list(teams_visible_to(self.actor).filter(pk__in=data.validated_data["teams"]))
        reps = list(reps_visible_to(self.actor).filter(pk__in=data.validated_data["reps"]))
        missing = (
            len(set(data.validated_data["teams"])) - len(teams),
            len(set(data.validated_data["reps"])) - len(reps),
        )
        if any(missing):
            raise serializers.ValidationError(
                {"teams" if missing[0] else "reps": ["Unknown ids, or not active reps."]}
            )
        exam_assign(
            exam=exam,
            actor=self.actor,
            teams=teams,
            reps=reps,
            due_at=data.validated_data["due_at"],
        )
        return Response(
            AssignmentOutput(exam.assignments.order_by("pk"), many=True).data,
            status=status.HTTP_201_CREATED,
        )


class AssignmentDetailApi(ManageApi):
    """Remove an assignment (attempts and certifications already earned stay)."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, assignment_id: int) -> Response:
        exam_unassign(
            assignment=get_object_or_404(ExamAssignment, pk=assignment_id), actor=self.actor
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExamResultListApi(ManageListApi):
    """Graded attempts at the test, newest first."""

    serializer_class = ResultOutput

    def get_queryset(self) -> QuerySet[Attempt]:
        return exam_results(exam=_exam(self.kwargs["exam_id"]), viewer=self.actor)


class ItemAnalysisApi(ManageApi):
    """Facility and discrimination of each question over the test's graded attempts."""

    @extend_schema(responses=ItemStatisticsOutput(many=True))
    def get(self, request: Request, exam_id: int) -> Response:
        stats = item_analysis(exam=_exam(exam_id))
        return Response(ItemStatisticsOutput(stats, many=True).data)


class AttemptReviewApi(ManageApi):
    """Any rep's graded attempt with the full review, key included."""

    @extend_schema(responses=None)
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = get_object_or_404(
            Attempt.objects.select_related("exam")
            .filter(rep__in=reps_visible_to(self.actor).values("pk"))
            .exclude(status=Attempt.Status.IN_PROGRESS),
            pk=attempt_id,
        )
        return Response(attempt_payload(attempt, self.actor))
