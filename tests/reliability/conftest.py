"""A real Redis each test starts and stops itself, on its own port, and Celery pointed at it
(not eager) for the test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import redis

import config.celery
from config.celery import app


def require_binary(name: str) -> str:
    """Return the program's path, or skip (fail in CI, where REPREADY_REQUIRE_SERVICES=1)."""
    path = shutil.which(name)
    if path is None:
        reason = f"needs the {name} program on PATH"
        if os.environ.get("REPREADY_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float, what: str, every: float = 0.05):
    """Poll ``condition`` until it returns something true; fail with ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(every)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@dataclass
class RedisServer:
    """A throwaway redis-server on its own port, with no persistence: stopped, it forgets."""

    binary: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                self.binary,
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A running redis-server of this test's own (stopped at the end, whatever happens)."""
    server = RedisServer(require_binary("redis-server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _reset_pools() -> None:
    # The app keeps its broker connections: drop them, so the next use connects to the
    # broker configured now.
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_on(redis_server: RedisServer) -> Iterator[RedisServer]:
    """Celery publishing to the test's Redis for real (not eager) during the test."""
    conf = app.conf
    saved = {"broker_url": conf.broker_url, "task_always_eager": conf.task_always_eager}
    conf.update(broker_url=redis_server.url, task_always_eager=False)
    _reset_pools()
    config.celery._broker_down_until = 0.0  # another test's outage is not ours
    try:
        yield redis_server
    finally:
        conf.update(saved)
        _reset_pools()
        config.celery._broker_down_until = 0.0
