"""Lifecycle: validity periods, the expiry sweep, recertification and new offering versions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from certification.models import (
    Certification,
    CertificationValidity,
    OfferingVersion,
    RepTier,
    Subject,
)
from certification.services.certifications import certification_issue, certification_revoke
from certification.services.lifecycle import (
    certifications_expire_due,
    offering_version_publish,
    subject_validity,
    subject_validity_set,
)
from certification.services.tiers import tiers_recompute
from config.errors import ApplicationError
from tests.factories.certification import SubjectFactory, held_certification, make_exam

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloud():
    return SubjectFactory(name="Acme Cloud", kind=Subject.Kind.OFFERING, current_version="1.0")


def _expiring(rep, subject, level, *, expires_at):
    certification = held_certification(rep, subject, level, now=expires_at - timedelta(days=300))
    Certification.objects.filter(pk=certification.pk).update(expires_at=expires_at)
    certification.refresh_from_db()
    return certification


# Validity --------------------------------------------------------------------------------------


def test_a_certification_expires_after_the_validity_of_its_level(org, cloud):
    subject_validity_set(subject=cloud, days_by_level={1: 365, 2: None}, actor=org.enablement)
    now = timezone.now()
    level1 = held_certification(org.rep_a, cloud, 1, now=now)
    level2 = held_certification(org.rep_a, cloud, 2, now=now)
    assert level1.expires_at == now + timedelta(days=365)
    assert level2.expires_at is None  # none by default
    assert subject_validity(subject=cloud) == {1: 365, 2: None, 3: None}
    assert AuditEvent.objects.filter(action="subject.validity_changed").count() == 1


@pytest.mark.parametrize("days", [0, -5, 4000])
def test_a_validity_out_of_range_is_refused_and_nothing_written(org, cloud, days):
    with pytest.raises(ApplicationError) as error:
        subject_validity_set(subject=cloud, days_by_level={1: 30, 2: days}, actor=org.enablement)
    assert "level_2_days" in error.value.field_errors
    assert not CertificationValidity.objects.exists()


def test_setting_the_same_validity_again_writes_no_audit_row(org, cloud):
    subject_validity_set(subject=cloud, days_by_level={1: 30}, actor=org.enablement)
    subject_validity_set(subject=cloud, days_by_level={1: 30}, actor=org.enablement)
    assert AuditEvent.objects.filter(action="subject.validity_changed").count() == 1
    subject_validity_set(subject=cloud, days_by_level={1: None}, actor=org.enablement)
    assert not CertificationValidity.objects.exists()


# The expiry sweep --------------------------------------------------------------------------------


def test_expiry_on_the_boundary_instant(org, cloud):
    # given one certification expiring exactly now and one a microsecond later
    now = timezone.now()
    due = _expiring(org.rep_a, cloud, 1, expires_at=now)
    not_yet = _expiring(org.rep_b, cloud, 1, expires_at=now + timedelta(microseconds=1))
    # when the sweep runs at now
    assert certifications_expire_due(now=now) == 1
    # then only the one at the instant has expired
    due.refresh_from_db()
    not_yet.refresh_from_db()
    assert due.status == Certification.Status.EXPIRED
    assert not_yet.status == Certification.Status.ACTIVE
    event = AuditEvent.objects.get(action="certification.expired")
    assert event.target_id == str(due.pk)


def test_the_sweep_is_idempotent(org, cloud):
    now = timezone.now()
    _expiring(org.rep_a, cloud, 1, expires_at=now - timedelta(days=1))
    assert certifications_expire_due(now=now) == 1
    assert certifications_expire_due(now=now) == 0
    assert AuditEvent.objects.filter(action="certification.expired").count() == 1


def test_expiry_drops_the_tier(org, cloud, django_capture_on_commit_callbacks):
    # given a rep bronze through level 1 on the only active offering
    now = timezone.now()
    _expiring(org.rep_a, cloud, 1, expires_at=now)
    tiers_recompute(rep_ids=[org.rep_a.pk], cause="test", now=now - timedelta(microseconds=1))
    assert RepTier.objects.get(rep=org.rep_a).tier == "bronze"
    # when the sweep expires it (and the queued recompute runs)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        certifications_expire_due(now=now)
    # then one recompute for the reps, and the rep has no tier
    assert len(callbacks) == 1
    assert RepTier.objects.get(rep=org.rep_a).tier == "none"


def test_the_sweep_query_count_does_not_grow_with_the_rows(
    org, cloud, django_assert_num_queries, django_capture_on_commit_callbacks
):
    now = timezone.now()
    reps = (org.rep_a, org.rep_b, org.rep_c, org.rep_a1)
    for rep in reps[:1]:
        _expiring(rep, cloud, 1, expires_at=now - timedelta(hours=1))
    # 5 for the sweep, 1 for the tier recompute's outbox row, 3 for telling the holders
    # (recipients, preferences, one INSERT).
    with django_assert_num_queries(9), django_capture_on_commit_callbacks():
        certifications_expire_due(now=now)
    for rep in reps[1:]:
        for level in (1, 2, 3):
            if not Certification.objects.filter(rep=rep, level=level, status="active").exists():
                _expiring(rep, cloud, level, expires_at=now - timedelta(hours=1))
    with django_assert_num_queries(9), django_capture_on_commit_callbacks():
        assert certifications_expire_due(now=now) == 9


# Recertification ---------------------------------------------------------------------------------


def test_recertifying_after_expiry_keeps_the_history(org, cloud):
    now = timezone.now()
    old = _expiring(org.rep_a, cloud, 1, expires_at=now - timedelta(days=3))
    certifications_expire_due(now=now)
    new = held_certification(org.rep_a, cloud, 1, now=now)
    old.refresh_from_db()
    assert new.pk != old.pk
    assert (old.status, new.status) == ("expired", "active")
    assert Certification.objects.filter(rep=org.rep_a, subject=cloud, level=1).count() == 2


def test_recertifying_inside_the_renewal_window_supersedes_the_active_one(org, cloud, settings):
    settings.CERTIFICATION_RENEWAL_WINDOW_DAYS = 60
    now = timezone.now()
    old = _expiring(org.rep_a, cloud, 1, expires_at=now + timedelta(days=20))
    new = held_certification(org.rep_a, cloud, 1, now=now)
    old.refresh_from_db()
    assert new.pk != old.pk
    assert old.status == Certification.Status.EXPIRED
    assert old.expires_at == now
    assert AuditEvent.objects.filter(
        action="certification.superseded", target_id=str(old.pk)
    ).exists()


def test_new_evidence_outside_the_window_returns_the_active_certification(org, cloud, settings):
    settings.CERTIFICATION_RENEWAL_WINDOW_DAYS = 60
    now = timezone.now()
    old = _expiring(org.rep_a, cloud, 1, expires_at=now + timedelta(days=200))
    again = held_certification(org.rep_a, cloud, 1, now=now)
    assert again.pk == old.pk
    assert Certification.objects.filter(rep=org.rep_a).count() == 1


def test_issuing_twice_for_the_same_evidence_inside_the_window_returns_the_same_record(org, cloud):
    subject_validity_set(subject=cloud, days_by_level={1: 10}, actor=None)  # within the window
    now = timezone.now()
    first = held_certification(org.rep_a, cloud, 1, now=now)
    again = certification_issue(
        rep=org.rep_a, subject=cloud, level=1, now=now, attempt=first.attempt
    )
    assert again.pk == first.pk


# Revocation -------------------------------------------------------------------------------------


def test_revoking_needs_a_reason_and_writes_nothing_without_one(org, cloud):
    certification = held_certification(org.rep_a, cloud, 1, now=timezone.now())
    with pytest.raises(ApplicationError) as error:
        certification_revoke(
            certification=certification, reason="  ", actor=org.enablement, now=timezone.now()
        )
    assert "reason" in error.value.field_errors
    certification.refresh_from_db()
    assert certification.status == Certification.Status.ACTIVE
    assert not AuditEvent.objects.filter(action="certification.revoked").exists()


def test_an_expired_certification_cannot_be_revoked(org, cloud):
    now = timezone.now()
    certification = _expiring(org.rep_a, cloud, 1, expires_at=now - timedelta(days=1))
    certifications_expire_due(now=now)
    certification.refresh_from_db()
    with pytest.raises(ApplicationError):
        certification_revoke(certification=certification, reason="fraud", actor=None, now=now)


def test_a_lapsed_certification_the_sweep_has_not_reached_cannot_be_revoked(org, cloud):
    now = timezone.now()
    certification = _expiring(org.rep_a, cloud, 1, expires_at=now)  # the boundary instant
    with pytest.raises(ApplicationError, match="has expired"):
        certification_revoke(certification=certification, reason="fraud", actor=None, now=now)
    certification.refresh_from_db()
    assert (certification.status, certification.revoked_reason) == ("active", "")
    assert not AuditEvent.objects.filter(action="certification.revoked").exists()


# New offering versions ---------------------------------------------------------------------------


def test_a_version_bump_affects_only_holders_at_the_chosen_levels(org, cloud):
    # given holders at levels 1 and 2, a lapsed level 1, an expired and another offering
    now = timezone.now()
    far = _expiring(org.rep_a, cloud, 1, expires_at=now + timedelta(days=200))
    soon = _expiring(org.rep_b, cloud, 1, expires_at=now + timedelta(days=5))
    forever = held_certification(org.rep_c, cloud, 1, now=now)
    level2 = held_certification(org.rep_a, cloud, 2, now=now)
    lapsed = _expiring(org.rep_a1, cloud, 1, expires_at=now - timedelta(days=1))
    other = held_certification(org.rep_a, SubjectFactory(kind=Subject.Kind.OFFERING), 1, now=now)
    # when 2.0 needs level 1 re-earned within 30 days
    release = offering_version_publish(
        actor=org.enablement, offering=cloud, version="2.0", relevel=[1], grace_days=30, now=now
    )
    # then the level 1 holders expire at the end of the grace period at the latest
    grace_end = now + timedelta(days=30)
    expiries = {
        c.pk: c.expires_at
        for c in Certification.objects.filter(
            pk__in=[far.pk, soon.pk, forever.pk, level2.pk, lapsed.pk, other.pk]
        )
    }
    assert expiries[far.pk] == grace_end
    assert expiries[forever.pk] == grace_end
    assert expiries[soon.pk] == now + timedelta(days=5)  # never later than it was
    assert expiries[level2.pk] is None
    assert expiries[lapsed.pk] == now - timedelta(days=1)
    assert expiries[other.pk] is None
    assert release.affected_count == 3
    assert (release.previous_version, release.relevel_levels) == ("1.0", [1])
    cloud.refresh_from_db()
    assert cloud.current_version == "2.0"
    assert AuditEvent.objects.filter(action="certification.expiry_shortened").count() == 2
    assert AuditEvent.objects.filter(action="subject.version_published").count() == 1


def test_re_earning_during_the_grace_period_gives_a_fresh_certificate(org, cloud):
    now = timezone.now()
    old = held_certification(org.rep_a, cloud, 1, now=now - timedelta(days=100))
    offering_version_publish(
        actor=org.enablement, offering=cloud, version="2.0", relevel=[1], grace_days=90, now=now
    )
    cloud.refresh_from_db()  # as a new attempt reads it
    new = held_certification(org.rep_a, cloud, 1, now=now + timedelta(days=1))
    old.refresh_from_db()
    assert new.pk != old.pk
    assert (new.subject_version, new.expires_at) == ("2.0", None)
    assert (old.subject_version, old.status) == ("1.0", "expired")


def test_a_version_bump_reopens_only_the_levels_it_asks_to_re_earn(org, cloud):
    now = timezone.now()
    level2 = held_certification(org.rep_a, cloud, 2, now=now - timedelta(days=100))
    offering_version_publish(
        actor=org.enablement, offering=cloud, version="2.0", relevel=[1], grace_days=90, now=now
    )
    cloud.refresh_from_db()
    # New level-2 evidence on the new version does not replace a level 2 the release kept.
    again = held_certification(org.rep_a, cloud, 2, now=now + timedelta(days=1))
    level2.refresh_from_db()
    assert again.pk == level2.pk
    assert (level2.status, level2.expires_at) == ("active", None)
    # A later release that re-levels level 2 does reopen it.
    offering_version_publish(
        actor=org.enablement, offering=cloud, version="3.0", relevel=[2], grace_days=90, now=now
    )
    cloud.refresh_from_db()
    renewed = held_certification(org.rep_a, cloud, 2, now=now + timedelta(days=2))
    level2.refresh_from_db()
    assert renewed.pk != level2.pk
    assert (renewed.subject_version, level2.status) == ("3.0", "expired")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"grace_days": -1}, "grace_days"),
        ({"relevel": []}, "relevel"),
        ({"relevel": [4]}, "relevel"),
        ({"version": "two point oh"}, "version"),
        ({"version": "1.0"}, "version"),  # the current one
        ({"version": ""}, "version"),
    ],
)
def test_bad_version_input_is_refused_and_nothing_written(org, cloud, values, field):
    now = timezone.now()
    held = held_certification(org.rep_a, cloud, 1, now=now)
    before = AuditEvent.objects.count()
    arguments = {"version": "2.0", "relevel": [1], "grace_days": 30, **values}
    with pytest.raises(ApplicationError) as error:
        offering_version_publish(actor=org.enablement, offering=cloud, now=now, **arguments)
    assert field in error.value.field_errors
    cloud.refresh_from_db()
    held.refresh_from_db()
    assert cloud.current_version == "1.0"
    assert held.expires_at is None
    assert not OfferingVersion.objects.exists()
    assert AuditEvent.objects.count() == before


def test_only_offerings_get_versions(org):
    skill = SubjectFactory(kind=Subject.Kind.SKILL)
    with pytest.raises(ApplicationError):
        offering_version_publish(
            actor=None, offering=skill, version="2", relevel=[1], grace_days=1, now=timezone.now()
        )


def test_a_rep_may_retake_the_test_inside_the_renewal_window_only(org, cloud, settings):
    from certification.services.attempts import attempt_finish, attempt_start
    from config.errors import ConflictError

    settings.CERTIFICATION_RENEWAL_WINDOW_DAYS = 30
    exam = make_exam(subject=cloud, assign_to=[org.rep_a], pass_mark=Decimal(0))
    now = timezone.now()
    held = _expiring(org.rep_a, cloud, 1, expires_at=now + timedelta(days=45))
    with pytest.raises(ConflictError):
        attempt_start(exam=exam, rep=org.rep_a)
    Certification.objects.filter(pk=held.pk).update(expires_at=now + timedelta(days=20))
    attempt_finish(attempt=attempt_start(exam=exam, rep=org.rep_a).attempt)
    held.refresh_from_db()
    assert held.status == Certification.Status.EXPIRED
    assert Certification.objects.get(rep=org.rep_a, status="active").pk != held.pk
