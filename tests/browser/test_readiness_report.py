"""The enablement lead narrows the readiness report to one team, opens a rep's gap, exports
the gap list as XLSX, watches the background export finish and opens the file.

The export is made large enough to run in the background (``EXPORT_INLINE_MAX_ROWS = 0``),
and Celery is not eager here: the task goes to an in-memory broker and waits there, so the
page shows it queued. The test then plays the worker (it takes the message off the queue and
runs the task) while the page, by its own htmx polling, turns to 100% and offers the file.

What the test expects is computed here from the database (the requirements, each rep's
active certifications and tier), not by the report's selectors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.db.models import Q
from django.utils import timezone
from kombu.simple import SimpleQueue
from playwright.sync_api import Page, expect

from accounts.demo import DEMO_PASSWORD
from accounts.models import Team, User
from certification.models import (
    Certification,
    ExportJob,
    ReadinessRequirement,
    RepTier,
    Tier,
)
from certification.tasks import run_export
from config.celery import app as celery_app
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("demo_reports")

LEAD = "lead@demo.test"
TEAM = "EMEA Mid-Market"
OTHER_TEAM = "NA Commercial"
GAPS_HEADERS = ("Rep", "Email", "Team", "Tier", "Offering", "Missing", "Next tier needs")
# A CSP violation is reported on the page's console too; this catches it even if not.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolation(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@pytest.fixture
def export_queue(demo_reports: dict[str, Any], settings: Any) -> Iterator[SimpleQueue]:
    """Exports go to the background, and their task waits on an in-memory broker's queue
    (returned) until the test runs it: Celery is not eager for this test.

    After the demo is seeded (its seeders count on eager tasks to compute the tiers).
    """
    settings.EXPORT_INLINE_MAX_ROWS = 0
    conf = celery_app.conf
    # Saved before anything changes: Celery's conf reads the Django settings live, so a value
    # saved after changing them would be restored as the changed one, for every later test.
    saved = {"broker_url": conf.broker_url, "task_always_eager": conf.task_always_eager}
    settings.CELERY_TASK_ALWAYS_EAGER = False

    def reset_pools() -> None:
        # The app keeps its broker connections: drop them, so the next send uses the
        # broker configured now (Redis in CI, where another test's worker could take the
        # message; the in-memory one here).
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.update(broker_url="memory://", task_always_eager=False)
    reset_pools()
    try:
        with celery_app.connection_for_read() as connection:
            # The queue exports are routed to (bulk), as a bulk worker would read it.
            route = celery_app.amqp.router.route({}, "certification.run_export")
            queue = connection.SimpleQueue(route["queue"].name)
            queue.clear()
            try:
                yield queue
            finally:
                queue.clear()
                queue.close()
    finally:
        conf.update(saved)
        reset_pools()


# Reading the database (the test's privilege) -------------------------------------------------


def team_reps(team: Team) -> list[User]:
    """The team's active reps, its sub-teams' included."""
    return list(
        User.objects.filter(is_rep=True, is_active=True, team__path__startswith=team.path)
        .select_related("team")
        .order_by("display_name", "pk")
    )


def expected_gaps(reps: list[User], now: datetime) -> dict[str, dict[str, list[str]]]:
    """Per rep (by email), per offering whose requirements apply to them, the (subject, level)
    items they do not hold active and unexpired, as "Subject level N", by level then name."""
    requirements = list(
        ReadinessRequirement.objects.select_related("offering", "team").prefetch_related(
            "items__subject"
        )
    )
    gaps: dict[str, dict[str, list[str]]] = {}
    for rep in reps:
        held = set(
            Certification.objects.filter(rep=rep, status=Certification.Status.ACTIVE)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
            .values_list("subject_id", "level")
        )
        missing: dict[str, set[tuple[int, str]]] = {}
        for requirement in requirements:
            if requirement.team is not None and not rep.team.path.startswith(requirement.team.path):
                continue
            if requirement.segment and requirement.segment != rep.segment:
                continue
            if requirement.sales_role and requirement.sales_role != rep.sales_role:
                continue
            items = missing.setdefault(requirement.offering.name, set())
            for item in requirement.items.all():
                if (item.subject_id, item.level) not in held:
                    items.add((item.level, item.subject.name))
        gaps[rep.email] = {
            offering: [f"{name} level {level}" for level, name in sorted(items)]
            for offering, items in missing.items()
        }
    return gaps


def tier_of(rep: User) -> tuple[str, str]:
    """The rep's tier label and what their next tier still needs, "; "-separated."""
    row = RepTier.objects.filter(rep=rep).first()
    if row is None:
        return str(Tier.NONE.label), ""
    return str(Tier(row.computed).label), "; ".join(row.missing)


# The story -------------------------------------------------------------------------------------


def test_the_lead_filters_to_a_team_opens_a_gap_and_downloads_the_xlsx_export(
    page: Page,
    console_errors: list[str],
    export_queue: SimpleQueue,
    tmp_path: Path,
) -> None:
    team = Team.objects.get(name=TEAM, kind=Team.Kind.TEAM)
    reps = team_reps(team)
    others = team_reps(Team.objects.get(name=OTHER_TEAM, kind=Team.Kind.TEAM))
    gaps = expected_gaps(reps, timezone.now())
    gap_rows = {
        (email, offering): items
        for email, offerings in gaps.items()
        for offering, items in offerings.items()
        if items
    }
    assert others, f"the demo has reps in {OTHER_TEAM}"
    assert gap_rows, f"the demo has reps with gaps in {TEAM}"
    page.expose_function("cspViolation", lambda text: console_errors.append(f"CSP: {text}"))
    page.add_init_script(REPORT_CSP_VIOLATIONS)

    # The lead signs in and opens the report from the navigation.
    page.goto("/")
    sign_in(page, LEAD, DEMO_PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="Readiness", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Readiness")

    # Filtered to one team, the summary counts that team's reps only.
    filters = page.get_by_role("search", name="Filter the report")
    filters.get_by_label("Team", exact=True).select_option(label=TEAM)
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"[?&]team={team.pk}(&|$)"))
    expect(page.get_by_text(re.compile(r"\d+ reps? in this slice"))).to_have_text(
        f"{len(reps)} reps in this slice."
    )

    # The gap list keeps the filter: one row per rep of the team, no one else.
    page.get_by_role("navigation", name="Readiness report").get_by_role("link", name="Gaps").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Readiness gaps")
    expect(page).to_have_url(re.compile(rf"[?&]team={team.pk}(&|$)"))
    table = page.get_by_role("region", name="Gaps per rep")
    names = table.locator("tbody tr > th")
    expect(names).to_have_count(len(reps))
    for position, rep in enumerate(reps):
        expect(names.nth(position)).to_contain_text(rep.display_name)
    for other in others:
        expect(table.get_by_text(other.display_name)).to_have_count(0)

    # Opening a gap (the longest) shows what the rep is missing for that offering.
    (email, offering), items = max(sorted(gap_rows.items()), key=lambda gap: len(gap[1]))
    rep = next(r for r in reps if r.email == email)
    gap = page.locator(f"#rep-{rep.pk}").locator(
        "details.gap", has=page.locator("summary", has_text=f"{offering}:")
    )
    expect(gap.locator("summary")).to_contain_text(f"{len(items)} missing")
    missing = gap.get_by_role("listitem")
    expect(missing.first).to_be_hidden()
    gap.locator("summary").click()
    expect(gap).to_have_attribute("open", "")
    expect(missing).to_have_text([re.sub(r" level (\d)$", r", level \1", item) for item in items])
    expect(missing.first).to_be_visible()

    # The XLSX export of the gap list starts a background job, queued: no file yet.
    export = page.get_by_role("form", name="Export the gap list")
    export.get_by_role("button", name="XLSX").click()
    expect(page).to_have_url(re.compile(r"/reports/exports/\d+/$"))
    job = ExportJob.objects.get(owner__email=LEAD)
    assert page.url.endswith(f"/reports/exports/{job.pk}/")
    assert (job.table, job.format, job.status) == ("gaps", "xlsx", ExportJob.Status.QUEUED)
    assert job.filters == {"team": str(team.pk)}
    assert job.total_rows == len(gap_rows)
    expect(page.get_by_role("heading", level=1)).to_have_text("Export: Gap list")
    expect(
        page.get_by_text(f"{len(gap_rows)} rows: the export runs in the background")
    ).to_be_visible()
    bar = page.get_by_role("progressbar", name="Export progress")
    expect(bar).to_have_attribute("value", "0")
    status = page.get_by_role("region", name="Progress").get_by_role("status")
    expect(status).to_contain_text("Queued")
    expect(page.get_by_role("link", name=re.compile("^Download"))).to_have_count(0)

    # The page keeps polling while the job waits (and stays queued).
    page.evaluate("window.stillTheSamePage = true")
    with page.expect_response(re.compile(rf"/reports/exports/{job.pk}/progress/$")) as polled:
        pass
    assert polled.value.ok
    expect(bar).to_have_attribute("value", "0")

    # The worker: the task is on the queue, for this job; run it here.
    message = export_queue.get(timeout=5)
    assert message.headers["task"] == "certification.run_export"
    args, kwargs, _options = message.payload
    assert (args, kwargs) == ([job.pk], {})
    message.ack()
    # .result, not .get(): get() refuses to run when an earlier test in this process left
    # Celery believing it is inside a worker (an in-process test worker does that).
    ran = run_export.apply(args=args, kwargs=kwargs)
    assert ran.successful(), ran.traceback
    assert ran.result == ExportJob.Status.DONE

    # Without a reload, the page's polling turns to 100% and offers the file.
    expect(bar).to_have_attribute("value", "100", timeout=5000)
    expect(status).to_contain_text("100%")
    expect(status).to_contain_text(f"Ready: {len(gap_rows)} rows.")
    download_link = status.get_by_role("link", name=f"Download {job.filename}")
    expect(download_link).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True

    # The download is an XLSX workbook holding the team's gaps and nothing else.
    with page.expect_download() as downloading:
        download_link.click()
    download = downloading.value
    assert download.suggested_filename == job.filename
    assert re.fullmatch(r"readiness-gaps-\d{4}-\d{2}-\d{2}\.xlsx", job.filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(saved, read_only=True)
    try:
        assert workbook.sheetnames == ["Gaps"]
        header, *rows = workbook["Gaps"].iter_rows(values_only=True)
    finally:
        workbook.close()
    assert header == GAPS_HEADERS
    by_email = {r.email: r for r in reps}
    exported = {}
    for rep_name, rep_email, team_name, tier, row_offering, row_missing, next_tier in rows:
        assert rep_email in by_email, f"{rep_email} is not in {TEAM}"
        rep = by_email[rep_email]
        assert (rep_name, team_name) == (rep.display_name, rep.team.name)
        assert (tier, next_tier or "") == tier_of(rep)
        exported[rep_email, row_offering] = row_missing.split("; ")
    assert len(rows) == len(exported), "one row per rep and offering"
    assert exported == gap_rows
    job.refresh_from_db()
    assert (job.status, job.done_rows) == (ExportJob.Status.DONE, len(gap_rows))
    assert console_errors == []
