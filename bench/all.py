"""``make bench``: every bench in turn, then one table of every figure, target and floor ratio.

    .venv/bin/python bench/all.py [--only level1,burst,tiers,readiness]
        [--level1-args "..."] [--burst-args "..."] [--tiers-args "..."] [--readiness-args "..."]

Runs, each as its own process against its own fresh PostgreSQL database (each starts
PostgreSQL and Redis as .ci/run does when they are down):

- ``level1``: bench/run.py, level-1 attempts under a closed loop of 32 clients, beside a bare
  view on the same gunicorn;
- ``burst``: bench/burst.py, 2,000 reps starting the same test at the same instant, with
  think time, driven by Locust, beside the same load on the bare view;
- ``tiers``: bench/tiers.py, tier recompute of 10,000 reps and a 100,000-row deals import;
- ``readiness``: bench/readiness.py, the readiness report, the nightly snapshot and the full
  tier recompute on a 100,000-rep organisation, each beside a hand-written SQL floor.

Each bench prints its own detail and writes its own JSON under bench/results/. This script
then prints one table (bench, figure, measured, floor, ratio, target, result) and writes it,
with the machine and every bench's results file, to ``bench/results/bench-<timestamp>.json``
and ``bench/results/bench-latest.json``. Exits non-zero when a bench broke (not when a
target is missed: that is a FAIL in the table).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402
from bench.run import PYTHON, RESULTS, git_state, machine  # noqa: E402

BENCHES = {
    # name: (script, prefix of the results file it writes, default arguments)
    # Shorter timed phases than run.py's own defaults: the burst below measures the same
    # endpoints at length, and make bench should stay near 20 minutes.
    "level1": ("bench/run.py", "2", ["--duration", "10", "--rounds", "2", "--no-selftest"]),
    "burst": ("bench/burst.py", "burst-", []),
    "tiers": ("bench/tiers.py", "tiers-", []),
    # The export at 100,000 reps would add ~3 minutes: it is measured at 10,000 (bench/README).
    "readiness": ("bench/readiness.py", "readiness-", ["--reps", "100000", "--skip-export"]),
}


def log(message: str) -> None:
    print(f"\n== bench: {message}", flush=True)


def level1_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """bench/run.py's table: throughput at 32 clients as a share of the bare view's."""
    rows = []
    floor = next((r for r in result["table"] if r["phase"] == "bare"), None)
    for row in result["table"]:
        if row["phase"] == "bare":
            continue
        rows.append(
            {
                "bench": f"level 1, closed loop ({result['driver']['clients']} clients)",
                "figure": f"{row['phase']} req/s, p95 {row['p95_ms']:.0f} ms "
                f"({row['errors']} errors)",
                "measured": row["rps"],
                "unit": "req/s",
                "floor": floor["rps"] if floor else None,
                "ratio": row["ratio_vs_bare"],
                "target": row["target"],
                "passed": row["passed"],
            }
        )
    return rows


def tiers_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "bench": f"tiers and deals ({result['reps']:,} reps)",
            "figure": f"{step['step']} ({step['rows']:,} rows)",
            "measured": step["seconds"],
            "unit": "s",
            "floor": None,
            "ratio": None,
            "target": "< 60 s",
            "passed": step["ok"],
        }
        for step in result["steps"]
    ]


def rows_of(name: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    if "summary_rows" in result:
        return list(result["summary_rows"])
    if name == "level1":
        return level1_rows(result)
    if name == "tiers":
        return tiers_rows(result)
    return []


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "req/s":
        return f"{value:,.1f} req/s"
    if unit == "ms":
        return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"
    return f"{value:,.1f} {unit}"


def _ratio(row: dict[str, Any]) -> str:
    if row.get("ratio") is None:
        return "-"
    if row["unit"] == "req/s":  # a throughput: the share of the floor's
        return f"{row['ratio']:.1%} of floor"
    return f"{row['ratio']:.1f}x floor"


def table(rows: list[dict[str, Any]]) -> str:
    head = ("bench", "figure", "measured", "floor", "ratio", "target", "result")
    body = [
        (
            row["bench"],
            row["figure"],
            _number(row["measured"], row["unit"]),
            _number(row["floor"], row["unit"]),
            _ratio(row),
            row["target"] or "-",
            {True: "PASS", False: "FAIL", None: "-"}[row["passed"]],
        )
        for row in rows
    ]
    return report.markdown(head, body)


def run_one(name: str, extra: list[str]) -> tuple[Path | None, float, int]:
    script, prefix, defaults = BENCHES[name]
    before = set(RESULTS.glob("*.json")) if RESULTS.exists() else set()
    started = time.monotonic()
    status = subprocess.run([str(PYTHON), str(ROOT / script), *defaults, *extra], check=False)
    seconds = time.monotonic() - started
    written = sorted(
        p
        for p in (set(RESULTS.glob("*.json")) - before)
        if p.name.startswith(prefix) and not p.name.startswith("bench-")
    )
    return (written[-1] if written else None), seconds, status.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated benches")
    for name in BENCHES:
        parser.add_argument(f"--{name}-args", default="", help=f"more arguments for {name}")
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        parser.error(f"unknown benches: {', '.join(unknown)}")

    started = datetime.now(UTC)
    summary: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "git": git_state(),
        "machine": machine(),
        "benches": {},
        "rows": [],
    }
    broke = []
    for name in chosen:
        extra = shlex.split(getattr(args, f"{name}_args"))
        log(f"{name}: {BENCHES[name][0]} {' '.join(BENCHES[name][2] + extra)}")
        path, seconds, status = run_one(name, extra)
        entry: dict[str, Any] = {"seconds": round(seconds, 1), "exit": status}
        if status != 0 or path is None:
            broke.append(name)
            entry["results"] = None
        else:
            entry["results"] = str(path.relative_to(ROOT))
            summary["rows"] += rows_of(name, json.loads(path.read_text()))
        summary["benches"][name] = entry

    summary["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 1)
    RESULTS.mkdir(exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(summary, indent=2)
    (RESULTS / f"bench-{stamp}.json").write_text(text)
    (RESULTS / "bench-latest.json").write_text(text)

    log(f"every figure ({summary['seconds'] / 60:.1f} min in all)")
    print(table(summary["rows"]))
    for name, entry in summary["benches"].items():
        where = entry["results"] or "no results (the bench broke)"
        print(f"{name}: {entry['seconds'] / 60:.1f} min, {where}")
    print(f"results: bench/results/bench-{stamp}.json (and bench/results/bench-latest.json)")
    if broke:
        print(f"bench: broke: {', '.join(broke)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
