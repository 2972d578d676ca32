# ruff: noqa: ARG005 - each case names what it needs of the organisation and the world
"""Readiness summaries: the headline read from them equals the headline worked out live, at
any later moment and after any change, because triggers mark a changed rep's summary stale in
the same transaction and readers count stale reps live."""

from __future__ import annotations

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.models import Team
from accounts.services import team_create, team_update, user_set_team
from certification.models import (
    AssessmentSession,
    Attempt,
    Certification,
    FieldObservation,
    OfferingReadinessSummary,
    ReadinessGeneration,
    ReadinessSummary,
    RequiredCertification,
    Subject,
)
from certification.selectors.readiness import ACTIVITY, ReportFilters, readiness_headline
from certification.services import readiness_summaries
from certification.services.readiness_summaries import (
    readiness_summaries_refresh,
    stale_rep_ids,
)
from certification.tasks import refresh_readiness_summaries
from tests.certification.conftest import require
from tests.factories.accounts import UserFactory
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db


def _live(viewer, filters, now):
    """The headline with no summary counting: every rep worked out from the facts."""
    with transaction.atomic():
        ReadinessSummary.objects.all().delete()
        headline = readiness_headline(viewer=viewer, filters=filters, now=now)
        transaction.set_rollback(True)
    return headline


def _summarised(org, now):
    return {
        rep.pk
        for rep in (org.rep_a, org.rep_a1, org.rep_b, org.rep_c)
        if rep.pk not in stale_rep_ids(now=now)
    }


def _assert_same_as_live(viewer, now, filters=None):
    filters = filters or ReportFilters()
    summarised = readiness_headline(viewer=viewer, filters=filters, now=now)
    assert summarised == _live(viewer, filters, now)
    return summarised


VIEWERS_AND_FILTERS = [
    (lambda o, w: o.enablement, lambda o, w: ReportFilters()),
    (lambda o, w: o.director, lambda o, w: ReportFilters()),
    (lambda o, w: o.manager_b, lambda o, w: ReportFilters()),
    (lambda o, w: o.enablement, lambda o, w: ReportFilters(region=o.north.pk)),
    (lambda o, w: o.enablement, lambda o, w: ReportFilters(offering=w.secure.pk)),
    (lambda o, w: o.enablement, lambda o, w: ReportFilters(segment="Enterprise")),
    (lambda o, w: o.enablement, lambda o, w: ReportFilters(subject=w.cloud.pk, tier="gold")),
]


@pytest.mark.parametrize(("viewer", "filters"), VIEWERS_AND_FILTERS)
@pytest.mark.parametrize("days_later", [0, 20, 21, 45, 46, 400])
def test_the_headline_from_summaries_equals_the_live_one_as_time_passes(
    org, world, viewer, filters, days_later
):
    """Summaries computed now still give the live answer weeks later: at and past rep_c's
    Cloud L1 expiry (20 days), rep_b's Secure L1 (45) and every 90-day activity window (400)."""
    result = readiness_summaries_refresh(now=world.now)
    assert result.refreshed == 4  # the active reps; the deactivated one is not summarised
    later = world.now + timedelta(days=days_later)
    assert _summarised(org, later) == {org.rep_a.pk, org.rep_a1.pk, org.rep_b.pk, org.rep_c.pk}

    _assert_same_as_live(viewer(org, world), later, filters(org, world))


def test_summaries_hold_the_hand_count(org, world):
    readiness_summaries_refresh(now=world.now)

    headline = readiness_headline(viewer=org.enablement, filters=ReportFilters(), now=world.now)

    figures = {row.offering.name: (row.in_scope, row.ready) for row in headline.offerings}
    assert figures == {"Acme Cloud": (4, 3), "Acme Secure": (2, 1)}
    assert headline.inactive == 1
    rows = OfferingReadinessSummary.objects.filter(rep_id=org.rep_c.pk, offering=world.cloud)
    # rep_c is ready on Cloud until their Cloud L1 expires, in 20 days.
    assert (
        rows.get().ready_until
        == Certification.objects.get(rep=org.rep_c, subject=world.cloud, status="active").expires_at
    )


def test_the_headline_reads_current_summaries_not_the_facts(org, world):
    """Equal figures alone would not show the summaries are read: altered behind the
    triggers' back (the summary tables have none), they move the headline."""
    readiness_summaries_refresh(now=world.now)
    live = readiness_headline(viewer=org.enablement, filters=ReportFilters(), now=world.now)
    OfferingReadinessSummary.objects.filter(rep_id=org.rep_b.pk, offering=world.cloud).update(
        ready=True
    )
    ReadinessSummary.objects.filter(rep_id=org.rep_c.pk).update(last_active_at=world.now)

    altered = readiness_headline(viewer=org.enablement, filters=ReportFilters(), now=world.now)

    cloud = next(o for o in altered.offerings if o.offering == world.cloud)
    assert cloud.ready == next(o for o in live.offerings if o.offering == world.cloud).ready + 1
    assert (live.inactive, altered.inactive) == (1, 0)
    # Once the rep is stale again, the facts count instead.
    ReadinessSummary.objects.filter(rep_id__in=[org.rep_b.pk, org.rep_c.pk]).update(current=False)
    assert readiness_headline(viewer=org.enablement, filters=ReportFilters(), now=world.now) == live


def test_a_summary_is_not_used_before_the_moment_it_was_computed_for(org, world):
    readiness_summaries_refresh(now=world.now)

    assert set(stale_rep_ids(now=world.now - timedelta(seconds=1))) >= {org.rep_a.pk}
    _assert_same_as_live(org.enablement, world.now - timedelta(days=1))


# What marks a summary stale: every change to what it is derived from, made any way (a
# service, a queryset update, a delete), and nothing else.
CHANGES = {
    "a certification issued": lambda o, w: held_certification(o.rep_b, w.opening, 1, now=w.now),
    "a certification revoked by a bulk update": lambda o, w: Certification.objects.filter(
        rep=o.rep_a, subject=w.cloud, level=2
    ).update(status=Certification.Status.REVOKED, revoked_at=w.now),
    "an expiry moved": lambda o, w: Certification.objects.filter(
        rep=o.rep_a, subject=w.cloud, level=1
    ).update(expires_at=w.now + timedelta(days=5)),
    "an attempt started": lambda o, w: Attempt.objects.create(
        exam=Attempt.objects.filter(rep=o.rep_a).first().exam,
        rep=o.rep_a,
        number=9,
        started_at=w.now,
        deadline=w.now + timedelta(hours=1),
    ),
    "an assessment rescheduled": lambda o, w: AssessmentSession.objects.filter(rep=o.rep_a).update(
        scheduled_at=F("scheduled_at") + timedelta(days=1)
    ),
    "a field observation recorded": lambda o, w: FieldObservation.objects.create(
        rep=o.rep_a,
        observer=o.manager_a,
        subject=w.cloud,
        guide_version=FieldObservation.objects.filter(rep=o.rep_a).first().guide_version,
        observed_on=w.now.date(),
        kind="meeting",
    ),
    "a segment changed": lambda o, w: (
        type(o.rep_a).objects.filter(pk=o.rep_a.pk).update(segment="Mid-market")
    ),
    "a team changed": lambda o, w: user_set_team(user=o.rep_a, team=o.gamma, actor=None),
    "an attempt deleted": lambda o, w: Attempt.objects.filter(
        rep=o.rep_a, certifications__isnull=True
    ).delete(),
    "a certification moved to another rep": lambda o, w: Certification.objects.filter(
        rep=o.rep_a, subject=w.secure, level=2
    ).update(rep=o.rep_b),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_to_a_reps_facts_makes_only_their_summary_stale(org, world, change):
    held_certification(org.rep_a, world.secure, 2, now=world.now)  # a session to reschedule
    held_certification(org.rep_a, world.secure, 3, now=world.now)  # an observation's guide
    Attempt.objects.create(  # an attempt with no certification, to delete
        exam=Attempt.objects.filter(rep=org.rep_a).first().exam,
        rep=org.rep_a,
        number=8,
        status=Attempt.Status.FINISHED,
        started_at=world.now - timedelta(days=1),
        deadline=world.now,
        finished_at=world.now,
        score=0,
        passed=False,
    )
    readiness_summaries_refresh(now=world.now)
    changed = {org.rep_a.pk}
    if "issued" in change:
        changed = {org.rep_b.pk}
    elif change == "a certification moved to another rep":
        changed = {org.rep_a.pk, org.rep_b.pk}
    others = {org.rep_a.pk, org.rep_a1.pk, org.rep_b.pk, org.rep_c.pk} - changed

    CHANGES[change](org, world)

    assert set(stale_rep_ids(now=world.now)) == changed
    assert _summarised(org, world.now) == others
    _assert_same_as_live(org.enablement, world.now)
    readiness_summaries_refresh(now=world.now)
    assert stale_rep_ids(now=world.now) == []
    _assert_same_as_live(org.enablement, world.now)


def test_changes_that_do_not_move_the_figures_leave_summaries_current(org, world):
    readiness_summaries_refresh(now=world.now)

    Certification.objects.filter(rep=org.rep_a).update(revoked_reason="a note")
    type(org.rep_a).objects.filter(pk=org.rep_a.pk).update(display_name="Rep Alpha Renamed")
    Attempt.objects.filter(rep=org.rep_a).update(score=50)

    assert stale_rep_ids(now=world.now) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda o, w: require(w.secure, [(w.opening, 1)], sales_role="Hunter"),
        lambda o, w: RequiredCertification.objects.filter(subject=w.cloud, level=2).delete(),
        lambda o, w: team_update(team=o.alpha, parent=o.south, actor=None),
    ],
    ids=["a requirement added", "an item removed", "a team moved"],
)
def test_a_change_to_the_rules_makes_every_summary_stale(org, world, change):
    readiness_summaries_refresh(now=world.now)
    before = ReadinessGeneration.objects.get().value

    change(org, world)

    assert ReadinessGeneration.objects.get().value > before
    assert _summarised(org, world.now) == set()
    _assert_same_as_live(org.enablement, world.now)
    readiness_summaries_refresh(now=world.now)
    assert _summarised(org, world.now) == {org.rep_a.pk, org.rep_a1.pk, org.rep_b.pk, org.rep_c.pk}
    _assert_same_as_live(org.enablement, world.now)


def test_a_change_committed_while_a_refresh_runs_leaves_the_summary_stale(org, world, monkeypatch):
    """The refresh reads versions, then facts, then writes: a certification issued between
    the first two must not end up in a row marked current without it."""
    original = readiness_summaries._last_activity

    def issue_meanwhile(rep_ids):
        held_certification(org.rep_b, world.opening, 1, now=world.now)
        return original(rep_ids)

    monkeypatch.setattr(readiness_summaries, "_last_activity", issue_meanwhile)
    readiness_summaries_refresh(now=world.now)

    assert stale_rep_ids(now=world.now) == [org.rep_b.pk]
    _assert_same_as_live(org.enablement, world.now)


def test_creating_a_team_is_not_a_change_but_moving_one_is(org, world):
    readiness_summaries_refresh(now=world.now)

    team_create(name="Delta", kind=Team.Kind.TEAM, parent=org.south, manager=None, actor=None)

    assert stale_rep_ids(now=world.now) == []
    team_update(team=org.gamma, parent=org.north, actor=None)
    assert len(stale_rep_ids(now=world.now)) == 4


def test_a_rep_with_no_activity_at_all_is_summarised_as_inactive(org, world):
    idle = UserFactory(rep=True, team=org.gamma)
    readiness_summaries_refresh(now=world.now)

    headline = _assert_same_as_live(org.enablement, world.now)

    assert idle.pk not in stale_rep_ids(now=world.now)
    assert headline.inactive == 2  # rep_c and the idle rep


def test_a_lost_generation_row_comes_back_past_every_summary(org, world):
    readiness_summaries_refresh(now=world.now)
    computed_under = ReadinessGeneration.objects.get().value
    ReadinessGeneration.objects.all().delete()

    assert set(stale_rep_ids(now=world.now)) == {
        org.rep_a.pk,
        org.rep_a1.pk,
        org.rep_b.pk,
        org.rep_c.pk,
    }
    readiness_summaries_refresh(now=world.now)

    assert ReadinessGeneration.objects.get().value == computed_under + 1
    assert stale_rep_ids(now=world.now) == []
    _assert_same_as_live(org.enablement, world.now)


def test_every_trigger_exists_after_all_migrations():
    """SQLite drops a table's triggers when a migration remakes the table to alter it: a later
    migration touching these tables must create them again."""
    triggers = importlib.import_module("certification.migrations.0011_readiness_summary_triggers")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            )
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        present = set(cursor.fetchall())

    assert set(triggers.triggers_expected()) <= present


def test_a_new_rep_is_counted_live_until_summarised(org, world):
    readiness_summaries_refresh(now=world.now)
    newcomer = UserFactory(rep=True, team=org.beta)
    held_certification(newcomer, world.cloud, 1, now=world.now)

    assert stale_rep_ids(now=world.now) == [newcomer.pk]
    headline = _assert_same_as_live(org.enablement, world.now)
    assert headline.reps == 5


def test_refresh_writes_in_a_constant_number_of_queries(org, world):
    def count() -> int:
        ReadinessSummary.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            readiness_summaries_refresh(now=world.now)
        return len(queries)

    small = count()
    extra = SubjectFactory(kind=Subject.Kind.OFFERING)
    require(extra, [(extra, 1)])
    for _ in range(12):
        rep = UserFactory(rep=True, team=org.gamma)
        held_certification(rep, extra, 1, now=world.now)
    assert count() == small


def test_the_batch_size_splits_the_work_and_the_time_budget_stops_it(org, world, monkeypatch):
    monkeypatch.setattr(readiness_summaries, "BATCH", 1)

    result = readiness_summaries_refresh(now=world.now, time_budget=0)

    assert (result.refreshed, result.skipped) == (1, 3)
    assert len(stale_rep_ids(now=world.now)) == 3


def test_the_task_and_the_command_refresh_what_is_stale(org, world):
    assert "certification.refresh_readiness_summaries" in _beat_tasks()
    assert refresh_readiness_summaries() == "4 refreshed, 0 left for the next run"
    assert stale_rep_ids() == []
    held_certification(org.rep_b, world.opening, 1, now=world.now)

    out = StringIO()
    call_command("refresh_readiness_summaries", stdout=out)
    assert out.getvalue().startswith("refreshed 1 readiness summary in ")
    call_command("refresh_readiness_summaries", "--all", stdout=out)
    assert "refreshed 4 readiness summaries in " in out.getvalue()
    assert stale_rep_ids() == []


def _beat_tasks() -> set[str]:
    from django.conf import settings

    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def test_the_admin_lists_summaries_read_only(client, org, world):
    readiness_summaries_refresh(now=world.now)
    root = type(org.admin).objects.create_superuser("root@example.test", "root-password-123")
    client.force_login(root)
    changelist = "/admin/certification/readinesssummary/"

    page = client.get(changelist)
    detail = client.get(f"{changelist}{org.rep_c.pk}/change/")

    assert page.status_code == 200
    assert org.rep_c.email in page.content.decode()
    assert detail.status_code == 200
    assert "Acme Cloud" in detail.content.decode()
    assert client.get(f"{changelist}add/").status_code == 403
    assert client.post(f"{changelist}{org.rep_c.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ReadinessSummary.objects.filter(rep=org.rep_c).exists()
    client.force_login(org.admin)  # the admin role without the superuser flag
    assert client.get(changelist).status_code in {302, 403}


def test_the_triggers_watch_every_activity_the_headline_counts():
    """A new kind of activity counted by ``active_since`` must be watched by a trigger too,
    or its rows would leave summaries current and wrong."""
    triggers = importlib.import_module("certification.migrations.0011_readiness_summary_triggers")
    watched = {table: set(columns) for table, _rep, columns in triggers.REP_SOURCES}

    for model, field_name in ACTIVITY:
        table = model._meta.db_table
        assert {model._meta.get_field(field_name).column, "rep_id"} <= watched[table]
