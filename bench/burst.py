"""The exam burst: a boot camp of 2,000 reps starting the same test at the same instant.

    .venv/bin/python bench/burst.py [--reps 2000] [--think-min 5 --think-max 15] [--keep]

1. Makes sure PostgreSQL and Redis answer (as bench/run.py does) and builds a fresh
   ``repready_bench_burst`` database with ``--reps`` reps, a 60-question bank and a published
   test drawing 20, assigned to them, and one API token per rep (bench/setup_data.py).
2. Starts gunicorn exactly as the container does (``docker/entrypoint.sh web``, its defaults:
   two single-threaded workers per core) with ``bench.settings`` (the production settings on
   plain HTTP, plus the bare view).
3. Runs the load tool, Locust, in a process of its own (bench/burst_locust.py), twice:
   - the floor: every rep released at the same instant, then the same think times and the
     same 22 requests per rep, each a ``GET /bench/bare/`` (no database, no DRF);
   - the burst: every rep released at the same instant to ``POST`` a start, then answering
     20 questions (think time uniform ``--think-min``..``--think-max`` s before each: by
     default 5-15 s, a real 30-90 s compressed sixfold) and finishing.
4. Checks in the database that the burst did what it says: every rep has one finished attempt
   with every answer saved.
5. Prints one row per step (start, answer-save, finish) with its p95 beside the floor's p95
   for the same step, their ratio, the target and PASS or FAIL, and the CPU split; writes
   ``bench/results/burst-<timestamp>.json``.

Targets (issue 9): 0 errors, start p95 < 1 s, answer-save p95 < 250 ms, finish p95 < 500 ms.
Exits 0 whatever the figures, non-zero only when the run broke.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import cpu, report  # noqa: E402
from bench.run import (  # noqa: E402
    BENCH,
    PYTHON,
    RESULTS,
    Gunicorn,
    RunBrokeError,
    build_data,
    measure_in_work_directory,
    results_head,
    server_env,
)

STEPS = {
    "start": ("POST /api/v1/exams/{id}/attempts/", 1000.0),
    "answer": ("PUT /api/v1/attempts/{id}/answers/{q}/", 250.0),
    "finish": ("POST /api/v1/attempts/{id}/finish/", 500.0),
}
CHECK_SQL = """
select count(*) filter (where a.status = 'finished'),
       count(*),
       (select count(*) from certification_attemptquestion q
         where q.answered_at is not null),
       (select count(*) from certification_certification)
  from certification_attempt a
"""


def log(message: str) -> None:
    print(f"burst: {message}", flush=True)


def run_locust(
    args: argparse.Namespace, *, mode: str, data: Path, out: Path, server_pid: int
) -> dict[str, Any]:
    """One Locust run in its own process, with the CPU each part of the machine used."""
    command = [
        str(PYTHON),
        str(BENCH / "burst_locust.py"),
        "--data",
        str(data),
        "--host",
        f"http://127.0.0.1:{args.port}",
        "--out",
        str(out),
        "--mode",
        mode,
        "--think-min",
        str(args.think_min),
        "--think-max",
        str(args.think_max),
        "--right",
        str(args.right),
    ]
    driver = subprocess.Popen(command)
    before = cpu.snapshot(driver={driver.pid}, server=server_pid, database=args.database)
    started = time.monotonic()
    status = driver.wait()
    seconds = time.monotonic() - started
    after = cpu.snapshot(driver={driver.pid}, server=server_pid, database=args.database)
    if not out.exists():
        raise RunBrokeError(f"the load tool failed ({mode}, exit {status})")
    result = json.loads(out.read_text())
    if result["timed_out"]:
        raise RunBrokeError(f"the {mode} run did not finish: {result['completed']} reps did")
    used = cpu.seconds_used(before, after)
    # The driver's CPU from /proc misses a process that has exited: take its own count.
    used["driver"] = result["driver_cpu_s"]
    result["cpu_seconds"] = {k: round(v, 1) for k, v in used.items()}
    result["cpu_percent"] = cpu.shares(used, seconds)
    requests = sum(s["ok"] + s["errors"] for s in result["steps"].values())
    server = used.get("gunicorn", 0.0) + used.get("postgres", 0.0)
    result["server_cpu_ms_per_request"] = round(server / requests * 1000, 2) if requests else None
    return result


def warm_up(port: int, tokens: list[str], *, requests: int = 200) -> None:
    """Make every gunicorn worker import its views and open its database connection first.

    Django loads the URL conf, DRF and the views on a worker's first request, which costs
    about a second of CPU: without this the first of the 2,000 starts would pay for it.
    """
    import urllib.request  # noqa: PLC0415
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    def get(n: int) -> None:
        path = "/bench/bare/" if n % 2 else "/api/v1/exams/"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            headers={"Authorization": f"Token {tokens[n % len(tokens)]}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            answer.read()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(get, range(requests)))


def database_check(database: str) -> dict[str, int]:
    from bench.run import PG_HOST, PG_PORT, _output  # noqa: PLC0415

    row = _output(
        "psql",
        "-h",
        PG_HOST,
        "-p",
        str(PG_PORT),
        "-U",
        "postgres",
        "-d",
        database,
        "-Atc",
        " ".join(CHECK_SQL.split()),
    ).split("|")
    if len(row) != 4:
        raise RunBrokeError("could not read the attempts back from the database")
    finished, attempts, answered, certifications = (int(v) for v in row)
    return {
        "attempts": attempts,
        "finished": finished,
        "answers_saved": answered,
        "certifications": certifications,
    }


def rows(floor: dict[str, Any], burst: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for step, (endpoint, target_ms) in STEPS.items():
        measured, bare = burst["steps"][step], floor["steps"][step]
        p95, bare_p95 = measured["latency_ms"]["p95"], bare["latency_ms"]["p95"]
        ratio = round(p95 / bare_p95, 2) if p95 is not None and bare_p95 else None
        out.append(
            {
                "step": step,
                "endpoint": endpoint,
                "requests": measured["ok"] + measured["errors"],
                "errors": measured["errors"],
                "p50_ms": measured["latency_ms"]["p50"],
                "p95_ms": p95,
                "p99_ms": measured["latency_ms"]["p99"],
                "max_ms": measured["latency_ms"]["max"],
                "floor_p95_ms": bare_p95,
                "floor_errors": bare["errors"],
                "ratio": ratio,
                "target": f"p95 < {target_ms:.0f} ms, 0 errors",
                "passed": p95 is not None and p95 < target_ms and measured["errors"] == 0,
            }
        )
    return out


def summary_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows in the shape the combined table of ``make bench`` reads (bench/all.py)."""
    name = f"exam burst ({result['data']['reps']:,} reps)"
    return [
        {
            "bench": name,
            "figure": f"{row['step']} p95, {row['endpoint']} ({row['errors']} errors)",
            "measured": row["p95_ms"],
            "unit": "ms",
            "floor": row["floor_p95_ms"],
            "ratio": row["ratio"],
            "target": row["target"],
            "passed": row["passed"],
        }
        for row in result["table"]
    ]


def show(result: dict[str, Any]) -> None:
    head = (
        "step",
        "requests",
        "errors",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "floor p95",
        "ratio",
        "target",
        "result",
    )
    body = [
        (
            f"{row['step']}: {row['endpoint']}",
            str(row["requests"]),
            str(row["errors"]),
            f"{row['p50_ms']:.0f}",
            f"{row['p95_ms']:.0f}",
            f"{row['p99_ms']:.0f}",
            f"{row['floor_p95_ms']:.0f}",
            f"{row['ratio']:.1f}x" if row["ratio"] is not None else "-",
            row["target"],
            "PASS" if row["passed"] else "FAIL",
        )
        for row in result["table"]
    ]
    print(report.markdown(head, body, numeric={1, 2, 3, 4, 5, 6, 7}))
    for mode in ("floor", "burst"):
        run = result[mode]
        shares = run["cpu_percent"]
        print(
            f"{mode}: {run['users']} reps released within {run['start_sent_spread_ms']:.0f} ms, "
            f"all done in {run['wall_s']:.0f} s; CPU (100% = one core): locust "
            f"{shares.get('driver', 0):.0f}%, gunicorn {shares.get('gunicorn', 0):.0f}%, "
            f"postgres {shares.get('postgres', 0):.0f}%, other {shares.get('other', 0):.0f}%; "
            f"server CPU {run['server_cpu_ms_per_request']} ms per request"
        )
    check = result["database"]
    print(
        f"database after the burst: {check['finished']} of {check['attempts']} attempts "
        f"finished, {check['answers_saved']} answers saved, {check['certifications']} "
        f"certifications issued"
    )
    for sample in result["burst"]["samples"] + result["floor"]["samples"]:
        print(f"error sample: {sample}")


def bench(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    result = results_head(args, "exam-burst", log)
    log(f"building {args.database}: {args.reps} reps, a test drawing 20 of 60 questions")
    data = build_data(args, work / "data.json")
    env = server_env(args, work)
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_MAX_REQUESTS"):
        env.pop(name)  # the entrypoint's own defaults, as in production
    server = Gunicorn(env=env, port=args.port, log_path=work / "gunicorn.log")
    try:
        log(f"/healthz: {server.wait_healthy()}")
        warm_up(args.port, json.loads(data.read_text())["tokens"])
        think = f"{args.think_min:g}-{args.think_max:g} s"
        log(f"floor: {args.reps} reps at once on the bare view, think {think}")
        floor = run_locust(
            args, mode="bare", data=data, out=work / "floor.json", server_pid=server.process.pid
        )
        log(f"burst: {args.reps} reps start at once, answer 20, finish; think {think}")
        burst = run_locust(
            args, mode="api", data=data, out=work / "burst.json", server_pid=server.process.pid
        )
    finally:
        server.stop()
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["server"] = {
        "command": "docker/entrypoint.sh web (its defaults)",
        "settings": "bench.settings",
        "workers": 2 * (os.cpu_count() or 1),
        "threads": 1,
    }
    result["data"] = {"database": args.database, "reps": args.reps, "questions": 60, "draw": 20}
    result["load"] = {
        "tool": "locust (as a library, one process)",
        "think_s": [args.think_min, args.think_max],
        "think_note": "uniform, before every answer and before finishing; by default 5-15 s, "
        "a real 30-90 s per question compressed sixfold",
        "right": args.right,
    }
    result["floor"], result["burst"] = floor, burst
    result["database"] = database_check(args.database)
    result["table"] = rows(floor, burst)
    result["summary_rows"] = summary_rows(result)
    expected = args.reps
    check = result["database"]
    if check["finished"] != expected or check["answers_saved"] != expected * 20:
        result["database_warning"] = (
            f"expected {expected} finished attempts and {expected * 20} answers saved"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--think-min", type=float, default=5.0)
    parser.add_argument("--think-max", type=float, default=15.0)
    parser.add_argument("--right", type=float, default=0.8, help="chance of the right option")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--database", default="repready_bench_burst")
    parser.add_argument("--redis-db", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)
    # bench.run's server_env reads these; the entrypoint's defaults replace them.
    args.workers, args.threads, args.max_requests = 0, 0, 0

    result = measure_in_work_directory("repready-burst-", keep=args.keep, bench=bench, args=args)
    if result is None:
        return 1
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"burst-{stamp}.json").write_text(json.dumps(result, indent=2))
    print()
    show(result)
    if "database_warning" in result:
        print(f"warning: {result['database_warning']}")
    print(f"\nresults: bench/results/burst-{stamp}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
