"""The demo rep opens a notification, follows it to their certification, downloads the PDF
certificate and opens the public verification page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.demo import DEMO_PASSWORD, NAMED_REP
from certification.models import Certification, Notification, NotificationKind
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("demo_assessments")


def test_the_demo_rep_follows_a_notification_to_the_certificate_and_its_check(
    page: Page, console_errors: list[str], tmp_path
):
    certification = Certification.objects.get(
        rep__email=NAMED_REP, level=3, status=Certification.Status.ACTIVE
    )
    notification = Notification.objects.get(
        recipient=certification.rep,
        kind=NotificationKind.CERTIFICATION_ISSUED,
        event_key=f"cert:{certification.pk}:issued",
    )
    unread = Notification.objects.filter(recipient=certification.rep, read_at__isnull=True)
    before = unread.count()
    assert before >= 1
    page.goto("/")
    sign_in(page, NAMED_REP, DEMO_PASSWORD)
    # The navigation shows the unread count and leads to the notification centre.
    nav_link = page.get_by_role("link", name=f"Notifications {before} unread")
    expect(nav_link).to_be_visible()
    nav_link.click()
    expect(page).to_have_title("Notifications · RepReady")
    item = page.locator("li.notification", has_text=notification.title)
    expect(item.get_by_text("New")).to_be_visible()
    item.get_by_role(
        "button", name=re.compile(rf"^Open\s*: {re.escape(notification.title)}$")
    ).click()
    # Following it marks it read and lands on the certification's own row.
    expect(page).to_have_title("My certifications · RepReady")
    assert page.url.endswith(f"/certifications/#certification-{certification.pk}")
    row = page.locator(f"#certification-{certification.pk}")
    expect(row).to_contain_text(certification.subject.name)
    expect(row).to_contain_text("Active")
    expect(page.get_by_role("link", name=f"Notifications {before - 1} unread")).to_be_visible()
    notification.refresh_from_db()
    assert notification.read_at is not None
    # The PDF certificate downloads and is a PDF.
    label = f"{certification.subject.name}, level {certification.level}"
    with page.expect_download() as download_info:
        row.get_by_role(
            "link", name=re.compile(rf"^PDF certificate\s*: {re.escape(label)}$")
        ).click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.suffix == ".pdf"
    data = saved.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    # The verification page: holder, subject, level and status, and no score.
    row.get_by_role("link", name=re.compile(rf"^Verification page\s*: {re.escape(label)}$")).click()
    expect(page).to_have_title("Verify a certification · RepReady")
    assert page.url.endswith(f"/verify/{certification.public_id}/")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(certification.rep.display_name)
    expect(facts).to_contain_text(certification.subject.name)
    expect(page.locator(".lede")).to_contain_text("This certification is current.")
    score = f"{certification.signoff.score:.2f}".rstrip("0").rstrip(".")
    assert f"{score}%" not in page.content()
    assert console_errors == []
