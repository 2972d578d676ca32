"""The Celery app: enqueue after commit, survive a dead broker, round trip through Redis."""

from __future__ import annotations

import logging
import socket
import time
import uuid

import pytest
from celery import Celery, Task
from celery.contrib.testing.worker import start_worker

from config.celery import app, enqueue_on_commit, ping
from tests.conftest import require_service


def test_app_serialises_json_only_and_has_time_limits():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.broker_transport_options["visibility_timeout"] > app.conf.task_time_limit


@pytest.mark.django_db(transaction=True)
def test_enqueue_waits_for_commit_and_is_dropped_on_rollback(monkeypatch):
    from django.db import transaction

    sent = []
    monkeypatch.setattr(
        ping, "apply_async", lambda args, kwargs, **_options: sent.append((args, kwargs))
    )
    with transaction.atomic():
        enqueue_on_commit(ping)
        assert sent == []  # nothing leaves before commit
    assert sent == [([], {})]

    def enqueue_then_fail() -> None:
        with transaction.atomic():
            enqueue_on_commit(ping)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert len(sent) == 1  # a rolled-back transaction sends nothing


def _app_like_ours(broker_url: str) -> tuple[Celery, Task]:
    """A Celery app with our settings but its own broker, so tests never share a pool."""
    other = Celery("repready-test")
    other.config_from_object("django.conf:settings", namespace="CELERY")
    other.conf.update(broker_url=broker_url, result_backend=broker_url, task_always_eager=False)
    task = other.task(name="repready.ping", ignore_result=False)(ping.run)
    return other, task


@pytest.mark.django_db(transaction=True)
def test_dead_broker_is_logged_not_raised_and_fails_fast(caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _other, task = _app_like_ours(f"redis://127.0.0.1:{port}/0")
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="config.celery"):
        enqueue_on_commit(task)  # autocommit: sent at once
    elapsed = time.monotonic() - started
    assert "could not enqueue repready.ping" in caplog.text
    assert elapsed < 5  # a request never hangs on a dead broker


def _queue_apart(other: Celery) -> str:
    """Send the app's messages to a queue of the test's own (delete it afterwards)."""
    queue = f"test-kept-connection-{uuid.uuid4().hex}"
    other.conf.task_default_queue = queue
    other.conf.task_routes = {}
    return queue


def _forget(other: Celery, queue: str) -> None:
    import redis

    import config.celery as celery_module

    redis.Redis.from_url(other.conf.broker_url).delete(queue)
    celery_module._drop_kept_connection()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_messages_sent_one_after_another_share_one_kept_broker_connection(monkeypatch):
    import redis

    import config.celery as celery_module
    from certification.models import OutboxMessage

    other, task = _app_like_ours(require_service("Redis", "REDIS_URL"))
    queue = _queue_apart(other)
    opened = []
    real_open = celery_module.publishing_connection
    monkeypatch.setattr(
        celery_module, "publishing_connection", lambda c: opened.append(c) or real_open(c)
    )
    try:
        for _ in range(3):
            enqueue_on_commit(task)  # autocommit: each is sent as it commits
        assert len(opened) == 1  # one connect for three messages, not one each
        assert OutboxMessage.objects.filter(sent_at__isnull=False).count() == 3
        assert redis.Redis.from_url(other.conf.broker_url).llen(queue) == 3
    finally:
        _forget(other, queue)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_that_fails_at_once_is_replaced_and_the_message_still_goes(
    monkeypatch, caplog
):
    import config.celery as celery_module
    from certification.models import OutboxMessage

    other, task = _app_like_ours(require_service("Redis", "REDIS_URL"))
    queue = _queue_apart(other)
    try:
        enqueue_on_commit(task)  # opens the kept connection
        kept = celery_module._kept.connection
        used = []
        real_publish = celery_module.publish

        def stale_once(task: Task, message: object, connection: object) -> None:
            used.append(connection)
            if len(used) == 1:  # as a connection Redis closed while it was idle fails
                raise celery_module.BrokerUnavailableError("ConnectionError: closed by peer")
            real_publish(task, message, connection)  # type: ignore[arg-type]

        monkeypatch.setattr(celery_module, "publish", stale_once)
        with caplog.at_level(logging.ERROR, logger="config.celery"):
            enqueue_on_commit(task)
        assert used[0] is kept
        assert used[1] is not kept  # retried once, on a new connection
        assert "could not enqueue" not in caplog.text
        assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
        assert celery_module._broker_down_until == 0.0  # not counted as the broker down
    finally:
        _forget(other, queue)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)  # the worker runs Django's checks as it starts
def test_round_trip_through_real_redis():
    other, task = _app_like_ours(require_service("Redis", "REDIS_URL"))
    with start_worker(other, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        result = task.delay()
        assert result.get(timeout=20) == "pong"
        assert result.successful()


def test_every_task_is_routed_on_purpose_to_the_interactive_or_the_bulk_queue(settings):
    import certification.tasks  # noqa: F401 - registers the tasks, as a worker does

    ours = {name for name in app.tasks if name.startswith(("certification.", "repready."))}
    interactive, bulk = set(settings.CELERY_INTERACTIVE_TASKS), set(settings.CELERY_BULK_TASKS)
    assert not interactive & bulk
    assert ours == interactive | bulk, "route the new task in config/settings/base.py"
    for name in ours:
        queue = app.amqp.router.route({}, name)["queue"].name
        assert queue == ("bulk" if name in bulk else "interactive"), name


def test_a_worker_started_without_queues_consumes_both():
    assert {queue.name for queue in app.conf.task_queues} == {"interactive", "bulk"}
    assert app.conf.task_default_queue == "interactive"
