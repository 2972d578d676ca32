"""Django admin for the admin role: no escalation, audited changes, working team edits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, Team, User
from accounts.services import api_token_create

pytestmark = pytest.mark.django_db


def _change_data(user, **overrides):
    data = {
        "email": user.email,
        "display_name": user.display_name,
        "team": user.team_id or "",
        "is_active": "on" if user.is_active else "",
        "time_zone": user.time_zone,
        "work_start": "09:00",
        "work_end": "17:30",
        "work_days": "[1, 2, 3, 4, 5]",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
    }
    for field in ("is_rep", "is_manager", "is_enablement", "is_teleprospecting_lead", "is_admin"):
        if getattr(user, field):
            data[field] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root@example.test", "root-password-123")


def test_admin_cannot_reach_a_superuser(client, org, superuser):
    client.force_login(org.admin)
    assert client.get(reverse("admin:accounts_user_change", args=[superuser.pk])).status_code in {
        302,
        404,
    }
    response = client.post(
        f"/admin/accounts/user/{superuser.pk}/password/",
        {"password1": "taken-over-12345", "password2": "taken-over-12345"},
    )
    assert response.status_code in {302, 404}
    superuser.refresh_from_db()
    assert superuser.check_password("root-password-123")
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "root@example.test" not in listing


def test_admin_cannot_raise_their_own_roles(client, org):
    client.force_login(org.admin)
    url = reverse("admin:accounts_user_change", args=[org.admin.pk])
    client.post(url, _change_data(org.admin, is_enablement="on", is_rep="on"))
    org.admin.refresh_from_db()
    assert not org.admin.is_enablement
    assert not org.admin.is_rep


def test_admin_cannot_grant_enablement_or_admin_to_others(client, org):
    client.force_login(org.admin)
    url = reverse("admin:accounts_user_change", args=[org.rep_a.pk])
    response = client.post(
        url, _change_data(org.rep_a, is_enablement="on", is_admin="on", is_manager="on")
    )
    assert response.status_code == 302
    org.rep_a.refresh_from_db()
    assert org.rep_a.is_manager  # an ordinary role: allowed and audited
    assert not org.rep_a.is_enablement
    assert not org.rep_a.is_admin
    add_form = client.get(reverse("admin:accounts_user_add")).content.decode()
    assert 'name="is_rep"' in add_form
    assert 'name="is_enablement"' not in add_form


def test_superuser_may_grant_enablement(client, org, superuser):
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[org.rep_a.pk])
    client.post(url, _change_data(org.rep_a, is_enablement="on"))
    org.rep_a.refresh_from_db()
    assert org.rep_a.is_enablement
    assert AuditEvent.objects.filter(action="user.roles_changed", actor=superuser).exists()


def test_email_and_password_changes_are_audited_and_tokens_revoked(client, org):
    token, _raw = api_token_create(user=org.rep_a, name="x")
    client.force_login(org.admin)
    client.post(
        reverse("admin:accounts_user_change", args=[org.rep_a.pk]),
        _change_data(org.rep_a, email="new.address@example.test"),
    )
    event = AuditEvent.objects.get(action="user.email_changed")
    assert event.changes == {"before": org.rep_a.email, "after": "new.address@example.test"}
    response = client.post(
        f"/admin/accounts/user/{org.rep_a.pk}/password/",
        {"password1": "brand-new-pass-42", "password2": "brand-new-pass-42"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.password_changed")
    assert (event.actor, event.changes["reason"]) == (org.admin, "set by an admin")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_team_change_form_saves(client, org):
    client.force_login(org.admin)
    url = reverse("admin:accounts_team_change", args=[org.beta.pk])
    response = client.post(
        url, {"name": "Beta Prime", "parent": org.north.pk, "manager": org.manager_b.pk}
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    org.beta.refresh_from_db()
    assert org.beta.name == "Beta Prime"


def test_team_change_form_refuses_a_move_under_itself(client, org):
    client.force_login(org.admin)
    url = reverse("admin:accounts_team_change", args=[org.alpha.pk])
    response = client.post(
        url, {"name": "Alpha", "parent": org.alpha1.pk, "manager": org.manager_a.pk}
    )
    assert response.status_code == 200
    assert "cannot move under itself" in response.content.decode()


def test_api_tokens_cannot_be_deleted_in_admin(client, org):
    token, _ = api_token_create(user=org.rep_a, name="x")
    client.force_login(org.admin)
    response = client.post(
        reverse("admin:accounts_apitoken_delete", args=[token.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert token.__class__.objects.filter(pk=token.pk).exists()


def test_schedules_are_for_superusers_only(client, org):
    client.force_login(org.admin)
    response = client.get("/admin/django_celery_beat/periodictask/")
    assert response.status_code == 403


def test_admin_sees_team_list(client, org):
    client.force_login(org.admin)
    page = client.get(reverse("admin:accounts_team_changelist")).content.decode()
    for team in Team.objects.all():
        assert team.name in page
