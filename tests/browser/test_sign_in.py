"""A new rep signs in, finds their home page, moves around it by keyboard and on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.demo import DEMO_PASSWORD, NAMED_REP

pytestmark = pytest.mark.usefixtures("demo_org")

LOGIN_PATH = "/accounts/login/"
# Colours from static/css/app.css: --canvas (the body) and --focus (the focus ring).
CANVAS = "rgb(244, 246, 249)"
FOCUS_RING = "rgb(245, 158, 11)"
PHONE = {"width": 390, "height": 844}


def login_url(base: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(base + LOGIN_PATH)}(\?.*)?$")


def sign_in(page: Page, email: str, password: str) -> None:
    """Fill the sign-in form the way a person does, by its labels, and submit it."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to RepReady")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def expect_stylesheet_applied(page: Page) -> None:
    """app.css loaded and applied: the canvas colour, and the skip link parked off-screen."""
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == CANVAS, f"body background {background}: is /static/css/app.css served?"
    expect(skip_link(page)).not_to_be_in_viewport()


def skip_link(page: Page) -> Locator:
    return page.get_by_role("link", name="Skip to content")


def fact(panel: Locator, term: str) -> Locator:
    """The <dd> that answers a <dt> in a facts list."""
    return panel.locator("dt", has_text=term).locator("xpath=following-sibling::dd[1]")


def has_horizontal_scroll(page: Page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def test_rep_signs_in_and_sees_only_the_rep_panel(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    home = live_server.url + "/"
    page.goto(home)

    expect(page).to_have_url(login_url(live_server.url))
    expect(page).to_have_title("Sign in · RepReady")
    expect_stylesheet_applied(page)
    sign_in(page, NAMED_REP, DEMO_PASSWORD)

    expect(page).to_have_url(home)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Riley")
    expect_stylesheet_applied(page)

    # The rep panel, with the rep's team and the managers above them, nearest first.
    panel = page.get_by_role("region", name="Your certification")
    expect(panel).to_be_visible()
    expect(fact(panel, "Team")).to_have_text("EMEA Enterprise")
    expect(fact(panel, "Managers")).to_have_text("Morgan Keane, Henrik Lindqvist")
    # ... and nothing else: a rep holds no other role, so sees no other panel.
    expect(page.locator("[data-panel]")).to_have_count(1)
    for other in ("Your teams", "Sales force", "Teleprospecting support", "Administration"):
        expect(page.get_by_role("heading", name=other)).to_have_count(0)

    # The main navigation is there, but reps cannot browse people or reach the admin site.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    expect(nav.get_by_role("link", name="API")).to_be_visible()
    expect(nav.get_by_role("link", name="People")).to_have_count(0)
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)

    # Keyboard: on a fresh load the first Tab lands on the skip link, which comes on screen
    # with the focus ring from app.css (not the browser's default ring).
    page.goto(home)
    expect(skip_link(page)).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip_link(page)).to_be_focused()
    expect(skip_link(page)).to_be_in_viewport(ratio=1)
    outline = skip_link(page).evaluate(
        "el => { const s = getComputedStyle(el);"
        " return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    assert outline[0] != "none", "the focused skip link has no visible outline"
    assert outline == ["solid", "3px", FOCUS_RING]
    # Following it moves focus to the main content.
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()

    assert console_errors == []


def test_rep_on_a_phone_fits_the_screen_and_signs_out(
    new_context: Callable[..., BrowserContext], live_server: LiveServer, console_errors: list[str]
) -> None:
    context = new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)
    page = context.new_page()
    home = live_server.url + "/"
    page.goto(home)
    sign_in(page, NAMED_REP, DEMO_PASSWORD)

    expect(page).to_have_url(home)
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Riley")
    expect_stylesheet_applied(page)
    # The viewport meta tag is honoured (a mobile browser would otherwise lay out 980px wide)
    # and nothing makes the page wider than the phone.
    assert page.evaluate("document.documentElement.clientWidth") == PHONE["width"]
    assert not has_horizontal_scroll(page)

    # The account menu: a <details> whose summary names the person.
    menu = page.locator("details", has=page.locator("summary", has_text="Riley Okafor"))
    summary = menu.locator("summary")
    expect(summary).to_be_visible()
    sign_out = menu.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()

    summary.tap()
    expect(menu).to_have_attribute("open", "")
    expect(sign_out).to_be_visible()
    expect(sign_out).to_be_in_viewport(ratio=1)
    assert not has_horizontal_scroll(page), "the open account menu widens the page"

    sign_out.tap()
    expect(page).to_have_url(live_server.url + LOGIN_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to RepReady")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)

    # Signed out for real: home sends the visitor back to sign in.
    page.goto(home)
    expect(page).to_have_url(live_server.url + LOGIN_PATH + "?next=/")

    assert console_errors == []


def test_wrong_password_is_refused_on_the_sign_in_page(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    page.goto(live_server.url + LOGIN_PATH)
    sign_in(page, NAMED_REP, "not-the-password")

    expect(page.get_by_role("alert")).to_have_text(
        "That email and password do not match an account."
    )
    expect(page).to_have_url(login_url(live_server.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to RepReady")
    expect(page.get_by_label("Email")).to_have_value(NAMED_REP)
    expect(page.get_by_label("Password")).to_have_value("")

    # No session was opened.
    page.goto(live_server.url + "/")
    expect(page).to_have_url(live_server.url + LOGIN_PATH + "?next=/")

    assert console_errors == []
