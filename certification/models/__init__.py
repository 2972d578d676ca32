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
from certification.models.lifecycle import CertificationValidity, OfferingVersion
from certification.models.notifications import (
    CERTIFICATION_KINDS,
    Notification,
    NotificationKind,
    NotificationPreference,
)
from certification.models.outbox import OutboxMessage
from certification.models.reports import (
    ExportJob,
    OfferingReadinessSummary,
    ReadinessGeneration,
    ReadinessRequirement,
    ReadinessSnapshot,
    ReadinessSummary,
    ReportSubscription,
    RequiredCertification,
)
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
    "CERTIFICATION_KINDS",
    "AssessmentSession",
    "Attempt",
    "AttemptQuestion",
    "Certification",
    "CertificationValidity",
    "Choice",
    "Criterion",
    "CriterionRating",
    "CurrencyRate",
    "Deal",
    "DealColumnMapping",
    "Exam",
    "ExamAssignment",
    "ExamSection",
    "ExportJob",
    "FieldObservation",
    "Guide",
    "GuideVersion",
    "InteractionKind",
    "Level",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "ObservationRating",
    "ObserverDelegation",
    "OfferingReadinessSummary",
    "OfferingVersion",
    "OutboxMessage",
    "PanelMember",
    "Question",
    "QuestionBank",
    "ReadinessGeneration",
    "ReadinessRequirement",
    "ReadinessSnapshot",
    "ReadinessSummary",
    "RepTier",
    "ReportSubscription",
    "RequiredCertification",
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
