"""Broker outage: with Redis down (stopped, or frozen so it accepts connections and never
answers), saving answers, finishing an attempt, submitting scores and importing deals still
succeed within 2 s each; their tasks wait in the outbox, and once Redis is back the sweeper
sends each exactly once.

The 2 s bound on each call is the requirement itself (issue 8), not a performance check: a
request that waited on the dead broker (Celery's defaults retry for seconds) would exceed it.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

import config.celery
from certification.models import Attempt, OutboxMessage
from certification.services.assessments import (
    RatingInput,
    scorecard_save,
    session_release,
    session_schedule,
)
from certification.services.attempts import attempt_answer, attempt_finish, attempt_start
from certification.services.deals import deals_import_file
from config.celery import outbox_sweep
from tests.factories.certification import make_scenario
from tests.reliability.conftest import RedisServer

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

REQUEST_BOUND = 2.0  # seconds, from the issue: "still succeed within 2 s"
RECOMPUTE = "certification.recompute_tiers"


def within_bound(call: Callable[[], Any]) -> Any:
    """Run one request's service call as if it were the first to meet the outage (this
    process has not yet learnt that the broker is down), and check it took under 2 s."""
    config.celery._broker_down_until = 0.0
    started = time.monotonic()
    result = call()
    elapsed = time.monotonic() - started
    assert elapsed < REQUEST_BOUND, f"took {elapsed:.2f} s with the broker down"
    return result


def queued(server: RedisServer) -> list[dict[str, Any]]:
    """The task messages waiting in Redis (the interactive queue, where a rep's recompute
    goes) in the order a worker takes them, read without taking them: task name, id, args and
    kwargs."""
    messages = []
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    for raw in reversed(server.client().lrange(queue, 0, -1)):  # LPUSHed, BRPOPped
        envelope = json.loads(raw)
        args, kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
        headers = envelope["headers"]
        messages.append({"task": headers["task"], "id": headers["id"], "args": args, **kwargs})
    return messages


class Outage:
    """Take the broker away, and bring it back, one of two ways."""

    def __init__(self, server: RedisServer, how: str) -> None:
        self.server, self.how = server, how

    def begin(self) -> None:
        if self.how == "stopped":  # connections are refused at once
            self.server.stop()
        else:  # frozen: the port accepts connections, nothing ever answers
            assert self.server.process is not None
            os.kill(self.server.process.pid, signal.SIGSTOP)

    def end(self) -> None:
        if self.how == "stopped":
            self.server.start()  # empty: no persistence
        else:
            assert self.server.process is not None
            os.kill(self.server.process.pid, signal.SIGCONT)


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_work_asked_for_during_an_outage_is_kept_and_sent_once_when_redis_is_back(
    org, exam_for, celery_on, how
):
    # given a rep in a test, a panel about to score a role-play, and a deals file
    exam = exam_for(org.rep_a, questions=3)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    session = session_schedule(
        scenario=make_scenario(),
        rep=org.rep_a,
        scheduled_at=timezone.now() + timedelta(days=1),
        judges=[org.manager_b, org.manager_c],
        owner=org.enablement,
        actor=org.enablement,
    )
    ratings = {c.pk: RatingInput(4, "Clear") for c in session.guide_version.criteria.all()}
    currency = settings.BASE_CURRENCY
    deals = (
        "opportunity_id,rep_email,amount,currency,close_date,stage\n"
        f"OPP-1,{org.rep_a.email},12000,{currency},{timezone.localdate():%Y-%m-%d},won\n"
        f"OPP-2,{org.rep_b.email},800,{currency},{timezone.localdate():%Y-%m-%d},won\n"
    ).encode()
    assert queued(celery_on) == []
    outage = Outage(celery_on, how)
    outage.begin()
    try:
        # when each request path runs with the broker down
        for item in attempt.items.order_by("position"):
            right = next(c["id"] for c in item.snapshot["choices"] if Decimal(c["weight"]) == 100)
            within_bound(
                lambda item=item, right=right: attempt_answer(
                    attempt_id=attempt.pk,
                    rep=org.rep_a,
                    question_id=item.question_id,
                    choice_ids=[right],
                )
            )
        finished = within_bound(lambda: attempt_finish(attempt=attempt))
        for judge in (org.manager_b, org.manager_c):
            within_bound(
                lambda judge=judge: scorecard_save(
                    session=session, judge=judge, ratings=ratings, submit=True
                )
            )
        released = within_bound(lambda: session_release(session=session, actor=org.enablement))
        imported = within_bound(
            lambda: deals_import_file(data=deals, dry_run=False, actor=org.enablement)
        )
    finally:
        outage.end()

    # then every request did its work, and the tiers to recompute wait in the outbox
    assert (finished.status, finished.passed) == (Attempt.Status.FINISHED, True)
    assert released.passed
    assert imported.created == 2
    held = list(OutboxMessage.objects.filter(sent_at__isnull=True).order_by("pk"))
    assert [(m.task_name, m.kwargs["rep_ids"]) for m in held] == [
        (RECOMPUTE, [org.rep_a.pk]),  # level 1 earned by finishing
        (RECOMPUTE, [org.rep_a.pk]),  # level 2 earned by the released role-play
        (RECOMPUTE, sorted([org.rep_a.pk, org.rep_b.pk])),  # their won deals
    ]
    assert not OutboxMessage.objects.filter(sent_at__isnull=False).exists()
    assert queued(celery_on) == []

    # when Redis is back and the sweeper runs
    assert outbox_sweep() == 3

    # then each message reached the broker once, in order, as it was asked for
    assert queued(celery_on) == [
        {"task": m.task_name, "id": m.task_id, "args": m.args, **m.kwargs} for m in held
    ]
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    # and a second sweep sends nothing
    assert outbox_sweep() == 0
    assert len(queued(celery_on)) == 3


def test_a_message_is_sent_as_its_transaction_commits_when_the_broker_is_up(
    org, exam_for, celery_on
):
    exam = exam_for(org.rep_a, questions=1)
    attempt = attempt_start(exam=exam, rep=org.rep_a).attempt
    item = attempt.items.get()
    right = next(c["id"] for c in item.snapshot["choices"] if Decimal(c["weight"]) == 100)
    attempt_answer(
        attempt_id=attempt.pk, rep=org.rep_a, question_id=item.question_id, choice_ids=[right]
    )

    attempt_finish(attempt=attempt)

    message = OutboxMessage.objects.get()
    assert message.sent_at is not None
    assert queued(celery_on) == [
        {"task": RECOMPUTE, "id": message.task_id, "args": [], **message.kwargs}
    ]
    assert outbox_sweep() == 0  # nothing left for the sweeper
