"""The exam burst's load: Locust, as a library, in a process of its own (bench/burst.py runs it).

    .venv/bin/python bench/burst_locust.py --data DATA.json --host http://127.0.0.1:8766 \\
        --out OUT.json [--mode api|bare] [--think-min 5 --think-max 15] [--right 0.8]

One Locust user per rep of the data file (bench/setup_data.py). Every user is spawned first
and waits; then all are released at the same instant to start the test
(``POST /api/v1/exams/{id}/attempts/``, which must answer 201). Each then answers the 20
questions in order (``PUT /api/v1/attempts/{id}/answers/{q}/``), thinking a uniform
``--think-min``..``--think-max`` seconds before each, picking the right option with
probability ``--right`` (else a wrong one), and finishes (``POST .../finish/``) after one more
think. ``--mode bare`` is the floor: the same users, the same instant, the same think times and
the same number of requests, each a ``GET /bench/bare/``.

Every request's latency is recorded (Locust's request event), and the percentiles are exact
(nearest rank), not Locust's rounded buckets. Only a 2xx with the expected status counts as a
success; anything else, a timeout or a dropped connection is an error, with up to 5 samples
kept. Writes the figures as JSON to ``--out``.
"""

from __future__ import annotations

# Locust patches the standard library with gevent when imported: import it first.
import locust  # isort: skip

import argparse
import itertools
import json
import math
import random
import resource
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from locust import FastHttpUser, events, task
from locust.env import Environment
from locust.exception import StopUser

STEPS = ("start", "answer", "finish")
SAMPLES_KEPT = 5


class Plan:
    """What every user shares: the data, the options, the release signal and the tallies."""

    data: dict[str, Any]
    args: argparse.Namespace
    go = Event()
    done = Event()
    next_rep = itertools.count()
    spawned = 0
    finished = 0
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter[str]] = defaultdict(Counter)
    errors: dict[str, int] = defaultdict(int)
    samples: list[str] = []
    start_sent: list[float] = []
    passed = 0


def _record(step: str, millis: float, status: str, ok: bool, detail: str = "") -> None:
    Plan.statuses[step][status] += 1
    if ok:
        Plan.latencies[step].append(millis)
        return
    Plan.errors[step] += 1
    if len(Plan.samples) < SAMPLES_KEPT:
        Plan.samples.append(f"{step} -> {status} {detail[:200]}")


@events.request.add_listener
def _on_request(  # noqa: PLR0917 - Locust's event signature
    request_type: str,  # noqa: ARG001
    name: str,
    response_time: float,
    response_length: int,  # noqa: ARG001
    response: Any,
    context: dict[str, Any],  # noqa: ARG001
    exception: BaseException | None,
    **kwargs: Any,  # noqa: ARG001
) -> None:
    step = name.split(" ", 1)[0]
    status = str(getattr(response, "status_code", 0) or 0)
    if exception is not None:
        _record(
            step,
            response_time,
            status if status != "0" else type(exception).__name__,
            ok=False,
            detail=str(exception),
        )
    else:
        _record(step, response_time, status, ok=True)


class BurstRep(FastHttpUser):
    """One rep of the boot camp: start when released, answer 20 questions, finish."""

    # No Locust wait between tasks: the one task is the whole script, thinking included.
    wait_time = locust.constant(0)
    connection_timeout = 60.0
    network_timeout = 120.0

    def on_start(self) -> None:
        index = next(Plan.next_rep)
        Plan.spawned += 1
        self.token = Plan.data["tokens"][index]
        self.rng = random.Random(index)
        self.headers = {
            "Authorization": f"Token {self.token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def _think(self) -> None:
        gevent.sleep(self.rng.uniform(Plan.args.think_min, Plan.args.think_max))

    def _call(
        self, step: str, method: str, path: str, expect: int, body: Any = None
    ) -> dict[str, Any] | None:
        bare = Plan.args.mode == "bare"
        if bare:
            method, path, body = "GET", "/bench/bare/", None
        with self.client.request(
            method,
            path,
            name=f"{step} {method}",
            headers=self.headers,
            data=json.dumps(body) if body is not None else None,
            catch_response=True,
        ) as response:
            wanted = 200 if bare else expect
            if response.status_code != wanted:
                response.failure(f"expected {wanted}: {(response.text or '')[:200]}")
                return None
            return response.json() if not bare else {}

    @task
    def take_the_test(self) -> None:
        Plan.go.wait()
        Plan.start_sent.append(time.monotonic())
        exam_id = Plan.data["exam_id"]
        attempt = self._call("start", "POST", f"/api/v1/exams/{exam_id}/attempts/", 201)
        if attempt is not None:
            if Plan.args.mode == "bare":
                questions = list(Plan.data["right_choice"])[: Plan.data["draw"]]
                attempt_id = 0
            else:
                questions = [str(q["question_id"]) for q in attempt["questions"]]
                attempt_id = attempt["id"]
            for question in questions:
                self._think()
                right = self.rng.random() < Plan.args.right
                choice = Plan.data["right_choice" if right else "wrong_choice"][question]
                self._call(
                    "answer",
                    "PUT",
                    f"/api/v1/attempts/{attempt_id}/answers/{question}/",
                    200,
                    {"choices": [choice]},
                )
            self._think()
            result = self._call("finish", "POST", f"/api/v1/attempts/{attempt_id}/finish/", 200)
            if result and result.get("passed"):
                Plan.passed += 1
        Plan.finished += 1
        if Plan.finished == len(Plan.data["tokens"]):
            Plan.done.set()
        raise StopUser


def percentile(ordered: list[float], p: float) -> float | None:
    """Nearest rank."""
    if not ordered:
        return None
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)], 1)


def figures() -> dict[str, Any]:
    out = {}
    for step in STEPS:
        ordered = sorted(Plan.latencies[step])
        out[step] = {
            "ok": len(ordered),
            "errors": Plan.errors[step],
            "statuses": dict(Plan.statuses[step]),
            "latency_ms": {
                "p50": percentile(ordered, 50),
                "p95": percentile(ordered, 95),
                "p99": percentile(ordered, 99),
                "max": round(ordered[-1], 1) if ordered else None,
            },
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mode", choices=("api", "bare"), default="api")
    parser.add_argument("--think-min", type=float, default=5.0)
    parser.add_argument("--think-max", type=float, default=15.0)
    parser.add_argument("--right", type=float, default=0.8, help="chance of the right option")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up after (s)")
    args = parser.parse_args(argv)

    Plan.data, Plan.args = json.loads(args.data.read_text()), args
    users = len(Plan.data["tokens"])
    env = Environment(user_classes=[BurstRep], events=events, host=args.host)
    runner = env.create_local_runner()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    spawn_started = time.monotonic()
    runner.start(users, spawn_rate=users)
    # Every user is spawned and waiting before any is released.
    while Plan.spawned < users:
        if time.monotonic() - spawn_started > 60:
            raise SystemExit("burst: the users did not all spawn in 60 s")
        gevent.sleep(0.05)
    spawned_in = time.monotonic() - spawn_started
    gevent.sleep(0.5)
    released = time.monotonic()
    Plan.go.set()
    finished_in_time = Plan.done.wait(timeout=args.timeout)
    wall = time.monotonic() - released
    runner.quit()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    sent = sorted(Plan.start_sent)
    result = {
        "mode": args.mode,
        "users": users,
        "think_s": [args.think_min, args.think_max],
        "right": args.right,
        "spawned_in_s": round(spawned_in, 2),
        "start_sent_spread_ms": round((sent[-1] - sent[0]) * 1000, 1) if sent else None,
        "wall_s": round(wall, 1),
        "completed": Plan.finished,
        "timed_out": not finished_in_time,
        "passed": Plan.passed,
        "driver_cpu_s": round(
            cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime,
            1,
        ),
        "steps": figures(),
        "samples": Plan.samples,
    }
    args.out.write_text(json.dumps(result, indent=2))
    return 0 if finished_in_time else 1


if __name__ == "__main__":
    raise SystemExit(main())
