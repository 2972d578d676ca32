"""The demo's levels 2 and 3: guides modelled on real sales-call rubrics, scenarios with
buyer briefs, scheduled, scored and released sessions, and field sign-offs.

Everything goes through the services; a second run adds nothing.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from accounts.demo import NAMED_REP
from accounts.models import Team, User
from certification.models import (
    AssessmentSession,
    FieldObservation,
    Guide,
    Scenario,
    Subject,
)
from certification.services.assessments import (
    RatingInput,
    scenario_create,
    scorecard_save,
    session_release,
    session_schedule,
)
from certification.services.catalog import subject_create
from certification.services.guides import CriterionInput, GuideContent, guide_create
from certification.services.signoffs import (
    observation_create,
    observation_save,
    observation_sign,
    signoff_correct,
    signoff_revoke,
)

EXECUTIVE_SUBJECT = "Presenting to a senior executive"


def _criterion(
    title: str,
    description: str,
    notes: str,
    anchors: tuple[str, str, str, str],
    weight: int = 1,
    *,
    critical: bool = False,
) -> CriterionInput:
    return CriterionInput(
        title=title,
        rep_description=description,
        judge_notes=notes,
        descriptors=dict(zip((1, 2, 3, 4), anchors, strict=True)),
        weight=Decimal(weight),
        is_critical=critical,
    )


GUIDES: dict[str, GuideContent] = {
    "Four-step call opening": GuideContent(
        introduction=(
            "You will open a first call with a prospect. Judges look for the four steps, in "
            "order, in the buyer's terms. Criteria marked critical must be met to pass."
        ),
        pass_threshold=Decimal(70),
        criteria=[
            _criterion(
                "Greeting and thanks",
                "Greets the buyer by name and thanks them for their time.",
                "Watch for a rushed greeting straight into the pitch.",
                (
                    "No greeting; starts pitching",
                    "Greets but does not thank",
                    "Greets and thanks",
                    "Warm, personal, sets a collaborative tone",
                ),
            ),
            _criterion(
                "Purpose in the buyer's terms",
                "States why you are meeting, framed around the buyer's goal.",
                "A purpose about Acme ('show our product') is a 2 at best.",
                (
                    "No purpose stated",
                    "Purpose about Acme, not the buyer",
                    "Purpose tied to the buyer's goal",
                    "Purpose tied to a quantified goal",
                ),
                weight=2,
                critical=True,
            ),
            _criterion(
                "Agenda with the buyer's input",
                "Proposes an agenda and asks the buyer what they want to add.",
                "The role-player has one agenda item they add only if invited.",
                (
                    "No agenda",
                    "Agenda, no invitation to add",
                    "Invites additions",
                    "Invites additions and re-orders around them",
                ),
                weight=2,
            ),
            _criterion(
                "Time check",
                "Confirms how much time the buyer has.",
                "If skipped, the role-player ends the call 10 minutes early.",
                ("Not checked", "Checked late", "Checked up front", "Checked and adapts the plan"),
            ),
        ],
    ),
    "Discovery call": GuideContent(
        introduction=(
            "A discovery call with a senior buyer. Judges rate how you uncover the business "
            "problem, its cost and the path to a decision."
        ),
        pass_threshold=Decimal(75),
        criteria=[
            _criterion(
                "Opening and agenda",
                "Opens with the four steps and agrees an agenda.",
                "Reuse the call-opening anchors.",
                (
                    "No structure",
                    "Partial opening",
                    "Full four-step opening",
                    "Opening the buyer visibly engages with",
                ),
                critical=True,
            ),
            _criterion(
                "Layered questions",
                "Asks open questions and follows up on the answers.",
                "Count follow-ups: three or more layers on one topic is a 4.",
                (
                    "Closed questions only",
                    "Open questions, no follow-up",
                    "Follows up on key answers",
                    "Peels the problem back to its cost",
                ),
                weight=2,
            ),
            _criterion(
                "Business impact",
                "Quantifies what the problem costs the buyer.",
                "The buyer knows the cost (9-day close, two FTEs) and says it only if asked.",
                (
                    "No impact discussed",
                    "Impact named, not quantified",
                    "Impact quantified roughly",
                    "Impact quantified and confirmed by the buyer",
                ),
                weight=2,
                critical=True,
            ),
            _criterion(
                "Decision process",
                "Learns who decides, how and by when.",
                "Budget and timing are revealed only if asked directly.",
                (
                    "Not explored",
                    "Asks who decides",
                    "Maps the people and steps",
                    "Maps people, steps, budget and timing",
                ),
            ),
            _criterion(
                "Next step",
                "Agrees a concrete next step with a date.",
                "A vague 'I'll send info' is a 1.",
                (
                    "No next step",
                    "Vague next step",
                    "Concrete next step",
                    "Concrete next step with a date and owner on both sides",
                ),
                critical=True,
            ),
        ],
    ),
    "Executive presentation": GuideContent(
        introduction=(
            "Observed in the field: a presentation to a senior executive. Your manager rates it "
            "against these criteria and signs it off."
        ),
        pass_threshold=Decimal(75),
        criteria=[
            _criterion(
                "Executive framing",
                "Opens with why this matters to the executive now.",
                "Look for a 'why now' in the first two minutes.",
                (
                    "Starts with Acme",
                    "Generic industry framing",
                    "Framed on the executive's priority",
                    "Framed on a priority they confirm",
                ),
                critical=True,
            ),
            _criterion(
                "Value quantified",
                "Shows the value in the executive's numbers.",
                "Payback or cost of inaction in their figures.",
                (
                    "No value",
                    "Features, not value",
                    "Value in general terms",
                    "Value in the executive's own figures",
                ),
                weight=2,
            ),
            _criterion(
                "Handling questions",
                "Answers directly, briefly, and checks the answer landed.",
                "Note deflections.",
                ("Evades", "Answers at length", "Answers directly", "Answers and confirms"),
            ),
            _criterion(
                "Clear ask",
                "Ends with a specific request the executive can say yes to.",
                "No ask is a fail whatever the rest.",
                ("No ask", "Vague ask", "Specific ask", "Specific ask with a date, agreed"),
                critical=True,
            ),
        ],
    ),
}

SCENARIOS = (
    {
        "title": "First call: the four-step opening",
        "guide": "Four-step call opening",
        "subject": "Four-step call opening",
        "kind": Scenario.Kind.SALES_CALL,
        "rep_brief": (
            "You are calling Jamie Lee, Head of Operations at Brightwell Foods, for the first "
            "time. Jamie agreed to 30 minutes after a webinar. Open the call."
        ),
        "buyer_brief": (
            "You are Jamie Lee, Head of Operations at Brightwell Foods. Friendly but busy: you "
            "have 20 minutes, not 30, and say so only if asked. If invited to add to the agenda, "
            "add 'how long does onboarding take'. Never volunteer that you are also talking to "
            "Globex."
        ),
        "min_judges": 2,
        "manager_may_judge": True,
    },
    {
        "title": "Discovery call with a CFO (Acme Cloud)",
        "guide": "Discovery call",
        "subject": "Acme Cloud",
        "kind": Scenario.Kind.SALES_CALL,
        "rep_brief": (
            "Dana Ruiz, CFO of Nordhavn Logistics (1,800 staff), asked for a call about "
            "'getting one version of the numbers'. Run the discovery call."
        ),
        "buyer_brief": (
            "You are Dana Ruiz, CFO. Month-end close takes 9 days because finance and "
            "operations numbers disagree; two analysts spend a week reconciling. Reveal the "
            "9 days and the two analysts only if asked what it costs. Budget of 180k is "
            "approved for Q3: reveal only if asked about budget directly. The current vendor "
            "contract ends in March: never volunteer it."
        ),
        "min_judges": 3,
        "manager_may_judge": False,
        "combination": Scenario.Combination.TRIMMED_MEAN,
    },
)


def _guides() -> dict[str, Guide]:
    guides = {}
    for name, content in GUIDES.items():
        guides[name] = Guide.objects.filter(name=name).first() or guide_create(
            name=name, content=content, actor=None
        )
    return guides


def _scenarios(guides: dict[str, Guide], lead: User) -> list[Scenario]:
    scenarios = []
    for spec in SCENARIOS:
        existing = Scenario.objects.filter(title=spec["title"]).first()
        if existing is None:
            values = {k: v for k, v in spec.items() if k not in {"guide", "subject"}}
            existing = scenario_create(
                subject=Subject.objects.get(name=spec["subject"]),
                guide=guides[str(spec["guide"])],
                actor=lead,
                **values,
            )
        scenarios.append(existing)
    return scenarios


def _ratings(
    session: AssessmentSession | FieldObservation, base: float, bias: float, rng: random.Random
) -> dict[int, RatingInput]:
    ratings = {}
    version = session.guide_version
    for criterion in version.criteria.all():
        value = round(base + bias + rng.uniform(-0.6, 0.6))
        value = max(version.scale_min, min(version.scale_max, value))
        comment = (
            ""
            if value >= version.pass_level
            else (
                f"{criterion.title}: next time, {criterion.rep_description[0].lower()}"
                f"{criterion.rep_description[1:]}"
            )
        )
        ratings[criterion.pk] = RatingInput(value, comment or "Well done.")
    return ratings


def _history(
    scenario: Scenario, reps: list[User], judges: list[User], lead: User, now: datetime
) -> int:
    """Released sessions over the last months; one judge (the first) rates a point high."""
    if scenario.sessions.exists():
        return 0
    released = 0
    for i, rep in enumerate(reps):
        rng = random.Random(f"{scenario.title}:{rep.email}")
        when = now - timedelta(days=20 + 6 * i, hours=rng.randint(0, 6))
        panel = [j for j in judges if j.pk != rep.pk][: scenario.min_judges]
        session = session_schedule(
            scenario=scenario,
            rep=rep,
            scheduled_at=when,
            judges=panel,
            owner=lead,
            actor=lead,
            location="Training room 2, Lyon",
            duration_minutes=40,
            now=when - timedelta(days=14),
        )
        base = rng.uniform(3.0, 3.4) if i < 2 else rng.uniform(2.6, 3.9)  # the leaders pass
        for position, judge in enumerate(panel):
            bias = 1.4 if position == 0 else rng.uniform(-0.3, 0.3)
            scorecard_save(
                session=session,
                judge=judge,
                submit=True,
                ratings=_ratings(session, base, bias, rng),
                now=when,
            )
        session_release(session=session, actor=lead, now=when + timedelta(days=1))
        released += 1
    return released


def _upcoming(
    scenario: Scenario, rep: User, manager: User, second: User, now: datetime
) -> AssessmentSession | None:
    """The demo rep's role-play: the demo manager (lead judge) still has to score it."""
    if AssessmentSession.objects.filter(scenario=scenario, rep=rep).exists():
        return None
    session = session_schedule(
        scenario=scenario,
        rep=rep,
        scheduled_at=now + timedelta(days=2),
        judges=[manager, second],
        lead=manager,
        owner=manager,
        actor=manager,
        video_link="https://meet.example.com/repready-demo",
        duration_minutes=30,
    )
    rng = random.Random("demo-second-judge")
    scorecard_save(
        session=session, judge=second, submit=True, ratings=_ratings(session, 3.4, 0, rng)
    )
    return session


def _field(manager: User, reps: list[User], guide: Guide, subject: Subject, now: datetime) -> int:
    """Field sign-offs by the demo manager, one corrected and one revoked."""
    if FieldObservation.objects.filter(observer=manager).exists():
        return 0
    signed = []
    for i, rep in enumerate(reps[:4]):
        observation = observation_create(
            rep=rep,
            observer=manager,
            subject=subject,
            guide=guide,
            observed_on=(now - timedelta(days=10 + 7 * i)).date(),
            kind="executive_presentation",
            crm_reference=f"OPP-{2041 + i}",
            contact_title=("CFO", "COO", "CIO", "VP Finance")[i],
        )
        rng = random.Random(f"field:{rep.email}")
        observation_save(
            observation=observation,
            actor=manager,
            ratings=_ratings(observation, 3.5 if i != 2 else 2.4, 0, rng),
        )
        signed.append(
            observation_sign(
                observation=observation, actor=manager, now=now - timedelta(days=9 + 7 * i)
            )
        )
    version = signed[1].guide_version
    corrected = {c.pk: RatingInput(4, "Strong ask with a date.") for c in version.criteria.all()}
    signoff_correct(
        signoff=signed[1],
        actor=manager,
        ratings=corrected,
        reason="Rated against the wrong meeting's notes.",
        now=now - timedelta(days=5),
    )
    signoff_revoke(
        signoff=signed[3],
        actor=manager,
        now=now - timedelta(days=3),
        reason="The 'executive' was an internal stand-in, not a customer.",
    )
    return len(signed)


def seed() -> dict[str, Any]:
    """Guides, two scenarios, released history, the demo rep's pending role-play, sign-offs."""
    now = timezone.now()
    lead = User.objects.get(email="lead@demo.test")
    manager = User.objects.get(email="manager@demo.test")
    rep = User.objects.get(email=NAMED_REP)
    guides = _guides()
    opening, discovery = _scenarios(guides, lead)
    led = Team.objects.get(manager=manager, kind=Team.Kind.TEAM)  # the demo manager's team
    # The reps furthest along level 1 on the offerings go first: their role-plays and sign-offs
    # then make silver and gold tiers, as they would in a real sales force.
    team_reps: list[User] = list(
        User.objects.filter(team=led, is_rep=True)
        .exclude(pk=rep.pk)
        .annotate(
            offerings_held=Count(
                "certifications",
                filter=Q(
                    certifications__level=1,
                    certifications__status="active",
                    certifications__subject__kind=Subject.Kind.OFFERING,
                ),
            )
        )
        .order_by("-offerings_held", "email")
    )
    judges = list(
        User.objects.filter(
            email__in=[
                "marcus.bell@demo.test",
                "sofia.marin@demo.test",
                "keisha.grant@demo.test",
            ]
        ).order_by("email")
    )  # keisha rates high: calibration flags her
    judges.sort(key=lambda u: u.email != "keisha.grant@demo.test")
    released = _history(discovery, team_reps[:6], judges, lead, now)
    released += _history(opening, team_reps[6:9], judges[1:], lead, now)
    _upcoming(opening, rep, manager, User.objects.get(email="sofia.marin@demo.test"), now)
    executive = Subject.objects.filter(name=EXECUTIVE_SUBJECT).first() or subject_create(
        name=EXECUTIVE_SUBJECT,
        kind=Subject.Kind.SKILL,
        actor=lead,
        description="Presenting Acme's value to a senior executive, observed in the field.",
    )
    # The second rep's sign-off passes (and is corrected), the third's fails, the fourth's is
    # revoked: the leader of the team (team_reps[0] failed here before) ends up gold.
    field_reps = [rep, team_reps[1], team_reps[3], team_reps[2]]
    signoffs = _field(manager, field_reps, guides["Executive presentation"], executive, now)
    return {
        "guides": Guide.objects.count(),
        "scenarios": Scenario.objects.count(),
        "sessions_released": released,
        "signoffs": signoffs,
    }
