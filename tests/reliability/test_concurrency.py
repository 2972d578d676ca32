"""Concurrent writes on PostgreSQL end in one consistent state.

Each call runs in a thread of its own, with its own database connection, released at the same
moment by a barrier, against the real test database (no test transaction to hide behind).

What the service tests already prove is not repeated here: six finishes of one attempt give
one grade (tests/certification/services/test_attempts.py), four releases of one session one
certification (test_assessments.py), four recomputes of one rep one tier change
(test_tiers.py), and four allocations of one support period one allocation (test_support.py).
This module races the writes against each other: finishing against answering and against the
overdue sweep, two pieces of evidence for one certification, the whole panel submitting at
once, a release against the last submission and against a cancellation, recomputes of
overlapping sets of reps against new evidence and overrides, and overlapping deal imports.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.models import AuditEvent, User
from certification.importers.deals import DealRow
from certification.models import (
    AssessmentSession,
    Attempt,
    Certification,
    CriterionRating,
    Deal,
    RepTier,
    Scorecard,
    SessionResult,
    Subject,
    TierChange,
    TierOverride,
)
from certification.services import tiers as tier_services
from certification.services.assessments import (
    RatingInput,
    scorecard_save,
    session_cancel,
    session_outcome,
    session_release,
    session_schedule,
)
from certification.services.attempts import (
    attempt_answer,
    attempt_close_if_overdue,
    attempt_finish,
    attempt_start,
    attempts_close_overdue,
)
from certification.services.deals import deals_import
from certification.services.grading import grade_item
from certification.services.tiers import tier_override_set, tier_rule, tiers_recompute
from config.errors import ConflictError
from tests.conftest import require_service
from tests.factories.accounts import UserFactory
from tests.factories.certification import SubjectFactory, held_certification, make_scenario

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

JOIN_TIMEOUT = 60  # seconds: a lock cycle PostgreSQL did not break would hang the test


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    require_service("PostgreSQL", "DATABASE_URL")
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: DATABASE_URL names another database")


@dataclass
class Outcome:
    """What one racing call returned, or raised."""

    value: Any = None
    error: BaseException | None = None


def race(*calls: Callable[[], Any]) -> list[Outcome]:
    """Run each call in its own thread and connection, all released at once; return what
    each returned or raised, in the order given."""
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]

    def run(call: Callable[[], Any], outcome: Outcome) -> None:
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            outcome.value = call()
        except BaseException as exc:  # noqa: BLE001 - every failure is asserted by the test
            outcome.error = exc
        finally:
            connections.close_all()  # this thread's connection; the test's is another

    threads = [
        threading.Thread(target=run, args=(call, outcome))
        for call, outcome in zip(calls, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a racing call never finished"
    return outcomes


def refused(outcomes: list[Outcome], *codes: str) -> list[Outcome]:
    """The outcomes that failed; fail the test unless each is a ConflictError of those codes."""
    failed = [o for o in outcomes if o.error is not None]
    for outcome in failed:
        assert isinstance(outcome.error, ConflictError), repr(outcome.error)
        assert outcome.error.code in codes, (outcome.error.code, str(outcome.error))
    return failed


def audited(action: str, **filters: Any) -> int:
    return AuditEvent.objects.filter(action=action, **filters).count()


# Finishing a test --------------------------------------------------------------------------------


def _right(item) -> int:
    return next(c["id"] for c in item.snapshot["choices"] if Decimal(c["weight"]) == 100)


def _started(exam_for, rep: User, *, answered: int, now=None, **exam) -> Attempt:
    """A rep's attempt at a fresh five-question test, the first ``answered`` answered right."""
    attempt = attempt_start(exam=exam_for(rep, **exam), rep=rep, now=now).attempt
    for item in attempt.items.order_by("position")[:answered]:
        attempt_answer(
            attempt_id=attempt.pk,
            rep=rep,
            question_id=item.question_id,
            choice_ids=[_right(item)],
            now=now,
        )
    return attempt


def _graded_as_saved(attempt: Attempt) -> bool:
    """Every item's score is the grade of the answer saved for it."""
    items = list(attempt.items.all())
    return all(item.score == grade_item(item.snapshot, item.selected) for item in items)


def test_an_answer_saved_while_the_attempt_finishes_is_in_the_grade_or_refused(org, exam_for):
    # given an attempt with four of five questions answered right
    attempt = _started(exam_for, org.rep_a, answered=4, pass_mark=Decimal(90))
    last = attempt.items.order_by("position").last()

    def answer_the_last() -> Any:
        return attempt_answer(
            attempt_id=attempt.pk,
            rep=org.rep_a,
            question_id=last.question_id,
            choice_ids=[_right(last)],
        )

    def finish() -> Attempt:
        return attempt_finish(attempt=Attempt.objects.get(pk=attempt.pk))

    # when the rep's autosave of the last answer races two finishes (a double click)
    outcomes = race(answer_the_last, finish, answer_the_last, finish)

    # then one grade, made of exactly the answers saved: an answer is counted or refused
    refused(outcomes, "attempt_closed")
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.FINISHED
    assert _graded_as_saved(attempt)
    saved_last = attempt.items.get(pk=last.pk).selected == [_right(last)]
    answers_taken = any(o.error is None for o in outcomes[::2])
    assert saved_last == answers_taken
    assert attempt.score == (Decimal(100) if saved_last else Decimal(80))
    assert {o.value.score for o in outcomes[1::2]} == {attempt.score}
    certified = Certification.objects.filter(rep=org.rep_a, attempt=attempt).count()
    assert certified == (1 if saved_last else 0)
    assert audited("certification.issued") == certified


def test_an_overdue_attempt_closed_from_four_sides_at_once_is_graded_once(org, exam_for):
    # given an attempt answered right that ran out of time an hour ago
    started = timezone.now() - timedelta(hours=2)
    attempt = _started(exam_for, org.rep_a, answered=5, now=started + timedelta(minutes=5))
    late = timezone.now()
    first = attempt.items.order_by("position").first()

    # when the rep finishes, the sweep runs, a page load closes it and a late answer arrives
    outcomes = race(
        lambda: attempt_finish(attempt=Attempt.objects.get(pk=attempt.pk), now=late),
        lambda: attempts_close_overdue(now=late),
        lambda: attempt_close_if_overdue(attempt=Attempt.objects.get(pk=attempt.pk), now=late),
        lambda: attempt_answer(
            attempt_id=attempt.pk, rep=org.rep_a, question_id=first.question_id, choice_ids=[]
        ),
    )

    # then it is expired as of its deadline, with the answers saved in time, graded once
    assert refused(outcomes, "time_up") == [outcomes[3]]
    attempt.refresh_from_db()
    assert (attempt.status, attempt.finished_at) == (Attempt.Status.EXPIRED, attempt.deadline)
    assert attempt.score == Decimal(100)
    assert _graded_as_saved(attempt)
    assert outcomes[1].value in (0, 1)  # the sweep closed it, or found it closed
    assert Certification.objects.filter(rep=org.rep_a).count() == 1
    assert audited("certification.issued") == 1


def test_two_passing_attempts_on_one_subject_finished_at_once_certify_once(org, exam_for):
    # given two tests on the same offering, both passed, both still open
    subject = SubjectFactory()
    first = _started(exam_for, org.rep_a, answered=5, subject=subject)
    second = _started(exam_for, org.rep_a, answered=5, subject=subject)

    # when both are finished at the same moment, twice each
    outcomes = race(
        *(
            lambda a=attempt: attempt_finish(attempt=Attempt.objects.get(pk=a.pk))
            for attempt in (first, second, first, second)
        )
    )

    # then both are graded, and the rep holds one active level-1 certification
    assert refused(outcomes) == []
    assert all(o.value.passed for o in outcomes)
    held = Certification.objects.filter(rep=org.rep_a, subject=subject, level=1)
    assert [c.status for c in held] == [Certification.Status.ACTIVE]
    assert held.get().attempt_id in (first.pk, second.pk)
    assert audited("certification.issued") == 1


# Scoring a role-play -----------------------------------------------------------------------------


def _session(org, judges: list[User]) -> AssessmentSession:
    scenario = make_scenario(min_judges=len(judges))
    return session_schedule(
        scenario=scenario,
        rep=org.rep_a,
        scheduled_at=timezone.now() + timedelta(days=2),
        judges=judges,
        owner=org.enablement,
        actor=org.enablement,
    )


def _ratings(session: AssessmentSession, rating: int) -> dict[int, RatingInput]:
    criteria = session.guide_version.criteria.all()
    return {c.pk: RatingInput(rating, "Name the buyer's priority first") for c in criteria}


def _submit(session: AssessmentSession, judge: User, rating: int) -> Callable[[], Scorecard]:
    def submit() -> Scorecard:
        return scorecard_save(
            session=AssessmentSession.objects.get(pk=session.pk),
            judge=judge,
            ratings=_ratings(session, rating),
            overall_comment=f"From {judge.display_name}",
            submit=True,
        )

    return submit


def _release(session: AssessmentSession, actor: User) -> Callable[[], AssessmentSession]:
    return lambda: session_release(
        session=AssessmentSession.objects.get(pk=session.pk), actor=actor
    )


def test_the_whole_panel_submitting_at_once_each_twice_keeps_one_scorecard_each(org):
    # given a panel of three judges, none of whom has saved anything yet
    judges = [org.manager_b, org.manager_c, UserFactory(display_name="Third Judge")]
    session = _session(org, judges)
    criteria = session.guide_version.criteria.count()

    # when every judge submits, and submits again (a double click), all at the same moment
    outcomes = race(*(_submit(session, judge, 4) for judge in judges * 2))

    # then one submitted scorecard per judge, each rating every criterion once, audited once
    assert len(refused(outcomes, "already_submitted")) == len(judges)
    cards = Scorecard.objects.filter(session=session)
    assert sorted(cards.values_list("judge_id", "status")) == sorted(
        (judge.pk, Scorecard.Status.SUBMITTED) for judge in judges
    )
    assert CriterionRating.objects.filter(scorecard__session=session).count() == 3 * criteria
    events = AuditEvent.objects.filter(action="scorecard.submitted", target_id=str(session.pk))
    assert sorted(events.values_list("actor_id", flat=True)) == sorted(j.pk for j in judges)
    # and the result combines all three
    released = session_release(session=session, actor=org.enablement)
    assert released.score == Decimal(100)
    assert SessionResult.objects.filter(session=session).count() == criteria


def test_a_release_racing_the_last_submission_never_releases_an_incomplete_panel(org):
    # given two judges, one of whom has submitted
    session = _session(org, [org.manager_b, org.manager_c])
    _submit(session, org.manager_b, 4)()

    # when the second judge submits while the owner presses release three times
    outcomes = race(
        _submit(session, org.manager_c, 2),
        *(_release(session, org.enablement) for _ in range(3)),
    )

    # then each release either waited for the panel or was refused as incomplete
    assert refused(outcomes[:1]) == []
    early = refused(outcomes[1:], "panel_incomplete")
    if len(early) == 3:  # every press came before the submission: released afterwards
        session_release(session=session, actor=org.enablement)
    session.refresh_from_db()
    assert session.status == AssessmentSession.Status.RELEASED
    # the stored result is the combination of both scorecards, stored once
    outcome = session_outcome(session)
    assert outcome is not None
    assert (session.score, session.passed) == (outcome.score, outcome.passed)
    results = SessionResult.objects.filter(session=session)
    assert results.count() == session.guide_version.criteria.count()
    assert audited("session.released", target_id=str(session.pk)) == 1
    assert Certification.objects.filter(session=session).count() == (1 if session.passed else 0)


def test_a_release_racing_a_cancellation_ends_in_one_of_them(org):
    # given a session whose panel has submitted
    session = _session(org, [org.manager_b, org.manager_c])
    for judge in (org.manager_b, org.manager_c):
        _submit(session, judge, 4)()

    def cancel() -> AssessmentSession:
        return session_cancel(
            session=AssessmentSession.objects.get(pk=session.pk),
            reason="Rep on leave",
            actor=org.enablement,
        )

    # when it is released and cancelled at once, twice each
    outcomes = race(
        _release(session, org.enablement), cancel, _release(session, org.enablement), cancel
    )

    # then exactly one of the two happened, with its own consequences only
    refused(outcomes, "session_closed", "not_scheduled")
    session.refresh_from_db()
    released = session.status == AssessmentSession.Status.RELEASED
    assert session.status in (AssessmentSession.Status.RELEASED, AssessmentSession.Status.CANCELLED)
    assert audited("session.released") == (1 if released else 0)
    assert audited("session.cancelled") == (0 if released else 1)
    assert Certification.objects.filter(session=session).count() == (1 if released else 0)
    assert SessionResult.objects.filter(session=session).exists() == released


def test_a_score_submitted_while_the_session_is_cancelled_does_not_land_on_it(org):
    # given a judge with a draft, and a cancellation holding the session for half a second
    session = _session(org, [org.manager_b, org.manager_c])
    scorecard_save(session=session, judge=org.manager_b, ratings=_ratings(session, 3))
    cancelling = threading.Event()

    def cancel_slowly() -> None:
        with transaction.atomic():
            session_cancel(session=session, reason="Rep on leave", actor=org.enablement)
            cancelling.set()
            time.sleep(0.5)  # the submission reads the session meanwhile

    def submit_once_cancelling() -> Scorecard:
        assert cancelling.wait(timeout=JOIN_TIMEOUT)
        return _submit(session, org.manager_b, 4)()

    # when the judge submits while the cancellation commits
    outcomes = race(cancel_slowly, submit_once_cancelling)

    # then the submission waited and was refused: no score on a cancelled session
    assert outcomes[0].error is None
    assert refused(outcomes, "session_closed") == [outcomes[1]]
    card = Scorecard.objects.get(session=session, judge=org.manager_b)
    assert card.status == Scorecard.Status.DRAFT
    assert audited("scorecard.submitted") == 0


# Tiers ------------------------------------------------------------------------------------------


@pytest.fixture
def offerings() -> tuple[Subject, Subject, Subject]:
    cloud = SubjectFactory(name="Acme Cloud")
    analytics = SubjectFactory(name="Acme Analytics")
    executive = SubjectFactory(name="Executive presence", kind=Subject.Kind.SKILL)
    rule = tier_rule()
    rule.silver_level2_subjects.set([cloud])
    rule.gold_level3_subject = executive
    rule.gold_revenue_threshold = Decimal(100000)
    rule.save()
    return cloud, analytics, executive


def _won(rep: User, opportunity_id: str, amount: int) -> None:
    Deal.objects.create(
        opportunity_id=opportunity_id,
        rep=rep,
        amount=Decimal(amount),
        amount_base=Decimal(amount),
        currency="USD",
        close_date=timezone.localdate() - timedelta(days=10),
        stage=Deal.Stage.WON,
    )


def _tier_rows() -> list[tuple[Any, ...]]:
    return list(
        RepTier.objects.order_by("rep_id").values_list(
            "rep_id", "tier", "computed", "reasons", "missing"
        )
    )


def test_overlapping_recomputes_of_many_reps_equal_a_serial_recompute(org, offerings, monkeypatch):
    # given twelve reps with no tier row yet, earning each tier in turn
    cloud, analytics, executive = offerings
    earned = ("none", "bronze", "silver", "gold")
    reps = UserFactory.create_batch(12, rep=True, team=org.alpha)
    now = timezone.now() - timedelta(days=1)
    for i, rep in enumerate(reps):
        tier = earned[i % 4]
        if tier != "none":
            held_certification(rep, cloud, 1, now=now)
            held_certification(rep, analytics, 1, now=now)
        if tier in ("silver", "gold"):
            held_certification(rep, cloud, 2, now=now)
            _won(rep, f"OPP-{rep.pk}", 150000 if tier == "gold" else 10)
        if tier == "gold":
            held_certification(rep, executive, 3, now=now)
    ids = [rep.pk for rep in reps]
    # Issuing those recomputed their tiers already: start again from no tier row at all.
    RepTier.objects.all().delete()
    TierChange.objects.all().delete()
    # Small batches: each recompute commits several times, interleaving with the others.
    monkeypatch.setattr(tier_services, "RECOMPUTE_BATCH", 3)

    # when six recomputes of overlapping sets run at once
    subsets = [ids, ids[::-1], ids[::2], ids[1::2], ids[:7], ids[5:]]
    outcomes = race(
        *(
            lambda subset=subset: tiers_recompute(rep_ids=subset, cause="race", now=None)
            for subset in subsets
        )
    )

    # then no deadlock or error, each rep changed tier once, and a serial recompute agrees
    assert refused(outcomes) == []
    rows = _tier_rows()
    assert [row[1] for row in rows] == [earned[i % 4] for i in range(12)]
    changes = list(TierChange.objects.values_list("rep_id", "old_tier", "new_tier"))
    assert sorted(changes) == sorted(
        (rep.pk, "none", earned[i % 4]) for i, rep in enumerate(reps) if i % 4
    )
    assert tiers_recompute(rep_ids=ids, cause="serial") == 0
    assert _tier_rows() == rows


def test_a_recompute_racing_new_evidence_and_an_override_ends_on_the_latest_facts(
    org, offerings, exam_for
):
    # given a rep one level 1 short of bronze, with the test that earns it nearly done
    cloud, analytics, _executive = offerings
    rep = org.rep_a
    held_certification(rep, cloud, 1, now=timezone.now() - timedelta(days=1))
    attempt = _started(exam_for, rep, answered=5, subject=analytics)
    ends_on = timezone.localdate() + timedelta(days=30)

    # when recomputes run while the rep passes and enablement sets the tier by hand
    outcomes = race(
        lambda: tiers_recompute(rep_ids=[rep.pk], cause="nightly"),
        lambda: attempt_finish(attempt=Attempt.objects.get(pk=attempt.pk)),
        lambda: tier_override_set(
            rep=rep, tier="gold", reason="Launch lead", ends_on=ends_on, actor=org.enablement
        ),
        lambda: tiers_recompute(rep_ids=[rep.pk, org.rep_b.pk], cause="deals imported"),
    )

    # then the tier row holds both: the override in force, bronze as computed
    assert refused(outcomes) == []
    row = RepTier.objects.get(rep=rep)
    assert (row.tier, row.computed) == ("gold", "bronze")
    assert row.reasons[0].startswith("set to Gold by enablement")
    assert tiers_recompute(rep_ids=[rep.pk], cause="serial") == 0
    assert RepTier.objects.get(rep=rep).reasons == row.reasons
    # the history is one unbroken chain from none to gold (bronze on the way, or not)
    chain = list(
        TierChange.objects.filter(rep=rep).order_by("pk").values_list("old_tier", "new_tier")
    )
    assert chain in ([("none", "gold")], [("none", "bronze"), ("bronze", "gold")])


def test_two_overrides_set_at_once_leave_one_running(org, offerings):
    # given a rep without an override
    rep, ends_on = org.rep_a, timezone.localdate() + timedelta(days=30)
    second_lead = UserFactory(enablement=True)

    # when two enablement leads set the rep's tier at the same moment
    outcomes = race(
        lambda: tier_override_set(
            rep=rep, tier="gold", reason="Launch lead", ends_on=ends_on, actor=org.enablement
        ),
        lambda: tier_override_set(
            rep=rep, tier="silver", reason="Pilot", ends_on=ends_on, actor=second_lead
        ),
    )

    # then the later replaces the earlier: one override runs, and it is the tier in force
    assert refused(outcomes) == []
    running = TierOverride.objects.filter(rep=rep, ended_at__isnull=True)
    assert running.count() == 1
    assert RepTier.objects.get(rep=rep).tier == running.get().tier
    assert audited("tier.overridden") == 2
    assert audited("tier.override_ended") == 1


# Deal imports -----------------------------------------------------------------------------------


def _rows(opportunities: range, rep: User, amount: int) -> list[DealRow]:
    closed = timezone.localdate().isoformat()
    return [
        DealRow(n, f"OPP-{n:03d}", rep.email, str(amount), "", closed, "won") for n in opportunities
    ]


def test_overlapping_deal_imports_at_once_end_as_if_run_one_after_the_other(org, offerings):
    # given three CRM exports: A (1-30) for rep A, B (15-45, listed backwards) for rep B, and
    # A again
    file_a = _rows(range(1, 31), org.rep_a, 100)
    file_b = _rows(range(45, 14, -1), org.rep_b, 200)

    def run(rows: list[DealRow]) -> Callable[[], Any]:
        return lambda: deals_import(rows, dry_run=False, actor=org.enablement)

    # when four imports run at once
    outcomes = race(run(file_a), run(file_b), run(file_a), run(file_b))

    # then all succeed, every opportunity exists once, and the overlap is one file's, not a mix
    assert refused(outcomes) == []
    results = [o.value for o in outcomes]
    assert Deal.objects.count() == 45
    assert sum(r.created for r in results) == 45
    overlap = Deal.objects.filter(opportunity_id__in=[f"OPP-{n:03d}" for n in range(15, 31)])
    assert overlap.order_by().values("rep_id", "amount").distinct().count() == 1
    # one audit row per import that wrote something
    writes = sum(1 for r in results if r.created or r.updated)
    assert audited("deals.imported") == writes
    # the tiers recomputed after the imports agree with a serial recompute
    rows = _tier_rows()
    assert tiers_recompute(rep_ids=[org.rep_a.pk, org.rep_b.pk], cause="serial") == 0
    assert _tier_rows() == rows
