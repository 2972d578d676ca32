"""The Celery application, and the one way RepReady code enqueues a task: through an outbox.

``enqueue_on_commit`` writes an ``OutboxMessage`` row in the caller's transaction. Once that
commits, the message is published at once, giving up within ``OUTBOX_PUBLISH_TIMEOUT`` so a
request never hangs on a broker that has gone away, and stamped sent. A message the broker did
not take stays unsent, and ``outbox_sweep`` (every minute, by beat) sends it later, oldest
first. So nothing is lost; a message may reach the broker twice (a crash between publishing
and stamping it sent), which is why every task is safe to run twice.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from celery import Celery, Task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from kombu import Connection
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from config.env import load_settings_or_exit

if TYPE_CHECKING:
    from certification.models import OutboxMessage

load_settings_or_exit("config.settings.local")

app = Celery("repready")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# What a broker that is down, unreachable or hanging raises when we publish to it.
BROKER_ERRORS = (OperationalError, RedisError, OSError)
# After a failed publish, this process leaves its next messages to the sweeper for a while
# instead of waiting on the dead broker again in every request.
BROKER_DOWN_PAUSE = 10.0
SWEEP_BATCH = 100
UNKNOWN_TASK_RETRY = timedelta(hours=1)

_broker_down_until = 0.0  # time.monotonic() before which this process does not try
_import_lock = threading.Lock()
# This thread's publishing connection, kept between messages (see ``_kept_connection``).
_kept = threading.local()


class BrokerUnavailableError(Exception):
    """The broker did not take the message."""


@app.task(name="repready.ping", ignore_result=False)
def ping() -> str:
    """Answer a round trip through the broker and result backend."""
    return "pong"


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Record the task in the outbox now and send it once the current transaction commits;
    never raise a broker failure (the sweeper sends what could not be sent).

    Tasks take primary keys, never model instances, so what is recorded is plain JSON.
    """
    from certification.models import OutboxMessage  # noqa: PLC0415 - models load after apps

    message = OutboxMessage.objects.create(task_name=task.name, args=list(args), kwargs=kwargs)
    transaction.on_commit(partial(_send_committed, task, message), robust=True)


def enqueue_task_on_commit(name: str, *args: Any, **kwargs: Any) -> None:
    """``enqueue_on_commit`` by task name, for services: the tasks modules sit above them."""
    task = task_named(name)
    if task is None:
        raise KeyError(f"no task named {name!r}")
    enqueue_on_commit(task, *args, **kwargs)


def task_named(name: str) -> Task | None:
    """The registered task, importing the tasks modules on first need: a web process has not
    imported them (a worker does at start)."""
    if name not in app.tasks:
        # One thread at a time: another looking meanwhile would find the registry half full.
        with _import_lock:
            if name not in app.tasks:
                app.loader.import_default_modules()
    return app.tasks.get(name)


def _send_committed(task: Task, recorded: OutboxMessage) -> None:
    """Send one committed message now, unless the sweeper holds (or has sent) it."""
    from certification.models import OutboxMessage  # noqa: PLC0415 - models load after apps

    message_id = recorded.pk
    if task.app.conf.task_always_eager:
        # Runs here and now (development and tests); its errors are its own.
        claimed = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).update(
            sent_at=timezone.now()
        )
        if claimed:
            task.apply_async(args=recorded.args, kwargs=recorded.kwargs, task_id=recorded.task_id)
        return
    if time.monotonic() < _broker_down_until:
        logger.error(
            "could not enqueue %s: the broker was unavailable moments ago; outbox message %s "
            "is left for the sweeper",
            task.name,
            message_id,
        )
        return
    with transaction.atomic():
        # Locked while it is published: a sweep running now skips it, and finds it sent.
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return
        try:
            _publish_on_kept_connection(task, message)
        except BrokerUnavailableError as error:
            logger.error(  # noqa: TRY400 - the reason is in the message; no traceback needed
                "could not enqueue %s: %s; outbox message %s is left for the sweeper",
                task.name,
                error,
                message_id,
            )
            _record_failure(message, str(error))
            return
        _record_sent(message)


def _kept_connection(celery: Celery) -> tuple[Connection, bool]:
    """This thread's publishing connection, and whether it is new.

    Opening a connection costs more than the message (a TCP connect and Redis's greeting on
    every request that enqueues), so each thread of each process keeps one, for the broker
    it was opened for. It is not shared across a fork: a new process opens its own.
    """
    key = (os.getpid(), id(celery), celery.conf.broker_write_url or celery.conf.broker_url)
    if getattr(_kept, "key", None) == key and _kept.connection is not None:
        return _kept.connection, False
    _drop_kept_connection()
    _kept.key, _kept.connection = key, publishing_connection(celery)
    return _kept.connection, True


def _drop_kept_connection() -> None:
    connection = getattr(_kept, "connection", None)
    _kept.key, _kept.connection = None, None
    if connection is not None:
        with contextlib.suppress(Exception):  # it has failed already: close what is left
            connection.release()


def _publish_on_kept_connection(task: Task, message: OutboxMessage) -> None:
    """``publish`` over the thread's kept connection. A kept connection that fails at once may
    only have gone stale (closed by Redis or a proxy while idle): the message is tried once
    more on a new one before the broker counts as down. One that timed out is not retried:
    the broker is hanging, and the request has waited long enough."""
    connection, new = _kept_connection(task.app)
    started = time.monotonic()
    try:
        publish(task, message, connection)
    except BrokerUnavailableError:
        _drop_kept_connection()
        if new or time.monotonic() - started >= settings.OUTBOX_PUBLISH_TIMEOUT / 2:
            raise
        connection, _ = _kept_connection(task.app)
        try:
            publish(task, message, connection)
        except BrokerUnavailableError:
            _drop_kept_connection()
            raise


def publishing_connection(celery: Celery) -> Connection:
    """A new broker connection that gives up within about ``OUTBOX_PUBLISH_TIMEOUT`` seconds
    and never retries: its errors reach ``publish`` at once. (It connects on first use.)"""
    timeout = settings.OUTBOX_PUBLISH_TIMEOUT
    connection: Connection = celery.connection_for_write(
        connect_timeout=timeout,
        transport_options={
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "max_retries": 0,  # kombu's connect retries would wait seconds
        },
    )
    return connection


def publish(task: Task, message: OutboxMessage, connection: Connection) -> None:
    """Hand the message to the broker over a ``publishing_connection``, without retrying; raise
    ``BrokerUnavailableError`` if it did not take it.

    A task keeping its result also subscribes to the result backend here; Celery reports
    giving up on that as a RuntimeError about reconnecting.
    """
    global _broker_down_until  # noqa: PLW0603 - one flag per process, by design
    try:
        task.apply_async(
            args=message.args,
            kwargs=message.kwargs,
            task_id=message.task_id,
            connection=connection,
            retry=False,
        )
    except BROKER_ERRORS as error:
        _broker_down_until = time.monotonic() + BROKER_DOWN_PAUSE
        raise BrokerUnavailableError(f"{type(error).__name__}: {error}") from error
    except RuntimeError as error:
        if "reconnect" not in str(error):
            raise
        _broker_down_until = time.monotonic() + BROKER_DOWN_PAUSE
        raise BrokerUnavailableError(f"result backend: {error}") from error
    _broker_down_until = 0.0


def _record_sent(message: OutboxMessage) -> None:
    message.sent_at = timezone.now()
    message.save(update_fields=["sent_at"])


def _record_failure(
    message: OutboxMessage, error: str, *, retry_at: datetime | None = None
) -> None:
    message.attempts += 1
    message.last_error = error[:500]
    fields = ["attempts", "last_error"]
    if retry_at is not None:
        message.available_at = retry_at
        fields.append("available_at")
    message.save(update_fields=fields)


def outbox_sweep(*, batch_size: int = SWEEP_BATCH) -> int:
    """Send the unsent outbox messages that are due, oldest first, and stop at the first the
    broker refuses; forget sent ones past ``OUTBOX_RETENTION_DAYS``. Two sweeps at once never
    send one message twice (each locks its batch, skipping the other's). Returns how many
    were sent."""
    from certification.models import OutboxMessage  # noqa: PLC0415 - models load after apps

    sent = 0
    broker_down = False
    while not broker_down:
        now = timezone.now()
        with transaction.atomic(), publishing_connection(app) as connection:
            batch = list(
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(sent_at__isnull=True, available_at__lte=now)
                .order_by("pk")[:batch_size]
            )
            for message in batch:
                task = task_named(message.task_name)
                if task is None:  # renamed or removed since: kept for a person to look at
                    _record_failure(message, "no such task", retry_at=now + UNKNOWN_TASK_RETRY)
                    continue
                if task.app.conf.task_always_eager:
                    _record_sent(message)
                    task.apply_async(
                        args=message.args, kwargs=message.kwargs, task_id=message.task_id
                    )
                    sent += 1
                    continue
                try:
                    publish(task, message, connection)
                except BrokerUnavailableError as error:
                    logger.warning("outbox sweep stopped: %s", error)
                    _record_failure(message, str(error))
                    broker_down = True
                    break
                _record_sent(message)
                sent += 1
        # Until none is left: a short batch does not mean the end, as rows another sweep
        # held (or sent as this one looked) are left out of it.
        if not batch:
            break
    retention = timedelta(days=settings.OUTBOX_RETENTION_DAYS)
    OutboxMessage.objects.filter(sent_at__lt=timezone.now() - retention).delete()
    return sent
