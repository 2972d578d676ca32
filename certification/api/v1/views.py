"""Rep API for level 1: my tests, attempts (start, answer, finish, read), my certifications.

The same services and selectors as the pages: one way to start, save, finish and grade.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from certification import rules
from certification.api.permissions import rule
from certification.api.v1.serializers import AttemptOutput, CertificationOutput, RepExamOutput
from certification.models import Attempt
from certification.selectors.certificates import certifications_of
from certification.selectors.exams import (
    attempt_get_for_rep,
    attempt_questions,
    attempt_review,
    exam_get_for_rep,
    exams_for_rep,
)
from certification.services.attempts import (
    attempt_answer,
    attempt_close_if_overdue,
    attempt_finish,
    attempt_start,
)

ERRORS = {
    404: OpenApiResponse(description="Not yours, or no such thing."),
    409: OpenApiResponse(
        description="Refused by the rules: `code` says which "
        "(attempts_used_up, cooling_down, not_open_yet, closed, "
        "already_certified, time_up, attempt_closed); `retry_at` when known."
    ),
}


def attempt_payload(attempt: Attempt, viewer: User) -> dict[str, Any]:
    """The attempt as the viewer may see it: questions without the key while open, else the
    result and the review its test's policy allows."""
    data: dict[str, Any] = {
        "id": attempt.pk,
        "exam_id": attempt.exam_id,
        "number": attempt.number,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "server_time": timezone.now(),
        "finished_at": attempt.finished_at,
        "score": attempt.score,
        "passed": attempt.passed,
        "pass_mark": attempt.exam.pass_mark,
    }
    if attempt.is_open:
        data["questions"] = attempt_questions(attempt)
    else:
        data["review"] = attempt_review(attempt=attempt, viewer=viewer)
        data["certification"] = attempt.certifications.select_related("subject").first()
    return dict(AttemptOutput(data).data)


class RepApi(APIView):
    permission_classes = rule(rules.can_take_tests)

    @property
    def rep(self) -> User:
        return self.request.user  # type: ignore[return-value]


class MyExamListApi(RepApi):
    """My assigned tests with their state, attempts left and when the next attempt opens."""

    @extend_schema(responses=RepExamOutput(many=True))
    def get(self, request: Request) -> Response:
        rows = exams_for_rep(rep=self.rep, now=timezone.now())
        return Response(RepExamOutput(rows, many=True).data)


class AttemptStartApi(RepApi):
    """Start an attempt at the test, or resume the one in progress (200)."""

    @extend_schema(request=None, responses={201: AttemptOutput, 200: AttemptOutput, **ERRORS})
    def post(self, request: Request, exam_id: int) -> Response:
        exam = exam_get_for_rep(exam_id=exam_id, rep=self.rep)
        started = attempt_start(exam=exam, rep=self.rep)
        return Response(
            attempt_payload(started.attempt, self.rep),
            status=status.HTTP_201_CREATED if started.created else status.HTTP_200_OK,
        )


class AttemptDetailApi(RepApi):
    """My attempt: its questions while in progress, its result and review once over."""

    @extend_schema(responses={200: AttemptOutput, 404: ERRORS[404]})
    def get(self, request: Request, attempt_id: int) -> Response:
        attempt = attempt_get_for_rep(attempt_id=attempt_id, rep=self.rep)
        attempt = attempt_close_if_overdue(attempt=attempt)
        return Response(attempt_payload(attempt, self.rep))


class AnswerApi(RepApi):
    """Save my answer to one question (an empty list clears it)."""

    class AnswerInput(serializers.Serializer):
        choices = serializers.ListField(child=serializers.IntegerField(), max_length=50)

    class AnswerOutput(serializers.Serializer):
        question_id = serializers.IntegerField()
        selected = serializers.ListField(child=serializers.IntegerField())
        saved_at = serializers.DateTimeField()

    @extend_schema(request=AnswerInput, responses={200: AnswerOutput, **ERRORS})
    def put(self, request: Request, attempt_id: int, question_id: int) -> Response:
        data = self.AnswerInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = attempt_answer(
            attempt_id=attempt_id,
            rep=self.rep,
            question_id=question_id,
            choice_ids=data.validated_data["choices"],
        )
        return Response(
            self.AnswerOutput(
                {
                    "question_id": item.question_id,
                    "selected": item.selected,
                    "saved_at": item.answered_at,
                }
            ).data
        )


class AttemptFinishApi(RepApi):
    """Finish and grade my attempt; finishing again returns the same grade."""

    @extend_schema(request=None, responses={200: AttemptOutput, 404: ERRORS[404]})
    def post(self, request: Request, attempt_id: int) -> Response:
        attempt = attempt_get_for_rep(attempt_id=attempt_id, rep=self.rep)
        return Response(attempt_payload(attempt_finish(attempt=attempt), self.rep))


class MyCertificationListApi(RepApi):
    """My certifications: active, expired and revoked."""

    @extend_schema(responses=CertificationOutput(many=True))
    def get(self, request: Request) -> Response:
        return Response(CertificationOutput(certifications_of(rep=self.rep), many=True).data)
