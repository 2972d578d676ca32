"""The bench's load driver: closed-loop HTTP clients on keep-alive connections.

    .venv/bin/python bench/load.py --data DATA.json --port 8765 --out RESULT.json
    .venv/bin/python bench/load.py --selftest      # the driver's own ceiling, no Django

Runs in its own processes, never inside gunicorn: ``--procs`` worker processes (spawned, so
each has its own interpreter and GIL) share ``--clients`` clients, one thread and one
persistent HTTP/1.1 connection per client. A client sends its next request as soon as the last
answer arrives (no think time), so ``--clients`` is also the number of requests in flight.

Client ``i`` owns the reps ``tokens[i::clients]``: no two clients ever touch the same attempt,
as no two people sit one rep's test. Phases, in order (``--phases``):

``bare``    GET /bench/bare/ for ``--duration`` seconds: the floor, no database.
``start``   every rep starts one attempt at the test: POST /api/v1/exams/{id}/attempts/.
            Each must be a new attempt (201); a 200 means an attempt was resumed instead and is
            counted under ``resumed``, which a correct run never shows.
``answer``  PUT /api/v1/attempts/{id}/answers/{question}/ for ``--duration`` seconds, each client
            walking its reps' open attempts question by question, always a wrong option (a pass
            would certify the rep and forbid the next start).
``finish``  POST /api/v1/attempts/{id}/finish/ once for every attempt started.

Before the measured phases the same four run once unmeasured (``--warmup`` seconds for the
timed ones): connections open, every gunicorn worker imports its views and holds a database
connection, and each rep's measured attempt is its second, like a retake.

The timed phases (bare, answer) alternate in ``--rounds`` slices after the start, so a load
that comes and goes elsewhere on the machine weighs on both alike (see ``schedule``).
Timed phases count the requests that complete inside the window; ``start`` and ``finish`` run
until every rep is done, so their req/s include the tail where fewer clients are busy. Any
answer that is not 2xx, and any connection failure, is an error; a few are kept as samples.

The HTTP client is a small socket reader rather than http.client: it costs the driver about
40% of the CPU per request (45 against 119 microseconds on one thread here), which matters
because driver and server share two cores.
The result records each phase's CPU split (driver, gunicorn, PostgreSQL) so that share shows.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cpu

SAMPLES_KEPT = 5
BODY_SAMPLE = 300


# HTTP ----------------------------------------------------------------------------------------


class NoResponseError(ConnectionError):
    """The connection closed before any byte of the response: safe to resend."""


class Connection:
    """One keep-alive HTTP/1.1 connection, reopened when the server closes it."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.host_header = f"Host: {host}:{port}\r\n".encode()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _recv(self) -> bytes:
        assert self.sock is not None  # noqa: S101 - only called on an open connection
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        return chunk

    def _read_response(self) -> tuple[int, bytes]:
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            try:
                self.buffer += self._recv()
            except ConnectionError as exc:
                if not self.buffer:
                    raise NoResponseError(str(exc)) from None
                raise
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
        lines = head.split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if "chunked" in headers.get("transfer-encoding", ""):
            body = self._read_chunked()
        else:
            length = int(headers.get("content-length", "0"))
            while len(self.buffer) < length:
                self.buffer += self._recv()
            body, self.buffer = self.buffer[:length], self.buffer[length:]
        if headers.get("connection") == "close":
            self.close()
        return status, body

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            while (eol := self.buffer.find(b"\r\n")) < 0:
                self.buffer += self._recv()
            size = int(self.buffer[:eol].split(b";")[0], 16)
            need = eol + 2 + size + 2
            while len(self.buffer) < need:
                self.buffer += self._recv()
            body += self.buffer[eol + 2 : eol + 2 + size]
            self.buffer = self.buffer[need:]
            if size == 0:
                return body

    def request(
        self, method: str, path: str, headers: bytes, body: bytes = b""
    ) -> tuple[int, bytes]:
        """Send one request and return (status, body). ``headers`` end with CRLF each."""
        message = b"".join(
            (
                f"{method} {path} HTTP/1.1\r\n".encode(),
                self.host_header,
                headers,
                f"Content-Length: {len(body)}\r\n\r\n".encode() if method != "GET" else b"\r\n",
                body,
            )
        )
        reused = self.sock is not None
        try:
            if self.sock is None:
                self.sock = socket.create_connection(self.address, timeout=self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(message)
            return self._read_response()
        except NoResponseError:
            self.close()
            if not reused:
                raise
        except OSError:
            self.close()
            raise
        # The server had closed an idle keep-alive connection (its keep-alive timeout, or a
        # worker recycled) before reading the request: send it once more on a new connection.
        return self.request(method, path, headers, body)


# Clients and tallies -------------------------------------------------------------------------


@dataclass
class Tally:
    """What a client (and, merged, a worker and the phase) saw."""

    latencies: list[float] = field(default_factory=list)  # milliseconds, successful requests
    ok: int = 0
    errors: int = 0
    resumed: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    first: float = float("inf")
    last: float = 0.0

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.ok += other.ok
        self.errors += other.errors
        self.resumed += other.resumed
        self.statuses.update(other.statuses)
        self.samples += other.samples[: max(SAMPLES_KEPT - len(self.samples), 0)]
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)

    def as_dict(self) -> dict[str, Any]:
        return {
            "latencies": self.latencies,
            "ok": self.ok,
            "errors": self.errors,
            "resumed": self.resumed,
            "statuses": dict(self.statuses),
            "samples": self.samples,
            "first": self.first,
            "last": self.last,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        return cls(
            latencies=data["latencies"],
            ok=data["ok"],
            errors=data["errors"],
            resumed=data["resumed"],
            statuses=Counter(data["statuses"]),
            samples=data["samples"],
            first=data["first"],
            last=data["last"],
        )


@dataclass
class Client:
    tokens: list[bytes]  # "Authorization: Token ...\r\n" header lines
    conn: Connection
    attempts: list[tuple[bytes, int, list[int]]] = field(default_factory=list)
    step: int = 0


JSON_HEADERS = b"Content-Type: application/json\r\nAccept: application/json\r\n"


def _timed(  # noqa: PLR0917 - one call site per request kind
    client: Client,
    tally: Tally,
    method: str,
    path: str,
    auth: bytes,
    body: bytes = b"",
    *,
    until: float | None = None,
) -> tuple[int, bytes] | None:
    """Send one request, record it in the tally; None when it failed or ended after ``until``."""
    started = time.perf_counter()
    try:
        status, payload = client.conn.request(method, path, auth + JSON_HEADERS, body)
    except OSError as exc:
        tally.errors += 1
        tally.statuses[type(exc).__name__] += 1
        if len(tally.samples) < SAMPLES_KEPT:
            tally.samples.append(f"{method} {path} -> {type(exc).__name__}: {exc}")
        return None
    done = time.perf_counter()
    if until is not None and time.monotonic() > until:
        return None  # finished after the window closed: neither counted nor timed
    tally.first, tally.last = min(tally.first, started), max(tally.last, done)
    tally.statuses[str(status)] += 1
    if 200 <= status < 300:
        tally.ok += 1
        tally.latencies.append((done - started) * 1000)
        return status, payload
    tally.errors += 1
    if len(tally.samples) < SAMPLES_KEPT:
        text = payload[:BODY_SAMPLE].decode("utf-8", "replace")
        tally.samples.append(f"{method} {path} -> {status} {text}")
    return None


def run_bare(client: Client, tally: Tally, spec: dict[str, Any]) -> None:
    while time.monotonic() < spec["until"]:
        _timed(client, tally, "GET", "/bench/bare/", b"", until=spec["until"])


def run_start(client: Client, tally: Tally, spec: dict[str, Any]) -> None:
    path = f"/api/v1/exams/{spec['exam_id']}/attempts/"
    client.attempts, client.step = [], 0
    for auth in client.tokens:
        answer = _timed(client, tally, "POST", path, auth)
        if answer is None:
            continue
        status, payload = answer
        if status != 201:
            tally.resumed += 1
        attempt = json.loads(payload)
        questions = [q["question_id"] for q in attempt["questions"]]
        client.attempts.append((auth, attempt["id"], questions))


def run_answer(client: Client, tally: Tally, spec: dict[str, Any]) -> None:
    wrong: dict[int, bytes] = spec["wrong_bodies"]
    if not client.attempts:
        return
    while time.monotonic() < spec["until"]:
        # Round robin over the client's reps, each answering its questions in order.
        auth, attempt_id, questions = client.attempts[client.step % len(client.attempts)]
        question = questions[(client.step // len(client.attempts)) % len(questions)]
        client.step += 1
        path = f"/api/v1/attempts/{attempt_id}/answers/{question}/"
        _timed(client, tally, "PUT", path, auth, wrong[question], until=spec["until"])


def run_finish(client: Client, tally: Tally, spec: dict[str, Any]) -> None:  # noqa: ARG001
    for auth, attempt_id, _ in client.attempts:
        answer = _timed(client, tally, "POST", f"/api/v1/attempts/{attempt_id}/finish/", auth)
        if answer is not None and json.loads(answer[1]).get("passed"):
            tally.samples.append(f"attempt {attempt_id} passed: the rep cannot start again")
    client.attempts = []


OPERATIONS = {"bare": run_bare, "start": run_start, "answer": run_answer, "finish": run_finish}


# Worker processes ----------------------------------------------------------------------------


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker_main(  # noqa: PLR0917 - multiprocessing passes args positionally
    pipe: Any,
    tokens: list[list[str]],
    host: str,
    port: int,
    timeout: float,
    wrong_choice: dict[str, int],
) -> None:
    """Hold this process's clients; run each phase the parent sends, answer with the tally."""
    clients = [
        Client(
            tokens=[f"Authorization: Token {t}\r\n".encode() for t in mine],
            conn=Connection(host, port, timeout),
        )
        for mine in tokens
    ]
    wrong_bodies = {int(q): json.dumps({"choices": [c]}).encode() for q, c in wrong_choice.items()}
    pipe.send("ready")
    while (spec := pipe.recv()) is not None:
        spec["wrong_bodies"] = wrong_bodies
        operation = OPERATIONS[spec["op"]]
        tallies = [Tally() for _ in clients]
        delay = spec["t0"] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        cpu_before = _cpu_seconds()
        threads = [
            threading.Thread(target=operation, args=(client, tally, spec), daemon=True)
            for client, tally in zip(clients, tallies, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        merged = Tally()
        for tally in tallies:
            merged.merge(tally)
        pipe.send({"tally": merged.as_dict(), "cpu_seconds": _cpu_seconds() - cpu_before})
    for client in clients:
        client.conn.close()


# The parent ----------------------------------------------------------------------------------


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(int(-(-p * len(ordered) // 100)), 1)  # ceil(p/100 * n), at least 1
    return ordered[min(rank, len(ordered)) - 1]


ENDPOINTS = {
    "bare": "GET /bench/bare/",
    "start": "POST /api/v1/exams/{id}/attempts/",
    "answer": "PUT /api/v1/attempts/{id}/answers/{q}/",
    "finish": "POST /api/v1/attempts/{id}/finish/",
}
TIMED = {"bare", "answer"}


@dataclass
class Slice:
    """One run of an operation across all clients, and what the machine spent on it."""

    tally: Tally
    driver_cpu: float
    used: dict[str, float]
    elapsed: float
    seconds: float  # the window req/s are counted over


class Driver:
    """Start the worker processes, run phases across them, and summarise each phase."""

    def __init__(
        self,
        *,
        data: dict[str, Any],
        host: str,
        port: int,
        clients: int,
        procs: int,
        timeout: float,
        server_pid: int | None,
    ) -> None:
        self.data, self.clients, self.server_pid = data, clients, server_pid
        tokens: list[str] = data["tokens"]
        if len(tokens) < clients:
            raise SystemExit(f"load: {clients} clients need at least as many reps ({len(tokens)})")
        per_client = [tokens[i::clients] for i in range(clients)]
        procs = max(1, min(procs, clients))
        context = mp.get_context("spawn")
        self.pipes, self.workers = [], []
        for w in range(procs):
            parent, child = context.Pipe()
            process = context.Process(
                target=worker_main,
                args=(child, per_client[w::procs], host, port, timeout, data["wrong_choice"]),
                daemon=True,
            )
            process.start()
            self.pipes.append(parent)
            self.workers.append(process)
        for pipe in self.pipes:
            if pipe.recv() != "ready":
                raise SystemExit("load: a worker failed to start")

    def driver_pids(self) -> set[int]:
        return {os.getpid(), *(w.pid for w in self.workers if w.pid is not None)}

    def run_slice(self, op: str, duration: float) -> Slice:
        """Run one operation on every client at once: ``duration`` seconds, or to the end."""
        t0 = time.monotonic() + 0.3
        spec = {"op": op, "t0": t0, "until": t0 + duration, "exam_id": self.data["exam_id"]}
        for pipe in self.pipes:
            pipe.send(spec)
        time.sleep(max(t0 - time.monotonic(), 0))
        database = self.data.get("database")
        before = cpu.snapshot(driver=self.driver_pids(), server=self.server_pid, database=database)
        answers = [pipe.recv() for pipe in self.pipes]
        elapsed = time.monotonic() - t0
        after = cpu.snapshot(driver=self.driver_pids(), server=self.server_pid, database=database)
        tally = Tally()
        for answer in answers:
            tally.merge(Tally.from_dict(answer["tally"]))
        seconds = duration if op in TIMED else max(tally.last - tally.first, 1e-9)
        return Slice(
            tally=tally,
            driver_cpu=sum(a["cpu_seconds"] for a in answers),
            used=cpu.seconds_used(before, after),
            elapsed=elapsed,
            seconds=seconds if tally.ok else elapsed,
        )

    def summarise(self, op: str, slices: list[Slice]) -> dict[str, Any]:
        """One phase's figures from its slices (several when timed phases alternate)."""
        tally = Tally()
        used: dict[str, float] = {}
        for piece in slices:
            tally.merge(piece.tally)
            for group, value in piece.used.items():
                used[group] = used.get(group, 0.0) + value
        seconds = sum(piece.seconds for piece in slices)
        elapsed = sum(piece.elapsed for piece in slices)
        driver_cpu = sum(piece.driver_cpu for piece in slices)
        server_cpu = used.get("gunicorn", 0.0) + used.get("postgres", 0.0)
        ordered = sorted(tally.latencies)
        return {
            "phase": op,
            "endpoint": ENDPOINTS[op],
            "clients": self.clients,
            "slices": len(slices),
            "requests": tally.ok + tally.errors,
            "ok": tally.ok,
            "errors": tally.errors,
            "resumed": tally.resumed,
            "statuses": dict(tally.statuses),
            "error_samples": tally.samples,
            "seconds": round(seconds, 3),
            "rps": round(tally.ok / seconds, 1) if seconds else 0.0,
            "latency_ms": {
                "p50": round(percentile(ordered, 50), 2),
                "p95": round(percentile(ordered, 95), 2),
                "p99": round(percentile(ordered, 99), 2),
                "max": round(ordered[-1], 2) if ordered else 0.0,
                "mean": round(sum(ordered) / len(ordered), 2) if ordered else 0.0,
            },
            "driver_cpu_ms_per_request": round(driver_cpu * 1000 / max(tally.ok, 1), 3),
            "server_cpu_ms_per_request": round(server_cpu * 1000 / max(tally.ok, 1), 3),
            "cpu_percent": cpu.shares(used, elapsed),
        }

    def phase(self, op: str, duration: float) -> dict[str, Any]:
        return self.summarise(op, [self.run_slice(op, duration)])

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for worker in self.workers:
            worker.join(timeout=10)


def describe(result: dict[str, Any]) -> str:
    latency = result["latency_ms"]
    shares = result["cpu_percent"]
    split = " ".join(
        f"{k} {shares[k]:.0f}%" for k in ("driver", "gunicorn", "postgres", "other") if k in shares
    )
    return (
        f"{result['phase']:>7}: {result['ok']:>6} ok {result['errors']:>4} errors "
        f"{result['rps']:>8.1f} req/s  p50 {latency['p50']:.1f} p95 {latency['p95']:.1f} "
        f"p99 {latency['p99']:.1f} ms  cpu: {split}"
    )


def schedule(phases: list[str], rounds: int) -> list[str]:
    """The measured runs in order: start, then the timed phases alternating ``rounds`` times
    (bare, answer, bare, answer...), then finish. A background load that comes and goes on a
    shared machine then weighs on the floor and on the API alike, which keeps their ratio
    honest; start and finish run once, because attempts must be open to be answered.
    """
    order = [op for op in phases if op == "start"]
    for _ in range(rounds):
        order += [op for op in phases if op in TIMED]
    return order + [op for op in phases if op == "finish"]


def run(args: argparse.Namespace, data: dict[str, Any]) -> dict[str, Any]:
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(OPERATIONS)
    if unknown:
        raise SystemExit(f"load: unknown phases {sorted(unknown)}")
    driver = Driver(
        data=data,
        host=args.host,
        port=args.port,
        clients=args.clients,
        procs=args.procs,
        timeout=args.timeout,
        server_pid=args.server_pid,
    )
    results: dict[str, Any] = {"warmup": [], "phases": []}
    try:
        if args.warmup > 0:
            for op in phases:
                summary = driver.phase(op, args.warmup)
                results["warmup"].append(summary)
                print(f"warm-up {describe(summary)}", flush=True)
        slices: dict[str, list[Slice]] = {op: [] for op in phases}
        for op in schedule(phases, args.rounds):
            timed = op in TIMED
            piece = driver.run_slice(op, args.duration / args.rounds if timed else 0)
            slices[op].append(piece)
            print(f"  slice {describe(driver.summarise(op, [piece]))}", flush=True)
        for op in phases:
            summary = driver.summarise(op, slices[op])
            results["phases"].append(summary)
            print(f"measure {describe(summary)}", flush=True)
            for sample in summary["error_samples"]:
                print(f"         error: {sample}", flush=True)
    finally:
        driver.close()
    results["config"] = {
        "clients": args.clients,
        "procs": len(driver.workers),
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "rounds": args.rounds,
        "reps": len(data["tokens"]),
        "draw": data.get("draw"),
        "phases": phases,
    }
    return results


# Self-test: the driver against a server that costs almost nothing ----------------------------

CANNED = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"ok": true}'
)


def canned_server(port_pipe: Any) -> None:
    """An asyncio server answering every request with the same 12 bytes (the selftest's peer)."""
    import asyncio  # noqa: PLC0415

    os.setsid()  # its own session, as gunicorn has, so the CPU split finds it

    class Canned(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport, self.buffer = transport, b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            count = self.buffer.count(b"\r\n\r\n")
            if count:
                self.buffer = self.buffer[self.buffer.rindex(b"\r\n\r\n") + 4 :]
                self.transport.write(CANNED * count)

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(Canned, "127.0.0.1", 0)
        port_pipe.send(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(serve())


def selftest(args: argparse.Namespace) -> dict[str, Any]:
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=canned_server, args=(child,), daemon=True)
    server.start()
    port = parent.recv()
    data = {"tokens": [f"t{i}" for i in range(args.clients)], "exam_id": 0, "wrong_choice": {}}
    try:
        driver = Driver(
            data=data,
            host="127.0.0.1",
            port=port,
            clients=args.clients,
            procs=args.procs,
            timeout=args.timeout,
            server_pid=server.pid,
        )
        try:
            driver.phase("bare", 1)
            summary = driver.phase("bare", args.duration)
        finally:
            driver.close()
    finally:
        server.terminate()
        server.join()
    summary["phase"], summary["endpoint"] = "selftest", "GET (canned asyncio server)"
    summary["procs"] = len(driver.workers)
    line = describe(summary).replace("gunicorn", "server")
    print(f"selftest {args.clients} clients x {len(driver.workers)} procs: {line}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--data", type=Path, help="JSON written by bench/setup_data.py")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--procs", type=int, default=2, help="driver processes sharing clients")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per timed phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per timed warm-up")
    parser.add_argument("--phases", default="bare,start,answer,finish")
    parser.add_argument(
        "--rounds", type=int, default=4, help="slices the timed phases alternate in"
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--server-pid", type=int, help="gunicorn's arbiter, for the CPU split")
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="measure the driver against a canned asyncio server instead",
    )
    args = parser.parse_args(argv)
    if args.selftest:
        results: dict[str, Any] = selftest(args)
    else:
        if args.data is None:
            parser.error("--data is required (or --selftest)")
        results = run(args, json.loads(args.data.read_text()))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
