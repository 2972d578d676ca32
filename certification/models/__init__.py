"""Certification models, one module per part of the domain."""

from certification.models.assessments import (
    AssessmentSession,
    CriterionRating,
    PanelMember,
    Scenario,
    Scorecard,
    SessionResult,
)
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
from certification.models.guides import Criterion, Guide, GuideVersion
from certification.models.signoffs import (
    FieldObservation,
    InteractionKind,
    ObservationRating,
    ObserverDelegation,
    SignOff,
    SignOffAcknowledgement,
    SignOffRevocation,
)
from certification.models.support import SupportPeriod, SupportRequest, SupportUsage
from certification.models.tiers import (
    CurrencyRate,
    Deal,
    DealColumnMapping,
    RepTier,
    Tier,
    TierChange,
    TierOverride,
    TierRule,
)

__all__ = [
    "AssessmentSession",
    "Attempt",
    "AttemptQuestion",
    "Certification",
    "Choice",
    "Criterion",
    "CriterionRating",
    "CurrencyRate",
    "Deal",
    "DealColumnMapping",
    "Exam",
    "ExamAssignment",
    "ExamSection",
    "FieldObservation",
    "Guide",
    "GuideVersion",
    "InteractionKind",
    "Level",
    "ObservationRating",
    "ObserverDelegation",
    "PanelMember",
    "Question",
    "QuestionBank",
    "RepTier",
    "Scenario",
    "Scorecard",
    "SessionResult",
    "SignOff",
    "SignOffAcknowledgement",
    "SignOffRevocation",
    "Subject",
    "SupportPeriod",
    "SupportRequest",
    "SupportUsage",
    "Tier",
    "TierChange",
    "TierOverride",
    "TierRule",
]
