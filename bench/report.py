"""Targets and the one table ``make bench`` prints."""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

# Above this share of one core used by processes outside the bench, a phase's figures are
# flagged: the machine was shared and the server got less CPU than it would alone.
BUSY_MACHINE_PERCENT = 25.0
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class Target:
    """What a phase must reach: a share of the floor's req/s and a p95 ceiling, no errors."""

    phase: str
    min_ratio: float
    max_p95_ms: float

    def describe(self) -> str:
        return f">={self.min_ratio:.0%} bare, p95<{self.max_p95_ms:.0f}ms"

    def check(self, phase: dict[str, Any], ratio: float | None) -> bool:
        return (
            ratio is not None
            and ratio >= self.min_ratio
            and phase["latency_ms"]["p95"] < self.max_p95_ms
            and phase["errors"] == 0
        )


# The target: saving an answer at 32 clients keeps 40% of the bare view's throughput
# with a p95 under 250 ms. Start and finish are measured and reported, without a target yet.
TARGETS = {"answer": Target("answer", 0.40, 250.0)}
FLOOR = "bare"


def rows(phases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per measured phase, with its ratio to the floor and its target's verdict."""
    floor = next((p for p in phases if p["phase"] == FLOOR), None)
    out = []
    for phase in phases:
        ratio = (
            round(phase["rps"] / floor["rps"], 3)
            if floor is not None and floor["rps"] and phase["phase"] != FLOOR
            else None
        )
        target = TARGETS.get(phase["phase"])
        out.append(
            {
                "endpoint": phase["endpoint"],
                "phase": phase["phase"],
                "clients": phase["clients"],
                "requests": phase["requests"],
                "rps": phase["rps"],
                "p50_ms": phase["latency_ms"]["p50"],
                "p95_ms": phase["latency_ms"]["p95"],
                "p99_ms": phase["latency_ms"]["p99"],
                "errors": phase["errors"],
                "ratio_vs_bare": ratio,
                "target": target.describe() if target else None,
                "passed": target.check(phase, ratio) if target else None,
            }
        )
    return out


def table(table_rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table (readable in a terminal, pasteable into an issue)."""
    head = [
        "endpoint",
        "clients",
        "requests",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "req/s vs bare",
        "target",
        "result",
    ]
    body = []
    for row in table_rows:
        verdict = {True: "PASS", False: "FAIL", None: "-"}[row["passed"]]
        ratio = "floor" if row["phase"] == FLOOR else f"{row['ratio_vs_bare']:.1%}"
        if row["ratio_vs_bare"] is None and row["phase"] != FLOOR:
            ratio = "-"
        body.append(
            [
                row["endpoint"],
                str(row["clients"]),
                str(row["requests"]),
                f"{row['rps']:.1f}",
                f"{row['p50_ms']:.1f}",
                f"{row['p95_ms']:.1f}",
                f"{row['p99_ms']:.1f}",
                str(row["errors"]),
                ratio,
                row["target"] or "-",
                verdict,
            ]
        )
    return markdown(head, body, numeric={1, 2, 3, 4, 5, 6, 7, 8})


def markdown(
    head: Sequence[str], body: Sequence[Sequence[str]], *, numeric: Collection[int] = ()
) -> str:
    """Cells as a Markdown table, padded to line up in a terminal; ``numeric`` columns (by
    index) are right-aligned. Every bench prints its tables with this."""
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i in numeric else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(head), rule, *(line(r) for r in body)])


def cpu_lines(phases: list[dict[str, Any]]) -> list[str]:
    """Where the CPU went in each phase, and the server's CPU cost per request."""
    lines = []
    for phase in phases:
        shares = phase.get("cpu_percent") or {}
        if not shares:
            continue
        lines.append(
            f"  {phase['phase']:>6}: driver {shares['driver']:5.1f}%  gunicorn "
            f"{shares['gunicorn']:5.1f}%  postgres {shares['postgres']:5.1f}%  other "
            f"{shares['other']:5.1f}%  steal {shares.get('steal', 0):4.1f}%  (of {100 * CORES}%); "
            "server CPU "
            f"{phase['server_cpu_ms_per_request']:.2f} ms and driver CPU "
            f"{phase['driver_cpu_ms_per_request']:.2f} ms per request"
        )
    return lines


def warnings(phases: list[dict[str, Any]]) -> list[str]:
    """Reasons to distrust the figures: errors, resumed attempts, a machine busy elsewhere."""
    found = []
    for phase in phases:
        if phase["errors"]:
            found.append(f"{phase['phase']}: {phase['errors']} errors {phase['statuses']}")
        if phase.get("resumed"):
            found.append(f"{phase['phase']}: {phase['resumed']} attempts resumed, not started")
        shares = phase.get("cpu_percent") or {}
        other = shares.get("other", 0.0) + shares.get("steal", 0.0)
        if other > BUSY_MACHINE_PERCENT:
            found.append(
                f"{phase['phase']}: other processes (or the hypervisor) took {other:.0f}% of a "
                "core during the phase: the machine was shared, so req/s read low and "
                "latencies high"
            )
    return found
