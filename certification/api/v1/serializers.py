"""Output shapes for the certification API. Nothing here ever reads a choice's weight or
feedback except ReviewOutput, which only serialises a finished attempt's review."""

from __future__ import annotations

from rest_framework import serializers

from certification.models import Certification, Subject


class SubjectRefOutput(serializers.ModelSerializer):
    class Meta:
        model = Subject
        fields = ["id", "name", "kind", "current_version"]


class RepExamOutput(serializers.Serializer):
    """One assigned test, as the rep sees it."""

    id = serializers.IntegerField(source="exam.pk")
    title = serializers.CharField(source="exam.title")
    subject = SubjectRefOutput(source="exam.subject")
    level = serializers.IntegerField(source="exam.level")
    state = serializers.ChoiceField(
        choices=[
            "not_started",
            "in_progress",
            "passed",
            "retake",
            "cooling_down",
            "used_up",
            "not_open",
            "closed",
        ]
    )
    time_limit_minutes = serializers.IntegerField(source="exam.time_limit_minutes")
    pass_mark = serializers.DecimalField(source="exam.pass_mark", max_digits=5, decimal_places=2)
    max_attempts = serializers.IntegerField(source="exam.max_attempts", allow_null=True)
    attempts_used = serializers.IntegerField()
    attempts_left = serializers.IntegerField(allow_null=True)
    open_attempt_id = serializers.IntegerField(allow_null=True)
    open_deadline = serializers.DateTimeField(allow_null=True)
    best_score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    last_attempt_id = serializers.IntegerField(allow_null=True)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)


class OfferedChoiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField(help_text="Sanitised HTML.")


class OfferedQuestionOutput(serializers.Serializer):
    question_id = serializers.IntegerField()
    position = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["single", "multiple", "true_false"])
    text = serializers.CharField(help_text="Sanitised HTML.")
    choices = OfferedChoiceOutput(many=True)
    selected = serializers.ListField(child=serializers.IntegerField())


class CertificationOutput(serializers.ModelSerializer):
    subject = SubjectRefOutput()
    attempt_id = serializers.IntegerField(
        allow_null=True, help_text="Level 1 evidence: the passed test attempt."
    )
    session_id = serializers.IntegerField(
        allow_null=True, help_text="Level 2 evidence: the released role-play session."
    )
    signoff_id = serializers.IntegerField(
        allow_null=True, help_text="Level 3 evidence: the field sign-off."
    )

    class Meta:
        model = Certification
        fields = [
            "id",
            "public_id",
            "subject",
            "level",
            "status",
            "issued_at",
            "expires_at",
            "subject_version",
            "attempt_id",
            "session_id",
            "signoff_id",
        ]


class ReviewedChoiceOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    chosen = serializers.BooleanField()
    right = serializers.BooleanField(
        allow_null=True, help_text="Null when the review does not say."
    )
    feedback = serializers.CharField(allow_blank=True)
    weight = serializers.DecimalField(
        max_digits=8,
        decimal_places=5,
        allow_null=True,
        help_text="Only in enablement's review (detail 'key').",
    )


class ReviewedQuestionOutput(serializers.Serializer):
    question_id = serializers.IntegerField()
    position = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    score = serializers.DecimalField(
        max_digits=7,
        decimal_places=6,
        allow_null=True,
        help_text="Fraction of the question's mark earned.",
    )
    choices = ReviewedChoiceOutput(many=True)
    general_feedback = serializers.CharField(allow_blank=True)


class ReviewOutput(serializers.Serializer):
    detail = serializers.ChoiceField(choices=["score", "correctness", "feedback", "key"])
    withheld_until_pass = serializers.BooleanField()
    questions = ReviewedQuestionOutput(many=True)


class AttemptOutput(serializers.Serializer):
    """An attempt: its questions while open (no key); its result and review once over."""

    id = serializers.IntegerField()
    exam_id = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["in_progress", "finished", "expired"])
    started_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    server_time = serializers.DateTimeField(help_text="The server's clock; the deadline is on it.")
    finished_at = serializers.DateTimeField(allow_null=True)
    score = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    passed = serializers.BooleanField(allow_null=True)
    pass_mark = serializers.DecimalField(max_digits=5, decimal_places=2)
    questions = OfferedQuestionOutput(
        many=True, required=False, help_text="Only while the attempt is in progress."
    )
    review = ReviewOutput(required=False, help_text="Only once the attempt is over.")
    certification = CertificationOutput(required=False, allow_null=True)


# Enablement -----------------------------------------------------------------------------------


class ChoiceKeyOutput(serializers.Serializer):
    """A choice with its key: for authors only."""

    id = serializers.IntegerField()
    text = serializers.CharField()
    weight = serializers.DecimalField(max_digits=8, decimal_places=5)
    feedback = serializers.CharField(allow_blank=True)


class QuestionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    bank_id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    text = serializers.CharField()
    category = serializers.CharField(allow_blank=True)
    general_feedback = serializers.CharField(allow_blank=True)
    mark = serializers.DecimalField(max_digits=6, decimal_places=2)
    is_active = serializers.BooleanField()
    choices = ChoiceKeyOutput(many=True, source="choices.all")
    updated_at = serializers.DateTimeField()


class BankOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    subject = SubjectRefOutput(allow_null=True)
    question_count = serializers.IntegerField(required=False)
    active_count = serializers.IntegerField(required=False)


class SectionOutput(serializers.Serializer):
    bank_id = serializers.IntegerField()
    bank = serializers.CharField(source="bank.name")
    category = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField()


class ExamOutput(serializers.Serializer):
    id = serializers.IntegerField()
    subject = SubjectRefOutput()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    pass_mark = serializers.DecimalField(max_digits=5, decimal_places=2)
    time_limit_minutes = serializers.IntegerField()
    max_attempts = serializers.IntegerField(allow_null=True)
    cooldown_minutes = serializers.IntegerField()
    available_from = serializers.DateTimeField(allow_null=True)
    available_until = serializers.DateTimeField(allow_null=True)
    layout = serializers.CharField()
    shuffle_questions = serializers.BooleanField()
    review_policy = serializers.CharField()
    review_after_pass_only = serializers.BooleanField()
    sections = SectionOutput(many=True, source="sections.all")


class AssignmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team_id = serializers.IntegerField(allow_null=True)
    rep_id = serializers.IntegerField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    assigned_at = serializers.DateTimeField()


class ResultOutput(serializers.Serializer):
    attempt_id = serializers.IntegerField(source="pk")
    rep_id = serializers.IntegerField()
    rep = serializers.CharField(source="rep.display_name")
    team = serializers.CharField(source="rep.team.name", allow_null=True, default=None)
    number = serializers.IntegerField()
    status = serializers.CharField()
    score = serializers.DecimalField(max_digits=5, decimal_places=2)
    passed = serializers.BooleanField()
    finished_at = serializers.DateTimeField()


class ItemStatisticsOutput(serializers.Serializer):
    question_id = serializers.IntegerField()
    title = serializers.CharField()
    responses = serializers.IntegerField()
    facility = serializers.FloatField(allow_null=True)
    discrimination = serializers.FloatField(allow_null=True)
    flags = serializers.ListField(child=serializers.CharField())


class ImportReportOutput(serializers.Serializer):
    format = serializers.CharField()
    dry_run = serializers.BooleanField()
    summary = serializers.CharField()
    added = serializers.ListField(child=serializers.DictField())
    unchanged = serializers.ListField(child=serializers.DictField())
    skipped = serializers.ListField(child=serializers.DictField())
