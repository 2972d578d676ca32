"""Certification models, one module per part of the domain."""

from certification.models.catalog import Level, Subject
from certification.models.certificates import Certification
from certification.models.exams import (
    Attempt,
    AttemptQuestion,
    Choice,
    Exam,
    ExamAssignment,
    ExamSection,
    Question,
    QuestionBank,
)

__all__ = [
    "Attempt",
    "AttemptQuestion",
    "Certification",
    "Choice",
    "Exam",
    "ExamAssignment",
    "ExamSection",
    "Level",
    "Question",
    "QuestionBank",
    "Subject",
]
