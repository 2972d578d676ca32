"""Fuzz the REST API with schemathesis, as a rep and as enablement, on gunicorn and PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/repready_fuzz \\
    REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python tests/fuzz/fuzz_api.py [--fresh-db] [--max-examples 100]
            [--workers 2] [--role rep] [--serial] [--keep] [-- EXTRA SCHEMATHESIS ARGS]

(``make fuzz`` runs it.) It migrates the database named by DATABASE_URL, seeds the demo
organisation into it, makes a read+write API token for rep@demo.test and for lead@demo.test
(enablement), and a ``support`` token for tp@demo.test (the teleprospecting lead's dialer,
the only token the support endpoints take). It serves the app with gunicorn through
docker/entrypoint.sh with the production settings on a free port, and runs
``schemathesis run /api/schema/ --checks all`` once per token, all at once (the support
token on the support endpoints only). Requests carry ``X-Forwarded-Proto: https``, as from
the TLS proxy production runs behind, so the HTTPS redirect stays on. What is relaxed, and
why, is in schemathesis.toml and hooks.py beside this file. Exits non-zero when any run finds
a failure; the server's log, the JUnit reports and schemathesis' cache (``st replay ID`` from
a role's directory) are kept in the printed directory then.

``--fresh-db`` drops and recreates that database first: give it a database of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

PROJECT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VENV_BIN = PROJECT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
SCHEMATHESIS = str(VENV_BIN / "schemathesis") if VENV_BIN.exists() else "schemathesis"


@dataclass(frozen=True)
class Role:
    email: str  # a demo account seeded by `manage.py seed_demo`
    scopes: tuple[str, ...]
    only: str = ""  # a path regex: the operations this token is for


ROLES = {
    "rep": Role("rep@demo.test", ("read", "write")),
    "enablement": Role("lead@demo.test", ("read", "write")),
    # The support endpoints take only a `support` token (a dialer's), which nothing else does.
    "teleprospecting": Role("tp@demo.test", ("support",), only="^/api/v1/support/"),
}

TOKENS_CODE = """
import json
from accounts.models import User
from accounts.services import api_token_create

out = {}
for role, (email, scopes) in %r.items():
    user = User.objects.get(email=email)
    token, raw = api_token_create(user=user, name="schemathesis", scopes=scopes)
    decoy, _ = api_token_create(user=user, name="schemathesis decoy", scopes=scopes)
    out[role] = {"token": raw, "id": token.pk, "decoy_id": decoy.pk}
print("FUZZ_TOKENS " + json.dumps(out))
"""


def log(message: str) -> None:
    print(f"fuzz: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(command: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, cwd=PROJECT, check=True, **kwargs)  # type: ignore[call-overload]


def recreate_database(url: str) -> None:
    """Drop and create the database named in ``url`` (PostgreSQL only)."""
    import psycopg  # only this option needs it
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def wait_healthy(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def stop(server: subprocess.Popen) -> None:
    """Stop gunicorn's arbiter, then whatever is left of the process group it leads."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def run_schemathesis(
    runs: dict[str, tuple[list[str], dict[str, str]]], work: Path, *, serial: bool
) -> list[str]:
    """Run schemathesis once per role, all at once unless ``serial``; return the failed roles.

    Each runs in its own directory under ``work``, where schemathesis and Hypothesis keep
    their caches (``st replay ID`` from there) and its output (``output.log``). A failing
    run's output is printed whole when it ends, a passing run's counts only.
    """
    failed: list[str] = []
    started = {role: time.monotonic() for role in runs}
    processes: dict[str, subprocess.Popen] = {}

    def begin(role: str) -> None:
        command, env = runs[role]
        log(f"schemathesis as {role}, output in {work / role / 'output.log'}")
        started[role] = time.monotonic()
        with (work / role / "output.log").open("w") as output:
            processes[role] = subprocess.Popen(
                command, env=env, cwd=work / role, stdout=output, stderr=subprocess.STDOUT
            )

    def end(role: str) -> None:
        status = processes[role].wait()
        output = (work / role / "output.log").read_text()
        if status:
            print(output, flush=True)
            failed.append(role)
        else:
            for line in summary_lines(output):
                log(f"{role}: {line}")
        log(f"{role}: exit {status} after {time.monotonic() - started[role]:.0f} s")

    if serial:
        for role in runs:
            begin(role)
            end(role)
        return failed
    for role in runs:
        begin(role)
    for role in runs:
        end(role)
    return failed


def summary_lines(output: str) -> list[str]:
    """The counts from a passing run's output: operations tested, test cases, warnings.

    A passing run's full report is long and ends in a pytest-style line ("== 3 warnings in
    300s ==") that log readers would take for the suite's own summary; it stays in
    output.log (``--keep``), and a failing run's report is printed whole.
    """
    lines = output.splitlines()
    wanted = []
    for index, line in enumerate(lines):
        text = line.strip()
        if text.startswith(("Tested:", "Selected:")):
            wanted.append(f"operations {text.lower()}")
        elif text == "Test cases:" and index + 1 < len(lines):
            wanted.append(f"test cases {lines[index + 1].strip()}")
        elif text.startswith("⚠️"):
            wanted.append(f"warning: {text.removeprefix('⚠️').strip()}")
    return wanted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh-db", action="store_true", help="drop and recreate the database")
    parser.add_argument("--max-examples", type=int, default=100, help="per operation (100)")
    parser.add_argument("--workers", default="2", help="schemathesis workers (2)")
    parser.add_argument("--role", choices=list(ROLES), action="append", help="default: all")
    parser.add_argument("--serial", action="store_true", help="one role after another")
    parser.add_argument("--keep", action="store_true", help="keep logs and reports on success")
    parser.add_argument("extra", nargs="*", help="after --: more schemathesis run arguments")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("fuzz: DATABASE_URL must name a PostgreSQL database of the fuzzer's own")
    if not os.environ.get("REDIS_URL"):
        sys.exit("fuzz: REDIS_URL must be set (the production settings need a broker)")

    work = Path(tempfile.mkdtemp(prefix="repready-fuzz."))
    started = time.monotonic()
    env = {
        **os.environ,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "MEDIA_ROOT": str(work / "media"),
        "STATIC_ROOT": str(work / "static"),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    production = {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CREDENTIAL_SIGNING_KEY": subprocess.run(
            [PYTHON, "-m", "config.signing_keys"],
            cwd=PROJECT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip(),
        # The sign-in throttle (20/min) and lockout would answer nearly every generated
        # POST /auth/token/ with 429, leaving its input validation untested. Both are
        # documented responses there and have tests of their own (tests/accounts/api/).
        "API_AUTH_THROTTLE": "100000/min",
        "AXES_FAILURE_LIMIT": "100000",
    }
    production.pop("CREDENTIAL_SIGNING_KEY_FILE", None)
    # seed_demo refuses to run without DEBUG: the local settings, on the same database.
    local = {**env, "DJANGO_SETTINGS_MODULE": "config.settings.local"}

    server: subprocess.Popen | None = None
    failed: list[str] = []
    try:
        if args.fresh_db:
            log(f"recreating {urlsplit(database_url).path.lstrip('/')}")
            recreate_database(database_url)
        log("migrating and seeding the demo organisation")
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], production)
        run([PYTHON, "manage.py", "seed_demo"], local, stdout=subprocess.DEVNULL)
        output = run(
            [
                PYTHON,
                "manage.py",
                "shell",
                "-c",
                TOKENS_CODE % {name: (r.email, list(r.scopes)) for name, r in ROLES.items()},
            ],
            production,
            capture_output=True,
            text=True,
        ).stdout
        tokens = json.loads(output.split("FUZZ_TOKENS ", 1)[1])

        port = free_port()
        server_log = (work / "gunicorn.log").open("w")
        server = subprocess.Popen(
            [str(PROJECT / "docker" / "entrypoint.sh"), "web"],
            env={**production, "PORT": str(port), "WEB_BIND_HOST": "127.0.0.1"},
            cwd=PROJECT,
            stdout=server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_healthy(port, server)
        log(f"gunicorn on port {port}, ready after {time.monotonic() - started:.0f} s")

        runs: dict[str, tuple[list[str], dict[str, str]]] = {}
        for role in args.role or list(ROLES):
            (work / role).mkdir()
            runs[role] = (
                [
                    SCHEMATHESIS,
                    "--config-file",
                    str(HERE / "schemathesis.toml"),
                    "run",
                    f"http://127.0.0.1:{port}/api/schema/",
                    "--checks",
                    "all",
                    "--max-examples",
                    str(args.max_examples),
                    "--workers",
                    args.workers,
                    "--header",
                    f"Authorization: Token {tokens[role]['token']}",
                    "--header",
                    "X-Forwarded-Proto: https",
                    "--generation-database",
                    "none",
                    "--report",
                    "junit",
                    "--report-dir",
                    str(work / role),
                    "--no-color",
                    *(["--include-path-regex", ROLES[role].only] if ROLES[role].only else []),
                    *args.extra,
                ],
                {
                    **env,
                    "SCHEMATHESIS_HOOKS": str(HERE / "hooks.py"),
                    "FUZZ_PROTECTED_TOKEN_ID": str(tokens[role]["id"]),
                    "FUZZ_DECOY_TOKEN_ID": str(tokens[role]["decoy_id"]),
                },
            )
        failed = run_schemathesis(runs, work, serial=args.serial)
    finally:
        if server is not None:
            stop(server)
    log(f"total {time.monotonic() - started:.0f} s")
    if failed or args.keep:
        log(f"server log and JUnit reports kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        log(f"FAILED as {', '.join(failed)}")
        return 1
    log("no failures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
