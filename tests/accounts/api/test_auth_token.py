"""POST /api/v1/auth/token/, token use, revocation, scopes and lockout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, AuditEvent
from accounts.services import api_token_create, user_set_active
from tests.factories.accounts import PASSWORD
from tests.openapi import api_schema, assert_matches_schema

pytestmark = pytest.mark.django_db
TOKEN_URL = reverse("api-v1:auth-token")
ME_URL = reverse("api-v1:me")


def _ask(api_client, email, password=PASSWORD, **extra):
    return api_client.post(
        TOKEN_URL, {"email": email, "password": password, **extra}, format="json"
    )


def _bearer(api_client, raw):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return api_client


def test_good_credentials_return_a_token_that_works(api_client, org):
    response = _ask(api_client, org.rep_a.email, name="Dialer", scopes=["read"], expires_in_days=7)
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith(f"rr_{body['prefix']}_")
    assert body["scopes"] == ["read"]
    assert body["name"] == "Dialer"
    token = ApiToken.objects.get(pk=body["id"])
    assert token.digest != body["token"]
    assert body["token"] not in str(token.__dict__)
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert AuditEvent.objects.filter(action="api_token.created", target_id=str(token.pk)).exists()

    me = _bearer(api_client, body["token"]).get(ME_URL)
    assert me.status_code == 200
    assert me.json()["email"] == org.rep_a.email
    assert me.json()["roles"] == ["rep"]


def test_email_is_case_insensitive(api_client, org):
    assert _ask(api_client, org.rep_a.email.upper()).status_code == 201


@pytest.mark.parametrize("which", ["bad password", "unknown email"])
def test_bad_credentials_get_one_message_and_no_token(api_client, org, which):
    email = org.rep_a.email if which == "bad password" else "nobody@example.test"
    response = _ask(api_client, email, password="wrong-password")
    assert response.status_code == 400
    assert response.json() == {"detail": "Unable to sign in with that email and password."}
    assert not ApiToken.objects.exists()


def test_inactive_account_gets_no_token(api_client, org):
    assert _ask(api_client, org.inactive_rep.email).status_code == 400
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"email": "not-an-email", "password": "x"},
        {"email": "a@example.test"},
        {"email": "a@example.test", "password": "x", "scopes": ["root"]},
        {"email": "a@example.test", "password": "x", "scopes": []},
        {"email": "a@example.test", "password": "x", "expires_in_days": 0},
    ],
)
def test_malformed_requests_are_refused_with_field_errors(api_client, org, payload):
    response = api_client.post(TOKEN_URL, payload, format="json")
    assert response.status_code == 400
    assert response.json()  # names the offending fields
    assert not ApiToken.objects.exists()


def test_repeated_failures_lock_the_account_out_even_with_the_right_password(
    api_client, org, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _ask(api_client, org.rep_a.email, password="wrong-password")
    response = _ask(api_client, org.rep_a.email)
    assert response.status_code == 429
    assert not ApiToken.objects.exists()
    # Another account from the same address is not locked out.
    assert _ask(api_client, org.rep_b.email).status_code == 201


def test_revoked_token_is_refused_at_once(api_client, org):
    token, raw = api_token_create(user=org.rep_a, name="x")
    client = _bearer(api_client, raw)
    assert client.get(ME_URL).status_code == 200
    assert client.delete(reverse("api-v1:auth-token-revoke", args=[token.pk])).status_code == 204
    response = client.get(ME_URL)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_expired_token_and_deactivated_owner_are_refused(api_client, org):
    token, raw = api_token_create(user=org.rep_a, name="x")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert _bearer(api_client, raw).get(ME_URL).status_code == 401

    _token, raw = api_token_create(user=org.rep_b, name="x")
    user_set_active(user=org.rep_b, is_active=False, actor=org.admin)
    assert _bearer(api_client, raw).get(ME_URL).status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Token", "Token a b", "Token rr_zzzz_short", "Token rr_00000000_" + "x" * 43],
)
def test_malformed_or_unknown_tokens_are_refused(api_client, org, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    assert api_client.get(ME_URL).status_code == 401


def test_no_credentials_is_401(api_client, org):
    assert api_client.get(ME_URL).status_code in {401, 403}
    assert api_client.get(ME_URL).json()["detail"]


def test_read_only_token_can_read_but_not_write(api_client, org):
    own, _ = api_token_create(user=org.rep_a, name="other")
    _token, raw = api_token_create(user=org.rep_a, name="reader", scopes=["read"])
    client = _bearer(api_client, raw)
    assert client.get(ME_URL).status_code == 200
    response = client.delete(reverse("api-v1:auth-token-revoke", args=[own.pk]))
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.revoked_at is None


def test_write_token_can_write(api_client, org):
    own, _ = api_token_create(user=org.rep_a, name="other")
    _token, raw = api_token_create(user=org.rep_a, name="writer", scopes=["write"])
    client = _bearer(api_client, raw)
    assert client.get(ME_URL).status_code == 200  # write implies read
    assert client.delete(reverse("api-v1:auth-token-revoke", args=[own.pk])).status_code == 204


def test_tokens_list_is_mine_only_and_never_shows_secrets(api_client, org):
    _mine, raw = api_token_create(user=org.rep_a, name="mine")
    api_token_create(user=org.rep_b, name="theirs")
    response = _bearer(api_client, raw).get(reverse("api-v1:auth-token-list"))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["name"] for row in rows] == ["mine"]
    assert raw not in response.content.decode()
    assert "digest" not in rows[0]


def test_cannot_revoke_someone_elses_token(api_client, org):
    theirs, _ = api_token_create(user=org.rep_b, name="theirs")
    _token, raw = api_token_create(user=org.rep_a, name="mine")
    response = _bearer(api_client, raw).delete(
        reverse("api-v1:auth-token-revoke", args=[theirs.pk])
    )
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "a@example.test", "password": "x"},  # unknown: a message, no field errors
        {"email": "a@example.test", "password": "x", "scopes": []},
    ],
)
def test_refusals_are_documented(api_client, org, payload):
    response = api_client.post(TOKEN_URL, payload, format="json")
    assert response.status_code == 400
    assert_matches_schema(response, "post", "/api/v1/auth/token/")


def test_the_schema_says_scopes_may_not_be_empty():
    schema = api_schema().raw_schema["components"]["schemas"]["TokenCreateInputRequest"]
    assert schema["properties"]["scopes"]["minItems"] == 1
