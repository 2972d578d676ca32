"""Level 1: question banks, tests ("exams" in code), assignments and attempts."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from certification.models.catalog import Subject


class QuestionBank(models.Model):
    """A named pool of questions that tests draw from."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    subject = models.ForeignKey(
        Subject,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="banks",
        help_text="The subject these questions cover, if one.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("name"), name="bank_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    """A single-choice, multiple-response or true/false question."""

    class Kind(models.TextChoices):
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple response"
        TRUE_FALSE = "true_false", "True / false"

    bank = models.ForeignKey(QuestionBank, on_delete=models.PROTECT, related_name="questions")
    category = models.CharField(
        max_length=255, blank=True, help_text="A path such as 'Products/Acme Cloud'."
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=255)
    text = models.TextField(help_text="Sanitised HTML.")
    general_feedback = models.TextField(blank=True)
    mark = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal(1), help_text="Weight in a test's score."
    )
    is_active = models.BooleanField(default=True)
    # Fingerprint of the content, so importing the same file twice adds nothing.
    source_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["bank", "category", "title", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["bank", "source_key"],
                condition=~Q(source_key=""),
                name="question_source_unique_in_bank",
            ),
            models.CheckConstraint(condition=Q(mark__gt=0), name="question_mark_positive"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["bank", "is_active", "category"], name="question_draw"),
        ]

    def __str__(self) -> str:
        return self.title


class Choice(models.Model):
    """An answer option. ``weight`` is its share of the question's mark, in percent."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    weight = models.DecimalField(max_digits=8, decimal_places=5, default=Decimal(0))
    feedback = models.TextField(blank=True)

    class Meta:
        ordering = ["question", "position", "pk"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(weight__gte=-100) & Q(weight__lte=100), name="choice_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.text[:40]} ({self.weight}%)"


class Exam(models.Model):
    """A level-1 test on a subject, drawing questions at random from banks."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    class Layout(models.TextChoices):
        ONE_PER_PAGE = "one_per_page", "One question at a time"
        ALL_ON_ONE_PAGE = "all_on_one_page", "All questions on one page"

    class Review(models.TextChoices):
        SCORE = "score", "Score only"
        CORRECTNESS = "correctness", "Score and which answers were right"
        FEEDBACK = "feedback", "Score, right answers and feedback"

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="exams")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Instructions shown before starting.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    pass_mark = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(80), help_text="Percent needed to pass."
    )
    time_limit_minutes = models.PositiveIntegerField(default=30)
    max_attempts = models.PositiveSmallIntegerField(
        null=True, blank=True, default=3, help_text="Empty for no limit."
    )
    cooldown_minutes = models.PositiveIntegerField(
        default=0, help_text="Wait between the end of one attempt and the next."
    )
    available_from = models.DateTimeField(null=True, blank=True)
    available_until = models.DateTimeField(null=True, blank=True)
    layout = models.CharField(max_length=20, choices=Layout.choices, default=Layout.ONE_PER_PAGE)
    shuffle_questions = models.BooleanField(default=True)
    review_policy = models.CharField(max_length=12, choices=Review.choices, default=Review.FEEDBACK)
    review_after_pass_only = models.BooleanField(
        default=False, help_text="Show answers and feedback only once the rep has passed."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    level = 1

    class Meta:
        ordering = ["subject__name", "title"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(pass_mark__gte=0) & Q(pass_mark__lte=100), name="exam_pass_mark_range"
            ),
            models.CheckConstraint(
                condition=Q(time_limit_minutes__gte=1) & Q(time_limit_minutes__lte=600),
                name="exam_time_limit_range",
            ),
            models.CheckConstraint(
                condition=Q(max_attempts__isnull=True) | Q(max_attempts__gte=1),
                name="exam_max_attempts_positive",
            ),
            models.CheckConstraint(
                condition=Q(available_from__isnull=True)
                | Q(available_until__isnull=True)
                | Q(available_from__lt=F("available_until")),
                name="exam_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ExamSection(models.Model):
    """Draw ``count`` questions at random from a bank, or from one category of it."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="sections")
    bank = models.ForeignKey(QuestionBank, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(
        max_length=255, blank=True, help_text="Empty for the whole bank; includes sub-categories."
    )
    count = models.PositiveSmallIntegerField(default=5)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["exam", "position", "pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["exam", "bank", "category"], name="exam_section_unique"
            ),
            models.CheckConstraint(condition=Q(count__gte=1), name="exam_section_count_positive"),
        ]

    def __str__(self) -> str:
        where = f"{self.bank.name} / {self.category}" if self.category else self.bank.name
        return f"{self.count} from {where}"


class ExamAssignment(models.Model):
    """A test assigned to one rep, or to a team (and every team under it)."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="assignments")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exam_assignments",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["exam", "assigned_at"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(team__isnull=True, rep__isnull=False)
                | Q(team__isnull=False, rep__isnull=True),
                name="assignment_team_xor_rep",
            ),
            models.UniqueConstraint(
                fields=["exam", "team"], condition=Q(team__isnull=False), name="assign_team_once"
            ),
            models.UniqueConstraint(
                fields=["exam", "rep"], condition=Q(rep__isnull=False), name="assign_rep_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exam} → {self.team or self.rep}"


class Attempt(models.Model):
    """One sitting of a test by a rep: in progress, then finished or expired (graded)."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        FINISHED = "finished", "Finished"
        EXPIRED = "expired", "Time ran out"

    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="attempts")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attempts"
    )
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True)

    class Meta:
        ordering = ["-started_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["exam", "rep", "number"], name="attempt_number_unique"),
            models.UniqueConstraint(
                fields=["exam", "rep"],
                condition=Q(status="in_progress"),
                name="one_attempt_in_progress",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=100)),
                name="attempt_score_range",
            ),
            models.CheckConstraint(
                condition=Q(status="in_progress", finished_at__isnull=True, score__isnull=True)
                | (
                    ~Q(status="in_progress")
                    & Q(finished_at__isnull=False, score__isnull=False, passed__isnull=False)
                ),
                name="attempt_graded_when_closed",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["exam", "rep", "status"], name="attempt_exam_rep"),
            models.Index(fields=["status", "deadline"], name="attempt_overdue"),
        ]

    def __str__(self) -> str:
        return f"{self.exam} · attempt {self.number} by {self.rep_id}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.IN_PROGRESS


class AttemptQuestion(models.Model):
    """A question as drawn for one attempt: a frozen copy, and the rep's answer.

    ``snapshot`` holds the question as it was when drawn, choices in the order shown, with their
    weights and feedback: grading and review never change when the bank is edited later. Views
    and serializers must read it through the selectors, which drop the key before finishing.
    """

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="items")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="attempt_items")
    position = models.PositiveSmallIntegerField()
    snapshot = models.JSONField()
    selected = models.JSONField(default=list)
    answered_at = models.DateTimeField(null=True, blank=True)
    score = models.DecimalField(
        max_digits=7, decimal_places=6, null=True, blank=True, help_text="Fraction of the mark."
    )

    class Meta:
        ordering = ["attempt", "position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["attempt", "position"], name="attempt_item_position"),
            models.UniqueConstraint(fields=["attempt", "question"], name="attempt_item_question"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} #{self.position}"
