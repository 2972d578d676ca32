"""The task outbox: a row per task in the caller's transaction (none if it rolls back), sent
on commit (run there, when Celery is eager), swept later otherwise; a task that no longer
exists does not hold the others back; two sweeps at once send each message once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from certification.models import OutboxMessage, RepTier
from certification.services.tiers import tiers_recompute_later
from config.celery import app, outbox_sweep
from tests.reliability.test_broker_outage import queued
from tests.reliability.test_worker_kill import require_postgresql


def test_the_sweep_runs_every_minute_and_a_lost_pool_process_gives_its_task_back(settings):
    from certification.tasks import sweep_outbox

    schedule = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["certification.outbox_sweep"]["schedule"] == 60
    assert sweep_outbox.acks_late
    assert app.conf.task_reject_on_worker_lost  # for late-ack tasks only
    assert settings.OUTBOX_PUBLISH_TIMEOUT < 2  # the bound on a request's wait


@pytest.mark.django_db
def test_with_celery_eager_a_task_runs_as_its_transaction_commits_and_is_marked_sent(
    org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        tiers_recompute_later(rep_ids=[org.rep_a.pk], cause="test")
        message = OutboxMessage.objects.get()
        assert message.sent_at is None  # recorded with the transaction, not yet run
        assert not RepTier.objects.filter(rep=org.rep_a).exists()

    message.refresh_from_db()
    assert (message.task_name, message.kwargs) == (
        "certification.recompute_tiers",
        {"rep_ids": [org.rep_a.pk], "cause": "test"},
    )
    assert message.sent_at is not None
    assert RepTier.objects.filter(rep=org.rep_a).exists()  # the task ran
    assert outbox_sweep() == 0


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_message(org, django_capture_on_commit_callbacks):
    def fail_after_asking() -> None:
        with transaction.atomic():
            tiers_recompute_later(rep_ids=[org.rep_a.pk], cause="test")
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        fail_after_asking()

    assert callbacks == []

    assert not OutboxMessage.objects.exists()
    assert not RepTier.objects.exists()


@pytest.mark.django_db
def test_a_message_for_a_task_that_no_longer_exists_is_kept_aside_not_in_the_way(org):
    # given two unsent messages (their broker was down), the first for a task since removed
    gone = OutboxMessage.objects.create(task_name="certification.no_such_task")
    kept = OutboxMessage.objects.create(
        task_name="certification.recompute_tiers",
        kwargs={"rep_ids": [org.rep_a.pk], "cause": "test"},
    )

    sent = outbox_sweep()

    gone.refresh_from_db()
    kept.refresh_from_db()
    assert sent == 1
    assert kept.sent_at is not None
    assert RepTier.objects.filter(rep=org.rep_a).exists()
    assert (gone.sent_at, gone.attempts, gone.last_error) == (None, 1, "no such task")
    assert gone.available_at > timezone.now() + timedelta(minutes=30)  # not every minute
    assert outbox_sweep() == 0


@pytest.mark.django_db
def test_the_sweep_forgets_sent_messages_after_the_retention(settings):
    settings.OUTBOX_RETENTION_DAYS = 7
    now = timezone.now()
    OutboxMessage.objects.create(task_name="repready.ping", sent_at=now - timedelta(days=8))
    recent = OutboxMessage.objects.create(
        task_name="repready.ping", sent_at=now - timedelta(days=6)
    )

    outbox_sweep()

    assert list(OutboxMessage.objects.all()) == [recent]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_message_once(celery_on):
    require_postgresql()
    # given messages an outage held back
    held = OutboxMessage.objects.bulk_create(
        OutboxMessage(
            task_name="certification.recompute_tiers", kwargs={"rep_ids": [n], "cause": "test"}
        )
        for n in range(30)
    )
    start = threading.Barrier(2)
    counts: list[int] = []

    def sweep() -> None:
        try:
            start.wait(timeout=10)
            counts.append(outbox_sweep(batch_size=3))
        finally:
            connection.close()

    # when two sweeps run at once
    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then between them they sent every message, each once
    assert sum(counts) == 30
    ids = [message["id"] for message in queued(celery_on)]
    assert sorted(ids) == sorted(message.task_id for message in held)
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
