"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Every test collected under this folder is marked ``browser`` (``-m "not browser"`` leaves them
out). Under pytest-xdist each worker has its own database, live server and browser.

Chromium comes from Debian (``apt-get install -y chromium``), not from ``playwright install``.
Without it the tests skip, unless REPREADY_REQUIRE_BROWSER=1 (CI), which makes them fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, WebError
from pytest_django.live_server_helper import LiveServer

from accounts import demo
from certification import demo as certification_demo
from certification import demo_assessments as assessments_demo
from config.env import env_bool

# Playwright's sync API runs an asyncio event loop in the test thread (it drives the browser
# from a greenlet) and the loop counts as running there from the moment the session-scoped
# `playwright` fixture starts until the end of the session. Django's ORM refuses to run in a
# thread with a running loop (SynchronousOnlyOperation), so without this the fixtures that
# seed the database would fail, and so would every database test that runs later in the same
# process (or xdist worker). Nothing here is really concurrent: the test thread blocks while
# Playwright waits for the browser, and the live server handles requests in its own thread.
# It is set at import, for the whole process, because the loop outlives the browser tests.
# Subprocesses inherit it: a test that runs `manage.py check --deploy` must drop it from the
# child's environment, or Django's deployment check fails with async.E001.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # containers and CI runners have no user namespaces for the sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REQUIRE_BROWSER_VAR = "REPREADY_REQUIRE_BROWSER"
BROWSER_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests in this folder before `-m` selection reads marks."""
    for item in items:
        if BROWSER_TESTS in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session", autouse=True)
def _chromium_installed() -> Path:
    """Skip without Debian's Chromium; fail instead when REPREADY_REQUIRE_BROWSER=1."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (
        f"browser tests need Debian's Chromium at {CHROMIUM}: run `apt-get install -y chromium` "
        "(Playwright's own browser download is not used)"
    )
    if env_bool(REQUIRE_BROWSER_VAR, default=False):
        pytest.fail(f"{reason}. {REQUIRE_BROWSER_VAR} is set, so this fails.", pytrace=False)
    pytest.skip(f"{reason}. Set {REQUIRE_BROWSER_VAR}=1 to fail instead of skipping.")


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], _chromium_installed: Path
) -> dict[str, Any]:
    """pytest-playwright's launch options (--headed, --slowmo, ...) plus Debian's Chromium."""
    args = [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS]
    if browser_type_launch_args.get("headless") is False:  # --headed, for a local look
        args.remove("--headless")
    return {
        **browser_type_launch_args,
        "executable_path": str(_chromium_installed),
        "args": args,
    }


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """Every browser context's base URL is the live server, so `page.goto("/")` works.

    This replaces pytest-playwright's fallback `base_url` fixture (used when pytest-base-url is
    not installed), which pytest 9 warns about as a session fixture defined on a class.
    """
    return live_server.url


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors (CSP violations, failed loads) and uncaught exceptions of every page."""
    return []


@pytest.fixture
def new_context(
    new_context: Callable[..., BrowserContext], console_errors: list[str]
) -> Callable[..., BrowserContext]:
    """pytest-playwright's context factory (so `context` and `page` too), recording errors."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location
            console_errors.append(f"{message.text} ({location.get('url')})")

    def on_web_error(web_error: WebError) -> None:
        console_errors.append(f"uncaught {web_error.error.name}: {web_error.error.message}")

    def create(**kwargs: Any) -> BrowserContext:
        context = new_context(**kwargs)
        context.on("console", on_console)
        context.on("weberror", on_web_error)
        return context

    return create


@pytest.fixture
def demo_org(transactional_db: None, live_server: LiveServer) -> dict[str, Any]:
    """The demo organisation, committed where the live server's requests can read it."""
    return demo.seed()


@pytest.fixture
def demo_full(transactional_db: None, live_server: LiveServer) -> dict[str, Any]:
    """The demo organisation and its level-1 content (subjects, banks, tests, past attempts).

    Seeding takes several seconds, and each test needs a clean database (attempts change it),
    so this is per test: keep the tests that use it few.
    """
    return {"people": demo.seed(), "content": certification_demo.seed()}


@pytest.fixture
def demo_assessments(transactional_db: None, live_server: LiveServer) -> dict[str, Any]:
    """The demo organisation, its level-1 content, and its levels 2 and 3: guides, scenarios,
    released sessions, sign-offs, and the demo rep's role-play the demo manager must score.

    Per test, like ``demo_full`` (scoring and releasing change the database): keep them few.
    """
    return {
        "people": demo.seed(),
        "content": certification_demo.seed(),
        "assessments": assessments_demo.seed(),
    }


@pytest.fixture
def demo_tiers(transactional_db: None, live_server: LiveServer) -> dict[str, Any]:
    """The whole demo up to tiers: people, level 1, levels 2 and 3, deals and every tier."""
    from certification import demo_tiers as tiers_demo

    return {
        "people": demo.seed(),
        "content": certification_demo.seed(),
        "assessments": assessments_demo.seed(),
        "tiers": tiers_demo.seed(),
    }


@pytest.fixture
def demo_reports(transactional_db: None, live_server: LiveServer) -> dict[str, Any]:
    """The demo up to tiers, and its readiness reports: customer-ready requirements, expiring
    and lapsed certifications, snapshots. Per test, like ``demo_full``: keep them few."""
    from certification import demo_reports as reports_demo
    from certification import demo_tiers as tiers_demo

    return {
        "people": demo.seed(),
        "content": certification_demo.seed(),
        "assessments": assessments_demo.seed(),
        "tiers": tiers_demo.seed(),
        "reports": reports_demo.seed(),
    }
