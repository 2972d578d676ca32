"""Tiers: every rule edge, the reasons and missing items, recomputation, history, overrides."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from accounts.models import AuditEvent, User
from certification.models import (
    Certification,
    Deal,
    OutboxMessage,
    RepTier,
    Subject,
    TierChange,
    TierOverride,
)
from certification.services import tiers
from certification.services.certifications import certification_revoke
from certification.services.tiers import (
    NamedSubject,
    RuleView,
    TierFacts,
    tier_evaluate,
    tier_override_end,
    tier_override_set,
    tier_rule,
    tier_rule_update,
    tiers_recompute,
    window_start,
)
from certification.tasks import recompute_all_tiers, recompute_tiers_bulk
from config.celery import app
from config.errors import ApplicationError
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db

CLOUD, ANALYTICS, EXEC = (
    NamedSubject(1, "Acme Cloud"),
    NamedSubject(2, "Acme Analytics"),
    NamedSubject(3, "Presenting to a senior executive"),
)
RULE = RuleView(
    offerings=(ANALYTICS, CLOUD),
    silver_level2=(CLOUD,),
    gold_threshold=Decimal(250000),
    gold_window_days=365,
    gold_level3=EXEC,
    currency="USD",
)
BRONZE = frozenset({(1, 1), (2, 1)})
SILVER = BRONZE | {(1, 2)}
GOLD = SILVER | {(3, 3)}


# The evaluation function (pure) ------------------------------------------------------------


def test_nothing_held_is_no_tier_and_names_every_missing_level_1():
    result = tier_evaluate(TierFacts(held=frozenset()), RULE)
    assert (result.tier, result.next_tier) == ("none", "bronze")
    assert result.missing == ["level 1 on Acme Analytics", "level 1 on Acme Cloud"]
    assert result.reasons == []


def test_bronze_is_level_1_on_every_active_offering():
    result = tier_evaluate(TierFacts(held=BRONZE), RULE)
    assert result.tier == "bronze"
    assert result.reasons == ["level 1 on every active offering (Acme Analytics, Acme Cloud)"]
    assert result.missing == ["a first closed-won deal", "level 2 on Acme Cloud"]


def test_silver_needs_a_won_deal_and_the_named_level_2():
    no_deal = tier_evaluate(TierFacts(held=SILVER), RULE)
    assert (no_deal.tier, no_deal.missing) == ("bronze", ["a first closed-won deal"])
    won = TierFacts(held=SILVER, won_deals=1, first_won_on=date(2026, 3, 2))
    result = tier_evaluate(won, RULE)
    assert result.tier == "silver"
    assert "first closed-won deal on 2 Mar 2026" in result.reasons
    assert result.missing == [
        "250,000 USD more revenue in the last 12 months",
        "level 3 on Presenting to a senior executive",
    ]


def test_gold_needs_the_revenue_threshold_and_the_level_3():
    short = TierFacts(
        held=GOLD, won_deals=3, first_won_on=date(2026, 1, 5), window_revenue=Decimal(208000)
    )
    result = tier_evaluate(short, RULE)
    assert result.tier == "silver"
    assert result.missing == ["42,000 USD more revenue in the last 12 months"]
    exactly = TierFacts(
        held=GOLD, won_deals=3, first_won_on=date(2026, 1, 5), window_revenue=Decimal(250000)
    )
    result = tier_evaluate(exactly, RULE)
    assert (result.tier, result.next_tier, result.missing) == ("gold", None, [])
    assert "250,000 USD won in the last 12 months (threshold 250,000 USD)" in result.reasons


def test_a_higher_level_alone_does_not_skip_a_tier():
    # level 2 and 3 and revenue, but one offering lacks level 1: no tier at all
    facts = TierFacts(
        held=GOLD - {(2, 1)},
        won_deals=9,
        first_won_on=date(2025, 1, 1),
        window_revenue=Decimal(10**6),
    )
    result = tier_evaluate(facts, RULE)
    assert (result.tier, result.missing) == ("none", ["level 1 on Acme Analytics"])


def test_no_active_offering_means_no_bronze():
    result = tier_evaluate(TierFacts(held=BRONZE), RuleView((), (), Decimal(0), 365, None))
    assert result.tier == "none"
    assert "an active offering" in result.missing[0]


def test_the_window_ends_today_and_starts_window_minus_one_days_before():
    assert window_start(date(2026, 11, 22), 365) == date(2025, 11, 23)
    assert window_start(date(2026, 11, 22), 1) == date(2026, 11, 22)


# Recomputation against the database --------------------------------------------------------


@pytest.fixture
def catalog():
    cloud = SubjectFactory(name="Acme Cloud")
    analytics = SubjectFactory(name="Acme Analytics")
    executive = SubjectFactory(name="Presenting to a senior executive", kind=Subject.Kind.SKILL)
    SubjectFactory(name="Retired offering", is_active=False)  # not required for bronze
    rule = tier_rule()
    rule.silver_level2_subjects.set([cloud])
    rule.gold_level3_subject = executive
    rule.gold_revenue_threshold = Decimal(100000)
    rule.save()
    return cloud, analytics, executive


NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 22)


def _certify(rep, subject, level):
    return held_certification(rep, subject, level, now=NOW - timedelta(days=30))


def _deal(rep, opp, amount, close_date, stage="won", currency="USD"):
    return Deal.objects.create(
        opportunity_id=opp,
        rep=rep,
        amount=amount,
        amount_base=amount,
        currency=currency,
        close_date=close_date,
        stage=stage,
    )


def _gold(rep, catalog):
    cloud, analytics, executive = catalog
    for subject, level in ((cloud, 1), (analytics, 1), (cloud, 2), (executive, 3)):
        _certify(rep, subject, level)


def _tier(rep):
    return RepTier.objects.get(rep=rep)


def test_recompute_stores_the_tier_reasons_missing_and_each_change(org, catalog):
    rep = org.rep_a
    assert tiers_recompute(rep_ids=[rep.pk], cause="test", now=NOW) == 0  # none -> none
    assert _tier(rep).missing == ["level 1 on Acme Analytics", "level 1 on Acme Cloud"]
    _gold(rep, catalog)
    _deal(rep, "OPP-1", Decimal(60000), TODAY - timedelta(days=10))
    assert tiers_recompute(rep_ids=[rep.pk], cause="deals imported", now=NOW) == 1
    row = _tier(rep)
    assert (row.tier, row.computed) == ("silver", "silver")
    assert row.missing == ["40,000 USD more revenue in the last 12 months"]
    change = TierChange.objects.get(rep=rep)
    assert (change.old_tier, change.new_tier, change.cause) == ("none", "silver", "deals imported")
    assert change.reasons == row.reasons
    # the same facts again: no new change
    assert tiers_recompute(rep_ids=[rep.pk], cause="nightly", now=NOW) == 0
    assert TierChange.objects.count() == 1


def test_the_revenue_windows_first_and_last_day_count_and_the_day_before_does_not(org, catalog):
    rep = org.rep_a
    _gold(rep, catalog)
    first_day = window_start(TODAY, 365)
    _deal(rep, "OPP-first-day", Decimal(50000), first_day)
    _deal(rep, "OPP-today", Decimal(50000), TODAY)
    _deal(rep, "OPP-too-old", Decimal(50000), first_day - timedelta(days=1))
    _deal(rep, "OPP-tomorrow", Decimal(50000), TODAY + timedelta(days=1))  # not closed yet
    tiers_recompute(rep_ids=[rep.pk], cause="test", now=NOW)
    assert _tier(rep).tier == "gold"  # exactly 100,000 in the window
    Deal.objects.filter(opportunity_id="OPP-first-day").update(
        close_date=first_day - timedelta(days=1)
    )
    tiers_recompute(rep_ids=[rep.pk], cause="test", now=NOW)
    assert _tier(rep).tier == "silver"
    assert _tier(rep).missing == ["50,000 USD more revenue in the last 12 months"]


def test_a_first_deal_lost_is_no_silver_and_a_won_one_is(org, catalog):
    rep = org.rep_a
    cloud, analytics, _executive = catalog
    for subject, level in ((cloud, 1), (analytics, 1), (cloud, 2)):
        _certify(rep, subject, level)
    _deal(rep, "OPP-lost", Decimal(90000), TODAY - timedelta(days=3), stage="lost")
    _deal(rep, "OPP-open", None, TODAY - timedelta(days=2), stage="open")
    tiers_recompute(rep_ids=[rep.pk], cause="test", now=NOW)
    assert (_tier(rep).tier, _tier(rep).missing) == ("bronze", ["a first closed-won deal"])
    _deal(rep, "OPP-won", Decimal(0), TODAY - timedelta(days=1))  # a won deal, even of 0
    tiers_recompute(rep_ids=[rep.pk], cause="test", now=NOW)
    assert _tier(rep).tier == "silver"


def test_an_expired_certification_drops_a_tier_even_before_the_sweep(org, catalog):
    rep = org.rep_a
    _gold(rep, catalog)
    _deal(rep, "OPP-1", Decimal(200000), TODAY)
    tiers_recompute(rep_ids=[rep.pk], cause="test", now=NOW)
    assert _tier(rep).tier == "gold"
    Certification.objects.filter(rep=rep, level=3).update(expires_at=NOW - timedelta(minutes=1))
    tiers_recompute(rep_ids=[rep.pk], cause="nightly", now=NOW)
    assert _tier(rep).tier == "silver"
    assert _tier(rep).missing == ["level 3 on Presenting to a senior executive"]
    assert TierChange.objects.filter(rep=rep).first().new_tier == "silver"


def test_a_revoked_certification_drops_the_tier_after_commit(
    org, catalog, django_capture_on_commit_callbacks
):
    rep = org.rep_a
    cloud, analytics, _executive = catalog
    with django_capture_on_commit_callbacks(execute=True):
        _certify(rep, cloud, 1)
        held = _certify(rep, analytics, 1)
    assert _tier(rep).tier == "bronze"  # issuing queued the recompute, run eagerly on commit
    with django_capture_on_commit_callbacks(execute=True):
        certification_revoke(
            certification=held, reason="Cheated", actor=org.enablement, now=timezone.now()
        )
    assert _tier(rep).tier == "none"
    assert [c.new_tier for c in TierChange.objects.filter(rep=rep)] == ["none", "bronze"]


def test_an_override_applies_until_its_end_date_and_is_audited(org, catalog):
    rep = org.rep_a
    override = tier_override_set(
        rep=rep,
        tier="gold",
        reason="Strategic account lead",
        ends_on=TODAY + timedelta(days=7),
        actor=org.enablement,
        now=NOW,
    )
    row = _tier(rep)
    assert (row.tier, row.computed) == ("gold", "none")
    assert row.reasons[0].startswith("set to Gold by enablement until 29 Nov 2026: Strategic")
    assert AuditEvent.objects.filter(action="tier.overridden").count() == 1
    # the last day still counts; the day after, the computed tier applies again
    tiers_recompute(rep_ids=[rep.pk], cause="nightly", now=NOW + timedelta(days=7))
    assert _tier(rep).tier == "gold"
    tiers_recompute(rep_ids=[rep.pk], cause="nightly", now=NOW + timedelta(days=8))
    assert _tier(rep).tier == "none"
    assert TierOverride.objects.get(pk=override.pk).ended_at is None  # it simply lapsed


def test_an_override_can_end_early(org, catalog):
    override = tier_override_set(
        rep=org.rep_a,
        tier="silver",
        reason="Pilot",
        ends_on=TODAY + timedelta(days=30),
        actor=org.enablement,
        now=NOW,
    )
    tier_override_end(override=override, actor=org.enablement, now=NOW)
    assert _tier(org.rep_a).tier == "none"
    assert AuditEvent.objects.filter(action="tier.override_ended").count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": " "}, "reason"),
        ({"ends_on": TODAY - timedelta(days=1)}, "ends_on"),
        ({"tier": "platinum"}, "tier"),
    ],
)
def test_a_bad_override_is_refused_and_nothing_is_written(org, changes, field):
    values = {"tier": "gold", "reason": "Why", "ends_on": TODAY, **changes}
    with pytest.raises(ApplicationError) as raised:
        tier_override_set(rep=org.rep_a, actor=org.enablement, now=NOW, **values)
    assert field in raised.value.field_errors
    assert not TierOverride.objects.exists()
    assert not AuditEvent.objects.filter(action="tier.overridden").exists()


def test_the_rule_is_edited_audited_and_checked(org, catalog, django_capture_on_commit_callbacks):
    cloud, analytics, executive = catalog
    rep = org.rep_a
    _gold(rep, catalog)
    _deal(rep, "OPP-1", Decimal(100000), TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        tier_rule_update(
            actor=org.enablement,
            silver_level2_subjects=[cloud, analytics],
            gold_revenue_threshold=Decimal(50000),
            gold_window_days=90,
            gold_level3_subject=executive,
        )
    event = AuditEvent.objects.get(action="tier_rule.updated")
    assert event.changes["to"]["silver_level2_subjects"] == ["Acme Analytics", "Acme Cloud"]
    assert _tier(rep).tier == "bronze"  # everyone was recomputed: level 2 on Analytics missing
    with pytest.raises(ApplicationError):
        tier_rule_update(
            actor=org.enablement,
            silver_level2_subjects=[executive],  # not an offering
            gold_revenue_threshold=Decimal(1),
            gold_window_days=90,
            gold_level3_subject=None,
        )
    with pytest.raises(ApplicationError):
        tier_rule_update(
            actor=org.enablement,
            silver_level2_subjects=[],
            gold_revenue_threshold=Decimal(-1),
            gold_window_days=90,
            gold_level3_subject=None,
        )
    assert tier_rule().gold_window_days == 90


def test_recomputing_everyone_is_shared_out_in_bulk_tasks_that_cover_each_active_rep_once(
    org, catalog, monkeypatch, user_factory, django_capture_on_commit_callbacks
):
    cloud, analytics, _executive = catalog
    monkeypatch.setattr(tiers, "RECOMPUTE_ALL_BATCH", 3)
    reps = user_factory.create_batch(6, rep=True, team=org.alpha)
    left = user_factory(rep=True, team=org.alpha, is_active=False)
    for subject in (cloud, analytics):
        _certify(reps[0], subject, 1)
    active = sorted(User.objects.filter(is_rep=True, is_active=True).values_list("pk", flat=True))
    assert len(active) >= 7  # the org's reps and these six: three tasks at least

    # when the nightly task runs (eagerly here: the tasks it sends run as it commits)
    with django_capture_on_commit_callbacks(execute=True):
        sent = recompute_all_tiers("nightly recompute")

    # then it sent one bulk task per 3 reps, which together name every active rep once
    messages = OutboxMessage.objects.filter(task_name="certification.recompute_tiers_bulk")
    shares = [message.kwargs["rep_ids"] for message in messages.order_by("pk")]
    assert sent == len(shares) == -(-len(active) // 3)
    assert [len(share) for share in shares[:-1]] == [3] * (len(shares) - 1)
    assert sorted(pk for share in shares for pk in share) == active
    assert left.pk not in active
    assert {message.kwargs["cause"] for message in messages} == {"nightly recompute"}
    assert all(message.sent_at is not None for message in messages)
    # on the bulk queue, where every worker process consuming it takes a share
    assert app.conf.task_routes["certification.recompute_tiers_bulk"] == {"queue": "bulk"}
    # and the shares ran: every active rep computed, the certified one bronze
    computed = RepTier.objects.filter(computed_at__isnull=False).values_list("rep_id", flat=True)
    assert sorted(computed) == active
    assert _tier(reps[0]).tier == "bronze"
    changes = TierChange.objects.count()
    assert changes == 1
    # a share delivered twice (late acknowledgement) changes nothing the second time
    assert recompute_tiers_bulk(rep_ids=shares[0], cause="nightly recompute") == 0
    assert TierChange.objects.count() == changes


def test_recompute_reads_in_a_fixed_number_of_queries(
    org, catalog, django_assert_max_num_queries, user_factory
):
    reps = [org.rep_a, org.rep_b]
    with django_assert_max_num_queries(20) as few:
        tiers_recompute(rep_ids=[r.pk for r in reps], cause="test", now=NOW)
    many = user_factory.create_batch(40, rep=True, team=org.alpha)
    for rep in many[:10]:
        _deal(rep, f"OPP-{rep.pk}", Decimal(10), TODAY)
    with django_assert_max_num_queries(len(few)):
        tiers_recompute(rep_ids=[r.pk for r in reps + many], cause="test", now=NOW)
    assert RepTier.objects.count() == 42


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_recomputes_of_one_rep_leave_one_consistent_result_on_postgresql(org, catalog):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    rep = org.rep_a
    cloud, analytics, _executive = catalog
    _certify(rep, cloud, 1)
    _certify(rep, analytics, 1)
    barrier, errors = threading.Barrier(4), []

    def recompute():
        try:
            barrier.wait()
            tiers_recompute(rep_ids=[rep.pk], cause="race", now=NOW)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=recompute) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert RepTier.objects.get(rep=rep).tier == "bronze"
    assert TierChange.objects.filter(rep=rep).count() == 1  # one change, not four


def test_a_new_override_replaces_the_running_one(org, catalog):
    first = tier_override_set(
        rep=org.rep_a,
        tier="gold",
        reason="Launch",
        ends_on=TODAY + timedelta(days=60),
        actor=org.enablement,
        now=NOW,
    )
    second = tier_override_set(
        rep=org.rep_a,
        tier="bronze",
        reason="Probation",
        ends_on=TODAY + timedelta(days=5),
        actor=org.enablement,
        now=NOW,
    )
    assert TierOverride.objects.get(pk=first.pk).ended_at == NOW
    tier_override_end(override=second, actor=org.enablement, now=NOW)
    assert _tier(org.rep_a).tier == "none"  # not gold again from the first one


def test_a_lapsed_certification_is_replaced_by_new_evidence(org, catalog):
    cloud, _analytics, _executive = catalog
    old = _certify(org.rep_a, cloud, 1)
    Certification.objects.filter(pk=old.pk).update(expires_at=NOW - timedelta(days=1))
    new = held_certification(org.rep_a, cloud, 1, now=NOW)
    assert new.pk != old.pk
    assert Certification.objects.get(pk=old.pk).status == "expired"
    assert new.status == "active"


def test_a_retired_subject_in_the_rule_is_not_required(org, catalog):
    _cloud, _analytics, executive = catalog
    _gold(org.rep_a, catalog)
    _deal(org.rep_a, "OPP-1", Decimal(100000), TODAY)
    executive.is_active = False
    executive.save()
    Certification.objects.filter(rep=org.rep_a, level=3).update(status="revoked", revoked_at=NOW)
    tiers_recompute(rep_ids=[org.rep_a.pk], cause="test", now=NOW)
    assert _tier(org.rep_a).tier == "gold"
