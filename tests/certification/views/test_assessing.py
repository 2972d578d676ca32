"""Pages for levels 2 and 3 as participants use them: the assessments hub, a session, the
judges' scoring screen, release, field observations and sign-offs.

Every page and POST action: anonymous people go to sign-in, the right people get the page,
everyone else 404 and nothing changes. The buyer brief and the judge notes never reach a page
the rep can load; the rep sees no score before release; a judge sees the others' ratings only
after submitting their own.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from certification.models import (
    AssessmentSession,
    Certification,
    FieldObservation,
    Scorecard,
    SignOff,
    SignOffAcknowledgement,
    SignOffRevocation,
)
from certification.services.assessments import (
    RatingInput,
    scorecard_save,
    session_release,
    session_schedule,
)
from certification.services.signoffs import (
    delegation_create,
    observation_create,
    observation_save,
    observation_sign,
    signoff_acknowledge,
)
from tests.factories.certification import SubjectFactory, make_guide, make_scenario

pytestmark = pytest.mark.django_db

GOOD = "Keep quantifying the value like this"
FIX = "Ask about the budget before pitching"


# Builders --------------------------------------------------------------------------------------


def _schedule(org, *, criteria=3, rep=None, **extra):
    scenario = make_scenario(guide=make_guide(criteria=criteria, critical=(0,)))
    values = {
        "scenario": scenario,
        "rep": rep or org.rep_a,
        "scheduled_at": timezone.now() + timedelta(days=2),
        "judges": [org.manager_b, org.manager_c],
        "owner": org.enablement,
        "actor": org.enablement,
        "role_player": org.tp_lead,
        "location": "Room 4, Paris office",
        "video_link": "https://meet.example.test/abc",
        **extra,
    }
    return session_schedule(**values)


@pytest.fixture
def session(org):
    return _schedule(org)


def _criteria(session):
    return list(session.guide_version.criteria.order_by("position"))


def _ratings(session, rating, comment=GOOD):
    return {c.pk: RatingInput(rating, comment) for c in _criteria(session)}


def _submit(session, judge, rating=4, comment=GOOD):
    return scorecard_save(
        session=session,
        judge=judge,
        ratings=_ratings(session, rating, comment),
        overall_comment=f"Overall from {judge.display_name}",
        submit=True,
    )


def _post_data(session, rating, comment="", **extra):
    data = {"overall_comment": ""}
    for c in _criteria(session):
        if rating is not None:
            data[f"rating_{c.pk}"] = str(rating)
        data[f"comment_{c.pk}"] = comment
    return {**data, **extra}


def _secrets(session):
    """What the rep must never receive: the buyer brief and every judge note."""
    notes = [c.judge_notes for c in _criteria(session)]
    raw = [session.scenario.buyer_brief, *notes]
    return raw + [escape(text) for text in raw]


def _observation(org, observer=None, rep=None, criteria=3):
    return observation_create(
        rep=rep or org.rep_a,
        observer=observer or org.manager_a,
        subject=SubjectFactory(
            name=f"Executive presence {criteria}-{FieldObservation.objects.count()}"
        ),
        guide=make_guide(criteria=criteria, critical=(0,)),
        observed_on=timezone.localdate() - timedelta(days=1),
        kind="meeting",
        crm_reference="OPP-1042",
        contact_title="CFO",
    )


def _signed(org, rating=4, observer=None):
    observation = _observation(org, observer=observer)
    observer = observer or org.manager_a
    observation_save(
        observation=observation,
        actor=observer,
        ratings={c.pk: RatingInput(rating, FIX) for c in observation.guide_version.criteria.all()},
    )
    return observation_sign(observation=observation, actor=observer)


def _login_redirect(response):
    return response.status_code == 302 and reverse("accounts:login") in response["Location"]


# Anonymous people go to sign-in ------------------------------------------------------------------


def test_every_page_sends_anonymous_people_to_sign_in(client, org, session):
    signoff = _signed(org)
    urls = [
        ("get", reverse("certification:assessments")),
        ("get", reverse("certification:session", args=[session.pk])),
        ("get", reverse("certification:session_score", args=[session.pk])),
        ("post", reverse("certification:session_release", args=[session.pk])),
        ("get", reverse("certification:field")),
        ("get", reverse("certification:observation_new")),
        ("get", reverse("certification:observation", args=[signoff.observation_id])),
        ("get", reverse("certification:signoff", args=[signoff.pk])),
        ("post", reverse("certification:signoff_acknowledge", args=[signoff.pk])),
        ("get", reverse("certification:signoff_correct", args=[signoff.pk])),
        ("post", reverse("certification:signoff_revoke", args=[signoff.pk]), {"reason": "x"}),
    ]
    for method, url, *data in urls:
        response = getattr(client, method)(url, *data)
        assert _login_redirect(response), url
    session.refresh_from_db()
    assert session.status == AssessmentSession.Status.SCHEDULED
    assert not SignOffRevocation.objects.exists()
    assert not SignOffAcknowledgement.objects.exists()


# Who sees which page ------------------------------------------------------------------------------

HUB = {
    "rep_a": 200,
    "manager_a": 200,
    "director": 200,
    "manager_b": 200,  # a judge
    "enablement": 200,  # the owner
    "tp_lead": 200,  # the role-player, whatever their role
    "admin": 404,
    "no_role": 404,
}


@pytest.mark.parametrize(("person", "status"), HUB.items())
def test_the_hub_is_for_people_taking_part(client, org, session, person, status):
    client.force_login(getattr(org, person))
    assert client.get(reverse("certification:assessments")).status_code == status


SESSION_PAGE = {
    "rep_a": 200,
    "manager_b": 200,
    "manager_c": 200,
    "tp_lead": 200,
    "enablement": 200,
    "manager_a": 200,  # the rep's manager
    "director": 200,  # the rep's region head
    "manager_a1": 404,  # a sub-team's manager: not the rep's
    "rep_b": 404,
    "admin": 404,
    "no_role": 404,
}


@pytest.mark.parametrize(("person", "status"), SESSION_PAGE.items())
def test_the_session_page_is_for_the_rep_the_panel_the_owner_and_the_reps_managers(
    client, org, session, person, status
):
    client.force_login(getattr(org, person))
    url = reverse("certification:session", args=[session.pk])
    assert client.get(url).status_code == status


@pytest.mark.parametrize(
    ("person", "status"),
    {
        "manager_b": 200,
        "manager_c": 200,
        "rep_a": 404,
        "manager_a": 404,
        "manager_a1": 404,  # another team's manager cannot score
        "tp_lead": 404,  # the role-player plays, does not score
        "enablement": 404,  # the owner reviews, does not score
        "no_role": 404,
    }.items(),
)
def test_only_the_panel_scores(client, org, session, person, status):
    client.force_login(getattr(org, person))
    url = reverse("certification:session_score", args=[session.pk])
    assert client.get(url).status_code == status
    response = client.post(url, _post_data(session, 4, GOOD, submit="1"))
    assert response.status_code == (302 if status == 200 else 404)
    expected = 1 if status == 200 else 0
    assert Scorecard.objects.filter(session=session, judge=getattr(org, person)).count() == expected


@pytest.mark.parametrize(
    "person", ["rep_a", "manager_a", "manager_b", "manager_c", "tp_lead", "director", "no_role"]
)
def test_only_the_owner_or_enablement_releases(client, org, session, person):
    _submit(session, org.manager_b)
    _submit(session, org.manager_c)
    client.force_login(getattr(org, person))
    response = client.post(reverse("certification:session_release", args=[session.pk]))
    assert response.status_code == 404
    session.refresh_from_db()
    assert session.status == AssessmentSession.Status.SCHEDULED
    assert not Certification.objects.filter(level=2).exists()


def test_release_is_post_only(client, org, session):
    client.force_login(org.enablement)
    url = reverse("certification:session_release", args=[session.pk])
    assert client.get(url).status_code == 405


@pytest.mark.parametrize(
    ("person", "status"),
    {
        "rep_a": 200,
        "manager_a": 200,
        "director": 200,
        "enablement": 200,
        "tp_lead": 404,
        "admin": 404,
        "no_role": 404,
    }.items(),
)
def test_the_field_page_is_for_reps_managers_delegates_and_enablement(client, org, person, status):
    client.force_login(getattr(org, person))
    assert client.get(reverse("certification:field")).status_code == status


def test_a_delegate_without_a_role_reaches_the_field_pages(client, org):
    delegation_create(delegate=org.no_role, actor=org.enablement, rep=org.rep_a)
    client.force_login(org.no_role)
    assert client.get(reverse("certification:field")).status_code == 200
    page = client.get(reverse("certification:observation_new")).content.decode()
    assert org.rep_a.display_name in page
    assert org.rep_b.display_name not in page


@pytest.mark.parametrize(
    ("person", "status"),
    {
        "manager_a": 200,
        "director": 200,
        "manager_b": 200,  # may observe Beta's reps, not Alpha's
        "rep_a": 404,
        "enablement": 404,  # enablement names delegates instead of observing
        "tp_lead": 404,
        "no_role": 404,
    }.items(),
)
def test_recording_an_observation_is_for_people_who_may_observe_someone(
    client, org, person, status
):
    client.force_login(getattr(org, person))
    assert client.get(reverse("certification:observation_new")).status_code == status


def test_the_rep_choices_are_the_reps_one_may_observe(client, org):
    client.force_login(org.manager_a)
    page = client.get(reverse("certification:observation_new")).content.decode()
    assert org.rep_a.display_name in page
    assert org.rep_a1.display_name in page  # the sub-team
    assert org.rep_b.display_name not in page
    assert org.inactive_rep.display_name not in page


def test_another_teams_manager_cannot_record_an_observation_of_the_rep(client, org):
    client.force_login(org.manager_b)
    guide = make_guide()
    response = client.post(
        reverse("certification:observation_new"),
        {
            "rep": org.rep_a.pk,
            "subject": SubjectFactory().pk,
            "guide": guide.pk,
            "observed_on": timezone.localdate().isoformat(),
            "kind": "call",
            "crm_reference": "OPP-1",
            "contact_title": "CFO",
        },
    )
    assert response.status_code == 404
    assert not FieldObservation.objects.exists()


@pytest.mark.parametrize("person", ["director", "manager_b", "rep_a", "enablement", "no_role"])
def test_only_the_observer_opens_scores_and_signs_an_observation(client, org, person):
    observation = _observation(org)
    client.force_login(getattr(org, person))
    url = reverse("certification:observation", args=[observation.pk])
    assert client.get(url).status_code == 404
    data = _post_data_for_observation(observation, 4, GOOD, sign="1")
    assert client.post(url, data).status_code == 404
    assert not SignOff.objects.exists()
    assert not observation.ratings.exists()


def _post_data_for_observation(observation, rating, comment="", **extra):
    data = {"overall_comment": ""}
    for c in observation.guide_version.criteria.all():
        if rating is not None:
            data[f"rating_{c.pk}"] = str(rating)
        data[f"comment_{c.pk}"] = comment
    return {**data, **extra}


SIGNOFF_PAGE = {
    "rep_a": 200,
    "manager_a": 200,  # the signer
    "director": 200,  # the rep's manager
    "enablement": 200,
    "manager_b": 404,
    "rep_b": 404,
    "tp_lead": 404,
    "admin": 404,
    "no_role": 404,
}


@pytest.mark.parametrize(("person", "status"), SIGNOFF_PAGE.items())
def test_a_signoff_is_for_the_rep_the_signer_the_reps_managers_and_enablement(
    client, org, person, status
):
    signoff = _signed(org)
    client.force_login(getattr(org, person))
    assert client.get(reverse("certification:signoff", args=[signoff.pk])).status_code == status


@pytest.mark.parametrize("person", ["manager_a", "director", "enablement", "manager_b", "no_role"])
def test_only_the_rep_acknowledges(client, org, person):
    signoff = _signed(org)
    client.force_login(getattr(org, person))
    url = reverse("certification:signoff_acknowledge", args=[signoff.pk])
    assert client.post(url).status_code == 404
    assert not SignOffAcknowledgement.objects.exists()


@pytest.mark.parametrize(
    ("person", "status"),
    {
        "manager_a": 200,  # the signer
        "enablement": 200,
        "director": 404,  # the rep's manager, but not the signer
        "rep_a": 404,
        "manager_b": 404,
        "no_role": 404,
    }.items(),
)
def test_only_the_signer_or_enablement_corrects_or_revokes(client, org, person, status):
    signoff = _signed(org)
    client.force_login(getattr(org, person))
    correct = reverse("certification:signoff_correct", args=[signoff.pk])
    revoke = reverse("certification:signoff_revoke", args=[signoff.pk])
    assert client.get(correct).status_code == status
    if status == 404:
        data = _post_data_for_observation(signoff.observation, 2, FIX, reason="Wrong")
        assert client.post(correct, data).status_code == 404
        assert client.post(revoke, {"reason": "Wrong"}).status_code == 404
        assert SignOff.objects.count() == 1
        assert not SignOffRevocation.objects.exists()


def test_missing_objects_are_404(client, org):
    client.force_login(org.enablement)
    for name in ("session", "session_score", "signoff", "signoff_correct"):
        assert client.get(reverse(f"certification:{name}", args=[999999])).status_code == 404


# Secrets -------------------------------------------------------------------------------------


def _rep_pages(client, session):
    return [
        client.get(reverse("certification:assessments")).content.decode(),
        client.get(reverse("certification:session", args=[session.pk])).content.decode(),
    ]


def test_the_rep_never_receives_the_buyer_brief_or_judge_notes_nor_a_score_before_release(
    client, org, session
):
    client.force_login(org.rep_a)
    hub, page = _rep_pages(client, session)
    # The rep reads the scenario, their brief and the rep-facing guide in advance.
    assert escape(session.scenario.rep_brief) in hub
    assert escape(session.scenario.rep_brief) in page
    assert "What C1 looks for" in page
    assert "C1 at 4" in page  # every point's descriptor
    assert "Room 4, Paris office" in hub
    assert 'href="https://meet.example.test/abc"' in page
    for secret in _secrets(session):
        assert secret not in hub
        assert secret not in page
    assert "BUYER-SECRET" not in hub + page
    assert "for judges only" not in hub + page
    # Judges score; still nothing for the rep until release.
    _submit(session, org.manager_b, rating=2, comment=FIX)
    hub, page = _rep_pages(client, session)
    assert "no scores are shown before release" in page
    for text in (FIX, "Panel rating", "Combined result", "%</span> your score"):
        assert text not in page
        assert text not in hub
    assert client.get(reverse("certification:session_score", args=[session.pk])).status_code == 404


def test_the_buyer_brief_is_for_the_panel_the_role_player_and_the_owner(client, org, session):
    notes = _criteria(session)[0].judge_notes
    brief = session.scenario.buyer_brief
    url = reverse("certification:session", args=[session.pk])
    for person, sees_brief, sees_notes in (
        (org.manager_b, True, True),
        (org.tp_lead, True, False),  # the role-player plays the buyer; judges' notes are not theirs
        (org.enablement, True, True),
        (org.manager_a, False, False),  # the rep's manager is not on the panel
    ):
        client.force_login(person)
        page = client.get(url).content.decode()
        assert (brief in page) is sees_brief, person
        assert (notes in page) is sees_notes, person


def test_a_judge_sees_no_other_ratings_until_they_submit(client, org, session):
    _submit(session, org.manager_b, rating=2, comment="B-ONLY-COMMENT")
    client.force_login(org.manager_c)
    url = reverse("certification:session_score", args=[session.pk])
    page = client.get(url).content.decode()
    assert "B-ONLY-COMMENT" not in page
    assert "Overall from Manager Beta" not in page
    assert "1 of 2 judges submitted" in page
    assert page.count('type="radio"') == 3 * 4
    # Submitting shows their own scores read-only and the other judge's below.
    response = client.post(url, _post_data(session, 3, GOOD, submit="1"))
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "B-ONLY-COMMENT" in page
    assert "Overall from Manager Beta" in page
    assert 'type="radio"' not in page
    assert "Submitted" in page


# Scoring -------------------------------------------------------------------------------------


def test_the_scoring_screen_has_the_guide_beside_accessible_radio_cards(client, org, session):
    client.force_login(org.manager_b)
    page = client.get(reverse("certification:session_score", args=[session.pk])).content.decode()
    first = _criteria(session)[0]
    assert first.judge_notes in page
    assert "What C1 looks for" in page
    assert page.count("<fieldset") == 3
    assert page.count("<legend>Rating for C") == 3
    assert "C1 at 2" in page  # the descriptor is the label
    assert f'for="id_rating_{first.pk}_0"' in page
    assert f'aria-describedby="id_comment_{first.pk}_helptext"' in page
    assert "Required when you rate below 3" in page
    assert "Save draft" in page
    assert "Submit scores" in page
    assert session.scenario.buyer_brief in page  # the judge plays along with the buyer


def test_a_comment_is_required_below_the_pass_level(client, org, session):
    client.force_login(org.manager_b)
    url = reverse("certification:session_score", args=[session.pk])
    response = client.post(url, _post_data(session, 2, "", submit="1"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Your scores are not submitted." in page
    assert "is below the pass level: say what the rep should do differently" in page
    first = _criteria(session)[0]
    assert f'id="id_comment_{first.pk}_error"' in page
    assert f"id_comment_{first.pk}_helptext id_comment_{first.pk}_error" in page
    assert f'href="#criterion-{first.pk}"' in page
    assert not Scorecard.objects.filter(status=Scorecard.Status.SUBMITTED).exists()


def test_an_incomplete_submission_marks_the_unrated_criteria(client, org, session):
    client.force_login(org.manager_b)
    url = reverse("certification:session_score", args=[session.pk])
    data = _post_data(session, 4, GOOD, submit="1")
    first = _criteria(session)[0]
    del data[f"rating_{first.pk}"]
    page = client.post(url, data).content.decode()
    assert "Rate “C1”." in page
    assert f'aria-describedby="id_rating_{first.pk}_error"' in page
    assert not Scorecard.objects.filter(status=Scorecard.Status.SUBMITTED).exists()


def test_save_draft_then_submit(client, org, session):
    client.force_login(org.manager_b)
    url = reverse("certification:session_score", args=[session.pk])
    response = client.post(url, _post_data(session, 2, "", save="1"))
    assert response.status_code == 302
    card = Scorecard.objects.get(session=session, judge=org.manager_b)
    assert card.status == Scorecard.Status.DRAFT
    page = client.get(url).content.decode()
    assert "Draft saved" in page
    assert page.count("checked") == 3  # the draft is shown again
    client.post(url, _post_data(session, 4, GOOD, submit="1"))
    card.refresh_from_db()
    assert card.status == Scorecard.Status.SUBMITTED
    # A submitted scorecard does not change.
    response = client.post(url, _post_data(session, 1, FIX, submit="1"), follow=True)
    assert "already submitted" in response.content.decode()
    assert set(card.ratings.values_list("rating", flat=True)) == {4}


def test_htmx_autosave_saves_a_draft_and_never_submits(client, org, session):
    client.force_login(org.manager_b)
    url = reverse("certification:session_score", args=[session.pk])
    response = client.post(url, _post_data(session, 4, GOOD, submit="1"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Draft saved at" in response.content.decode()
    assert Scorecard.objects.get(judge=org.manager_b).status == Scorecard.Status.DRAFT
    response = client.post(
        url, {"rating_999": "4"} | _post_data(session, 9), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400


# Release and feedback --------------------------------------------------------------------------


def test_release_needs_the_whole_panel(client, org, session):
    _submit(session, org.manager_b)
    client.force_login(org.enablement)
    response = client.post(reverse("certification:session_release", args=[session.pk]), follow=True)
    assert "1 judge has not submitted their scores yet." in response.content.decode()
    session.refresh_from_db()
    assert session.status == AssessmentSession.Status.SCHEDULED


def test_the_owner_previews_releases_and_the_rep_reads_the_feedback(client, org, session):
    _submit(session, org.manager_b, rating=4, comment=GOOD)
    criteria = _criteria(session)
    scorecard_save(
        session=session,
        judge=org.manager_c,
        ratings={
            c.pk: RatingInput(3 if i else 2, FIX if not i else "") for i, c in enumerate(criteria)
        },
        submit=True,
    )
    client.force_login(org.enablement)
    url = reverse("certification:session", args=[session.pk])
    page = client.get(url).content.decode()
    assert "Combined result, if released now" in page
    assert "Release the result to Rep Alpha" in page
    assert "Overall from Manager Beta" in page  # the owner reviews the scorecards
    response = client.post(reverse("certification:session_release", args=[session.pk]))
    assert response["Location"] == url
    session.refresh_from_db()
    assert session.status == AssessmentSession.Status.RELEASED
    # The rep now sees the combined result, the comments and the level-2 certification.
    client.force_login(org.rep_a)
    page = client.get(url).content.decode()
    assert "Feedback per criterion" in page
    assert f"{session.score:.2f}".rstrip("0").rstrip(".") in page
    assert GOOD in page
    assert FIX in page
    assert "You are now certified" in page
    assert "level 2 (application)" in page
    assert "Manager Beta" in page  # on the panel list, but comments carry no names
    # The judges' overall comments reach the rep once released, without the scorecards.
    assert "Overall from Manager Beta" in page
    assert "Submitted scorecards" not in page
    for secret in _secrets(session):
        assert secret not in page
    hub = client.get(reverse("certification:assessments")).content.decode()
    assert "Read your feedback" in hub
    for secret in _secrets(session):
        assert secret not in hub
    # The rep's manager sees the released score, not the judges' scorecards.
    client.force_login(org.manager_a)
    page = client.get(url).content.decode()
    assert "Feedback per criterion" in page
    assert "Overall from Manager Beta" in page  # the feedback the rep reads, without names
    assert "Submitted scorecards" not in page
    team = client.get(reverse("certification:assessments")).content.decode()
    assert session.scenario.title in team
    assert f"{session.score:.2f}".rstrip("0").rstrip(".") in team


def test_the_hub_shows_each_role_its_sessions_and_empty_states(client, org, session):
    scorecard_save(session=session, judge=org.manager_b, ratings=_ratings(session, 3))
    client.force_login(org.manager_b)
    page = client.get(reverse("certification:assessments")).content.decode()
    assert "Sessions you judge, play or own" in page
    assert "Draft" in page
    assert "0 of 2 submitted" in page
    assert reverse("certification:session_score", args=[session.pk]) in page
    assert "No assessment is scheduled for your teams." in page
    client.force_login(org.tp_lead)
    page = client.get(reverse("certification:assessments")).content.decode()
    assert "Buyer (role-player)" in page
    assert reverse("certification:session_score", args=[session.pk]) not in page
    client.force_login(org.rep_b)
    page = client.get(reverse("certification:assessments")).content.decode()
    assert "No role-play is scheduled for you." in page
    assert "No results yet." in page
    assert session.scenario.title not in page


# Field execution -------------------------------------------------------------------------------


def test_record_score_sign_correct_revoke_and_acknowledge_through_the_pages(client, org):
    guide = make_guide(criteria=2, critical=(0,))
    subject = SubjectFactory(name="Executive presence")
    client.force_login(org.manager_a)
    assert "Record an observation" in client.get(reverse("certification:field")).content.decode()
    response = client.post(
        reverse("certification:observation_new"),
        {
            "rep": org.rep_a.pk,
            "subject": subject.pk,
            "guide": guide.pk,
            "observed_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "kind": "executive_presentation",
            "crm_reference": "OPP-77",
            "contact_title": "CFO",
        },
    )
    observation = FieldObservation.objects.get()
    url = reverse("certification:observation", args=[observation.pk])
    assert response["Location"] == url
    page = client.get(url).content.decode()
    assert "Notes C1 for judges only" in page
    assert page.count("<legend>Rating for C") == 2
    # Signing needs a comment below the pass level: nothing is signed.
    response = client.post(url, _post_data_for_observation(observation, 2, "", sign="1"))
    assert response.status_code == 200
    assert "is below the pass level" in response.content.decode()
    assert not SignOff.objects.exists()
    # Complete: signed, and the rep holds level 3.
    response = client.post(url, _post_data_for_observation(observation, 4, GOOD, sign="1"))
    signoff = SignOff.objects.get()
    assert response["Location"] == reverse("certification:signoff", args=[signoff.pk])
    assert client.get(url)["Location"] == response["Location"]  # the sign-off is the record
    assert Certification.objects.get(rep=org.rep_a, level=3, status="active").signoff == signoff

    # The rep reads it, but cannot correct it.
    client.force_login(org.rep_a)
    page = client.get(reverse("certification:signoff", args=[signoff.pk])).content.decode()
    assert "Acknowledge the feedback" in page
    assert GOOD in page
    assert "C1 at 4" in page
    assert "Notes C1" not in page
    assert reverse("certification:signoff_correct", args=[signoff.pk]) not in page
    assert "Acknowledge" in client.get(reverse("certification:field")).content.decode()

    # The signer corrects it: a reason is required, then a new sign-off supersedes it.
    client.force_login(org.manager_a)
    correct = reverse("certification:signoff_correct", args=[signoff.pk])
    page = client.get(correct).content.decode()
    assert page.count("checked") == 2  # prefilled with the signed ratings
    assert GOOD in page
    response = client.post(correct, _post_data_for_observation(observation, 3, GOOD))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    response = client.post(
        correct, _post_data_for_observation(observation, 3, GOOD, reason="Misread C2")
    )
    new = SignOff.objects.get(supersedes=signoff)
    assert response["Location"] == reverse("certification:signoff", args=[new.pk])
    page = client.get(reverse("certification:signoff", args=[signoff.pk])).content.decode()
    assert "Superseded" in page
    assert client.get(correct).status_code == 302  # only the current one is corrected
    page = client.get(response["Location"]).content.decode()
    assert "Misread C2" in page
    assert "History" in page

    # Revoking needs a reason too.
    revoke = reverse("certification:signoff_revoke", args=[new.pk])
    response = client.post(revoke, {"reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not SignOffRevocation.objects.exists()
    response = client.post(revoke, {"reason": "Recorded for the wrong rep"})
    assert response["Location"] == reverse("certification:signoff", args=[new.pk])
    assert SignOffRevocation.objects.get().signoff == new
    assert not Certification.objects.filter(rep=org.rep_a, level=3, status="active").exists()
    page = client.get(response["Location"]).content.decode()
    assert "Recorded for the wrong rep" in page
    assert "Revoke this sign-off" not in page

    # The rep acknowledges the feedback (of a current sign-off).
    other = _signed(org)
    client.force_login(org.rep_a)
    field = reverse("certification:field")
    response = client.post(
        reverse("certification:signoff_acknowledge", args=[other.pk]), {"next": field}
    )
    assert response["Location"] == field
    assert SignOffAcknowledgement.objects.get().signoff == other
    page = client.get(field).content.decode()
    assert "Read on" in page
    assert "Revoked" in page
    assert "Superseded" in page


def test_acknowledge_ignores_an_unsafe_next(client, org):
    signoff = _signed(org)
    client.force_login(org.rep_a)
    response = client.post(
        reverse("certification:signoff_acknowledge", args=[signoff.pk]),
        {"next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("certification:signoff", args=[signoff.pk])


def test_the_field_page_lists_drafts_first_and_the_teams_signoffs(client, org):
    signed = _signed(org)
    draft = _observation(org)
    client.force_login(org.manager_a)
    page = client.get(reverse("certification:field")).content.decode()
    assert page.index(reverse("certification:observation", args=[draft.pk])) < page.index(
        reverse("certification:signoff", args=[signed.pk])
    )
    assert "Sign-offs in your teams" in page
    client.force_login(org.director)
    page = client.get(reverse("certification:field")).content.decode()
    assert reverse("certification:signoff", args=[signed.pk]) in page
    assert "You have recorded no observation yet." in page
    client.force_login(org.manager_b)
    page = client.get(reverse("certification:field")).content.decode()
    assert reverse("certification:signoff", args=[signed.pk]) not in page


# Query counts ------------------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _populate(org, *, sessions, criteria):
    made = []
    for _ in range(sessions):
        s = _schedule(org, criteria=criteria)
        _submit(s, org.manager_b)
        scorecard_save(session=s, judge=org.manager_c, ratings=_ratings(s, 3))
        made.append(s)
    return made


@pytest.mark.parametrize("person", ["rep_a", "manager_b", "manager_a", "enablement"])
def test_the_hub_reads_in_a_fixed_number_of_queries(
    client, org, person, django_assert_max_num_queries
):
    client.force_login(getattr(org, person))
    url = reverse("certification:assessments")
    _populate(org, sessions=1, criteria=2)
    small = _count(client, url)
    _populate(org, sessions=6, criteria=6)
    with django_assert_max_num_queries(small):
        client.get(url)


@pytest.mark.parametrize(
    ("person", "name"),
    [
        ("rep_a", "session"),
        ("enablement", "session"),
        ("manager_b", "session"),
        ("manager_b", "session_score"),
        ("manager_c", "session_score"),
    ],
)
def test_session_pages_read_in_a_fixed_number_of_queries(
    client, org, person, name, django_assert_max_num_queries
):
    client.force_login(getattr(org, person))
    (small,) = _populate(org, sessions=1, criteria=2)
    (large,) = _populate(org, sessions=1, criteria=9)
    budget = _count(client, reverse(f"certification:{name}", args=[small.pk]))
    with django_assert_max_num_queries(budget):
        client.get(reverse(f"certification:{name}", args=[large.pk]))


def test_a_released_session_reads_in_a_fixed_number_of_queries(
    client, org, django_assert_max_num_queries
):
    from certification.services.assessments import session_release

    sessions = []
    for criteria in (2, 9):
        s = _schedule(org, criteria=criteria)
        _submit(s, org.manager_b)
        _submit(s, org.manager_c, rating=3)
        sessions.append(session_release(session=s, actor=org.enablement))
    client.force_login(org.rep_a)
    budget = _count(client, reverse("certification:session", args=[sessions[0].pk]))
    with django_assert_max_num_queries(budget):
        client.get(reverse("certification:session", args=[sessions[1].pk]))


def test_field_pages_read_in_a_fixed_number_of_queries(client, org, django_assert_max_num_queries):
    first = _signed(org)
    _observation(org)
    counts = {}
    for person in ("manager_a", "rep_a", "enablement"):
        client.force_login(getattr(org, person))
        counts[person] = _count(client, reverse("certification:field"))
    small_signoff = _count(client, reverse("certification:signoff", args=[first.pk]))
    for _ in range(5):
        _signed(org)
        _observation(org, criteria=8)
    for person, budget in counts.items():
        client.force_login(getattr(org, person))
        with django_assert_max_num_queries(budget):
            client.get(reverse("certification:field"))
    big = _signed(org)
    client.force_login(org.enablement)
    with django_assert_max_num_queries(small_signoff):
        client.get(reverse("certification:signoff", args=[big.pk]))


def test_observation_pages_read_in_a_fixed_number_of_queries(
    client, org, django_assert_max_num_queries
):
    small = _observation(org, criteria=2)
    large = _observation(org, criteria=9)
    client.force_login(org.manager_a)
    budget = _count(client, reverse("certification:observation", args=[small.pk]))
    with django_assert_max_num_queries(budget):
        client.get(reverse("certification:observation", args=[large.pk]))
    budget = _count(client, reverse("certification:observation_new"))
    for _ in range(5):
        delegation_create(delegate=org.manager_a, actor=org.enablement, team=org.beta)
    with django_assert_max_num_queries(budget):
        client.get(reverse("certification:observation_new"))


# The home page and the navigation ----------------------------------------------------------------


def _home(client, person):
    client.force_login(person)
    return client.get(reverse("certification:home")).content.decode()


def test_home_lists_the_reps_role_plays_and_sign_offs_to_acknowledge(client, org, session):
    signoff = _signed(org)
    page = _home(client, org.rep_a)
    assert reverse("certification:session", args=[session.pk]) in page
    assert "1 field sign-off to read and acknowledge" in page
    signoff_acknowledge(signoff=signoff, rep=org.rep_a)
    page = _home(client, org.rep_a)
    assert "to read and acknowledge" not in page
    # another rep has nothing of rep A's
    page = _home(client, org.rep_b)
    assert reverse("certification:session", args=[session.pk]) not in page
    assert "No role-play scheduled" in page


def test_home_tells_judges_owners_and_observers_what_waits_for_them(client, org, session):
    assert "1 role-play to score" in _home(client, org.manager_b)
    assert "Waiting for you" not in _home(client, org.manager_a)  # not on the panel
    _submit(session, org.manager_b)
    assert "to score" not in _home(client, org.manager_b)
    assert "ready to release" not in _home(client, org.enablement)  # Gamma has not submitted
    _submit(session, org.manager_c)
    page = _home(client, org.enablement)  # the owner, and enablement
    assert "1 result ready to release" in page
    assert f"{reverse('certification:manage_sessions')}?status=ready" in page
    assert "ready to release" not in _home(client, org.manager_b)  # a judge does not release
    _observation(org)
    assert "1 field observation to finish and sign off" in _home(client, org.manager_a)


def test_the_ready_filter_lists_sessions_whose_panel_has_all_submitted(client, org, session):
    waiting = _schedule(org, rep=org.rep_b, judges=[org.manager_a, org.manager_c])
    _submit(session, org.manager_b)
    _submit(session, org.manager_c)
    client.force_login(org.enablement)
    page = client.get(reverse("certification:manage_sessions"), {"status": "ready"})
    assert page.status_code == 200
    rows = page.content.decode()
    assert org.rep_a.display_name in rows
    assert org.rep_b.display_name not in rows
    assert waiting.rep == org.rep_b


@pytest.mark.parametrize(
    ("person", "links"),
    [
        ("rep_a", {"Assessments", "Field"}),
        ("manager_a", {"Assessments", "Field"}),
        ("enablement", {"Assessments", "Field", "Assessment setup"}),
        ("tp_lead", set()),
        ("no_role", set()),
    ],
)
def test_the_navigation_shows_the_assessment_links_that_apply(client, org, person, links):
    page = _home(client, getattr(org, person))
    nav = page[page.index('aria-label="Main"') : page.index("</nav>")]
    shown = {name for name in ("Assessments", "Field", "Assessment setup") if f">{name}<" in nav}
    assert shown == links


def test_a_role_player_without_a_role_sees_the_assessments_link(client, org, session):
    assert session.role_player == org.tp_lead
    org.tp_lead.is_teleprospecting_lead = False
    org.tp_lead.save()
    page = _home(client, org.tp_lead)
    nav = page[page.index('aria-label="Main"') : page.index("</nav>")]
    assert ">Assessments<" in nav


def test_my_certifications_link_the_level_2_and_3_evidence(client, org, session):
    _submit(session, org.manager_b)
    _submit(session, org.manager_c)
    session_release(session=session, actor=org.enablement)
    signoff = _signed(org)
    client.force_login(org.rep_a)
    page = client.get(reverse("certification:my_certifications")).content.decode()
    assert f'href="{reverse("certification:session", args=[session.pk])}"' in page
    assert f"Role-play: {escape(session.scenario.title)}" in page
    assert f'href="{reverse("certification:signoff", args=[signoff.pk])}"' in page
    assert Certification.objects.filter(rep=org.rep_a, status="active").count() == 2


def test_the_role_player_never_sees_the_result(client, org, session):
    _submit(session, org.manager_b)
    _submit(session, org.manager_c)
    released = session_release(session=session, actor=org.enablement)
    url = reverse("certification:session", args=[session.pk])
    client.force_login(org.tp_lead)  # plays the buyer
    page = client.get(url).content.decode()
    assert session.scenario.buyer_brief in page  # they still read what they play
    assert 'id="result"' not in page
    assert GOOD not in page
    assert f"{released.score:.2f}".rstrip("0").rstrip(".") + "%" not in page
    # The rep and the panel do see it.
    for viewer in (org.rep_a, org.manager_b):
        client.force_login(viewer)
        assert GOOD in client.get(url).content.decode()
