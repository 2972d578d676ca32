"""Enablement's level-2 and level-3 pages: who may use them, what each does, and how many
queries they run."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import AuditEvent, User
from certification.models import (
    AssessmentSession,
    Guide,
    GuideVersion,
    ObserverDelegation,
    Scenario,
)
from certification.selectors import assessments as assessment_selectors
from certification.services.assessments import (
    RatingInput,
    scorecard_save,
    session_release,
    session_schedule,
)
from certification.services.guides import current_version
from certification.services.signoffs import delegation_create
from tests.conftest import Org
from tests.factories.accounts import UserFactory
from tests.factories.certification import SubjectFactory, make_guide, make_scenario

pytestmark = pytest.mark.django_db


# Fixtures -----------------------------------------------------------------------------------


@dataclass
class World:
    """One of everything the pages take an id of."""

    guide: Guide
    scenario: Scenario
    session: AssessmentSession
    delegation: ObserverDelegation


def _schedule(
    org: Org, scenario: Scenario, *, rep: User | None = None, **extra
) -> AssessmentSession:
    return session_schedule(
        scenario=scenario,
        rep=rep or org.rep_a,
        scheduled_at=timezone.now() + timedelta(days=3),
        judges=extra.pop("judges", [org.manager_b, org.manager_c]),
        owner=org.enablement,
        actor=org.enablement,
        **extra,
    )


@pytest.fixture
def world(org: Org) -> World:
    guide = make_guide(criteria=2, name="Discovery call guide")
    scenario = make_scenario(guide=guide, title="Discovery call with a CFO")
    return World(
        guide=guide,
        scenario=scenario,
        session=_schedule(org, scenario),
        delegation=delegation_create(delegate=org.manager_b, rep=org.rep_c, actor=org.enablement),
    )


@pytest.fixture
def lead(client, org: Org):
    client.force_login(org.enablement)
    return client


def _url(name: str, world: World | None = None) -> str:
    ids = {
        "manage_guide": lambda w: [w.guide.pk],
        "manage_guide_edit": lambda w: [w.guide.pk],
        "manage_scenario": lambda w: [w.scenario.pk],
        "manage_session_cancel": lambda w: [w.session.pk],
        "manage_delegation_remove": lambda w: [w.delegation.pk],
    }
    args = ids[name](world) if name in ids else []
    return reverse(f"certification:{name}", args=args)


PAGES = [
    "manage_guides",
    "manage_guide_new",
    "manage_guide",
    "manage_guide_edit",
    "manage_scenarios",
    "manage_scenario_new",
    "manage_scenario",
    "manage_sessions",
    "manage_session_new",
    "manage_delegations",
    "manage_calibration",
]
ACTIONS = ["manage_session_cancel", "manage_delegation_remove"]
OTHER_ROLES = ["rep_a", "manager_a", "director", "admin", "tp_lead", "no_role"]


def _formset(prefix: str, rows: list[dict[str, object]], initial: int = 0) -> dict[str, object]:
    data: dict[str, object] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def _criterion(title: str, points=range(1, 5), **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "title": title,
        "rep_description": f"What {title} looks for",
        "judge_notes": f"Listen for {title}",
        "weight": "1",
        **{f"descriptor_{p}": f"{title} at {p}" for p in points},
    }
    row.update(extra)
    return {k: v for k, v in row.items() if v is not None}


BLANK_ROW: dict[str, object] = {"title": "", "rep_description": "", "judge_notes": "", "weight": ""}


def _guide(rows: list[dict[str, object]], initial: int = 0, **extra: object) -> dict[str, object]:
    return {
        "name": "Executive presentation guide",
        "subject": "",
        "introduction": "Ten minutes, then questions.",
        "scale_min": "1",
        "scale_max": "4",
        "pass_level": "3",
        "pass_threshold": "70",
        "action": "save",
        **_formset("criterion", rows, initial),
        **extra,
    }


def _page(response) -> str:
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Who may use the pages ----------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES + ACTIONS)
def test_anonymous_visitors_are_sent_to_sign_in(client, world, name):
    url = _url(name, world)
    response = client.post(url) if name in ACTIONS else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("viewer", OTHER_ROLES)
@pytest.mark.parametrize("name", PAGES + ACTIONS)
def test_other_roles_get_404_and_change_nothing(client, org, world, viewer, name):
    client.force_login(getattr(org, viewer))
    audit = AuditEvent.objects.count()
    url = _url(name, world)
    assert client.get(url).status_code == 404
    sneaky = {
        **_guide([_criterion("Sneaky")], name="Sneaky"),
        "title": "Sneaky",
        "reason": "Because",
        "delegate": org.manager_a.pk,
        "scope": "rep",
        "rep": org.rep_b.pk,
    }
    assert client.post(url, sneaky).status_code == 404
    assert AuditEvent.objects.count() == audit
    assert not Guide.objects.filter(name="Sneaky").exists()
    assert GuideVersion.objects.count() == 1
    world.session.refresh_from_db()
    assert world.session.status == AssessmentSession.Status.SCHEDULED
    assert ObserverDelegation.objects.filter(pk=world.delegation.pk).exists()


@pytest.mark.parametrize("name", PAGES)
def test_enablement_can_open_every_page(lead, world, name):
    response = lead.get(_url(name, world))
    assert response.status_code == 200
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    page = _page(response)
    assert "<script>" not in page
    assert ' style="' not in page
    assert re.search(r'<nav class="subnav[^"]*" aria-label="Assessments">', page) or name.endswith(
        ("_new", "_edit", "manage_guide", "manage_scenario")
    )


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_only_take_post(lead, world, name):
    assert lead.get(_url(name, world)).status_code == 405


def test_unknown_ids_are_404(lead, world):
    for name in ("manage_guide", "manage_guide_edit", "manage_scenario"):
        assert lead.get(reverse(f"certification:{name}", args=[999999])).status_code == 404
    for name in ACTIONS:
        assert lead.post(reverse(f"certification:{name}", args=[999999])).status_code == 404
    assert lead.get(_url("manage_guide", world), {"version": "9"}).status_code == 404


# Guides -------------------------------------------------------------------------------------


def test_create_a_guide_blank_rows_ignored(lead):
    subject = SubjectFactory(name="Acme Cloud")
    data = _guide(
        [
            _criterion("Opening", is_critical="on", weight="2"),
            _criterion("Discovery"),
            dict(BLANK_ROW),
        ],
        subject=subject.pk,
    )
    response = lead.post(reverse("certification:manage_guide_new"), data)
    guide = Guide.objects.get(name="Executive presentation guide")
    assert response["Location"] == reverse("certification:manage_guide", args=[guide.pk])
    assert guide.subject == subject
    version = current_version(guide)
    assert (version.number, version.scale_min, version.scale_max, version.pass_level) == (
        1,
        1,
        4,
        3,
    )
    opening, discovery = version.criteria.all()
    assert (opening.title, opening.weight, opening.is_critical) == ("Opening", 2, True)
    assert opening.descriptors == {str(p): f"Opening at {p}" for p in range(1, 5)}
    assert opening.judge_notes == "Listen for Opening"
    assert not discovery.is_critical


def test_a_missing_descriptor_is_marked_and_nothing_is_written(lead):
    row = _criterion("Opening", descriptor_3="")
    response = lead.post(reverse("certification:manage_guide_new"), _guide([row]))
    assert response.status_code == 200
    page = _page(response)
    assert "Describe what a 3 looks like." in page
    assert "Some criteria are incomplete" in page
    assert 'id="id_criterion-0-descriptor_3_error"' in page  # linked to its field
    assert not Guide.objects.exists()


def test_a_threshold_over_100_is_refused_and_nothing_is_written(lead):
    data = _guide([_criterion("Opening")], pass_threshold="150")
    response = lead.post(reverse("certification:manage_guide_new"), data)
    assert response.status_code == 200
    page = _page(response)
    assert "The pass threshold is a percentage from 0 to 100." in page
    assert "0 to 100." in page
    assert not Guide.objects.exists()


def test_the_descriptor_fields_follow_the_scale(lead):
    url = reverse("certification:manage_guide_new")
    # given a scale of 0 to 5, descriptors for points off the scale are ignored
    row = _criterion("Opening", points=range(7))
    data = _guide([row], scale_min="0", scale_max="5", pass_level="3")
    # applying the scale re-renders without saving, every field shown or hidden by the scale
    page = _page(lead.post(url, {**data, "action": "scale"}))
    assert not Guide.objects.exists()
    assert "Not saved yet" in page
    assert re.search(r'data-point="0">', page)
    assert re.search(r'data-point="6" hidden>', page)
    assert "Opening at 6" in page  # kept in case the scale grows again
    # saving keeps only the points of the scale
    assert lead.post(url, data).status_code == 302
    criterion = current_version(Guide.objects.get()).criteria.get()
    assert sorted(criterion.descriptors) == ["0", "1", "2", "3", "4", "5"]


def test_add_a_criterion_row_without_saving(lead):
    data = _guide([_criterion("Opening")], action="add")
    page = _page(lead.post(reverse("certification:manage_guide_new"), data))
    assert 'name="criterion-1-title"' in page
    assert 'value="Opening"' in page
    assert "field__error" not in page  # a draft shows no errors
    assert not Guide.objects.exists()


def _edit_rows(guide: Guide) -> list[dict[str, object]]:
    return [
        _criterion(
            c.title,
            judge_notes=c.judge_notes,
            **{f"descriptor_{p}": t for p, t in c.descriptors.items()},
        )
        for c in current_version(guide).criteria.all()
    ]


def test_editing_an_unused_guide_keeps_version_1(lead, world):
    guide = make_guide(criteria=2, name="Unused guide")
    url = reverse("certification:manage_guide_edit", args=[guide.pk])
    assert "Nothing has used version 1 yet" in _page(lead.get(url))
    rows = _edit_rows(guide)
    rows[0]["title"] = "Opening the call"
    response = lead.post(url, _guide(rows, initial=2, name="Unused guide"))
    assert response["Location"] == reverse("certification:manage_guide", args=[guide.pk])
    assert guide.versions.count() == 1
    assert [c.title for c in current_version(guide).criteria.all()] == ["Opening the call", "C2"]


def test_editing_a_used_guide_warns_then_makes_version_2_and_the_session_keeps_1(lead, world):
    guide, session = world.guide, world.session
    url = reverse("certification:manage_guide_edit", args=[guide.pk])
    # before saving, the page says what will happen
    page = _page(lead.get(url))
    assert "Saving a change creates version 2" in page
    assert "existing sessions and observations keep version 1" in page
    assert "Save as version 2" in page
    # when the content changes
    rows = _edit_rows(guide)
    rows[1]["title"] = "Next steps"
    response = lead.post(url, _guide(rows, initial=2, name=guide.name), follow=True)
    # then version 2 takes it and the session keeps version 1
    assert guide.versions.count() == 2
    assert current_version(guide).number == 2
    assert [c.title for c in current_version(guide).criteria.all()] == ["C1", "Next steps"]
    session.refresh_from_db()
    assert session.guide_version.number == 1
    assert [c.title for c in session.guide_version.criteria.all()] == ["C1", "C2"]
    assert any("Saved as version 2" in m for m in _messages(response))


def test_renaming_a_used_guide_makes_no_version(lead, world):
    guide = world.guide
    url = reverse("certification:manage_guide_edit", args=[guide.pk])
    data = _guide(
        _edit_rows(guide), initial=2, name="Renamed guide", introduction="How you will be assessed."
    )
    response = lead.post(url, data, follow=True)
    assert any("renamed; its content is unchanged" in m for m in _messages(response))
    guide.refresh_from_db()
    assert guide.name == "Renamed guide"
    assert guide.versions.count() == 1


def test_a_taken_name_is_refused_on_the_field(lead, world):
    response = lead.post(
        reverse("certification:manage_guide_new"),
        _guide([_criterion("Opening")], name="discovery call GUIDE"),
    )
    assert "This name is taken." in _page(response)
    assert Guide.objects.count() == 1


def test_the_guide_page_shows_the_current_version_in_full_and_its_history(lead, world):
    guide = world.guide
    rows = _edit_rows(guide)
    rows[0]["title"] = "Opening, reworked"
    lead.post(
        reverse("certification:manage_guide_edit", args=[guide.pk]),
        _guide(rows, initial=2, name=guide.name),
    )
    page = _page(lead.get(_url("manage_guide", world)))
    assert "Opening, reworked" in page
    assert "What C2 looks for" in page  # the rep's description
    assert "Judges only" in page
    assert "Notes C2 for judges only" in page
    assert "C2 at 4" in page  # a descriptor
    assert "Version history" in page
    assert "?version=1" in page
    assert world.scenario.title in page
    old = _page(lead.get(_url("manage_guide", world), {"version": "1"}))
    assert "You are reading version 1, an earlier version" in old
    assert "Opening, reworked" not in old


# Scenarios ----------------------------------------------------------------------------------


def _scenario(**extra: object) -> dict[str, object]:
    return {
        "title": "Renewal call",
        "kind": "sales_call",
        "rep_brief": "Renew the contract; the buyer is unhappy.",
        "buyer_brief": "You are the CFO. Mention the outage only if asked.",
        "min_judges": "3",
        "manager_may_judge": "on",
        "combination": "median",
        "critical_majority_fails": "on",
        **extra,
    }


def test_create_a_scenario(lead, world):
    subject = SubjectFactory()
    form = _page(lead.get(reverse("certification:manage_scenario_new")))
    assert "Buyer brief: never shown to the rep" in form
    response = lead.post(
        reverse("certification:manage_scenario_new"),
        _scenario(subject=subject.pk, guide=world.guide.pk),
    )
    assert response["Location"] == reverse("certification:manage_scenarios")
    scenario = Scenario.objects.get(title="Renewal call")
    assert (scenario.subject, scenario.guide, scenario.min_judges) == (subject, world.guide, 3)
    assert scenario.manager_may_judge
    assert scenario.combination == "median"
    assert scenario.is_active


def test_a_scenario_is_checked_and_nothing_is_written(lead, world):
    subject = SubjectFactory()
    url = reverse("certification:manage_scenario_new")
    response = lead.post(url, _scenario(subject=subject.pk, guide=world.guide.pk, min_judges="12"))
    assert response.status_code == 200
    page = _page(response)
    assert "A panel has between 1 and 9 judges." in page
    assert "1 to 9." in page  # on the field
    response = lead.post(url, _scenario(subject=subject.pk, guide=world.guide.pk, buyer_brief=" "))
    assert re.search(r'id="id_buyer_brief_error">.*This field is required', _page(response), re.S)
    assert not Scenario.objects.filter(title="Renewal call").exists()


def test_edit_and_retire_a_scenario(lead, world):
    other = make_guide(name="Other guide")
    data = _scenario(guide=other.pk, title="CFO discovery", min_judges="1", combination="mean")
    data.pop("manager_may_judge")
    response = lead.post(_url("manage_scenario", world), data)  # is_active left unticked
    assert response["Location"] == reverse("certification:manage_scenarios")
    scenario = world.scenario
    scenario.refresh_from_db()
    assert (scenario.title, scenario.guide, scenario.min_judges) == ("CFO discovery", other, 1)
    assert not scenario.manager_may_judge
    assert not scenario.is_active
    world.session.refresh_from_db()
    assert world.session.guide_version.guide == world.guide  # the session keeps its version


def test_scenario_filters(lead, world):
    retired = make_scenario(title="Old pitch", is_active=False)
    page = _page(lead.get(reverse("certification:manage_scenarios"), {"status": "retired"}))
    assert "Old pitch" in page
    assert world.scenario.title not in page
    page = _page(
        lead.get(reverse("certification:manage_scenarios"), {"subject": world.scenario.subject_id})
    )
    assert world.scenario.title in page
    assert retired.title not in page


# Scheduling ---------------------------------------------------------------------------------


def _schedule_data(world: World, org: Org, **extra: object) -> dict[str, object]:
    return {
        "scenario": world.scenario.pk,
        "rep_q": "",
        "rep": org.rep_b.pk,
        "scheduled_at": "2030-03-04T10:30",
        "duration_minutes": "60",
        "location": "Room 4",
        "video_link": "",
        "people_q": "",
        "judges": [org.manager_a.pk, org.manager_c.pk],
        "lead": "",
        "role_player": "",
        "owner": "",
        "action": "save",
        **extra,
    }


def test_schedule_a_session_in_the_leads_time_zone(client, org, world):
    org.enablement.time_zone = "Europe/Paris"
    org.enablement.save()
    client.force_login(org.enablement)
    data = _schedule_data(
        world, org, lead=org.manager_a.pk, role_player=org.rep_c.pk, owner=org.manager_c.pk
    )
    response = client.post(reverse("certification:manage_session_new"), data, follow=True)
    session = AssessmentSession.objects.get(rep=org.rep_b)
    assert response.redirect_chain[-1][0] == reverse("certification:manage_sessions")
    assert session.scheduled_at.isoformat() == "2030-03-04T09:30:00+00:00"
    assert (session.duration_minutes, session.location) == (60, "Room 4")
    assert (session.role_player, session.owner) == (org.rep_c, org.manager_c)
    assert set(session.panel.values_list("judge_id", "is_lead")) == {
        (org.manager_a.pk, True),
        (org.manager_c.pk, False),
    }
    assert session.guide_version == current_version(world.guide)
    assert any(
        "Rep Beta is scheduled" in m and "4 Mar 2030, 10:30" in m for m in _messages(response)
    )


def test_the_owner_is_the_lead_by_default(lead, org, world):
    lead.post(reverse("certification:manage_session_new"), _schedule_data(world, org))
    assert AssessmentSession.objects.get(rep=org.rep_b).owner == org.enablement


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: {"judges": [o.manager_c.pk]}, "needs at least 2 judges; the panel has 1"),
        (lambda o: {"judges": [o.manager_c.pk, o.rep_b.pk]}, "cannot judge their own assessment"),
        (lambda o: {"judges": [o.manager_c.pk, o.manager_b.pk]}, "bars the rep&#x27;s own manager"),
        (lambda o: {"judges": [o.manager_c.pk, o.director.pk]}, "bars the rep&#x27;s own manager"),
        (
            lambda o: {"judges": [o.manager_c.pk, o.inactive_rep.pk]},
            "Inactive people cannot judge: Former Rep.",
        ),
        (lambda o: {"role_player": o.rep_b.pk}, "The rep cannot play the buyer."),
        (lambda o: {"owner": o.rep_c.pk}, "owner must be an enablement lead or a judge on it"),
        (lambda o: {"lead": o.manager_b.pk}, "The lead judge must be on the panel."),
        (lambda o: {"rep": o.manager_b.pk}, "Only an active rep can be assessed."),
    ],
)
@pytest.mark.parametrize("action", ["check", "save"])
def test_a_broken_panel_rule_is_shown_and_nothing_is_written(
    lead, org, world, change, message, action
):
    audit = AuditEvent.objects.count()
    data = _schedule_data(world, org, action=action, **change(org))
    response = lead.post(reverse("certification:manage_session_new"), data)
    assert response.status_code == 200
    page = _page(response)
    assert message in page
    assert AssessmentSession.objects.count() == 1
    assert AuditEvent.objects.count() == audit


def test_panel_problems_sit_next_to_the_judges_and_are_linked(lead, org, world):
    data = _schedule_data(world, org, judges=[org.manager_b.pk])
    page = _page(lead.post(reverse("certification:manage_session_new"), data))
    assert 'aria-describedby="judges-help judges-problems"' in page
    assert re.search(r'id="judges-problems" role="alert">\s*<p[^>]*>This panel breaks', page)


def test_checking_a_good_panel_saves_nothing(lead, org, world):
    data = _schedule_data(world, org, action="check")
    page = _page(lead.post(reverse("certification:manage_session_new"), data))
    assert "This panel meets the scenario's rules" in page
    # the ticked judges become the choices for lead judge and owner
    assert re.search(rf'<option value="{org.manager_a.pk}">Manager Alpha', page)
    assert AssessmentSession.objects.count() == 1


def test_finding_people_keeps_what_was_typed_and_saves_nothing(lead, org, world):
    data = _schedule_data(world, org, action="find", people_q="gamma", judges=[org.manager_a.pk])
    page = _page(lead.post(reverse("certification:manage_session_new"), data))
    assert "Manager Gamma" in page
    assert "Manager Beta" not in page  # not found, not ticked
    assert re.search(rf'value="{org.manager_a.pk}"[^>]*checked', page)  # ticked, still listed
    assert 'value="Room 4"' in page
    assert 'value="2030-03-04T10:30"' in page
    assert "field__error" not in page
    assert "Not scheduled yet" in page
    assert AssessmentSession.objects.count() == 1


def test_rep_search_lists_only_reps(lead, org, world):
    page = _page(lead.get(reverse("certification:manage_session_new"), {"rep_q": "beta"}))
    assert "1 rep match “beta”" in page
    rep_select = re.search(r'<select name="rep".*?</select>', page, re.S)[0]
    assert "Rep Beta" in rep_select
    assert "Manager Beta" not in rep_select


def test_a_link_can_name_the_scenario(lead, world):
    page = _page(
        lead.get(reverse("certification:manage_session_new"), {"scenario": world.scenario.pk})
    )
    assert re.search(rf'<option value="{world.scenario.pk}" selected>', page)


def test_the_session_list_shows_the_panel_and_links_the_session(lead, org, world):
    page = _page(lead.get(reverse("certification:manage_sessions")))
    assert "0 of 2 submitted" in page
    assert "Manager Beta, Manager Gamma" in page
    try:
        session_url = reverse("certification:session", args=[world.session.pk])
    except NoReverseMatch:  # the participants' page belongs to another module
        session_url = None
    if session_url:
        assert f'href="{session_url}"' in page
    page = _page(lead.get(reverse("certification:manage_sessions"), {"status": "cancelled"}))
    assert "No session matches these filters." in page
    page = _page(lead.get(reverse("certification:manage_sessions"), {"rep": "alpha"}))
    assert "0 of 2 submitted" in page
    page = _page(lead.get(reverse("certification:manage_sessions"), {"rep": "gamma"}))
    assert "No session matches" in page


def test_cancel_needs_a_reason(lead, world):
    response = lead.post(_url("manage_session_cancel", world), {"reason": "  "}, follow=True)
    assert any("Say why the session is cancelled" in m for m in _messages(response))
    world.session.refresh_from_db()
    assert world.session.status == AssessmentSession.Status.SCHEDULED


def test_cancel_a_session(lead, world):
    back = reverse("certification:manage_sessions") + "?status=scheduled"
    response = lead.post(
        _url("manage_session_cancel", world), {"reason": "The rep is on leave.", "next": back}
    )
    assert response["Location"] == back
    world.session.refresh_from_db()
    assert world.session.status == AssessmentSession.Status.CANCELLED
    event = AuditEvent.objects.get(action="session.cancelled")
    assert event.changes == {"reason": "The rep is on leave."}
    # a second cancellation is refused with the reason
    response = lead.post(_url("manage_session_cancel", world), {"reason": "Again"}, follow=True)
    assert any("Only a scheduled session can be cancelled." in m for m in _messages(response))


# Delegations --------------------------------------------------------------------------------


def test_name_a_delegate_for_a_rep(lead, org, world):
    response = lead.post(
        reverse("certification:manage_delegations"),
        {"delegate": org.manager_c.pk, "scope": "rep", "rep": org.rep_a.pk, "team": org.beta.pk},
    )
    assert response["Location"] == reverse("certification:manage_delegations")
    delegation = ObserverDelegation.objects.get(delegate=org.manager_c)
    assert (delegation.rep, delegation.team, delegation.expires_at) == (org.rep_a, None, None)
    assert delegation.named_by == org.enablement


def test_name_a_delegate_for_a_team_until_a_date(lead, org, world):
    ends = timezone.localdate() + timedelta(days=30)
    response = lead.post(
        reverse("certification:manage_delegations"),
        {"delegate": org.manager_c.pk, "scope": "team", "team": org.beta.pk, "ends_on": ends},
    )
    assert response.status_code == 302
    delegation = ObserverDelegation.objects.get(delegate=org.manager_c)
    assert (delegation.rep, delegation.team) == (None, org.beta)
    assert delegation.expires_at.date() == ends
    page = _page(lead.get(reverse("certification:manage_delegations")))
    assert "Beta" in page
    assert "and the teams under it" in page


def test_a_delegation_that_ends_in_the_past_is_refused(lead, org, world):
    response = lead.post(
        reverse("certification:manage_delegations"),
        {
            "delegate": org.manager_c.pk,
            "scope": "rep",
            "rep": org.rep_a.pk,
            "ends_on": timezone.localdate() - timedelta(days=1),
        },
    )
    assert response.status_code == 200
    assert "The end date must be in the future." in _page(response)
    assert not ObserverDelegation.objects.filter(delegate=org.manager_c).exists()


def test_a_delegation_names_its_rep_or_team(lead, org, world):
    response = lead.post(
        reverse("certification:manage_delegations"), {"delegate": org.manager_c.pk, "scope": "team"}
    )
    assert "Choose the team." in _page(response)
    assert not ObserverDelegation.objects.filter(delegate=org.manager_c).exists()


def test_expired_delegations_are_listed_apart(lead, org, world):
    old = delegation_create(delegate=org.manager_c, rep=org.rep_b, actor=org.enablement)
    ObserverDelegation.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    page = _page(lead.get(reverse("certification:manage_delegations"), {"status": "expired"}))
    assert "Manager Gamma" in page
    assert "Expired" in page
    assert "Manager Beta" not in page.split("Name a delegate</h2>")[0].split("</h1>")[1]
    page = _page(lead.get(reverse("certification:manage_delegations"), {"status": "current"}))
    assert "Rep Gamma" in page


def test_remove_a_delegation(lead, world):
    response = lead.post(_url("manage_delegation_remove", world))
    assert response["Location"] == reverse("certification:manage_delegations")
    assert not ObserverDelegation.objects.exists()


# Calibration --------------------------------------------------------------------------------


def _released(org: Org, ratings_by_judge: dict[User, tuple[int, int]]) -> AssessmentSession:
    scenario = make_scenario(guide=make_guide(criteria=2), min_judges=3)
    session = _schedule(org, scenario, judges=list(ratings_by_judge))
    criteria = list(session.guide_version.criteria.all())
    for judge, values in ratings_by_judge.items():
        scorecard_save(
            session=session,
            judge=judge,
            submit=True,
            ratings={
                c.pk: RatingInput(v, "Be specific") for c, v in zip(criteria, values, strict=True)
            },
        )
    return session_release(session=session, actor=org.enablement)


def test_calibration_shows_hand_computed_figures(lead, org, world, monkeypatch):
    # Panel (mean): criterion 1 = (4+2+3)/3 = 3, criterion 2 = (4+1+4)/3 = 3.
    # Manager Beta rated 4, 4: +1, +1 -> mean +1.00, absolute 1.00, within one 100%.
    # Manager Gamma rated 2, 1: -1, -2 -> mean -1.50, absolute 1.50, within one 50%.
    # Enablement rated 3, 4: 0, +1 -> mean +0.50, absolute 0.50, within one 100%.
    _released(org, {org.manager_b: (4, 4), org.manager_c: (2, 1), org.enablement: (3, 4)})
    monkeypatch.setattr(assessment_selectors, "CALIBRATION_MIN_RATINGS", 2)
    page = _page(lead.get(reverse("certification:manage_calibration")))
    rows = {
        name: row
        for row in re.findall(r"<tr[^>]*>\s*<th[^>]*scope=\"row\">.*?</tr>", page, re.S)
        for name in ("Manager Beta", "Manager Gamma", "Enablement Lead")
        if name in row
    }
    assert "+1.00" in rows["Manager Beta"]
    assert "higher than the panel" in rows["Manager Beta"]
    assert "Rates higher than the panel" in rows["Manager Beta"]
    assert "\u22121.50" in rows["Manager Gamma"]
    assert "lower than the panel" in rows["Manager Gamma"]
    assert ">50%<" in rows["Manager Gamma"]
    assert "Often more than a point from the panel" in rows["Manager Gamma"]
    assert "+0.50" in rows["Enablement Lead"]
    assert ">0.50<" in rows["Enablement Lead"]
    assert "badge--bad" not in rows["Enablement Lead"]  # 0.5 is not beyond the threshold
    # the explanation reads the thresholds from the selector
    assert "Flagged beyond ±0.50" in page
    assert "Flagged below 80%" in page
    assert "once they have 2 ratings or more" in page


def test_calibration_period_and_empty_state(lead, org, world):
    _released(org, {org.manager_b: (4, 4), org.manager_c: (2, 1), org.enablement: (3, 4)})
    url = reverse("certification:manage_calibration")
    page = _page(lead.get(url, {"period": "30"}))
    assert "Sessions released in the last 30 days" in page
    assert "Too few ratings to judge" in page
    past = {"period": "custom", "date_from": "2020-01-01", "date_to": "2020-12-31"}
    page = _page(lead.get(url, past))
    assert "No released sessions in 1 Jan 2020 to 31 Dec 2020" in page
    page = _page(
        lead.get(url, {"period": "custom", "date_from": "2024-02-01", "date_to": "2024-01-01"})
    )
    assert "On or after the first day." in page


# Query counts -------------------------------------------------------------------------------


def _grow(org: Org, world: World) -> None:
    """Add rows to every list: guides, scenarios, sessions, delegations, released sessions."""
    for _ in range(6):
        guide = make_guide(criteria=2)
        scenario = make_scenario(guide=guide)
        _schedule(org, scenario, rep=org.rep_b, judges=[org.manager_a, org.manager_c])
    for rep in UserFactory.create_batch(6, rep=True, team=org.gamma):
        delegation_create(delegate=org.manager_b, rep=rep, actor=org.enablement)
    delegation_create(delegate=org.manager_a, team=org.beta, actor=org.enablement)
    _released(org, {org.manager_b: (4, 4), org.manager_c: (2, 1), org.enablement: (3, 4)})
    _released(org, {org.manager_b: (3, 3), org.manager_c: (3, 1), org.manager_a1: (3, 4)})


LIST_PAGES = [
    ("manage_guides", {}),
    ("manage_guide", {}),
    ("manage_scenarios", {}),
    ("manage_sessions", {}),
    ("manage_session_new", {}),
    ("manage_delegations", {}),
    ("manage_calibration", {}),
]


@pytest.fixture(params=LIST_PAGES, ids=[name for name, _ in LIST_PAGES])
def list_page(request):
    return request.param


def test_query_count_does_not_grow_with_rows(
    lead, org, world, list_page, django_assert_max_num_queries
):
    name, params = list_page
    url = _url(name, world)
    with django_assert_max_num_queries(25) as small:
        assert lead.get(url, params).status_code == 200
    _grow(org, world)
    with django_assert_max_num_queries(len(small)):
        assert lead.get(url, params).status_code == 200


def test_the_scoring_rules_of_a_scenario_in_use_do_not_change(lead, world):
    data = _scenario(guide=world.guide.pk, title="Renamed", combination="median", is_active="on")
    response = lead.post(_url("manage_scenario", world), data)
    assert response.status_code == 200
    assert "1 scheduled session will be decided by this scenario&#x27;s current rules" in _page(
        response
    )
    world.scenario.refresh_from_db()
    assert (world.scenario.title, world.scenario.combination) == (
        "Discovery call with a CFO",
        "mean",
    )
