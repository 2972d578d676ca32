"""Worker faults: a late-acknowledged task whose worker is killed (``kill -9``) in the middle
is delivered again and ends in the state one clean run leaves.

The task is the real nightly recompute over 50 reps: it sends them as three bulk tasks of 20
reps (tests/reliability/worker_settings.py), each one transaction. To kill one mid-task
without a test hook, the test holds the row lock of one rep of the second share: the first
commits, the second waits on the lock, and PostgreSQL shows the worker waiting; then the
worker is killed, the lock let go, and the second share's message must come back. Two ways to
die: the whole worker (solo pool; the message is redelivered by Redis once its visibility
timeout, 2 s in tests/reliability/worker_settings.py, has passed, to a new worker), or only
the pool process running the task (prefork; the worker puts the message back at once:
``task_reject_on_worker_lost``).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from certification.models import (
    Attempt,
    Certification,
    Notification,
    NotificationKind,
    OutboxMessage,
    RepTier,
    Tier,
    TierChange,
)
from certification.services.tiers import all_rep_ids, tiers_recompute
from config.celery import enqueue_task_on_commit
from tests.factories.certification import SubjectFactory, make_exam
from tests.reliability import worker_settings
from tests.reliability.conftest import RedisServer, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BATCH = worker_settings.TIERS_RECOMPUTE_BATCH  # the workers'
assert worker_settings.TIERS_RECOMPUTE_ALL_BATCH == BATCH  # one transaction per share
SHARE = "certification.recompute_tiers_bulk"
REPS = 2 * BATCH + 10  # three batches
CAUSE = "nightly recompute"
STALE = [Tier.GOLD, Tier.SILVER, Tier.NONE, Tier.BRONZE]  # what the reps' rows say before


def require_postgresql() -> None:
    """Skip on SQLite (fail in CI): a worker in another process needs the committed test
    database, which pytest-django keeps in memory on SQLite."""
    if connection.vendor != "postgresql":
        reason = "needs PostgreSQL: set DATABASE_URL"
        if os.environ.get("REPREADY_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def database_url() -> str:
    """The URL of the live test database (test_<name>, per xdist worker)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pool_process(self) -> int | None:
        """The pid of the prefork pool's one process, once it is there."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        return int(pids[0]) if pids else None

    def stop(self) -> None:
        """Stop it at once (its work is done or abandoned: either way, the test is over)."""
        if self.process.poll() is not None:
            return
        pool_process = self.pool_process()
        self.process.kill()
        self.process.wait(timeout=10)
        if pool_process is not None:  # orphaned now: it would finish its task, then idle
            with contextlib.suppress(ProcessLookupError):
                os.kill(pool_process, signal.SIGKILL)


def start_worker(redis: RedisServer, log: Path, *, pool: str) -> Worker:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.reliability.worker_settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis.url,
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    command = [
        sys.executable,
        *("-m", "celery", "-A", "config.celery", "worker"),
        *("--pool", pool, "--concurrency", "1", "--loglevel", "INFO"),
        *("--without-heartbeat", "--without-gossip", "--without-mingle"),
        *("--hostname", f"{log.stem}@%h"),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            command, env=env, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT
        )
    return Worker(process, log)


@pytest.fixture
def workers(tmp_path: Path):
    """Start workers for the test; whatever happens, none outlives it."""
    started: list[Worker] = []

    def start(redis: RedisServer, name: str, *, pool: str) -> Worker:
        worker = start_worker(redis, tmp_path / f"{name}.log", pool=pool)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def make_reps() -> list[int]:
    """REPS reps whose tier rows are stale; every third holds level 1 on the one offering
    (bronze), the others nothing (no tier)."""
    reps = User.objects.bulk_create(
        User(email=f"rep{i:04}@kill.test", display_name=f"Rep {i:04}", is_rep=True)
        for i in range(REPS)
    )
    RepTier.objects.bulk_create(
        RepTier(rep=rep, tier=STALE[i % 4], computed=STALE[i % 4]) for i, rep in enumerate(reps)
    )
    offering = SubjectFactory()
    exam = make_exam(subject=offering, questions=1, publish=False)
    now = timezone.now() - timedelta(days=1)
    certified = reps[::3]
    attempts = Attempt.objects.bulk_create(
        Attempt(
            exam=exam,
            rep=rep,
            number=1,
            status=Attempt.Status.FINISHED,
            started_at=now,
            deadline=now + timedelta(minutes=30),
            finished_at=now,
            score=Decimal(100),
            passed=True,
        )
        for rep in certified
    )
    Certification.objects.bulk_create(
        Certification(rep=rep, subject=offering, level=1, issued_at=now, attempt=attempt)
        for rep, attempt in zip(certified, attempts, strict=True)
    )
    return sorted(rep.pk for rep in reps)


def end_state() -> dict[str, Any]:
    """What a recompute leaves, without its timestamps."""
    return {
        "tiers": list(
            RepTier.objects.order_by("rep_id").values_list(
                "rep_id", "tier", "computed", "reasons", "missing"
            )
        ),
        "changes": sorted(
            TierChange.objects.values_list("rep_id", "old_tier", "new_tier", "reasons", "cause")
        ),
        "told": sorted(
            Notification.objects.filter(kind=NotificationKind.TIER_CHANGED).values_list(
                "recipient_id", "title", "body"
            )
        ),
    }


def clean_run(rep_ids: list[int]) -> dict[str, Any]:
    """Put the reps' tiers back as they were before, recompute once in this process, and
    return the end state that leaves."""
    Notification.objects.filter(kind=NotificationKind.TIER_CHANGED).delete()
    TierChange.objects.all().delete()
    rows = list(RepTier.objects.order_by("rep_id"))
    for i, row in enumerate(rows):
        row.tier = row.computed = STALE[i % 4]
        row.reasons, row.missing, row.computed_at = [], [], None
    RepTier.objects.bulk_update(rows, ["tier", "computed", "reasons", "missing", "computed_at"])
    tiers_recompute(rep_ids=all_rep_ids(), cause=CAUSE)
    assert sorted(all_rep_ids()) == rep_ids
    return end_state()


def everything_received_succeeded(output: str) -> bool:
    """Every task the worker's log says it received, it also says succeeded."""
    received = set(re.findall(r"\[(outbox-\d+)\] received", output))
    return bool(received) and all(f"[{task_id}] succeeded" in output for task_id in received)


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.parametrize("killed", ["worker", "pool process"])
def test_a_recompute_killed_mid_task_is_redelivered_and_ends_as_one_clean_run(
    celery_on, workers, killed
):
    require_postgresql()
    # given reps with stale tiers, and the nightly recompute sent through the outbox
    rep_ids = make_reps()
    first_batch, blocked_rep = rep_ids[:BATCH], rep_ids[BATCH + 7]
    enqueue_task_on_commit("certification.recompute_all_tiers", cause=CAUSE)
    message = OutboxMessage.objects.get(task_name="certification.recompute_all_tiers")
    assert message.sent_at is not None
    pool = "solo" if killed == "worker" else "prefork"

    # when a worker has committed the first batch and waits for the second, it is killed
    with transaction.atomic():
        RepTier.objects.select_for_update().get(rep_id=blocked_rep)
        first = workers(celery_on, "first", pool=pool)
        wait_until(
            lambda: (
                RepTier.objects.filter(rep_id__in=first_batch, computed_at__isnull=False).count()
                == BATCH
                and waiting_on_a_lock()
            ),
            timeout=60,
            what="the worker to commit the first batch and wait on the second",
            every=0.1,
        )
        victim = first.process.pid if killed == "worker" else first.pool_process()
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        if killed == "worker":
            first.process.wait(timeout=10)
        # Half done: the first batch is in, the rest is not.
        assert RepTier.objects.filter(computed_at__isnull=True).count() == REPS - BATCH
    # (the lock is let go here)

    # then the nightly task has sent three shares, and what was killed comes back (to a new
    # worker, or to the killed process's worker) and runs to the end. The workers run the
    # test settings, where a task sent from a task runs at once (CELERY_TASK_ALWAYS_EAGER):
    # the shares run inside the nightly task, so the message that comes back is the nightly
    # task's, which shares out again.
    shares = list(OutboxMessage.objects.filter(task_name=SHARE).order_by("pk"))[:3]
    assert [len(share.kwargs["rep_ids"]) for share in shares] == [BATCH, BATCH, REPS - 2 * BATCH]
    assert blocked_rep in shares[1].kwargs["rep_ids"]
    rerun = workers(celery_on, "second", pool="solo") if killed == "worker" else first
    redis = celery_on.client()
    wait_until(
        lambda: (
            RepTier.objects.filter(computed_at__isnull=True).count() == 0
            and (redis.llen("interactive"), redis.llen("bulk"), redis.hlen("unacked"))
            == (0, 0, 0)  # acknowledged
            and everything_received_succeeded(rerun.output())
        ),
        timeout=60,
        what="the redelivered work to succeed",
        every=0.1,
    )
    assert f"[{shares[0].task_id}] succeeded" in first.output()
    assert f"[{message.task_id}] succeeded" in rerun.output()
    if killed == "pool process":
        assert "WorkerLostError" in first.output()

    # and the end state is the one a single clean run leaves: no rep changed twice
    after_crash = end_state()
    assert RepTier.objects.filter(computed_at__isnull=True).count() == 0
    changed = [rep_id for rep_id, *_ in after_crash["changes"]]
    assert len(changed) == len(set(changed))
    assert after_crash == clean_run(rep_ids)
