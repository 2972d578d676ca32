"""``make bench``: level-1 test attempts under load, against gunicorn and PostgreSQL.

    .venv/bin/python bench/run.py [--reps 200] [--clients 32] [--workers 4 --threads 1] ...

0. Defaults: 200 reps, 32 clients, 20 s timed phases in 4 alternating slices, gunicorn with
   4 workers x 1 thread and no worker recycling (why: bench/README.md).
1. Makes sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer, starting them
   the way .ci/run does when they do not.
2. Measures the load driver alone against a canned server (its ceiling on this machine).
3. Builds a fresh ``repready_bench`` database (bench/setup_data.py).
4. Starts gunicorn through ``docker/entrypoint.sh web`` with ``bench.settings``, waits for
   /healthz, runs bench/load.py in its own processes, and stops gunicorn.
5. Prints one table and writes bench/results/<timestamp>.json and bench/results/latest.json.

Exits 0 whatever the figures (targets are reported as PASS or FAIL, never enforced: the
outcome must not depend on how fast or how busy the machine is), and non-zero only when the
run itself broke: a service that would not start, a failed setup, a phase with no successful
request. See bench/README.md for the method.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402

BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PYTHON = Path(sys.executable)
PG_HOST, PG_PORT, REDIS_PORT = "127.0.0.1", 5432, 6379
SCHEMA = 1
VERSIONS = (
    "import django, gunicorn, psycopg, rest_framework as r;"
    "print(django.__version__, gunicorn.__version__, psycopg.__version__, r.__version__)"
)
PG_SETTINGS = (
    "select current_setting('server_version'), current_setting('max_connections'),"
    " current_setting('shared_buffers'), current_setting('synchronous_commit')"
)


class RunBrokeError(RuntimeError):
    """The bench could not measure: a service, the setup or the server failed."""


def log(message: str) -> None:
    print(f"bench: {message}", flush=True)


def _ok(*command: str) -> bool:
    try:
        return subprocess.run(command, capture_output=True, check=False).returncode == 0
    except OSError:  # not installed
        return False


def _output(*command: str) -> str:
    """The command's standard output, stripped; empty when it fails or is not installed."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _wait(what: str, check: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise RunBrokeError(f"{what} did not become ready in {seconds:.0f}s")


def ensure_services(redis_db: int) -> None:
    """PostgreSQL and Redis up on loopback, as .ci/run starts them; the bench's Redis db empty."""
    pg_ready = ("pg_isready", "-h", PG_HOST, "-p", str(PG_PORT), "-q")
    if not _ok(*pg_ready):
        log("PostgreSQL is down: starting it")
        versions = (
            sorted(Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").is_dir() else []
        )
        if not versions:
            raise RunBrokeError("PostgreSQL is not running and no cluster is installed")
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0].name, "main", "start"]
        if os.geteuid() != 0:
            command.insert(0, "sudo")
        subprocess.run(command, check=True)
    _wait("PostgreSQL", lambda: _ok(*pg_ready))
    ping = ("redis-cli", "-h", "127.0.0.1", "-p", str(REDIS_PORT), "ping")
    if not _ok(*ping):
        log("Redis is down: starting it")
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(REDIS_PORT),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
        )
    _wait("Redis", lambda: _ok(*ping))
    subprocess.run([*ping[:-1], "-n", str(redis_db), "flushdb"], capture_output=True, check=True)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        info["cpu"] = models[0] if models else None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        info["memory_gib"] = round(total_kb / 1024 / 1024, 1)
    info["loadavg_before"] = os.getloadavg()
    versions = _output(str(PYTHON), "-c", VERSIONS).split()
    if len(versions) == 4:
        info.update(
            zip(("django", "gunicorn", "psycopg", "djangorestframework"), versions, strict=True)
        )
    pg = _output(
        "psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", "postgres", "-Atc", PG_SETTINGS
    ).split("|")
    if len(pg) == 4:
        names = ("version", "max_connections", "shared_buffers", "synchronous_commit")
        info["postgresql"] = dict(zip(names, pg, strict=True))
    return info


def git_state() -> dict[str, Any]:
    head = _output("git", "-C", str(ROOT), "rev-parse", "HEAD")
    dirty = _output("git", "-C", str(ROOT), "status", "--porcelain")
    return {"commit": head or None, "dirty": bool(dirty)}


class Gunicorn:
    """gunicorn started exactly as the container starts it: docker/entrypoint.sh web."""

    def __init__(self, *, env: dict[str, str], port: int, log_path: Path) -> None:
        self.port, self.log_path = port, log_path
        self.log_file = log_path.open("wb")
        self.process = subprocess.Popen(
            [str(ROOT / "docker" / "entrypoint.sh"), "web"],
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, seconds: float = 60) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.port}/healthz"
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RunBrokeError(
                    f"gunicorn exited ({self.process.returncode}): see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    body = json.loads(answer.read())
                    if body.get("database") == "ok":
                        return body
            except OSError:
                pass
            time.sleep(0.3)
        raise RunBrokeError(f"gunicorn did not answer {url} in {seconds:.0f}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: the arbiter stops its workers
            try:
                self.process.wait(timeout=35)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        # Anything of its session still alive (a worker that outlived the arbiter).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.log_file.close()


def port_free(port: int) -> bool:
    import socket  # noqa: PLC0415

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def run_load(
    args: argparse.Namespace,
    *,
    data: Path,
    out: Path,
    server_pid: int | None,
    selftest: bool = False,
) -> dict[str, Any]:
    command = [
        str(PYTHON),
        str(BENCH / "load.py"),
        "--clients",
        str(args.clients),
        "--procs",
        str(args.procs),
        "--out",
        str(out),
    ]
    if selftest:
        command += ["--selftest", "--duration", "5"]
    else:
        command += [
            "--data",
            str(data),
            "--port",
            str(args.port),
            "--duration",
            str(args.duration),
            "--warmup",
            str(args.warmup),
            "--rounds",
            str(args.rounds),
            "--phases",
            args.phases,
        ]
        if server_pid is not None:
            command += ["--server-pid", str(server_pid)]
    if subprocess.run(command, check=False).returncode != 0:
        raise RunBrokeError("the load driver failed")
    return json.loads(out.read_text())


def build_data(args: argparse.Namespace, data: Path) -> Path:
    """bench/setup_data.py in its own process: ``args.reps`` reps, the test and their tokens
    in ``args.database``; returns the file the load drivers read."""
    setup = subprocess.run(
        [
            str(PYTHON),
            str(BENCH / "setup_data.py"),
            "--database",
            args.database,
            "--reps",
            str(args.reps),
            "--out",
            str(data),
        ],
        env={**os.environ, "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/{args.redis_db}"},
        check=False,
    )
    if setup.returncode != 0:
        raise RunBrokeError("bench/setup_data.py failed")
    return data


def server_env(args: argparse.Namespace, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PATH=f"{PYTHON.parent}{os.pathsep}{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"postgres://postgres@{PG_HOST}:{PG_PORT}/{args.database}",
        REDIS_URL=f"redis://127.0.0.1:{REDIS_PORT}/{args.redis_db}",
        SECURE_SSL_REDIRECT="false",
        STATIC_ROOT=str(work / "static"),  # empty: the API serves no static files
        PORT=str(args.port),
        WEB_BIND_HOST="127.0.0.1",
        WEB_CONCURRENCY=str(args.workers),
        GUNICORN_THREADS=str(args.threads),
        GUNICORN_MAX_REQUESTS=str(args.max_requests),
    )
    (work / "static").mkdir(exist_ok=True)
    return env


def results_head(
    args: argparse.Namespace, scenario: str, say: Callable[[str], None] = log
) -> dict[str, Any]:
    """What a load bench's results begin with, once PostgreSQL, Redis and the port it serves
    on are checked (``args.redis_db``, ``args.port``)."""
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "scenario": scenario,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_state(),
    }
    say("checking PostgreSQL and Redis")
    ensure_services(args.redis_db)
    result["machine"] = machine()
    if not port_free(args.port):
        raise RunBrokeError(f"port {args.port} is taken: choose another with --port")
    return result


def bench(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    result = results_head(args, "level1-attempt")

    selftest = None
    if args.selftest:
        log(f"driver ceiling: {args.clients} clients x {args.procs} processes, canned server")
        selftest = run_load(
            args, data=work / "none", out=work / "selftest.json", server_pid=None, selftest=True
        )

    log(f"building {args.database}: {args.reps} reps, 60 questions, a test drawing 20")
    data = build_data(args, work / "data.json")

    log(
        f"gunicorn: {args.workers} workers x {args.threads} threads, max-requests "
        f"{args.max_requests}, on 127.0.0.1:{args.port}"
    )
    server = Gunicorn(env=server_env(args, work), port=args.port, log_path=work / "gunicorn.log")
    try:
        health = server.wait_healthy()
        log(f"/healthz: {health}")
        load = run_load(args, data=data, out=work / "load.json", server_pid=server.process.pid)
    finally:
        server.stop()
        if args.keep:
            log(f"gunicorn log: {work / 'gunicorn.log'}")

    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["server"] = {
        "command": "docker/entrypoint.sh web",
        "settings": "bench.settings",
        "workers": args.workers,
        "threads": args.threads,
        "max_requests": args.max_requests,
        "keep_alive_s": int(os.environ.get("GUNICORN_KEEP_ALIVE", "5")),
    }
    result["data"] = {"database": args.database, "reps": args.reps, "questions": 60, "draw": 20}
    result["driver"] = {**load["config"], "selftest": selftest}
    result["warmup"] = load["warmup"]
    result["phases"] = load["phases"]
    result["table"] = report.rows(load["phases"])
    result["targets"] = {name: t.describe() for name, t in report.TARGETS.items()}
    result["warnings"] = report.warnings(load["phases"])
    return result


def measure_in_work_directory(
    prefix: str,
    *,
    keep: bool,
    bench: Callable[[argparse.Namespace, Path], dict[str, Any]],
    args: argparse.Namespace,
) -> dict[str, Any] | None:
    """Run ``bench(args, work)`` in a new temporary directory; None (and gunicorn's last log
    lines) when the run broke. The directory is removed afterwards unless ``keep``."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        return bench(args, work)
    except RunBrokeError as exc:
        log(f"the run broke: {exc}")
        if (work / "gunicorn.log").exists():
            print((work / "gunicorn.log").read_text()[-3000:], file=sys.stderr)
        return None
    finally:
        if keep:
            log(f"work directory and logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def show(result: dict[str, Any]) -> None:
    server, driver = result["server"], result["driver"]
    print()
    print(report.table(result["table"]))
    print()
    print(
        f"gunicorn {server['workers']} workers x {server['threads']} threads "
        f"(max-requests {server['max_requests']}), {driver['clients']} clients on "
        f"{driver['procs']} driver processes, {driver['duration_s']:g}s timed phases, "
        f"{driver['reps']} reps; {result['machine']['nproc']} cores"
    )
    if driver.get("selftest"):
        ceiling = driver["selftest"]
        print(
            f"driver ceiling (canned server): {ceiling['rps']:.0f} req/s at "
            f"{ceiling['driver_cpu_ms_per_request']:.3f} ms driver CPU per request"
        )
    print("CPU split per phase (100% = one core):")
    for line in report.cpu_lines(result["phases"]):
        print(line)
    for warning in result["warnings"]:
        print(f"warning: {warning}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--procs", type=int, default=2, help="load driver processes")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per timed phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument(
        "--rounds", type=int, default=4, help="slices the bare and answer phases alternate in"
    )
    parser.add_argument("--phases", default="bare,start,answer,finish")
    # 4 single-threaded workers on 2 cores: the best throughput and tail measured here (see
    # bench/README.md); threads share a GIL and stretch the tail of CPU-bound requests.
    parser.add_argument("--workers", type=int, default=4, help="WEB_CONCURRENCY")
    parser.add_argument("--threads", type=int, default=1, help="GUNICORN_THREADS")
    # No worker recycling by default: at ~2,000 req/s the entrypoint's 1000 restarts each worker
    # every two seconds, which halves the floor and flatters every ratio against it.
    parser.add_argument(
        "--max-requests",
        type=int,
        default=0,
        help="GUNICORN_MAX_REQUESTS (the entrypoint's default is 1000; 0 turns recycling off)",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--database", default="repready_bench")
    parser.add_argument("--redis-db", type=int, default=15)
    parser.add_argument(
        "--no-selftest",
        dest="selftest",
        action="store_false",
        help="skip measuring the driver's own ceiling",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)

    result = measure_in_work_directory("repready-bench-", keep=args.keep, bench=bench, args=args)
    if result is None:
        return 1

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(result, indent=2)
    (RESULTS / f"{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    show(result)
    print(f"\nresults: bench/results/{stamp}.json (and bench/results/latest.json)")
    if any(phase["ok"] == 0 for phase in result["phases"]):
        log("a phase had no successful request: the run is broken, not slow")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
