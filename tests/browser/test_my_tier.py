"""The demo rep sees their tier and exactly what the next one needs, and follows the checklist
to the test that closes a gap."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.demo import DEMO_PASSWORD, NAMED_REP
from certification.models import RepTier
from tests.browser.test_sign_in import sign_in

pytestmark = pytest.mark.usefixtures("demo_tiers")


def test_the_demo_rep_sees_their_tier_and_what_the_next_one_needs(
    page: Page, console_errors: list[str]
):
    row = RepTier.objects.get(rep__email=NAMED_REP)
    assert row.missing  # the story needs something missing
    page.goto("/")
    sign_in(page, NAMED_REP, DEMO_PASSWORD)
    # The home page shows the tier and leads to the page that explains it.
    rep_panel = page.locator("[data-panel=rep]")
    expect(rep_panel.locator(".tier")).to_have_text("No tier yet")
    page.get_by_role("link", name="My tier").first.click()
    expect(page).to_have_title("My tier · RepReady")
    expect(page.get_by_role("heading", name="You are No tier yet")).to_be_visible()
    next_card = page.locator(
        "section", has=page.get_by_role("heading", name="What Bronze still needs")
    )
    expect(next_card).to_be_visible()
    items = next_card.locator(".checklist li")
    expect(items).to_have_count(len(row.missing))
    for position, missing in enumerate(row.missing):
        expect(items.nth(position)).to_contain_text(missing[0].upper() + missing[1:])
    # Each level-1 gap leads to the rep's tests.
    items.first.get_by_role("link", name="Your tests").click()
    expect(page).to_have_title("My tests · RepReady")
    expect(page.get_by_text("Acme Cloud essentials").first).to_be_visible()
    assert console_errors == []
