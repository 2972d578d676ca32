"""Readiness summaries under concurrent writes on PostgreSQL: a refresh never waits on a
request, and never leaves a summary current that misses a change committed around it.

Each call runs in a thread with its own connection against the real test database, as in
test_concurrency.py.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from certification.models import Certification, ReadinessSummary, Subject
from certification.selectors.readiness import ReportFilters, readiness_headline
from certification.services.readiness_summaries import (
    readiness_summaries_refresh,
    stale_rep_ids,
)
from tests.certification.conftest import require
from tests.conftest import require_service
from tests.factories.certification import SubjectFactory, held_certification
from tests.reliability.test_concurrency import JOIN_TIMEOUT, race

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    require_service("PostgreSQL", "DATABASE_URL")
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: DATABASE_URL names another database")


@pytest.fixture
def offering(org) -> Subject:
    cloud = SubjectFactory(name="Acme Cloud", kind=Subject.Kind.OFFERING)
    require(cloud, [(cloud, 1)])
    return cloud


def _live_equals_summarised(org, now) -> None:
    summarised = readiness_headline(viewer=org.enablement, filters=ReportFilters(), now=now)
    with transaction.atomic():
        ReadinessSummary.objects.all().delete()
        live = readiness_headline(viewer=org.enablement, filters=ReportFilters(), now=now)
        transaction.set_rollback(True)
    assert summarised == live


def test_a_refresh_skips_a_row_a_request_holds_and_leaves_it_stale(org, offering):
    readiness_summaries_refresh()
    issued = threading.Event()
    finish = threading.Event()

    def issue_and_hold() -> None:
        try:
            with transaction.atomic():
                # The trigger locks rep_a's summary row until this transaction ends.
                held_certification(org.rep_a, offering, 1, now=timezone.now())
                issued.set()
                assert finish.wait(JOIN_TIMEOUT)
        finally:
            connection.close()

    holder = threading.Thread(target=issue_and_hold)
    holder.start()
    try:
        assert issued.wait(JOIN_TIMEOUT)
        # Every rep, rep_a included: it is current in this refresh's view until the other
        # transaction commits, yet locked by it.
        result = readiness_summaries_refresh(rep_ids=[org.rep_a.pk, org.rep_b.pk, org.rep_c.pk])
    finally:
        finish.set()
        holder.join(JOIN_TIMEOUT)

    assert (result.refreshed, result.skipped) == (2, 1)
    assert stale_rep_ids() == [org.rep_a.pk]
    _live_equals_summarised(org, timezone.now())
    readiness_summaries_refresh()
    assert stale_rep_ids() == []
    _live_equals_summarised(org, timezone.now())


def test_refreshes_racing_new_certifications_never_leave_a_wrong_current_summary(org, offering):
    readiness_summaries_refresh()
    reps = [org.rep_a, org.rep_a1, org.rep_b, org.rep_c]

    outcomes = race(
        readiness_summaries_refresh,
        *(lambda rep=rep: held_certification(rep, offering, 1, now=timezone.now()) for rep in reps),
        readiness_summaries_refresh,
    )

    assert [o.error for o in outcomes] == [None] * len(outcomes)
    now = timezone.now()
    _live_equals_summarised(org, now)
    readiness_summaries_refresh()
    assert stale_rep_ids() == []
    headline = readiness_headline(viewer=org.enablement, filters=ReportFilters(), now=now)
    assert [(o.in_scope, o.ready) for o in headline.offerings] == [(4, 4)]


def test_bulk_writes_touching_the_same_reps_in_opposite_orders_do_not_deadlock(org, offering):
    """Two statements each change a certification of rep_a and one of rep_b, in opposite
    orders. Row triggers would lock the two summary rows in those orders and could deadlock;
    the statement triggers upsert a statement's reps in rep order."""
    now = timezone.now()
    subjects = SubjectFactory.create_batch(4)
    first_a = held_certification(org.rep_a, subjects[0], 1, now=now)
    first_b = held_certification(org.rep_b, subjects[1], 1, now=now)
    second_b = held_certification(org.rep_b, subjects[2], 1, now=now)
    second_a = held_certification(org.rep_a, subjects[3], 1, now=now)
    readiness_summaries_refresh()

    def push(*certifications) -> int:  # one UPDATE, rows in id order
        return Certification.objects.filter(pk__in=[c.pk for c in certifications]).update(
            issued_at=F("issued_at") + timedelta(seconds=1)
        )

    for _ in range(10):
        outcomes = race(lambda: push(first_a, first_b), lambda: push(second_b, second_a))
        assert [(o.value, o.error) for o in outcomes] == [(2, None), (2, None)]
    assert set(stale_rep_ids()) >= {org.rep_a.pk, org.rep_b.pk}
    _live_equals_summarised(org, timezone.now())
