"""The levels 2 and 3 API: what each participant sees, scoring, release, sign-offs, and the
enablement endpoints."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from certification.models import AssessmentSession, Certification, Guide, SignOff
from certification.services.assessments import session_schedule
from tests.factories.certification import SubjectFactory, make_guide, make_scenario
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(org):
    return session_schedule(
        scenario=make_scenario(),
        rep=org.rep_a,
        scheduled_at=timezone.now() + timedelta(days=1),
        judges=[org.manager_b, org.manager_c],
        owner=org.enablement,
        actor=org.enablement,
        role_player=org.rep_c,
    )


def _secrets(session):
    notes = list(session.guide_version.criteria.values_list("judge_notes", flat=True))
    return [session.scenario.buyer_brief, *notes]


def _card(session, rating, comment="Be specific about value", submit=True):
    return {
        "ratings": [
            {"criterion": c.pk, "rating": rating, "comment": comment}
            for c in session.guide_version.criteria.all()
        ],
        "submit": submit,
        "overall_comment": f"Overall, rated {rating}",
    }


def _score(api_client, session, judge, rating, submit=True):
    api_client.force_authenticate(judge)
    return api_client.put(
        reverse("api-v1:assessment-scorecard", args=[session.pk]),
        _card(session, rating, submit=submit),
        format="json",
    )


def test_the_rep_never_receives_the_buyer_brief_or_judge_notes(api_client, org, session):
    api_client.force_authenticate(org.rep_a)
    for url in (
        reverse("api-v1:assessment-mine"),
        reverse("api-v1:assessment-detail", args=[session.pk]),
    ):
        body = api_client.get(url).content.decode()
        for secret in _secrets(session):
            assert secret not in body
    detail = api_client.get(reverse("api-v1:assessment-detail", args=[session.pk])).json()
    assert detail["buyer_brief"] is None
    assert detail["rep_brief"] == session.scenario.rep_brief
    assert {c["judge_notes"] for c in detail["guide"]["criteria"]} == {None}
    assert (detail["score"], detail["feedback"], detail["overall_comments"]) == (None, [], [])


def test_panel_and_role_player_see_the_buyer_brief(api_client, org, session):
    for who in (org.manager_b, org.rep_c, org.enablement):
        api_client.force_authenticate(who)
        body = api_client.get(reverse("api-v1:assessment-detail", args=[session.pk])).json()
        assert body["buyer_brief"] == session.scenario.buyer_brief


@pytest.mark.parametrize("who", ["rep_b", "manager_a1", "tp_lead", "admin"])
def test_outsiders_get_404(api_client, org, session, who):
    # manager_a1 leads Alpha-1, a sub-team: not the rep's manager (rep_a is in Alpha).
    api_client.force_authenticate(getattr(org, who))
    assert api_client.get(reverse("api-v1:assessment-detail", args=[session.pk])).status_code == 404
    assert (
        api_client.put(
            reverse("api-v1:assessment-scorecard", args=[session.pk]),
            _card(session, 3),
            format="json",
        ).status_code
        == 404
    )


def test_the_reps_manager_sees_the_session_but_not_the_buyer_brief(api_client, org, session):
    api_client.force_authenticate(org.manager_a)
    body = api_client.get(reverse("api-v1:assessment-detail", args=[session.pk])).json()
    assert body["buyer_brief"] is None
    assert body["can_score"] is False


def test_scoring_hidden_scores_release_and_feedback(api_client, org, session):
    _score(api_client, session, org.manager_c, 2)
    draft = _score(api_client, session, org.manager_b, 4, submit=False)
    assert [c["judge"]["id"] for c in draft.json()] == [org.manager_b.pk]  # not manager_c yet
    submitted = _score(api_client, session, org.manager_b, 4)
    assert {c["judge"]["id"] for c in submitted.json()} == {org.manager_b.pk, org.manager_c.pk}

    api_client.force_authenticate(org.rep_a)
    assert (
        api_client.post(reverse("api-v1:assessment-release", args=[session.pk])).status_code == 404
    )
    api_client.force_authenticate(org.enablement)
    preview = api_client.get(reverse("api-v1:assessment-release", args=[session.pk])).json()
    assert preview["score"] == "66.67"
    released = api_client.post(reverse("api-v1:assessment-release", args=[session.pk]))
    assert released.json()["status"] == "released"

    api_client.force_authenticate(org.rep_a)
    detail = api_client.get(reverse("api-v1:assessment-detail", args=[session.pk])).json()
    assert (detail["score"], detail["passed"]) == ("66.67", False)
    assert detail["feedback"][0]["comments"] == ["Be specific about value"] * 2
    assert detail["overall_comments"] == ["Overall, rated 2", "Overall, rated 4"]
    for secret in _secrets(session):
        assert secret not in json.dumps(detail)


def test_the_release_preview_before_the_panel_finishes_is_a_documented_409(
    api_client, org, session
):
    _score(api_client, session, org.manager_c, 2)  # one judge of two
    api_client.force_authenticate(org.enablement)
    response = api_client.get(reverse("api-v1:assessment-release", args=[session.pk]))
    assert response.status_code == 409
    assert response.json()["code"] == "panel_incomplete"
    assert_matches_schema(response, "get", "/api/v1/assessments/{session_id}/release/")


def test_a_comment_is_required_below_the_pass_level(api_client, org, session):
    api_client.force_authenticate(org.manager_b)
    body = _card(session, 1, comment="")
    response = api_client.put(
        reverse("api-v1:assessment-scorecard", args=[session.pk]), body, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "incomplete_scorecard"


def test_a_read_only_token_cannot_score(api_client, org, session):
    from accounts.services import api_token_create

    _token, raw = api_token_create(user=org.manager_b, name="reader", scopes=["read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api_client.get(reverse("api-v1:assessment-detail", args=[session.pk])).status_code == 200
    assert (
        api_client.put(
            reverse("api-v1:assessment-scorecard", args=[session.pk]),
            _card(session, 3),
            format="json",
        ).status_code
        == 403
    )


def test_field_observation_through_the_api(api_client, org):
    guide = make_guide()
    subject = SubjectFactory(name="Exec presence", kind="skill", current_version="")
    payload = {
        "rep": org.rep_a.pk,
        "subject": subject.pk,
        "guide": guide.pk,
        "observed_on": str(timezone.localdate()),
        "kind": "executive_presentation",
        "crm_reference": "MEET-77",
        "contact_title": "COO",
    }
    api_client.force_authenticate(org.manager_b)  # another team's manager
    assert (
        api_client.post(reverse("api-v1:observation-list"), payload, format="json").status_code
        == 404
    )
    api_client.force_authenticate(org.manager_a)
    created = api_client.post(reverse("api-v1:observation-list"), payload, format="json")
    assert created.status_code == 201
    observation_id = created.json()["id"]
    version = guide.versions.get()
    ratings = [{"criterion": c.pk, "rating": 4, "comment": ""} for c in version.criteria.all()]
    api_client.put(
        reverse("api-v1:observation-detail", args=[observation_id]),
        {"ratings": ratings},
        format="json",
    )
    signed = api_client.post(reverse("api-v1:observation-sign", args=[observation_id]))
    assert signed.status_code == 201
    signoff_id = signed.json()["id"]
    assert Certification.objects.get(rep=org.rep_a, level=3).signoff_id == signoff_id

    api_client.force_authenticate(org.rep_b)
    assert (
        api_client.post(reverse("api-v1:signoff-acknowledge", args=[signoff_id])).status_code == 404
    )
    api_client.force_authenticate(org.rep_a)
    assert (
        api_client.post(reverse("api-v1:signoff-acknowledge", args=[signoff_id])).json()[
            "acknowledged"
        ]
        is True
    )
    assert (
        api_client.post(
            reverse("api-v1:signoff-revoke", args=[signoff_id]), {"reason": "mine"}, format="json"
        ).status_code
        == 404
    )

    # The rep never amends their own sign-off, even holding the enablement role too.
    org.rep_a.is_enablement = True
    org.rep_a.save()
    api_client.force_authenticate(org.rep_a)
    for name, body in (
        ("api-v1:signoff-correct", {"ratings": ratings, "reason": "Mine"}),
        ("api-v1:signoff-revoke", {"reason": "Mine"}),
    ):
        assert (
            api_client.post(reverse(name, args=[signoff_id]), body, format="json").status_code
            == 404
        )
    assert SignOff.objects.count() == 1
    # Anyone who may see it reads it; others get 404.
    assert (
        api_client.get(reverse("api-v1:signoff-detail", args=[signoff_id])).json()["id"]
        == signoff_id
    )
    api_client.force_authenticate(org.manager_b)
    assert api_client.get(reverse("api-v1:signoff-detail", args=[signoff_id])).status_code == 404

    api_client.force_authenticate(org.manager_a)
    corrected = api_client.post(
        reverse("api-v1:signoff-correct", args=[signoff_id]),
        {"ratings": ratings, "reason": "Wrong contact title"},
        format="json",
    )
    assert corrected.json()["supersedes_id"] == signoff_id
    revoked = api_client.post(
        reverse("api-v1:signoff-revoke", args=[corrected.json()["id"]]),
        {"reason": "The meeting was internal"},
        format="json",
    )
    assert revoked.json()["state"] == "revoked"
    assert Certification.objects.get(rep=org.rep_a, level=3).status == "revoked"
    assert SignOff.objects.count() == 2


# Enablement -------------------------------------------------------------------------------


MANAGE = [
    "api-v1:manage-guide-list",
    "api-v1:manage-scenario-list",
    "api-v1:manage-session-list",
    "api-v1:manage-calibration",
    "api-v1:manage-delegation-list",
]


@pytest.mark.parametrize("who", ["rep_a", "manager_a", "admin", "tp_lead"])
def test_manage_endpoints_are_404_for_other_roles(api_client, org, who):
    api_client.force_authenticate(getattr(org, who))
    for name in MANAGE:
        assert api_client.get(reverse(name)).status_code == 404
        # Calibration has no POST: 405 for everyone, as the schema shows everyone.
        hidden = 405 if name == "api-v1:manage-calibration" else 404
        assert api_client.post(reverse(name), {}, format="json").status_code == hidden
    assert not Guide.objects.exists()


@pytest.mark.parametrize("name", ["api-v1:manage-guide-list", "api-v1:manage-session-list"])
def test_options_describes_what_post_takes(api_client, org, name):
    # Was a 500: DRF's OPTIONS asks a GenericAPIView for its serializer_class.
    api_client.force_authenticate(org.enablement)
    response = api_client.options(reverse(name))
    assert response.status_code == 200
    assert "POST" in response.json()["actions"]


def test_enablement_builds_and_schedules(api_client, org):
    api_client.force_authenticate(org.enablement)
    points = {"1": "Poor", "2": "Weak", "3": "Good", "4": "Excellent"}
    guide = api_client.post(
        reverse("api-v1:manage-guide-list"),
        {
            "name": "Discovery call",
            "criteria": [
                {
                    "title": "Opening",
                    "rep_description": "Four-step opening",
                    "judge_notes": "Listen for the agenda check",
                    "descriptors": points,
                    "is_critical": True,
                }
            ],
        },
        format="json",
    )
    assert guide.status_code == 201
    assert guide.json()["version"] == 1
    missing = api_client.post(
        reverse("api-v1:manage-guide-list"),
        {
            "name": "Broken",
            "criteria": [{"title": "X", "rep_description": "x", "descriptors": {"1": "a"}}],
        },
        format="json",
    )
    assert missing.status_code == 400
    guide_id = Guide.objects.get(name="Discovery call").pk
    scenario = api_client.post(
        reverse("api-v1:manage-scenario-list"),
        {
            "subject": SubjectFactory().pk,
            "guide": guide_id,
            "title": "First meeting",
            "rep_brief": "Open the call",
            "buyer_brief": "Budget is 40k",
            "min_judges": 2,
        },
        format="json",
    )
    assert scenario.status_code == 201
    when = (timezone.now() + timedelta(days=3)).isoformat()
    refused = api_client.post(
        reverse("api-v1:manage-session-list"),
        {
            "scenario": scenario.json()["id"],
            "rep": org.rep_a.pk,
            "scheduled_at": when,
            "judges": [org.manager_a.pk, org.manager_b.pk],
        },
        format="json",
    )
    assert refused.status_code == 400
    assert "own manager" in refused.json()["detail"]
    created = api_client.post(
        reverse("api-v1:manage-session-list"),
        {
            "scenario": scenario.json()["id"],
            "rep": org.rep_a.pk,
            "scheduled_at": when,
            "judges": [org.manager_b.pk, org.manager_c.pk],
            "video_link": "https://meet.example/x",
        },
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["buyer_brief"] == "Budget is 40k"  # enablement owns it
    assert AssessmentSession.objects.get().guide_version.number == 1
    updated = api_client.put(
        reverse("api-v1:manage-guide-detail", args=[guide_id]),
        {
            "criteria": [{"title": "Opening", "rep_description": "Changed", "descriptors": points}],
        },
        format="json",
    )
    assert updated.json()["version"] == 2  # version 1 is in use
    listing = api_client.get(reverse("api-v1:manage-session-list")).json()
    assert len(listing["results"]) == 1
    cancel = api_client.post(
        reverse("api-v1:manage-session-cancel", args=[created.json()["id"]]),
        {"reason": "Rep on leave"},
        format="json",
    )
    assert cancel.status_code == 204


def test_delegations_and_calibration(api_client, org):
    api_client.force_authenticate(org.enablement)
    created = api_client.post(
        reverse("api-v1:manage-delegation-list"),
        {"delegate": org.manager_c.pk, "team": org.alpha.pk},
        format="json",
    )
    assert created.status_code == 201
    assert api_client.get(reverse("api-v1:manage-calibration")).json() == []
    assert (
        api_client.delete(
            reverse("api-v1:manage-delegation-detail", args=[created.json()["id"]])
        ).status_code
        == 204
    )
    assert (
        api_client.get(reverse("api-v1:manage-calibration"), {"since": "not a date"}).status_code
        == 400
    )


def test_an_owner_on_the_panel_gets_no_preview_before_the_whole_panel_submits(api_client, org):
    session = session_schedule(
        scenario=make_scenario(),
        rep=org.rep_a,
        scheduled_at=timezone.now() + timedelta(days=1),
        judges=[org.manager_b, org.manager_c],
        owner=org.manager_b,
        actor=org.enablement,
    )
    assert _score(api_client, session, org.manager_c, 2).status_code == 200
    api_client.force_authenticate(org.manager_b)
    preview = api_client.get(reverse("api-v1:assessment-release", args=[session.pk]))
    assert preview.status_code == 409  # the other judge's ratings stay hidden
    assert "score" not in preview.json()
    assert _score(api_client, session, org.manager_b, 4).status_code == 200
    api_client.force_authenticate(org.manager_b)
    preview = api_client.get(reverse("api-v1:assessment-release", args=[session.pk]))
    assert preview.status_code == 200
    assert preview.json()["score"] == "66.67"  # both judges: mean 3 on a 1-4 scale


def test_the_role_player_never_receives_the_released_result(api_client, org, session):
    _score(api_client, session, org.manager_b, 4)
    _score(api_client, session, org.manager_c, 4)
    api_client.force_authenticate(org.enablement)
    assert (
        api_client.post(reverse("api-v1:assessment-release", args=[session.pk])).status_code == 200
    )
    url = reverse("api-v1:assessment-detail", args=[session.pk])
    api_client.force_authenticate(org.rep_c)  # plays the buyer
    body = api_client.get(url).json()
    assert body["buyer_brief"]
    assert (body["score"], body["passed"], body["feedback"], body["overall_comments"]) == (
        None,
        None,
        [],
        [],
    )
    api_client.force_authenticate(org.rep_a)
    mine = api_client.get(url).json()
    assert mine["score"] is not None
    assert mine["feedback"]
