"""Tier pages: the rep's own tier and checklist, a manager's team, enablement's rule, reps,
overrides and history. Anonymous people go to sign-in; anyone else gets 404."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from certification.models import Deal, RepTier, Subject, TierOverride
from certification.services.tiers import tier_rule, tiers_recompute
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(org):
    cloud = SubjectFactory(name="Acme Cloud")
    executive = SubjectFactory(name="Presenting to a senior executive", kind=Subject.Kind.SKILL)
    rule = tier_rule()
    rule.silver_level2_subjects.set([cloud])
    rule.gold_level3_subject = executive
    rule.gold_revenue_threshold = Decimal(100000)
    rule.save()
    now = timezone.now()
    held_certification(org.rep_a, cloud, 1, now=now)
    held_certification(org.rep_a, cloud, 2, now=now)
    Deal.objects.create(
        opportunity_id="OPP-1",
        rep=org.rep_a,
        amount=Decimal(58000),
        amount_base=Decimal(58000),
        currency="USD",
        close_date=timezone.localdate(),
        stage="won",
    )
    tiers_recompute(rep_ids=[org.rep_a.pk, org.rep_b.pk, org.rep_c.pk], cause="test")
    return cloud, executive


def _get(client, person, name, *args, **params):
    if person is not None:
        client.force_login(person)
    return client.get(reverse(f"certification:{name}", args=args), params)


PAGES = [("my_tier", ()), ("team_tiers", ()), ("manage_tiers", ()), ("manage_tier_history", ())]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_anonymous_people_go_to_sign_in(client, name, args):
    response = client.get(reverse(f"certification:{name}", args=args))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize(
    ("person", "allowed"),
    [
        ("rep_a", {"my_tier"}),
        ("manager_a", {"team_tiers"}),
        ("enablement", {"team_tiers", "manage_tiers", "manage_tier_history"}),
        ("tp_lead", set()),
        ("admin", set()),
        ("no_role", set()),
    ],
)
def test_who_opens_which_tier_page(client, org, catalog, person, allowed):
    client.force_login(getattr(org, person))
    for name, args in PAGES:
        status = client.get(reverse(f"certification:{name}", args=args)).status_code
        assert status == (200 if name in allowed else 404), name


def test_the_rep_sees_their_tier_why_and_what_the_next_one_needs(client, org, catalog):
    page = _get(client, org.rep_a, "my_tier").content.decode()
    assert 'class="tier tier--silver"' in page
    assert "first closed-won deal on" in page
    assert "What Gold still needs" in page
    assert "42,000 USD more revenue in the last 12 months" in page
    assert "Level 3 on Presenting to a senior executive" in page
    assert reverse("certification:field") in page  # where to act on the level 3
    assert "How your tier changed" in page


def test_a_rep_never_sees_another_reps_tier(client, org, catalog):
    client.force_login(org.rep_b)
    page = client.get(reverse("certification:my_tier")).content.decode()
    assert "42,000" not in page
    assert (
        client.get(reverse("certification:manage_rep_tier", args=[org.rep_a.pk])).status_code == 404
    )
    client.force_login(org.rep_a)  # not even their own through the managers' page
    assert (
        client.get(reverse("certification:manage_rep_tier", args=[org.rep_a.pk])).status_code == 404
    )


def test_a_manager_sees_their_subtree_only(client, org, catalog):
    page = _get(client, org.manager_a, "team_tiers").content.decode()
    assert org.rep_a.display_name in page
    assert org.rep_a1.display_name in page  # Alpha-1 is under Alpha
    assert org.rep_b.display_name not in page
    assert (
        client.get(reverse("certification:manage_rep_tier", args=[org.rep_a.pk])).status_code == 200
    )
    client.force_login(org.manager_b)
    assert (
        client.get(reverse("certification:manage_rep_tier", args=[org.rep_a.pk])).status_code == 404
    )
    page = client.get(reverse("certification:team_tiers"), {"tier": "silver"}).content.decode()
    assert org.rep_a.display_name not in page


def test_a_manager_cannot_override(client, org, catalog):
    client.force_login(org.manager_a)
    url = reverse("certification:manage_rep_tier", args=[org.rep_a.pk])
    assert "Set the tier by hand" not in client.get(url).content.decode()
    data = {"tier": "gold", "ends_on": timezone.localdate().isoformat(), "reason": "Mine"}
    assert client.post(url, data).status_code == 404
    assert not TierOverride.objects.exists()


def test_enablement_sets_and_ends_an_override(client, org, catalog):
    client.force_login(org.enablement)
    url = reverse("certification:manage_rep_tier", args=[org.rep_a.pk])
    bad = client.post(url, {"tier": "gold", "ends_on": "2001-01-01", "reason": "Late"})
    assert bad.status_code == 200
    assert '<p class="field__error">Today or later.</p>' in bad.content.decode()
    assert not TierOverride.objects.exists()
    ends = (timezone.localdate() + timedelta(days=10)).isoformat()
    response = client.post(
        url, {"tier": "gold", "ends_on": ends, "reason": "Covers the APAC launch"}
    )
    assert response["Location"] == url
    assert RepTier.objects.get(rep=org.rep_a).tier == "gold"
    page = client.get(url).content.decode()
    assert "Covers the APAC launch" in page
    override = TierOverride.objects.get()
    client.post(reverse("certification:manage_tier_override_end", args=[override.pk]))
    assert RepTier.objects.get(rep=org.rep_a).tier == "silver"
    actions = AuditEvent.objects.filter(action__startswith="tier.").values_list("action", flat=True)
    assert set(actions) == {"tier.override_ended", "tier.overridden"}
    assert len(actions) == 2


def test_enablement_edits_the_rule_and_a_bad_value_changes_nothing(client, org, catalog):
    cloud, executive = catalog
    client.force_login(org.enablement)
    url = reverse("certification:manage_tiers")
    page = client.get(url).content.decode()
    assert "level 1 on every active offering (Acme Cloud)" in page
    bad = client.post(
        url,
        {
            "silver_level2_subjects": [cloud.pk],
            "gold_revenue_threshold": "-5",
            "gold_window_days": "365",
        },
    )
    assert bad.status_code == 200
    assert tier_rule().gold_revenue_threshold == Decimal(100000)
    response = client.post(
        url,
        {
            "silver_level2_subjects": [cloud.pk],
            "gold_revenue_threshold": "50000",
            "gold_window_days": "90",
            "gold_level3_subject": executive.pk,
        },
    )
    assert response.status_code == 302
    rule = tier_rule()
    assert (rule.gold_revenue_threshold, rule.gold_window_days) == (Decimal(50000), 90)
    assert AuditEvent.objects.filter(action="tier_rule.updated").count() == 1


def test_the_history_lists_every_change_with_its_reasons(client, org, catalog):
    page = _get(client, org.enablement, "manage_tier_history").content.decode()
    assert org.rep_a.display_name in page
    assert "first closed-won deal" in page
    filtered = _get(client, None, "manage_tier_history", q="nobody-matches").content.decode()
    assert "No change matches." in filtered


def test_the_team_page_reads_in_a_fixed_number_of_queries(
    client, org, catalog, user_factory, django_assert_max_num_queries
):
    client.force_login(org.enablement)
    url = reverse("certification:team_tiers")
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    reps = user_factory.create_batch(15, rep=True, team=org.gamma)
    tiers_recompute(rep_ids=[r.pk for r in reps], cause="test")
    with django_assert_max_num_queries(len(few)):
        client.get(url)


def test_home_shows_the_reps_tier(client, org, catalog):
    client.force_login(org.rep_a)
    page = client.get(reverse("certification:home")).content.decode()
    assert 'class="tier tier--silver"' in page
    assert reverse("certification:my_tier") in page
