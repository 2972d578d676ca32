"""Account pages: sign-in, sign-out, password, profile, API tokens, people, admin access."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import ApiToken, AuditEvent
from accounts.services import api_token_create
from tests.factories.accounts import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_sign_in_with_email_lands_on_home(client, org):
    response = client.post(
        reverse("accounts:login"), {"username": org.rep_a.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("certification:home")
    assert client.get(reverse("certification:home")).status_code == 200


def test_sign_in_rotates_the_session_key(client, org):
    client.get(reverse("accounts:login"))
    client.session["probe"] = 1
    before = client.session.session_key
    client.post(reverse("accounts:login"), {"username": org.rep_a.email, "password": PASSWORD})
    assert client.session.session_key != before


def test_wrong_password_shows_a_clear_error(client, org):
    response = client.post(
        reverse("accounts:login"), {"username": org.rep_a.email, "password": "nope"}
    )
    assert response.status_code == 200
    assert "That email and password do not match an account." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_after_repeated_failures(client, org, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": org.rep_a.email, "password": "x"})
    response = client.post(
        reverse("accounts:login"), {"username": org.rep_a.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_needs_post_and_ends_the_session(client, org):
    client.force_login(org.rep_a)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("certification:home")).status_code == 302


@pytest.mark.parametrize(
    "name",
    [
        "certification:home",
        "accounts:profile",
        "accounts:token_list",
        "accounts:password_change",
        "accounts:people",
    ],
)
def test_pages_send_anonymous_visitors_to_sign_in(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_password_change(client, org):
    client.force_login(org.rep_a)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-42",
            "new_password2": "a-much-longer-passphrase-42",
        },
    )
    assert response.status_code == 302
    org.rep_a.refresh_from_db()
    assert org.rep_a.check_password("a-much-longer-passphrase-42")


def test_password_change_refuses_a_weak_password(client, org):
    client.force_login(org.rep_a)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "short",
            "new_password2": "short",
        },
    )
    assert response.status_code == 200
    org.rep_a.refresh_from_db()
    assert org.rep_a.check_password(PASSWORD)


def test_password_reset_sends_a_plain_text_link(client, org):
    response = client.post(reverse("accounts:password_reset"), {"email": org.rep_a.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "reset-passphrase-0042", "new_password2": "reset-passphrase-0042"},
    )
    org.rep_a.refresh_from_db()
    assert org.rep_a.check_password("reset-passphrase-0042")


def test_password_reset_does_not_reveal_unknown_emails(client, org):
    response = client.post(reverse("accounts:password_reset"), {"email": "who@example.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_profile_update(client, org):
    client.force_login(org.rep_a)
    response = client.post(
        reverse("accounts:profile"),
        {
            "display_name": "Rep Alpha",
            "time_zone": "America/Denver",
            "work_start": "07:30",
            "work_end": "16:00",
            "work_days": ["1", "2", "3", "4"],
        },
    )
    assert response.status_code == 302
    org.rep_a.refresh_from_db()
    assert (org.rep_a.time_zone, org.rep_a.work_days) == ("America/Denver", [1, 2, 3, 4])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"time_zone": "Nowhere/Atlantis"}, "Select a valid choice"),
        ({"work_start": "18:00", "work_end": "09:00"}, "must end after it starts"),
        ({"work_days": []}, "This field is required"),
    ],
)
def test_profile_refuses_bad_input_and_keeps_old_values(client, org, data, message):
    client.force_login(org.rep_a)
    payload = {
        "display_name": "Rep Alpha",
        "time_zone": "Europe/Paris",
        "work_start": "09:00",
        "work_end": "17:00",
        "work_days": ["1", "2"],
        **data,
    }
    response = client.post(reverse("accounts:profile"), payload)
    assert response.status_code == 200
    assert message in response.content.decode()
    org.rep_a.refresh_from_db()
    assert org.rep_a.time_zone == "UTC"


def test_token_page_shows_a_new_secret_once(client, org):
    client.force_login(org.rep_a)
    response = client.post(
        reverse("accounts:token_list"),
        {
            "name": "CRM sync",
            "scopes": ["read"],
            "expires_in_days": 30,
        },
        follow=True,
    )
    token = ApiToken.objects.get(user=org.rep_a)
    page = response.content.decode()
    secret = re.search(r'value="(rr_[^"]+)"', page).group(1)
    assert secret.startswith(f"rr_{token.prefix}_")
    assert token.scopes == ["read"]
    again = client.get(reverse("accounts:token_list")).content.decode()
    assert secret not in again
    assert "CRM sync" in again


def test_token_page_refuses_bad_input(client, org):
    client.force_login(org.rep_a)
    response = client.post(
        reverse("accounts:token_list"), {"name": "", "scopes": ["root"], "expires_in_days": 0}
    )
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_token_revoke_is_mine_only(client, org):
    theirs, _ = api_token_create(user=org.rep_b, name="theirs")
    mine, _ = api_token_create(user=org.rep_a, name="mine")
    client.force_login(org.rep_a)
    url = reverse("accounts:token_revoke", args=[theirs.pk])
    assert client.post(url).status_code == 404
    assert client.get(reverse("accounts:token_revoke", args=[mine.pk])).status_code == 405
    assert client.post(reverse("accounts:token_revoke", args=[mine.pk])).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None


@pytest.mark.parametrize("viewer", ["rep_a", "tp_lead", "no_role"])
def test_people_page_is_404_for_roles_that_cannot_browse(client, org, viewer):
    client.force_login(getattr(org, viewer))
    assert client.get(reverse("accounts:people")).status_code == 404


def test_people_page_shows_a_managers_subtree_only(client, org):
    client.force_login(org.manager_a)
    page = client.get(reverse("accounts:people")).content.decode()
    assert "Rep Alpha-1" in page
    assert "Rep Beta" not in page
    assert "Rep Gamma" not in page


def test_people_page_filters_and_pages(client, org, django_assert_max_num_queries):
    UserFactory.create_batch(55, rep=True, team=org.beta)
    client.force_login(org.enablement)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("accounts:people"), {"role": "rep"}).content.decode()
    assert "Page 1 of 2" in page
    page2 = client.get(reverse("accounts:people"), {"role": "rep", "page": 2}).content.decode()
    assert "Page 2 of 2" in page2
    assert "role=rep" in page2  # filters survive paging
    empty = client.get(reverse("accounts:people"), {"q": "zzzz"}).content.decode()
    assert "No one matches these filters." in empty


def test_admin_site_is_for_admins(client, org):
    client.force_login(org.admin)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200
    # Signed in without the admin role: a 404 at the end, never a sign-in loop.
    client.force_login(org.enablement)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 404
    assert len(response.redirect_chain) == 1
    # Anonymous: our one sign-in page, which comes back to the admin.
    client.logout()
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{reverse('accounts:login')}?next=/admin/"
    assert "Sign in to RepReady" in response.content.decode()


def test_admin_role_cannot_manage_models_outside_its_apps(org):
    assert org.admin.has_perm("accounts.change_user")
    assert not org.admin.has_perm("django_celery_beat.add_periodictask")  # superusers only
    assert not org.admin.has_perm("certification.view_anything")
    assert not org.admin.has_module_perms("certification")
    assert not org.enablement.has_perm("accounts.change_user")


def test_admin_role_change_is_audited(client, org):
    client.force_login(org.admin)
    url = reverse("admin:accounts_user_change", args=[org.rep_a.pk])
    form = client.get(url)
    assert form.status_code == 200
    data = {
        "email": org.rep_a.email,
        "display_name": org.rep_a.display_name,
        "team": org.alpha.pk,
        "is_rep": "on",
        "is_manager": "on",
        "is_active": "on",
        "time_zone": "UTC",
        "work_start": "09:00",
        "work_end": "17:30",
        "work_days": "[1, 2, 3, 4, 5]",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    org.rep_a.refresh_from_db()
    assert org.rep_a.is_manager
    event = AuditEvent.objects.get(action="user.roles_changed", target_id=str(org.rep_a.pk))
    assert event.actor == org.admin
    assert event.changes == {"before": ["rep"], "after": ["manager", "rep"]}


def test_audit_trail_is_read_only_in_admin(client, org):
    api_token_create(user=org.rep_a, name="x")
    event = AuditEvent.objects.first()
    client.force_login(org.admin)
    assert client.get(reverse("admin:accounts_auditevent_changelist")).status_code == 200
    change = client.post(
        reverse("admin:accounts_auditevent_change", args=[event.pk]), {"action": "forged"}
    )
    assert change.status_code == 403
    assert (
        client.post(
            reverse("admin:accounts_auditevent_delete", args=[event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    event.refresh_from_db()
    assert event.action == "api_token.created"


def test_a_new_token_secret_is_not_kept_in_the_session_or_caches(client, org):
    client.force_login(org.rep_a)
    response = client.post(
        reverse("accounts:token_list"), {"name": "CRM", "scopes": ["read"], "expires_in_days": 30}
    )
    secret = re.search(r'value="(rr_[^"]+)"', response.content.decode()).group(1)
    assert "no-store" in response["Cache-Control"]
    assert secret not in str(dict(client.session))


def test_a_person_without_a_password_can_set_one_by_reset(client, org):
    from accounts.services import user_create

    invited = user_create(email="new.hire@example.test", display_name="New Hire", roles=["rep"])
    assert not invited.has_usable_password()
    client.post(reverse("accounts:password_reset"), {"email": "new.hire@example.test"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", mail.outbox[0].body)
    form = client.get(link.group(1), follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "first-password-0042", "new_password2": "first-password-0042"},
    )
    invited.refresh_from_db()
    assert invited.check_password("first-password-0042")


def test_form_help_and_errors_are_linked_for_screen_readers(client, org):
    client.force_login(org.rep_a)
    page = client.post(reverse("accounts:token_list"), {"name": "", "expires_in_days": 0})
    html = page.content.decode()
    described = re.search(r'<input[^>]*name="name"[^>]*aria-describedby="([^"]+)"', html)
    for ref in described.group(1).split():
        assert f'id="{ref}"' in html
