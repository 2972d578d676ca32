"""Stateless web: two app servers on one database and one Redis serve a rep as one site.

Two gunicorn servers (docker/entrypoint.sh web, one worker each, so each is one process with
its own memory) run the production settings against this test's PostgreSQL database and
REDIS_URL. A client that plays the site's TLS proxy sends each request to whichever server the
test names. What a second server needs from the first, and where it lives:

- sessions: the database (SESSION_ENGINE is Django's default, the db backend), so a rep
  signed in on one server is signed in on the other;
- CSRF: nothing on the server: the secret is the ``__Host-csrftoken`` cookie, and any server
  checks a form's token against it;
- sign-in lockouts: django-axes's database handler (AccessAttempt rows), so failures on both
  servers add up;
- API sign-in throttling: DRF counters in the Django cache, which is Redis when REDIS_URL is
  set (config/settings/base.py, CACHES);
- the exam itself: the database (Attempt and AttemptQuestion rows).

Both servers share SECRET_KEY, which signs the session's auth hash and the messages cookie.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.client
import ipaddress
import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import redis
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.sessions.models import Session
from django.db import connection

from accounts.models import User
from certification.models import Attempt, AttemptQuestion
from tests.conftest import require_service
from tests.factories.accounts import PASSWORD, UserFactory
from tests.factories.certification import make_exam
from tests.reliability.conftest import free_port, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# The site's host as the proxy forwards it: the same for both servers, as behind one balancer.
SITE_HOST = "127.0.0.1"
SESSION_COOKIE = "__Host-sessionid"  # the production names (config/settings/production.py)
CSRF_COOKIE = "__Host-csrftoken"
# A low API sign-in limit for the servers, so a few requests reach it.
AUTH_THROTTLE = 3
# Static trees no page of this test uses: collecting and compressing them (the API docs'
# bundles above all) would take most of the test's time.
UNUSED_STATIC = ("drf_spectacular_sidecar", "admin", "rest_framework")


def database_url() -> str:
    """The URL of the live test database (test_<name>, per xdist worker)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{quote(db['NAME'])}"


@dataclass
class Server:
    """One gunicorn server, its own process group, logging to its own file."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def answers(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"server {self.name} exited ({self.process.returncode}):\n{self.output()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """Ask gunicorn's arbiter to stop, then end whatever is left of its group."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def servers(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Servers A and B: production settings, this test's database, REDIS_URL, one secret."""
    require_service("PostgreSQL", "DATABASE_URL")
    redis_url = require_service("Redis", "REDIS_URL")
    if connection.vendor != "postgresql":
        reason = "needs PostgreSQL: DATABASE_URL names another database"
        if os.environ.get("REPREADY_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("two-servers")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CREDENTIAL_SIGNING_KEY": subprocess.run(
            [sys.executable, "-m", "config.signing_keys"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # One proxy in front (this test's client): it says who the client is, as a real one
        # would, so each test's lockout and throttle counters are its own.
        "TRUSTED_PROXY_COUNT": "1",
        "AXES_FAILURE_LIMIT": str(settings.AXES_FAILURE_LIMIT),
        "API_AUTH_THROTTLE": f"{AUTH_THROTTLE}/min",
        "STATIC_ROOT": str(work / "static"),
        "WEB_BIND_HOST": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "WARNING",
    }
    # The production defaults: the HTTPS redirect on (requests arrive as from the TLS proxy),
    # the key given inline.
    for name in ("SECURE_SSL_REDIRECT", "CREDENTIAL_SIGNING_KEY_FILE"):
        env.pop(name, None)
    # The manifest the production static storage needs to render any page, as the image builds.
    collected = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "collectstatic", "--noinput"]
        + [f"--ignore={name}" for name in UNUSED_STATIC],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if collected.returncode:
        pytest.fail(f"collectstatic failed:\n{collected.stderr[-3000:]}")
    started: list[Server] = []
    try:
        for name in ("A", "B"):
            port = free_port()
            log = work / f"{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: S603 - fixed arguments
                    [str(settings.BASE_DIR / "docker" / "entrypoint.sh"), "web"],
                    env={**env, "PORT": str(port)},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, for stop()
                )
            started.append(Server(name, port, process, log))
        for server in started:
            what = f"server {server.name} to answer /healthz (its log: {server.log})"
            wait_until(server.answers, timeout=30, what=what, every=0.2)
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


@dataclass
class Response:
    status: int
    location: str
    body: str


@dataclass
class Browser:
    """One person's browser behind the site's TLS proxy, which may send any request to either
    server.

    The servers run the production settings unchanged: the session and CSRF cookies are
    ``__Host-`` and Secure. The test speaks plain HTTP to them, as the TLS proxy does, with
    the proxy's ``X-Forwarded-Proto: https`` (SECURE_PROXY_SSL_HEADER), so the servers treat
    each request as HTTPS and set those cookies as in production. A cookie jar would keep
    Secure cookies off plain HTTP, so this browser keeps them itself, by name, and sends them
    back as a browser sends them to the proxy. Nothing the servers check is relaxed.
    """

    client_ip: str = field(
        default_factory=lambda: str(
            ipaddress.IPv6Address((0x20010DB8 << 96) | secrets.randbits(64))
        )
    )
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: dict[str, Morsel[str]] = field(default_factory=dict)

    def get(self, server: Server, path: str) -> Response:
        return self._request(server, "GET", path)

    def post(self, server: Server, path: str, data: list[tuple[str, object]]) -> Response:
        return self._request(server, "POST", path, urlencode(data))

    def post_json(self, server: Server, path: str, body: str) -> Response:
        return self._request(server, "POST", path, body, content_type="application/json")

    def _request(
        self,
        server: Server,
        method: str,
        path: str,
        body: str | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> Response:
        headers = {
            "Host": SITE_HOST,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.client_ip,
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = content_type
            headers["Origin"] = f"https://{SITE_HOST}"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                self._keep(header)
            return Response(
                response.status,
                response.getheader("Location", ""),
                response.read().decode(errors="replace"),
            )
        finally:
            conn.close()

    def _keep(self, header: str) -> None:
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            if morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value
                self.set_cookies[name] = morsel


@pytest.fixture
def visitor(servers: tuple[Server, Server]) -> Iterator[Browser]:
    """A browser with an address of its own; its throttle counters leave Redis with it."""
    visitor = Browser()
    yield visitor
    # Redis outlives the test database: a rerun within the minute must start from zero.
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    for key in client.scan_iter(match=f"*{visitor.client_ip}*"):
        client.delete(key)


@functools.cache
def production_password_hash() -> str:
    """PASSWORD hashed as the servers hash it: the test settings' fast MD5 hasher is not one
    the production settings know, so they could never match a factory-made password."""
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(PASSWORD, hasher.salt())


def make_rep() -> User:
    """A rep whose password, PASSWORD, the servers can check."""
    rep = UserFactory(rep=True)
    rep.password = production_password_hash()
    rep.save(update_fields=["password"])
    return rep


def csrf_token(page: Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
    assert match, f"no CSRF token in the page (HTTP {page.status})"
    return match.group(1)


def shown_question(page: Response, attempt: Attempt) -> AttemptQuestion:
    """The one question the page shows (one per page), by what its form posts."""
    ids = re.findall(r'name="question" value="(\d+)"', page.body)
    assert len(ids) == 1, f"expected one question on the page, found {ids} (HTTP {page.status})"
    return attempt.items.get(question_id=int(ids[0]))


def choice(item: AttemptQuestion, *, right: bool) -> int:
    """The id of a right (full marks) or a wrong (no marks) option of the question."""
    return next(c["id"] for c in item.snapshot["choices"] if (Decimal(c["weight"]) > 0) is right)


def sign_in(browser: Browser, server: Server, email: str, password: str) -> Response:
    """Sign in as a person does: the page (for its CSRF token), then the form."""
    page = browser.get(server, "/accounts/login/")
    assert page.status == 200, page.status
    form = [("csrfmiddlewaretoken", csrf_token(page)), ("username", email)]
    return browser.post(server, "/accounts/login/", [*form, ("password", password), ("next", "")])


def test_rep_continues_an_exam_on_the_other_server(servers, visitor):
    # given: a rep assigned a two-question test (pass mark 60%)
    a, b = servers
    rep = make_rep()
    exam = make_exam(questions=2, assign_to=[rep], pass_mark=Decimal(60))

    # when: they sign in on A
    signed_in = sign_in(visitor, a, rep.email, PASSWORD)

    # then: the session is a database row, in a production cookie
    assert signed_in.status == 302, signed_in.body[:500]
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        assert visitor.set_cookies[name]["secure"], name
        assert visitor.set_cookies[name]["path"] == "/", name
    assert Session.objects.filter(session_key=visitor.cookies[SESSION_COOKIE]).exists()
    # and B knows them without signing in again
    tests_on_b = visitor.get(b, "/tests/")
    assert tests_on_b.status == 200, tests_on_b.location
    assert html.escape(exam.title) in tests_on_b.body

    # when: they start the test on A, with the form B rendered (CSRF is the cookie, not memory)
    started = visitor.post(
        a, f"/tests/{exam.pk}/start/", [("csrfmiddlewaretoken", csrf_token(tests_on_b))]
    )
    attempt = Attempt.objects.get(exam=exam, rep=rep)
    assert started.status == 302
    assert started.location == f"/attempts/{attempt.pk}/"
    # and answer the first question on A, rightly
    save = f"/attempts/{attempt.pk}/save/"
    page_a = visitor.get(a, f"/attempts/{attempt.pk}/?q=1")
    first = shown_question(page_a, attempt)
    saved = visitor.post(
        a,
        save,
        [
            ("csrfmiddlewaretoken", csrf_token(page_a)),
            ("question", first.question_id),
            (f"q{first.question_id}", choice(first, right=True)),
            ("go", 2),
        ],
    )
    assert saved.status == 302
    assert saved.location == f"/attempts/{attempt.pk}/?q=2"

    # then: B shows the second question of the same attempt
    page_b = visitor.get(b, saved.location)
    assert page_b.status == 200, page_b.location
    second = shown_question(page_b, attempt)
    assert second.pk != first.pk
    # and B does check CSRF: the same post without the token is refused
    answer = [
        ("question", second.question_id),
        (f"q{second.question_id}", choice(second, right=False)),
        ("finish", 1),
    ]
    assert visitor.post(b, save, answer).status == 403

    # when: they answer it (wrongly: a failed test enqueues no Celery task, and no worker of
    # this test would take one from REDIS_URL) and finish, on B
    finished = visitor.post(b, save, [("csrfmiddlewaretoken", csrf_token(page_b)), *answer])

    # then: B grades the one attempt with both answers
    assert finished.status == 302
    assert finished.location == f"/attempts/{attempt.pk}/result/"
    assert visitor.get(b, finished.location).status == 200
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.FINISHED
    assert (attempt.score, attempt.passed) == (Decimal(50), False)
    assert {item.pk: item.selected for item in attempt.items.all()} == {
        first.pk: [choice(first, right=True)],
        second.pk: [choice(second, right=False)],
    }
    assert Attempt.objects.filter(rep=rep).count() == 1


def test_sign_in_failures_on_both_servers_lock_the_account(servers, visitor):
    # given: a rep, and the lockout's limit (the servers run with the same)
    rep = make_rep()
    limit = settings.AXES_FAILURE_LIMIT

    # when: all but the last allowed failures alternate between A and B
    before = [
        sign_in(visitor, servers[n % 2], rep.email, "not the password").status
        for n in range(limit - 1)
    ]
    last = sign_in(visitor, servers[(limit - 1) % 2], rep.email, "not the password")

    # then: the failures counted together, in one database row, and the last one locks
    assert before == [200] * (limit - 1)
    assert last.status == 429
    assert AccessAttempt.objects.get(username=rep.email).failures_since_start == limit
    # and the right password is refused on the other server too
    right = sign_in(visitor, servers[limit % 2], rep.email, PASSWORD)
    assert right.status == 429
    assert SESSION_COOKIE not in visitor.cookies


def test_api_sign_in_throttle_counts_requests_on_both_servers(servers, visitor):
    # given: the servers allow AUTH_THROTTLE token requests a minute from one address
    a, b = servers
    body = '{"email": "nobody@example.test", "password": "not the password"}'

    # when: one more than that alternates between A and B
    statuses = [
        visitor.post_json((a, b)[n % 2], "/api/v1/auth/token/", body).status
        for n in range(AUTH_THROTTLE + 1)
    ]

    # then: the last is refused, by a counter both servers keep in Redis
    assert statuses == [400] * AUTH_THROTTLE + [429]
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    assert list(client.scan_iter(match=f"*throttle_auth_{visitor.client_ip}"))
