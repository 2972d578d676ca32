"""The Celery application, and the one way RepReady code enqueues a task."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from django.db import transaction
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from config.env import load_settings_or_exit

load_settings_or_exit("config.settings.local")

app = Celery("repready")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Send the task after the current transaction commits; never raise a broker failure.

    Tasks take primary keys, never model instances, so what is sent is plain JSON.
    """

    def send() -> None:
        if task.app.conf.task_always_eager:  # runs here and now: its errors are its own
            task.apply_async(args=args, kwargs=kwargs)
            return
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except (OperationalError, ConnectionError, TimeoutError, RedisError):
            logger.exception("could not enqueue %s: broker unavailable", task.name)
        except RuntimeError as exc:
            # Celery's Redis result backend reports giving up on reconnecting this way.
            if "reconnect" not in str(exc):
                raise
            logger.exception("could not enqueue %s: result backend unavailable", task.name)

    transaction.on_commit(send, robust=True)


@app.task(name="repready.ping", ignore_result=False)
def ping() -> str:
    """Answer a round trip through the broker and result backend."""
    return "pong"


def enqueue_task_on_commit(name: str, *args: Any, **kwargs: Any) -> None:
    """``enqueue_on_commit`` by task name, for services: the tasks modules sit above them.

    A web process has not imported the tasks modules (a worker does at start): the first
    lookup of a name it lacks imports them, as the worker would.
    """
    if name not in app.tasks:
        app.loader.import_default_modules()
    enqueue_on_commit(app.tasks[name], *args, **kwargs)
