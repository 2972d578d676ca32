"""A level-2 role-play from scoring to the rep's certificate.

The demo manager (lead judge and owner of the demo rep's session) scores it with the guide
beside the form: a rating below the pass level without a comment is refused, then the full
scorecard is submitted, and only then are the other judge's scores shown. The manager reviews
the combined result and releases it; the rep, who saw nothing before the release, reads the
combined rating and the judges' comments per criterion (never the buyer brief or the judge
notes) and holds a level-2 certification.

What the test expects is computed here from the database (the other judge's seeded ratings,
the guide), not by the app's scoring code.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.demo import DEMO_PASSWORD, NAMED_REP
from accounts.models import User
from certification.models import (
    AssessmentSession,
    Certification,
    Criterion,
    CriterionRating,
    Scenario,
    Scorecard,
)

pytestmark = pytest.mark.usefixtures("demo_assessments")

SCENARIO = "First call: the four-step opening"
MANAGER = "manager@demo.test"
OTHER_JUDGE = "sofia.marin@demo.test"


@dataclass(frozen=True)
class Line:
    """One criterion of the guide with what the manager gives it and what the other judge gave."""

    title: str
    description: str
    judge_notes: str
    descriptors: dict[int, str]
    weight: Decimal
    critical: bool
    rating: int  # the manager's
    comment: str  # the manager's
    other_rating: int
    other_comment: str

    def combined(self) -> Decimal:
        """The mean of the two judges' ratings, as the scenario combines them."""
        mean = Decimal(self.rating + self.other_rating) / 2
        return mean.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


# The manager's ratings, in the guide's order: the last is below the pass level.
RATINGS = {
    "Greeting and thanks": 4,
    "Purpose in the buyer's terms": 4,
    "Agenda with the buyer's input": 3,
    "Time check": 2,
}
BELOW = "Time check"


def shown_as(number: Decimal) -> str:
    """Django's floatformat:"-2": no decimals for a whole number, else two."""
    return f"{number:.2f}".removesuffix(".00")


def plain(text: str) -> str:
    return " ".join(text.split())


def markup(page: Page) -> str:
    """The page's HTML, entities decoded and spaces collapsed: attributes included."""
    return plain(html.unescape(page.content()))


def leaked(page: Page, secrets: list[str]) -> list[str]:
    """The secrets found anywhere in the page: its markup or its text."""
    text = plain(page.evaluate("document.documentElement.textContent"))
    found = markup(page)
    return sorted({s for s in secrets if s in found or s in text})


# Reading the database (the test's privilege) -------------------------------------------------


def the_session() -> AssessmentSession:
    return AssessmentSession.objects.select_related("scenario__subject", "rep").get(
        scenario__title=SCENARIO, rep__email=NAMED_REP
    )


def guide_lines(session: AssessmentSession) -> list[Line]:
    others = {
        r.criterion_id: r
        for r in CriterionRating.objects.filter(
            scorecard__session=session, scorecard__judge__email=OTHER_JUDGE
        )
    }
    lines = []
    for c in Criterion.objects.filter(version=session.guide_version).order_by("position", "pk"):
        other = others[c.pk]
        assert other.rating is not None, "the other judge's seeded scorecard is complete"
        lines.append(
            Line(
                title=c.title,
                description=c.rep_description,
                judge_notes=c.judge_notes,
                descriptors={int(k): v for k, v in c.descriptors.items()},
                weight=c.weight,
                critical=c.is_critical,
                rating=RATINGS[c.title],
                comment=f"Manager on {c.title.lower()}: next time, {c.rep_description.lower()}",
                other_rating=other.rating,
                other_comment=other.comment,
            )
        )
    assert [line.title for line in lines] == list(RATINGS), "the guide changed: update RATINGS"
    return lines


def expected_score(lines: list[Line], low: int, high: int) -> Decimal:
    """Each combined rating placed on the scale (low 0%, high 100%), weighted."""
    weighted = sum(
        (line.weight * (line.combined() - low) / (high - low) for line in lines), Decimal(0)
    )
    total = sum((line.weight for line in lines), Decimal(0))
    return (weighted / total * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def my_scorecard(session: AssessmentSession) -> Scorecard | None:
    return Scorecard.objects.filter(session=session, judge__email=MANAGER).first()


# Driving the pages like a person -------------------------------------------------------------


def sign_in(page: Page, live_server: LiveServer, email: str, first_name: str) -> None:
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to RepReady")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {first_name}")


def nav(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Main")


def to_assessments(page: Page) -> None:
    nav(page).get_by_role("link", name="Assessments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assessments")


def criterion(page: Page, line: Line) -> Locator:
    """A criterion's card on the scoring screen (its name may end with a "Critical" badge)."""
    return page.get_by_role("region", name=re.compile(rf"^{re.escape(line.title)}( Critical)?$"))


def rating_group(page: Page, line: Line) -> Locator:
    return page.get_by_role("group", name=f"Rating for {line.title}", exact=True)


def radio(page: Page, line: Line, point: int) -> Locator:
    """A point of the scale, labelled with its descriptor (and "below pass" under the level)."""
    label = rf"^{point} {re.escape(line.descriptors[point])}( below pass)?$"
    return rating_group(page, line).get_by_role("radio", name=re.compile(label))


def comment_box(page: Page, line: Line) -> Locator:
    return page.get_by_label(f"Comment on {line.title}", exact=True)


def autosaved(page: Page, session_id: int, action: Callable[[], None]) -> None:
    """Do something that changes the form and wait for htmx to save the draft."""
    score_path = f"/assessments/{session_id}/score/"
    with page.expect_response(
        lambda r: (
            r.url.endswith(score_path)
            and r.request.method == "POST"
            and r.request.headers.get("hx-request") == "true"
        )
    ) as response:
        action()
    assert response.value.ok, f"autosave answered {response.value.status}"
    expect(page.get_by_role("status").filter(has_text="Draft saved at")).to_have_text(
        re.compile(r"^Draft saved at \d\d:\d\d\.\s*$")
    )


def write(page: Page, session_id: int, box: Locator, text: str) -> None:
    """Type into a comment box and leave it (Tab), as a person does: the change is autosaved."""
    box.fill(text)
    autosaved(page, session_id, partial(box.press, "Tab"))


def expect_guide_beside_the_form(page: Page, lines: list[Line]) -> None:
    """Per criterion: the title, description, judge notes and every descriptor, with the
    rating and comment inputs to the right of the guide text."""
    for line in lines:
        card = criterion(page, line)
        expect(card.get_by_role("heading", level=3)).to_have_text(
            re.compile(rf"^{re.escape(line.title)}( Critical)?$")
        )
        expect(card.get_by_text(line.description, exact=True)).to_be_visible()
        expect(card.get_by_text(line.judge_notes, exact=True)).to_be_visible()
        for point in line.descriptors:
            expect(radio(page, line, point)).to_be_visible()
        expect(comment_box(page, line)).to_be_visible()
        notes = card.get_by_text(line.judge_notes, exact=True).bounding_box()
        inputs = rating_group(page, line).bounding_box()
        assert notes is not None
        assert inputs is not None
        assert notes["x"] + notes["width"] <= inputs["x"], f"{line.title}: guide not beside form"
        assert inputs["y"] < notes["y"] + notes["height"], f"{line.title}: not side by side"


# The test ------------------------------------------------------------------------------------


def test_manager_scores_with_the_guide_releases_and_the_rep_reads_feedback_and_is_certified(
    page: Page,
    new_context: Callable[..., BrowserContext],
    live_server: LiveServer,
    console_errors: list[str],
) -> None:
    session = the_session()
    session_id = session.pk
    version = session.guide_version
    low, high, pass_level = version.scale_min, version.scale_max, version.pass_level
    lines = guide_lines(session)
    below = next(line for line in lines if line.title == BELOW)
    assert below.rating < pass_level <= min(line.rating for line in lines if line is not below)
    score = expected_score(lines, low, high)
    vetoed = any(
        line.critical and line.rating < pass_level and line.other_rating < pass_level
        for line in lines
    )
    assert score >= version.pass_threshold, "the story needs a passing result"
    assert not vetoed, "the story needs a passing result"
    rep = User.objects.get(email=NAMED_REP)
    scenario = Scenario.objects.get(pk=session.scenario_id)
    secrets_from_rep = [
        scenario.buyer_brief,
        *(s.strip() for s in scenario.buyer_brief.split(".") if len(s.strip()) > 15),
        *(line.judge_notes for line in lines),
    ]
    other_comments = sorted({line.other_comment for line in lines if line.other_comment})
    assert other_comments, "the other judge's seeded comments: the leak check needs them"
    assert my_scorecard(session) is None

    # The rep, before the release: the session is there, with the guide, and no result.
    rep_page = new_context().new_page()
    sign_in(rep_page, live_server, NAMED_REP, rep.get_short_name())
    to_assessments(rep_page)
    upcoming = rep_page.get_by_role("region", name="Your role-plays")
    upcoming.get_by_role("link", name=SCENARIO, exact=True).click()
    expect(rep_page.get_by_role("heading", level=1)).to_have_text(SCENARIO)
    expect(rep_page.get_by_text("no scores are shown before release")).to_be_visible()
    expect(rep_page.get_by_role("heading", name="Feedback per criterion")).to_have_count(0)
    expect(rep_page.get_by_role("heading", name=re.compile("^Assessment guide"))).to_be_visible()
    assert "Panel rating" not in markup(rep_page)
    assert leaked(rep_page, [*secrets_from_rep, *other_comments]) == []

    # The manager: the hub, the session, then the scoring screen.
    sign_in(page, live_server, MANAGER, "Morgan")
    to_assessments(page)
    judging = page.get_by_role("region", name="Sessions you judge, play or own")
    judging.get_by_role(
        "link", name=f"Open the session {rep.display_name}, {SCENARIO}", exact=True
    ).click()
    expect(page).to_have_url(f"{live_server.url}/assessments/{session_id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(SCENARIO)
    expect(page.get_by_role("heading", name="Buyer brief")).to_be_visible()
    # The other judge has submitted, the manager has not: none of her scores are shown yet.
    expect(page.get_by_role("heading", name="Combined result, if released now")).to_have_count(0)
    expect(page.get_by_role("heading", name="Submitted scorecards")).to_have_count(0)
    expect(
        page.get_by_text("The combined result is shown once you have submitted your own scores.")
    ).to_be_visible()
    assert leaked(page, other_comments) == [], "the other judge's scores before own submission"
    page.get_by_role("link", name="Score this session").click()

    expect(page).to_have_url(f"{live_server.url}/assessments/{session_id}/score/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Score {rep.display_name}")
    expect(page.get_by_text("1 of 2 judges submitted")).to_be_visible()
    expect_guide_beside_the_form(page, lines)
    expect(page.get_by_role("heading", name="The other judges' scores")).to_have_count(0)
    assert leaked(page, other_comments) == [], "the other judge's scores before own submission"

    # Every criterion rated, one below the pass level without a comment: refused.
    for line in lines:
        autosaved(page, session_id, radio(page, line, line.rating).check)
    page.get_by_role("button", name="Submit scores").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Your scores are not submitted.")
    refusal = f"“{BELOW}” is below the pass level: say what the rep should do differently."
    expect(alert.get_by_role("listitem")).to_have_text([f"{BELOW}: {refusal}"])
    expect(alert.get_by_role("link", name=BELOW, exact=True)).to_have_attribute(
        "href", re.compile(r"^#criterion-\d+$")
    )
    expect(criterion(page, below).get_by_text(refusal, exact=True)).to_be_visible()
    for line in lines:  # what was rated is still there
        expect(radio(page, line, line.rating)).to_be_checked()
    expect(page.get_by_role("heading", name="The other judges' scores")).to_have_count(0)
    assert leaked(page, other_comments) == []
    draft = my_scorecard(session)
    assert draft is not None
    assert draft.status == Scorecard.Status.DRAFT
    assert draft.submitted_at is None

    # Comments on every criterion and an overall one, then submitted.
    for line in lines:
        write(page, session_id, comment_box(page, line), line.comment)
    overall = "Strong opening; check the time up front."
    write(page, session_id, page.get_by_label("Overall comment", exact=True), overall)
    page.get_by_role("button", name="Submit scores").click()
    expect(page).to_have_url(f"{live_server.url}/assessments/{session_id}/score/")
    expect(page.get_by_role("status").filter(has_text="Your scores are submitted.")).to_be_visible()
    expect(page.get_by_role("heading", name="Your scores")).to_contain_text("Submitted")
    expect(page.get_by_text("2 of 2 judges submitted")).to_be_visible()
    submitted = my_scorecard(session)
    assert submitted is not None
    assert submitted.status == Scorecard.Status.SUBMITTED
    saved = {r.criterion.title: (r.rating, r.comment) for r in submitted.ratings.all()}
    assert saved == {line.title: (line.rating, line.comment) for line in lines}
    assert submitted.overall_comment == overall

    # Now, and only now, the other judge's scorecard.
    expect(page.get_by_role("heading", name="The other judges' scores")).to_be_visible()
    other_name = User.objects.get(email=OTHER_JUDGE).display_name
    expect(page.get_by_role("heading", name=other_name, exact=True)).to_be_visible()
    for comment in other_comments:
        expect(page.get_by_text(comment, exact=True).first).to_be_visible()
    assert leaked(page, other_comments) == other_comments

    # Back to the hub: the session is ready to review; the preview is the combined result.
    to_assessments(page)
    judging.get_by_role(
        "link", name=f"Review and release {rep.display_name}, {SCENARIO}", exact=True
    ).click()
    expect(page).to_have_url(re.compile(rf"/assessments/{session_id}/#release$"))
    review = page.get_by_role("region", name="Review and release")
    expect(review.get_by_role("heading", name="Combined result, if released now")).to_be_visible()
    expect(review.get_by_text(re.compile(r"% score$"))).to_have_text(f"{shown_as(score)}% score")
    for line in lines:
        header = page.get_by_role("rowheader", name=re.compile(rf"^{re.escape(line.title)}"))
        row = review.get_by_role("row").filter(has=header)
        expect(row.get_by_role("cell").first).to_have_text(shown_as(line.combined()))
        met = "Met" if line.combined() >= pass_level else "Not met"
        expect(row.get_by_role("cell").nth(1)).to_have_text(met)
    cards = page.get_by_role("region", name="Submitted scorecards")
    for line in lines:
        expect(cards.get_by_text(line.comment, exact=True)).to_be_visible()

    review.get_by_role("button", name=f"Release the result to {rep.display_name}").click()
    expect(page.get_by_role("status").filter(has_text="Result released")).to_have_text(
        f"Result released: {score}%, passed. {rep.display_name} can now read the feedback."
    )
    expect(page.get_by_text("Certified: ")).to_contain_text(
        f"{scenario.subject.name}, level 2 (application)"
    )

    # The rep: the result, per criterion, and the comments; no buyer brief, no judge notes.
    to_assessments(rep_page)
    results = rep_page.get_by_role("region", name="Your role-plays")
    expect(results.get_by_text("No results yet.")).to_have_count(0)
    results.get_by_role("link", name=f"Read your feedback for {SCENARIO}", exact=True).click()
    expect(rep_page).to_have_url(re.compile(rf"/assessments/{session_id}/#result$"))
    result = rep_page.get_by_role("region", name="Result", exact=True)
    expect(result.get_by_text(re.compile(r"your score$"))).to_have_text(
        f"{shown_as(score)}% your score"
    )
    expect(result.get_by_text("You are now certified")).to_contain_text(
        f"You are now certified: {scenario.subject.name}, level 2 (application)"
    )
    for line in lines:
        title = re.compile(rf"^{re.escape(line.title)}\b")
        item = result.get_by_role("listitem").filter(
            has=rep_page.get_by_role("heading", level=4, name=title)
        )
        expect(item).to_have_count(1)
        expect(item.get_by_text(re.compile(r"^Panel rating"))).to_have_text(
            f"Panel rating {shown_as(line.combined())} on a scale of {low} to {high} "
            f"({pass_level} meets it)."
        )
        met = "Met" if line.combined() >= pass_level else "Not met yet"
        expect(item.get_by_role("heading", level=4)).to_have_accessible_name(
            re.compile(rf"^{re.escape(line.title)}( Critical)? {met}$")
        )
        said = item.locator("ul.feedback__comments")  # after "What the judges said", unnamed
        expect(item.get_by_text("What the judges said", exact=True)).to_be_visible()
        expected = sorted({line.comment, line.other_comment} - {""})
        expect(said.get_by_role("listitem")).to_have_count(len(expected))
        for comment in expected:
            expect(said.get_by_role("listitem").filter(has_text=comment)).to_have_count(1)
    assert leaked(rep_page, secrets_from_rep) == [], "the rep's page shows panel-only text"

    # ... and the level-2 certification among theirs.
    nav(rep_page).get_by_role("link", name="Certifications").click()
    expect(rep_page.get_by_role("heading", level=1)).to_have_text("My certifications")
    subject_name = re.compile(rf"^{re.escape(scenario.subject.name)}( v\S+)?$")
    subject = rep_page.get_by_role("cell", name=subject_name)
    row = rep_page.get_by_role("row").filter(has=subject).filter(has_text="Level 2")
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(1)).to_have_text("Level 2 · application")
    expect(row.get_by_role("cell").nth(2)).to_have_text("Active")
    assert Certification.objects.filter(
        rep=rep, subject=scenario.subject, level=2, status="active", session_id=session_id
    ).exists()

    assert console_errors == [], console_errors
