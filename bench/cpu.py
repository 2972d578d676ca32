"""Where the machine's CPU went during a phase, read from /proc (Linux only).

A snapshot adds up the CPU ticks of process groups: the load driver, gunicorn (its arbiter and
workers: the session bench/run.py starts it in), PostgreSQL (the bench database's backends and
the server's own background processes, not other databases' backends), the whole machine and
the time the hypervisor took from it (steal), all from /proc. The difference of two snapshots
over the wall time between them is the share of one core each group used: 100% is one busy
core, 200% the whole of a two-core machine. ``other`` is whatever else ran on the machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

PROC = Path("/proc")
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
GROUPS = ("driver", "gunicorn", "postgres")


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(command name, session id, own ticks, reaped children's ticks) of a process, or None."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5), the state: session is field 6, utime..cstime 14 to 17.
    return (
        name,
        int(fields[3]),
        int(fields[11]) + int(fields[12]),
        int(fields[13]) + int(fields[14]),
    )


def _postgres_title(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _counts_as_postgres(title: str, database: str | None) -> bool:
    """The bench database's backends and the server's background processes (no database)."""
    if not title.startswith("postgres: "):
        return True  # the postmaster itself (its own time only: see snapshot)
    if database and f" {database} " in f"{title} ":
        return True
    # Backends read "postgres: 15/main: USER DATABASE HOST(PORT) STATE"; background processes
    # ("checkpointer", "walwriter", "autovacuum launcher"...) name no client address.
    return "(" not in title and "[local]" not in title


def _machine() -> tuple[int, int]:
    """(busy, steal) ticks of all CPUs: busy is everything but idle, iowait and steal."""
    with (PROC / "stat").open() as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (values + [0] * 8)[:8]
    return user + nice + system + irq + softirq, steal


def snapshot(*, driver: set[int], server: int | None, database: str | None) -> dict[str, Any]:
    """Ticks used so far by each process of each group, and by the whole machine."""
    if not PROC.is_dir():
        return {}
    groups: dict[str, dict[int, int]] = {group: {} for group in GROUPS}
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or (info := _stat(int(entry.name))) is None:
            continue
        pid = int(entry.name)
        name, session, own, reaped = info
        if pid in driver:
            groups["driver"][pid] = own
        elif server and session == server:
            # A worker that ends between two snapshots lands in the arbiter's reaped time.
            groups["gunicorn"][pid] = own + reaped
        elif name == "postgres":
            title = _postgres_title(pid)
            if _counts_as_postgres(title, database):
                # Not the postmaster's reaped time: that holds other databases' backends too.
                groups["postgres"][pid] = own
    busy, steal = _machine()
    return {"groups": groups, "machine": busy, "steal": steal}


def seconds_used(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
    """CPU seconds each group used between two snapshots; ``other`` is the rest of the machine.

    Counted per process: one that started in between counts whole. A gunicorn worker that
    ended in between (recycled by --max-requests) counts whole too, through the arbiter's
    reaped time, so with recycling ``gunicorn`` reads high (even above 100% per core). A bench
    database backend that ended in between (a connection closed) is lost, so ``postgres`` can
    read a little low.
    """
    if not before or not after:
        return {}
    used: dict[str, float] = {}
    for group, pids in after["groups"].items():
        old = before["groups"][group]
        used[group] = sum(t - old.get(pid, 0) for pid, t in pids.items()) / TICK
    used["machine"] = (after["machine"] - before["machine"]) / TICK
    used["steal"] = (after["steal"] - before["steal"]) / TICK
    used["other"] = used["machine"] - sum(used[g] for g in GROUPS)
    return {k: max(v, 0.0) for k, v in used.items()}


def shares(used: dict[str, float], seconds: float) -> dict[str, float]:
    """Percent of one core each group used over ``seconds`` of wall time (100 per busy core)."""
    if not used or seconds <= 0:
        return {}
    return {k: round(v / seconds * 100, 1) for k, v in used.items()}
