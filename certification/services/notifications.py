"""Telling people what needs them: in-app notifications and their email.

``notify`` records one notification per person and event (the unique recipient, kind and
event key make a repeated call return the first one) inside the caller's transaction, and
schedules its email inside the recipient's working hours. ``notification_emails_send`` (every
five minutes) sends the due emails.

Email delivery is **at most once**: a run claims due rows under ``select_for_update
(skip_locked)`` and stamps ``emailed_at`` in a short transaction that commits *before* any
message goes out, so a second run (or a duplicated task) never finds them. A send that raises
clears the stamp again so the next run retries it; only a worker killed between the commit
and the send loses that email, which we prefer to a person getting the same email twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from accounts.selectors import managers_of
from certification.models import (
    CERTIFICATION_KINDS,
    AssessmentSession,
    Certification,
    Exam,
    Notification,
    NotificationKind,
    NotificationPreference,
    OfferingVersion,
    SupportPeriod,
    SupportRequest,
    TierChange,
)
from certification.selectors.assessments import guide_for_rep

logger = logging.getLogger(__name__)

PREFERENCES_SALT = "certification.notifications.preferences"
PREFERENCES_LINK_MAX_AGE = timedelta(days=30)
SPREAD_MINUTES = 15
SEND_BATCH = 200
OPTED_DOWN = "opted down"


@dataclass(frozen=True)
class NotificationDraft:
    """One notification to record, for ``notify_many``."""

    recipient_id: int
    kind: str
    event_key: str
    title: str
    body: str
    link: str = ""
    sender_id: int | None = None


# Scheduling --------------------------------------------------------------------------------


def email_spread(user: User) -> timedelta:
    """Return the person's stable offset into their working hours, so not every email of a
    batch leaves at the same minute (0 to 14 minutes, from a hash of their id)."""
    digest = hashlib.blake2s(str(user.pk).encode(), digest_size=2).digest()
    return timedelta(minutes=int.from_bytes(digest, "big") % SPREAD_MINUTES)


def email_due_at(*, user: User, now: datetime) -> datetime:
    """Return the next moment inside the person's working hours, in their time zone, plus
    their spread: ``now`` (plus spread) during the working day, else the next work day's start."""
    zone = ZoneInfo(user.time_zone)
    local = now.astimezone(zone)
    work_days = set(user.work_days or range(1, 8))
    day_length = datetime.combine(local.date(), user.work_end) - datetime.combine(
        local.date(), user.work_start
    )
    # A working day shorter than the spread still gets its email inside it.
    spread = min(email_spread(user), day_length / 2)
    if local.isoweekday() in work_days:
        start = datetime.combine(local.date(), user.work_start, tzinfo=zone)
        end = datetime.combine(local.date(), user.work_end, tzinfo=zone)
        if local < start:
            return start + spread
        if local + spread < end:
            return now + spread
    for ahead in range(1, 8):
        day = local.date() + timedelta(days=ahead)
        if day.isoweekday() in work_days:
            return datetime.combine(day, user.work_start, tzinfo=zone) + spread
    return now + spread  # unreachable: work_days is never empty


def _email_plan(*, user: User, opted_down: bool, now: datetime) -> tuple[datetime | None, str]:
    if opted_down:
        return None, OPTED_DOWN
    if not user.is_active or not user.email:
        return None, "no active address"
    return email_due_at(user=user, now=now), ""


# Recording ---------------------------------------------------------------------------------


def notify(
    *,
    recipient: User,
    kind: str,
    event_key: str,
    title: str,
    body: str,
    link: str = "",
    sender: User | None = None,
    now: datetime,
) -> Notification:
    """Tell the person about the event once: a second call for the same event returns the
    first notification unchanged. Schedules the email unless they opted down for the kind."""
    event_key = event_key[:120]
    existing = Notification.objects.filter(
        recipient=recipient, kind=kind, event_key=event_key
    ).first()
    if existing is not None:
        return existing
    opted_down = NotificationPreference.objects.filter(
        user=recipient, kind=kind, email=False
    ).exists()
    due, skipped = _email_plan(user=recipient, opted_down=opted_down, now=now)
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient=recipient,
                kind=kind,
                event_key=event_key,
                title=title[:200],
                body=body,
                link=link,
                sender=sender,
                created_at=now,
                email_due_at=due,
                email_skipped=skipped,
            )
    except IntegrityError:  # a concurrent call for the same event inserted first: its row
        return Notification.objects.get(recipient=recipient, kind=kind, event_key=event_key)


def notify_many(*, drafts: Sequence[NotificationDraft], now: datetime) -> int:
    """Record many notifications in a fixed number of queries (events already told are left
    alone); returns how many were asked for."""
    if not drafts:
        return 0
    ids = {draft.recipient_id for draft in drafts}
    users = User.objects.only(
        "pk", "email", "is_active", "time_zone", "work_start", "work_end", "work_days"
    ).in_bulk(ids)
    opted_down = set(
        NotificationPreference.objects.filter(user_id__in=ids, email=False).values_list(
            "user_id", "kind"
        )
    )
    rows = []
    for draft in drafts:
        user = users.get(draft.recipient_id)
        if user is None:
            continue
        due, skipped = _email_plan(
            user=user,
            opted_down=(draft.recipient_id, draft.kind) in opted_down,
            now=now,
        )
        rows.append(
            Notification(
                recipient_id=draft.recipient_id,
                kind=draft.kind,
                event_key=draft.event_key[:120],
                title=draft.title[:200],
                body=draft.body,
                link=draft.link,
                sender_id=draft.sender_id,
                created_at=now,
                email_due_at=due,
                email_skipped=skipped,
            )
        )
    Notification.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def notifications_mark_read(
    *, user: User, now: datetime, notification_ids: Iterable[int] | None = None
) -> int:
    """Mark the person's unread notifications read (those named, else all); returns how many.
    Other people's notifications are never touched."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=now)


# Preferences -------------------------------------------------------------------------------


def preferences_token(*, user: User) -> str:
    """Return a signed token that opens the person's preferences without signing in."""
    return signing.dumps({"u": user.pk}, salt=PREFERENCES_SALT, compress=True)


def preferences_user_from_token(token: str) -> User | None:
    """Return the person a preferences token names, or None if it is tampered or expired."""
    try:
        data = signing.loads(token, salt=PREFERENCES_SALT, max_age=PREFERENCES_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    return User.objects.filter(pk=data["u"], is_active=True).first()


def preferences_url(*, user: User) -> str:
    """Return the absolute, signed preferences link carried by every email."""
    path = reverse(
        "certification:notification_preferences_token",
        kwargs={"token": preferences_token(user=user)},
    )
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def notification_preferences(*, user: User) -> dict[str, bool]:
    """Whether the person gets email, per kind (no row: yes)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return {kind: chosen.get(kind, True) for kind in NotificationKind.values}


@transaction.atomic
def notification_preferences_set(*, user: User, email_kinds: Iterable[str]) -> dict[str, bool]:
    """Email the person only for the kinds given; other kinds reach them in the app only.

    Emails already scheduled for a kind they opt down from are not sent.
    """
    wanted = set(email_kinds) & set(NotificationKind.values)
    for kind in NotificationKind.values:
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"email": kind in wanted}
        )
    Notification.objects.filter(
        recipient=user, emailed_at__isnull=True, email_due_at__isnull=False
    ).exclude(kind__in=wanted).update(email_due_at=None, email_skipped=OPTED_DOWN)
    return notification_preferences(user=user)


def in_app_always(kind: str) -> bool:
    """Whether the kind concerns a certification the person holds (always shown in the app)."""
    return kind in CERTIFICATION_KINDS


# Email -------------------------------------------------------------------------------------


def email_sender(*, recipient: User) -> User | None:
    """Return the real person an email to the recipient is sent in the name of: their nearest
    manager, else an enablement lead."""
    managers = managers_of(recipient)
    if managers:
        return managers[0]
    return (
        User.objects.filter(is_enablement=True, is_active=True)
        .exclude(pk=recipient.pk)
        .order_by("pk")
        .first()
    )


def _from_address(sender: User | None) -> str:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    label = f"{sender.display_name} via RepReady" if sender else (name or "RepReady")
    return formataddr((label, address))


def notification_email(*, notification: Notification, sender: User | None) -> EmailMessage:
    """Build the plain-text email of a notification, in the sender's name."""
    site = settings.SITE_URL.rstrip("/")
    lines = [notification.body.strip()]
    if notification.link:
        lines += ["", f"Open it in RepReady: {site}{notification.link}"]
    lines += [
        "",
        "-- ",
        "Choose which emails you get (no sign-in needed, link valid for 30 days):",
        preferences_url(user=notification.recipient),
    ]
    return EmailMessage(
        subject=notification.title,
        body="\n".join(lines) + "\n",
        from_email=_from_address(sender),
        to=[notification.recipient.email],
        reply_to=[sender.email] if sender else [],
    )


def notification_emails_send(*, now: datetime, batch_size: int = SEND_BATCH) -> int:
    """Send the emails due by now, each at most once even if two runs overlap; returns how
    many were sent."""
    sent = 0
    failed: set[int] = set()  # retried by the next run, not again in this one
    while True:
        with transaction.atomic():
            claimed = list(
                Notification.objects.filter(emailed_at__isnull=True, email_due_at__lte=now)
                .exclude(pk__in=failed)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("email_due_at", "pk")[:batch_size]
            )
            if not claimed:
                break
            # The claim commits before anything is sent: a duplicated run cannot see them.
            Notification.objects.filter(pk__in=[row.pk for row in claimed]).update(emailed_at=now)
        for row in Notification.objects.filter(pk__in=[row.pk for row in claimed]).select_related(
            "recipient", "sender"
        ):
            sender = row.sender or email_sender(recipient=row.recipient)
            try:
                notification_email(notification=row, sender=sender).send()
            except OSError:  # SMTP refused or unreachable: retried by the next run
                logger.exception("notification %s to %s not sent", row.pk, row.recipient.email)
                Notification.objects.filter(pk=row.pk).update(emailed_at=None)
                failed.add(row.pk)
                continue
            if row.sender_id is None and sender is not None:
                Notification.objects.filter(pk=row.pk).update(sender=sender)
            sent += 1
        if len(claimed) < batch_size:
            break
    return sent


# Events ------------------------------------------------------------------------------------

EXPIRING_DAYS = (1, 7, 30)


def _certificate_name(certification: Certification) -> str:
    return f"{certification.subject.name}, level {certification.level}"


def _certifications_link(certification: Certification | None = None) -> str:
    """The rep's certifications page, at the row of the one concerned."""
    page = reverse("certification:my_certifications")
    return f"{page}#certification-{certification.pk}" if certification else page


def notify_certification_issued(*, certification: Certification, now: datetime) -> Notification:
    """Tell the rep they earned a certification."""
    name = _certificate_name(certification)
    expiry = (
        f" It is valid until {certification.expires_at:%-d %B %Y}."
        if certification.expires_at
        else ""
    )
    return notify(
        recipient=certification.rep,
        kind=NotificationKind.CERTIFICATION_ISSUED,
        event_key=f"cert:{certification.pk}:issued",
        title=f"You are certified: {name}",
        body=f"Congratulations, you now hold {name}.{expiry}",
        link=_certifications_link(certification),
        now=now,
    )


def notify_certification_revoked(
    *, certification: Certification, actor: User | None, now: datetime
) -> Notification:
    """Tell the rep their certification was revoked, and why, in the revoker's name."""
    name = _certificate_name(certification)
    return notify(
        recipient=certification.rep,
        kind=NotificationKind.CERTIFICATION_REVOKED,
        event_key=f"cert:{certification.pk}:revoked",
        title=f"Certification revoked: {name}",
        body=f"Your certification {name} was revoked.\nReason: {certification.revoked_reason}",
        link=_certifications_link(certification),
        sender=actor,
        now=now,
    )


def notify_certifications_expired(*, certifications: Sequence[Certification], now: datetime) -> int:
    """Tell each rep their certification expired (subjects selected with the rows)."""
    return notify_many(
        drafts=[
            NotificationDraft(
                recipient_id=row.rep_id,
                kind=NotificationKind.CERTIFICATION_EXPIRED,
                event_key=f"cert:{row.pk}:expired",
                title=f"Certification expired: {_certificate_name(row)}",
                body=(
                    f"Your certification {_certificate_name(row)} has expired. "
                    "Earn it again to hold it."
                ),
                link=_certifications_link(row),
            )
            for row in certifications
        ],
        now=now,
    )


def notify_expiring_certifications(*, now: datetime, batch_size: int = 500) -> int:
    """Warn holders 30, 7 and 1 days before their certification expires (the nearest
    threshold reached only, each once); returns how many warnings were asked for."""
    horizon = now + timedelta(days=max(EXPIRING_DAYS))
    rows = (
        Certification.objects.filter(
            status=Certification.Status.ACTIVE, expires_at__gt=now, expires_at__lte=horizon
        )
        .select_related("subject")
        .order_by("pk")
    )
    drafts: list[NotificationDraft] = []
    total = 0
    for row in rows.iterator(chunk_size=batch_size):
        assert row.expires_at is not None  # noqa: S101 - filtered above
        days = next(d for d in EXPIRING_DAYS if row.expires_at <= now + timedelta(days=d))
        name = _certificate_name(row)
        drafts.append(
            NotificationDraft(
                recipient_id=row.rep_id,
                kind=NotificationKind.CERTIFICATION_EXPIRING,
                event_key=f"cert:{row.pk}:expiring:{days}",
                title=f"{name} expires in {days} day{'s' if days > 1 else ''}",
                body=(
                    f"Your certification {name} expires on {row.expires_at:%-d %B %Y}. "
                    "Earn it again before then to keep it."
                ),
                link=_certifications_link(row),
            )
        )
        if len(drafts) >= batch_size:
            total += notify_many(drafts=drafts, now=now)
            drafts = []
    return total + notify_many(drafts=drafts, now=now)


def notify_tier_changes(*, changes: Sequence[TierChange], now: datetime) -> int:
    """Tell each rep their tier changed (only real changes are passed)."""
    return notify_many(
        drafts=[
            NotificationDraft(
                recipient_id=change.rep_id,
                kind=NotificationKind.TIER_CHANGED,
                event_key=f"tierchange:{change.pk}",
                title=f"Your tier is now {change.get_new_tier_display()}",
                body=(
                    f"Your tier changed from {change.get_old_tier_display()} to "
                    f"{change.get_new_tier_display()}.\n"
                    + "\n".join(f"- {reason}" for reason in change.reasons[:5])
                ),
                link=reverse("certification:my_tier"),
            )
            for change in changes
            if change.old_tier != change.new_tier and change.pk is not None
        ],
        now=now,
    )


def notify_feedback_released(
    *, session: AssessmentSession, actor: User | None, now: datetime
) -> Notification:
    """Tell the rep their role-play result and feedback are released."""
    outcome = "passed" if session.passed else "did not pass"
    return notify(
        recipient=session.rep,
        kind=NotificationKind.FEEDBACK_RELEASED,
        event_key=f"session:{session.pk}:released",
        title=f"Feedback released: {session.scenario.title}",
        body=(
            f"The panel's feedback on your role-play {session.scenario.title} is ready: "
            f"you {outcome}."
        ),
        link=reverse("certification:session", args=[session.pk]),
        sender=actor,
        now=now,
    )


def notify_offering_version(
    *, release: OfferingVersion, rep_ids: Iterable[int], actor: User | None, now: datetime
) -> int:
    """Tell the holders of the re-levelled certifications what to re-earn and by when."""
    levels = ", ".join(str(level) for level in release.relevel_levels)
    name = release.offering.name
    return notify_many(
        drafts=[
            NotificationDraft(
                recipient_id=rep_id,
                kind=NotificationKind.OFFERING_VERSION,
                event_key=f"version:{release.pk}",
                title=f"{name} {release.version}: re-earn your certification",
                body=(
                    f"{name} {release.version} is published. Certifications at level {levels} "
                    f"must be earned again by {release.grace_ends_at:%-d %B %Y}, when the "
                    "current ones expire."
                ),
                link=_certifications_link(),
                sender_id=actor.pk if actor else None,
            )
            for rep_id in sorted(set(rep_ids))
        ],
        now=now,
    )


def notify_exam_assigned(
    *,
    exam: Exam,
    rep_ids: Iterable[int],
    actor: User | None,
    due_at: datetime | None,
    now: datetime,
) -> int:
    """Tell each rep a test was assigned to them (directly or through their team), once per
    test: a rep reached by two assignments of the same test is told once."""
    due = f" Take it by {due_at:%-d %B %Y}." if due_at else ""
    return notify_many(
        drafts=[
            NotificationDraft(
                recipient_id=rep_id,
                kind=NotificationKind.EXAM_ASSIGNED,
                event_key=f"exam:{exam.pk}:assigned",
                title=f"Test assigned: {exam.title}",
                body=(
                    f"You have a test to take: {exam.title} ({exam.subject.name}, level 1). "
                    f"It takes up to {exam.time_limit_minutes} minutes and the pass mark is "
                    f"{exam.pass_mark.normalize():f}%.{due}"
                ),
                link=reverse("certification:my_tests"),
                sender_id=actor.pk if actor else None,
            )
            for rep_id in sorted(set(rep_ids))
        ],
        now=now,
    )


def _guide_text(session: AssessmentSession) -> str:
    """The rep-facing guide as plain text: criteria, weights, what is critical, the pass rule
    (never the judges' notes)."""
    guide = guide_for_rep(session.guide_version)
    lines = [f"How you will be assessed ({guide.name}):"]
    if guide.introduction.strip():
        lines.append(guide.introduction.strip())
    for criterion in guide.criteria:
        critical = ", must be met" if criterion.is_critical else ""
        lines.append(f"- {criterion.title} (weight {criterion.weight}{critical})")
        if criterion.description.strip():
            lines.append(f"  {criterion.description.strip()}")
    lines.append(
        f"To pass: a combined score of at least {guide.pass_threshold} "
        f"and every critical criterion rated {guide.pass_level} or above."
    )
    return "\n".join(lines)


def _when(moment: datetime, user: User) -> str:
    local = moment.astimezone(ZoneInfo(user.time_zone))
    return f"{local:%A %-d %B %Y at %H:%M} ({user.time_zone})"


def notify_assessment_scheduled(
    *, session: AssessmentSession, actor: User | None, now: datetime
) -> int:
    """Tell the rep their role-play is scheduled, with the rep-facing guide; tell the panel
    and the role-player what needs them. Each is told once per session."""
    rep = session.rep
    where = "\n".join(
        line
        for line in (
            f"Where: {session.location}" if session.location else "",
            f"Video link: {session.video_link}" if session.video_link else "",
        )
        if line
    )
    title = session.scenario.title
    rep_body = (
        f"Your role-play {title} is scheduled for {_when(session.scheduled_at, rep)}, "
        f"{session.duration_minutes} minutes.\n"
        + (f"{where}\n" if where else "")
        + "\n"
        + _guide_text(session)
    )
    link = reverse("certification:session", args=[session.pk])
    drafts = [
        NotificationDraft(
            recipient_id=rep.pk,
            kind=NotificationKind.ASSESSMENT_SCHEDULED,
            event_key=f"session:{session.pk}:scheduled",
            title=f"Role-play scheduled: {title}",
            body=rep_body,
            link=link,
            sender_id=actor.pk if actor else None,
        )
    ]
    panel = [member.judge for member in session.panel.select_related("judge")]
    helpers = [(judge, "judge") for judge in panel]
    if session.role_player is not None:
        helpers.append((session.role_player, "play the buyer"))
    for person, role in helpers:
        if person.pk == rep.pk:
            continue
        verb = "judge" if role == "judge" else role
        drafts.append(
            NotificationDraft(
                recipient_id=person.pk,
                kind=NotificationKind.ASSESSMENT_SCHEDULED,
                event_key=f"session:{session.pk}:scheduled",
                title=f"You {verb} {rep.display_name}'s role-play: {title}",
                body=(
                    f"You are asked to {verb} {rep.display_name}'s role-play {title} on "
                    f"{_when(session.scheduled_at, person)}, {session.duration_minutes} minutes."
                    + (f"\n{where}" if where else "")
                ),
                link=link,
                sender_id=actor.pk if actor else None,
            )
        )
    return notify_many(drafts=drafts, now=now)


def notify_signoff_waiting(*, certification: Certification, now: datetime) -> Notification | None:
    """Tell the rep's nearest manager that the rep, now certified at level 2, waits for a
    field observation and sign-off at level 3 (unless they hold level 3 already)."""
    rep = certification.rep
    holds_level_3 = Certification.objects.filter(
        rep=rep, subject=certification.subject, level=3, status=Certification.Status.ACTIVE
    ).exists()
    managers = managers_of(rep)
    if holds_level_3 or not managers:
        return None
    subject = certification.subject
    link = reverse("certification:observation_new") + f"?rep={rep.pk}&subject={subject.pk}"
    return notify(
        recipient=managers[0],
        kind=NotificationKind.SIGNOFF_WAITING,
        event_key=f"cert:{certification.pk}:signoff",
        title=f"{rep.display_name} is ready for a field sign-off: {subject.name}",
        body=(
            f"{rep.display_name} passed the level-2 role-play on {subject.name}. Level 3 "
            "needs you to observe them with a real customer and sign off: record the "
            "observation and score it with the guide."
        ),
        link=link,
        now=now,
    )


def notify_support_decisions(
    *, period: SupportPeriod, requests: Sequence[SupportRequest], now: datetime
) -> int:
    """Tell each rep what the allocation decided for their support request: the hours
    allocated, or their place on the waiting list. Each decision is told once; a later run
    that changes it tells the rep again."""
    drafts = []
    name = f"the period {period.starts_on:%-d %B} to {period.ends_on:%-d %B %Y}"
    for request in requests:
        if request.status == SupportRequest.Status.ALLOCATED:
            hours = f"{request.hours_allocated.normalize():f}"
            title = f"Teleprospecting support allocated: {hours} h"
            body = f"You have {hours} h of teleprospecting support in {name}.\n{request.reason}"
            key = f"support:{request.pk}:allocated:{hours}"
        elif request.status == SupportRequest.Status.WAITING:
            title = f"Teleprospecting support: waiting list, place {request.waiting_position}"
            body = (
                f"Your request in {name} is on the waiting list, place "
                f"{request.waiting_position}.\n{request.reason}"
            )
            key = f"support:{request.pk}:waiting:{request.waiting_position}"
        else:
            continue
        drafts.append(
            NotificationDraft(
                recipient_id=request.rep_id,
                kind=NotificationKind.SUPPORT_ALLOCATED,
                event_key=key,
                title=title,
                body=body,
                link=reverse("certification:support"),
            )
        )
    return notify_many(drafts=drafts, now=now)
