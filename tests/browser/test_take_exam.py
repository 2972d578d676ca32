"""A rep takes a level-1 test in the browser: resumes after a reload, passes, is certified;
and a test whose time runs out submits itself and is graded with the answers saved by then.

The right answers come from the attempt's snapshot in the database: reading it is the test's
privilege, and the pages must never show it (no feedback, general or per option) before the
attempt is graded.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.demo import DEMO_PASSWORD, NAMED_REP
from certification.models import Attempt, AttemptQuestion, Certification, Choice, Question

pytestmark = pytest.mark.usefixtures("demo_full")

CLOUD = "Acme Cloud essentials"  # one question per page, 10 drawn, pass mark 80%, feedback
ANALYTICS = "Acme Analytics essentials"  # all on one page, 8 drawn, pass mark 75%
TIME_UP = "Time is up. Your answers are being submitted."


# Reading the key (the test's privilege) ------------------------------------------------------


def plain(fragment: str) -> str:
    """The text a person reads in an HTML fragment: no tags, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


@dataclass(frozen=True)
class Item:
    """One drawn question as the database froze it, with the choices the test will pick."""

    question_id: int
    position: int
    kind: str
    mark: Decimal
    choices: list[dict[str, Any]]
    secrets: list[str]  # feedback texts: shown only once the attempt is graded
    general: str  # the question's general feedback, as text

    def text_of(self, choice_id: int) -> str:
        return next(plain(c["text"]) for c in self.choices if c["id"] == choice_id)

    def right(self) -> list[int]:
        """Every positive option of a multiple response; the best option otherwise."""
        if self.kind == "multiple":
            return [c["id"] for c in self.choices if Decimal(c["weight"]) > 0]
        return [max(self.choices, key=lambda c: Decimal(c["weight"]))["id"]]

    def wrong(self) -> list[int]:
        """One option that earns nothing (the worst one)."""
        return [min(self.choices, key=lambda c: Decimal(c["weight"]))["id"]]

    def reviewed(self, selected: list[int]) -> set[str]:
        """The feedback a full review shows: the general one, and the chosen options' own."""
        chosen = [plain(c["feedback"]) for c in self.choices if c["id"] in selected]
        return {t for t in [self.general, *chosen] if t and t in self.secrets}

    def fraction(self, selected: list[int]) -> Decimal:
        weights = {c["id"]: Decimal(c["weight"]) for c in self.choices}
        earned = sum((weights[c] for c in selected), Decimal(0)) / 100
        return min(max(earned, Decimal(0)), Decimal(1))


def drawn(attempt_id: int) -> list[Item]:
    items = []
    for row in AttemptQuestion.objects.filter(attempt_id=attempt_id).order_by("position"):
        snapshot = row.snapshot
        texts = [snapshot["text"], *(c["text"] for c in snapshot["choices"])]
        public = " ".join(plain(t) for t in texts)
        feedback = [snapshot["general_feedback"], *(c["feedback"] for c in snapshot["choices"])]
        secrets = [plain(f) for f in feedback if plain(f) and plain(f) not in public]
        items.append(
            Item(
                row.question_id,
                row.position,
                snapshot["kind"],
                Decimal(snapshot["mark"]),
                snapshot["choices"],
                secrets,
                plain(snapshot["general_feedback"]),
            )
        )
    return items


def bank_secrets(exam_title: str) -> set[str]:
    """Every feedback text of the bank the test draws from, drawn or not."""
    questions = Question.objects.filter(bank__name__iexact=exam_title.removesuffix(" essentials"))
    texts = [
        *questions.values_list("general_feedback", flat=True),
        *Choice.objects.filter(question__in=questions).values_list("feedback", flat=True),
    ]
    return {plain(t) for t in texts if plain(t)}


def expected_score(items: list[Item], answers: dict[int, list[int]]) -> Decimal:
    """The percentage the saved answers earn, computed here, not by the app's grading code."""
    earned = sum((i.fraction(answers.get(i.position, [])) * i.mark for i in items), Decimal(0))
    possible = sum((i.mark for i in items), Decimal(0))
    return (earned / possible * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def shown_as(score: Decimal) -> str:
    """Django's floatformat:"-2": no decimals for a whole number, else two."""
    text = f"{score:.2f}"
    return text.removesuffix(".00")


def saved(attempt_id: int) -> dict[int, list[int]]:
    rows = AttemptQuestion.objects.filter(attempt_id=attempt_id)
    return {r.position: sorted(r.selected) for r in rows if r.selected}


def leaked(page: Page, secrets: set[str]) -> list[str]:
    """The secrets found in the page: in its text, or anywhere in its markup (attributes too)."""
    markup = " ".join(html.unescape(page.content()).split())
    text = " ".join(page.evaluate("document.documentElement.textContent").split())
    return sorted(s for s in secrets if s in markup or s in text)


# Driving the pages like a person -------------------------------------------------------------


def sign_in(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to RepReady")
    page.get_by_label("Email").fill(NAMED_REP)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Riley")


def nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def start(page: Page, live_server: LiveServer, title: str) -> int:
    """From the main navigation to My tests, then Start on the test's card; the attempt id."""
    nav(page).get_by_role("link", name="My tests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My tests")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))
    expect(card.get_by_text("Not started")).to_be_visible()
    card.get_by_role("button", name=f"Start {title}").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/attempts/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return int(re.findall(r"/attempts/(\d+)/", page.url)[0])


def question(page: Page, item: Item, total: int) -> Locator:
    """The question's fieldset, by its legend ("Question 3 of 10", maybe "· choose all...")."""
    return page.get_by_role("group", name=re.compile(rf"^Question {item.position} of {total}\b"))


def answer(page: Page, attempt_id: int, item: Item, total: int, choice_ids: list[int]) -> None:
    """Click each choice's label; every click is autosaved, and the question says "Saved"."""
    group = question(page, item, total)
    for choice_id in choice_ids:
        with page.expect_response(
            lambda r: r.url.endswith(f"/attempts/{attempt_id}/save/") and r.request.method == "POST"
        ) as response:
            group.get_by_text(item.text_of(choice_id), exact=True).click()
        assert response.value.ok, f"autosave answered {response.value.status}"
        expect(group.get_by_label(item.text_of(choice_id), exact=True)).to_be_checked()
    expect(group.get_by_text(re.compile(r"^Saved \d\d:\d\d:\d\d$"))).to_be_visible()


def answer_offline(
    page: Page, attempt_id: int, item: Item, total: int, console_errors: list[str]
) -> None:
    """Answer right with the connection down: autosave fails and the question says so.

    The failed requests' console errors (the browser's and htmx's) are expected, and dropped.
    """
    before = len(console_errors)
    save_url = f"**/attempts/{attempt_id}/save/"
    page.route(
        save_url,
        lambda route: (
            route.abort("internetdisconnected")
            if route.request.header_value("HX-Request")
            else route.continue_()
        ),
    )
    group = question(page, item, total)
    for choice_id in item.right():
        group.get_by_text(item.text_of(choice_id), exact=True).click()
        expect(group.get_by_label(item.text_of(choice_id), exact=True)).to_be_checked()
    expect(group.get_by_text(re.compile(r"^Not saved: no connection"))).to_be_visible()
    page.unroute(save_url)
    assert item.position not in saved(attempt_id)
    offline_errors = console_errors[before:]
    del console_errors[before:]
    assert all(
        "ERR_INTERNET_DISCONNECTED" in error or error.startswith("htmx:")
        for error in offline_errors
    ), offline_errors


def expect_checked(page: Page, item: Item, total: int, choice_ids: list[int]) -> None:
    group = question(page, item, total)
    for choice in item.choices:
        box = group.get_by_label(item.text_of(choice["id"]), exact=True)
        if choice["id"] in choice_ids:
            expect(box).to_be_checked()
        else:
            expect(box).not_to_be_checked()


def navigator_link(page: Page, position: int) -> Locator:
    questions = page.get_by_role("navigation", name="Questions")
    return questions.get_by_role("link", name=re.compile(rf"^{position}\s*,"))


def score_figure(page: Page) -> Locator:
    return page.get_by_role("listitem").filter(has_text="your score")


# The tests -----------------------------------------------------------------------------------


def test_rep_takes_a_test_reloads_midway_finishes_passes_and_is_certified(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    sign_in(page, live_server)
    attempt_id = start(page, live_server, CLOUD)
    attempt_url = f"{live_server.url}/attempts/{attempt_id}/"
    items = drawn(attempt_id)
    total = len(items)
    assert total == 10
    secrets = bank_secrets(CLOUD) | {s for i in items for s in i.secrets}
    assert secrets, "the Acme Cloud bank has feedback: the leak check must have something to find"
    key = {i.position: sorted(i.right()) for i in items}
    progress = page.get_by_text(re.compile(r"^\d+ of 10 answered"))

    # The first half, moving with the question list (plain links: only autosave saves).
    half = total // 2
    for item in items[:half]:
        if item.position > 1:
            navigator_link(page, item.position).click()
            expect(page).to_have_url(f"{attempt_url}?q={item.position}")
        expect(navigator_link(page, item.position)).to_have_attribute("aria-current", "step")
        assert leaked(page, secrets) == [], "the answer key is on the test page"
        answer(page, attempt_id, item, total, item.right())
        expect(progress).to_have_text(re.compile(rf"^{item.position} of 10 answered"))
    assert saved(attempt_id) == {p: key[p] for p in range(1, half + 1)}

    # Reload: same attempt, and the answers come back from the server.
    page.reload()
    expect(page).to_have_url(f"{attempt_url}?q={half}")
    expect(progress).to_have_text(re.compile(rf"^{half} of 10 answered"))
    expect_checked(page, items[half - 1], total, key[half])
    for item in items[:half]:
        expect(navigator_link(page, item.position)).to_have_accessible_name(
            re.compile(rf"^{item.position}\s*, answered$")
        )
    for item in items[half:]:
        expect(navigator_link(page, item.position)).to_have_accessible_name(
            re.compile(rf"^{item.position}\s*, not answered$")
        )
    for item in items[: half - 1]:
        navigator_link(page, item.position).click()
        expect(page).to_have_url(f"{attempt_url}?q={item.position}")
        expect_checked(page, item, total, key[item.position])

    # Away to My tests and back: the card offers to resume the same attempt.
    nav(page).get_by_role("link", name="My tests").click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=CLOUD))
    expect(card.get_by_text("In progress")).to_be_visible()
    card.get_by_role("link", name=f"Resume {CLOUD}").click()
    expect(page).to_have_url(attempt_url)
    expect_checked(page, items[0], total, key[1])
    assert Attempt.objects.filter(rep__email=NAMED_REP, exam__title=CLOUD).count() == 1

    # The rest, moving with "Save and next". One answer is made offline: autosave fails and
    # says so, and "Save and next" (the form) saves it instead.
    navigator_link(page, half + 1).click()
    offline = items[half + 1]
    for item in items[half:]:
        expect(page).to_have_url(f"{attempt_url}?q={item.position}")
        assert leaked(page, secrets) == [], "the answer key is on the test page"
        if item is offline:
            answer_offline(page, attempt_id, item, total, console_errors)
        else:
            answer(page, attempt_id, item, total, item.right())
        if item.position < total:
            page.get_by_role("button", name="Save and next").click()
    assert saved(attempt_id) == key

    # Finish: graded, passed, certified; the review now shows the feedback that was withheld.
    page.get_by_role("button", name="Finish and grade").click()
    expect(page).to_have_url(f"{attempt_url}result/")
    expect(page.get_by_role("heading", name="You passed")).to_be_visible()
    attempt = Attempt.objects.get(pk=attempt_id)
    assert attempt.status == Attempt.Status.FINISHED
    assert attempt.score == expected_score(items, key) == Decimal(100)
    expect(score_figure(page)).to_have_text(re.compile(r"^\s*100%\s*your score\s*$"))
    expect(page.get_by_text("You are now certified")).to_have_text(
        "You are now certified: Acme Cloud, level 1 (content mastery). See your certifications."
    )
    shown_now = {s for i in items for s in i.reviewed(key[i.position])}
    if shown_now:  # the leak check above looked for these: they are on this page now
        assert leaked(page, shown_now) == sorted(shown_now), "the review lacks feedback"

    nav(page).get_by_role("link", name="Certifications").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My certifications")
    subject = page.get_by_role("cell", name=re.compile(r"^Acme Cloud( v\S+)?$"))
    row = page.get_by_role("row").filter(has=subject)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text("Level 1 · content mastery")
    expect(row.get_by_role("cell").nth(2)).to_have_text("Active")
    expect(row.get_by_role("link", name=f"{CLOUD}, 100%")).to_be_visible()
    assert Certification.objects.filter(
        rep__email=NAMED_REP,
        subject__name="Acme Cloud",
        level=1,
        status="active",
        attempt_id=attempt_id,
    ).exists()

    assert console_errors == [], console_errors


def test_the_timer_runs_out_and_the_attempt_is_graded_with_what_was_saved(
    page: Page, live_server: LiveServer, console_errors: list[str]
) -> None:
    sign_in(page, live_server)
    attempt_id = start(page, live_server, ANALYTICS)
    attempt_url = f"{live_server.url}/attempts/{attempt_id}/"
    result_url = f"{attempt_url}result/"
    items = drawn(attempt_id)
    total = len(items)
    assert total == 8
    clock = page.locator("#timer .timer__clock")  # aria-hidden: no accessible locator reaches it
    expect(clock).to_have_text(re.compile(r"^(20:00|19:[0-5]\d)$"))

    # All questions on one page; answer four (one of them wrongly), each autosaved.
    answers = {1: items[0].right(), 2: items[1].wrong(), 3: items[2].right(), 4: items[3].right()}
    for position, choice_ids in answers.items():
        answer(page, attempt_id, items[position - 1], total, choice_ids)
    assert saved(attempt_id) == {p: sorted(c) for p, c in answers.items()}
    expected = expected_score(items, answers)
    assert Decimal(0) < expected < Decimal(75), "the answers are meant to fail, not score zero"
    page.reload()  # the answers are the server's: the page shows them again
    for position, choice_ids in answers.items():
        expect_checked(page, items[position - 1], total, choice_ids)

    # Record what the timer and its live region show, from the next page load on, even after
    # the page submits itself and is gone.
    changes: list[tuple[float, str, str]] = []
    page.expose_function(
        "__timerChanged", lambda kind, text: changes.append((time.monotonic(), kind, text))
    )
    page.add_init_script("""
        (() => {
          let said = "", shown = null;
          new MutationObserver(() => {
            const announcer = document.getElementById("timer-announcer");
            const clock = document.querySelector("#timer .timer__clock");
            if (announcer && announcer.textContent !== said) {
              said = announcer.textContent;
              window.__timerChanged("announcer", said);
            }
            if (clock && clock.textContent !== shown) {
              shown = clock.textContent;
              window.__timerChanged("clock", shown);
            }
          }).observe(document, {subtree: true, childList: true, characterData: true});
        })();
    """)

    # Six seconds left: the reloaded page counts down from the new deadline.
    Attempt.objects.filter(pk=attempt_id).update(deadline=timezone.now() + timedelta(seconds=6))
    page.reload()
    expect(page).to_have_url(attempt_url)
    expect(clock).to_have_text(re.compile(r"^0:0\d$"))

    # Nobody presses Finish: the page submits itself when the time is up.
    expect(page).to_have_url(result_url, timeout=20_000)
    expect(page.get_by_role("heading", name="Not passed this time")).to_be_visible()
    expect(score_figure(page)).to_have_text(
        re.compile(rf"^\s*{re.escape(shown_as(expected))}%\s*your score\s*$")
    )
    for item in items:  # the review policy shows right or not for each question
        verdict = "Right" if item.fraction(answers.get(item.position, [])) == 1 else "Not right"
        expect(
            page.get_by_role("heading", name=f"Question {item.position} {verdict}", exact=True)
        ).to_be_visible()

    attempt = Attempt.objects.get(pk=attempt_id)
    assert attempt.status in {Attempt.Status.FINISHED, Attempt.Status.EXPIRED}
    assert attempt.score == expected
    assert attempt.passed is False
    assert saved(attempt_id) == {p: sorted(c) for p, c in answers.items()}

    clocks = [text for _, kind, text in changes if kind == "clock" and text != "--:--"]
    announcements = [text for _, kind, text in changes if kind == "announcer"]
    assert len(set(clocks)) >= 3, f"the timer did not count down: {clocks}"
    assert all(re.fullmatch(r"0:0\d", text) for text in clocks), clocks
    assert announcements, "time running out was never announced"
    assert announcements[-1] == TIME_UP
    assert len(announcements) <= 2, f"the live region is spammed: {announcements}"

    # Too late to change anything: the attempt page sends the rep to the result, and an
    # autosave sent now (as a stale tab would) is refused and redirected to the result.
    page.goto(attempt_url)
    expect(page).to_have_url(result_url)
    late = items[-1]
    assert late.position not in answers
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    response = page.request.post(
        f"{attempt_url}save/",
        form={"question": str(late.question_id), f"q{late.question_id}": str(late.right()[0])},
        headers={"HX-Request": "true", "X-CSRFToken": token},
        max_redirects=0,
    )
    assert response.status == 200
    assert response.headers.get("hx-redirect") == f"/attempts/{attempt_id}/result/"
    assert saved(attempt_id) == {p: sorted(c) for p, c in answers.items()}
    assert Attempt.objects.get(pk=attempt_id).score == expected

    assert console_errors == [], console_errors
