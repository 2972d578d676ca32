"""Open Badges 3.0 credentials: valid against 1EdTech's schema, signed, verifiable, refused
once a certification is no longer active."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import jsonschema
import jwt
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from certification.models import Certification, Subject
from certification.selectors.credentials import certification_get_for_holder
from certification.services.credentials import credential_build, credential_issue
from config.errors import ConflictError
from config.signing_keys import generate_pem, public_pem
from tests.factories.accounts import UserFactory
from tests.factories.certification import SubjectFactory, held_certification

pytestmark = pytest.mark.django_db

SCHEMA_NAME = "ob_v3p0_achievementcredential_schema.json"


def _schema_path() -> Path:
    """The published schema next to the project when present, else the copy kept for CI."""
    sibling = Path(settings.BASE_DIR).parent / "shared" / "specs" / SCHEMA_NAME
    if sibling.exists():
        return sibling
    return Path(__file__).resolve().parents[2] / "fixtures" / SCHEMA_NAME


@pytest.fixture(scope="module")
def validator() -> jsonschema.Validator:
    path = _schema_path()
    if not path.exists():
        pytest.skip(f"{SCHEMA_NAME} is not present")
    schema = json.loads(path.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _public_key(client, token: str) -> jwt.PyJWK:
    """The key the JWT's kid names, as /.well-known/jwks.json publishes it."""
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in keys if k["kid"] == kid]
    return jwt.PyJWK(jwk)


def _verify(client, token: str) -> dict:
    key = _public_key(client, token)
    return jwt.decode(token, key=key, algorithms=[key.algorithm_name])


@pytest.fixture
def certified():
    """A rep with an active certification at each level."""
    now = timezone.now()
    rep = UserFactory(rep=True, display_name="Zoë Ł. Øster")
    subject = SubjectFactory(name="Acme Cloud", description="The cloud platform.")
    return {
        level: held_certification(rep, subject, level, now=now - timedelta(days=3))
        for level in (1, 2, 3)
    }


def _full(certification: Certification) -> Certification:
    return certification_get_for_holder(certification_id=certification.pk, rep=certification.rep)


def test_every_demo_credential_validates_and_verifies_with_the_published_key(
    settings, client, validator
):
    # given the demo organisation
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    now = timezone.now()
    active = Certification.objects.filter(status=Certification.Status.ACTIVE).exclude(
        expires_at__lte=now
    )
    assert active.count() > 0
    levels = set()
    for certification in active:
        # when each is exported
        signed = credential_issue(certification=_full(certification), now=now)
        # then it validates against the OB 3.0 schema and its signature verifies
        errors = sorted(validator.iter_errors(signed.credential), key=str)
        assert not errors, f"{certification}: {errors[0]}"
        claims = _verify(client, signed.jwt)
        assert claims["id"] == signed.credential["id"]
        assert claims["credentialSubject"] == signed.credential["credentialSubject"]
        levels.add(certification.level)
    assert levels == {1, 2, 3}


def test_credential_describes_subject_level_evidence_and_validity(certified, validator):
    expires = timezone.now() + timedelta(days=200)
    Certification.objects.filter(pk=certified[2].pk).update(
        expires_at=expires, subject_version="2.1"
    )
    level2 = _full(certified[2])

    credential = credential_build(certification=level2)

    assert not list(validator.iter_errors(credential))
    assert credential["type"] == ["VerifiableCredential", "AchievementCredential"]
    assert credential["id"] == (
        settings.SITE_URL + reverse("certification:verify", args=[level2.public_id])
    )
    assert credential["issuer"]["name"] == "RepReady"
    assert credential["validUntil"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["name"] == "Acme Cloud: level 2, application"
    assert achievement["version"] == "2.1"
    assert "panel" in achievement["criteria"]["narrative"]
    (evidence,) = credential["evidence"]
    assert evidence["name"].startswith("Assessment: ")
    assert "combined score 100%" in evidence["description"]
    identifiers = credential["credentialSubject"]["identifier"]
    names = [i for i in identifiers if i["identityType"] == "name"]
    assert names[0]["identityHash"] == "Zoë Ł. Øster"
    # the email never appears in clear
    assert level2.rep.email not in json.dumps(credential)


def test_level_one_evidence_names_the_test_without_a_score(certified):
    credential = credential_build(certification=_full(certified[1]))
    (evidence,) = credential["evidence"]
    assert evidence["name"].startswith("Test: ")
    assert "score" not in evidence["description"]
    assert "validUntil" not in credential


def test_level_three_evidence_is_the_field_signoff_with_its_score(certified):
    (evidence,) = credential_build(certification=_full(certified[3]))["evidence"]
    assert evidence["name"] == "Field sign-off: Meeting"
    assert "combined score 100%" in evidence["description"]


def test_signed_credential_carries_a_vc_jwt_header_and_registered_claims(certified, client):
    certification = _full(certified[1])
    signed = credential_issue(certification=certification, now=timezone.now())
    header = jwt.get_unverified_header(signed.jwt)
    assert header["alg"] == "ES256"
    assert header["typ"] == "vc+jwt"
    assert header["kid"].startswith("dev-")  # test settings: the marked development key
    claims = _verify(client, signed.jwt)
    assert claims["iss"] == signed.credential["issuer"]["id"]
    assert claims["jti"] == signed.credential["id"]
    assert claims["nbf"] == int(certification.issued_at.timestamp())


@pytest.mark.parametrize("part", ["payload", "signature", "header"])
def test_a_tampered_credential_fails_verification(certified, client, part):
    signed = credential_issue(certification=_full(certified[1]), now=timezone.now())
    header, payload, signature = signed.jwt.split(".")
    if part == "payload":
        claims = json.loads(jwt.utils.base64url_decode(payload))
        claims["credentialSubject"]["achievement"]["name"] = "Acme Cloud: level 3"
        payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    elif part == "signature":
        raw = bytearray(jwt.utils.base64url_decode(signature))
        raw[0] ^= 1
        signature = jwt.utils.base64url_encode(bytes(raw)).decode()
    else:
        fields = json.loads(jwt.utils.base64url_decode(header))
        fields["typ"] = "JWT"
        header = jwt.utils.base64url_encode(json.dumps(fields).encode()).decode()
    key = _public_key(client, signed.jwt)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{header}.{payload}.{signature}", key=key, algorithms=[key.algorithm_name])


def test_a_credential_signed_by_another_key_fails(certified, client, settings):
    signed = credential_issue(certification=_full(certified[1]), now=timezone.now())
    settings.CREDENTIAL_SIGNING_KEY = generate_pem()  # the deployment now publishes another key
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert jwt.get_unverified_header(signed.jwt)["kid"] not in [k["kid"] for k in keys]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(signed.jwt, key=jwt.PyJWK(keys[0]), algorithms=["ES256"])


def test_a_rotated_key_left_in_the_retired_set_keeps_its_credentials_verifying(
    certified, client, settings
):
    old_pem = generate_pem()
    settings.CREDENTIAL_SIGNING_KEY = old_pem
    signed = credential_issue(certification=_full(certified[1]), now=timezone.now())
    # Rotate: a new signing key, the old one's public half published as retired.
    settings.CREDENTIAL_SIGNING_KEY = generate_pem()
    settings.CREDENTIAL_RETIRED_KEYS = public_pem(old_pem)
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 2
    assert _verify(client, signed.jwt)["id"] == signed.credential["id"]
    fresh = credential_issue(certification=_full(certified[1]), now=timezone.now())
    assert jwt.get_unverified_header(fresh.jwt)["kid"] == keys[0]["kid"]
    assert _verify(client, fresh.jwt)["id"] == fresh.credential["id"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not a key", "holds no PEM public key"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "is not a PEM public key"),
    ],
)
def test_a_bad_retired_key_is_refused_at_start_with_one_clear_line(monkeypatch, text, message):
    from config.env import ConfigError
    from config.signing_keys import env_public_keys

    monkeypatch.setenv("CREDENTIAL_RETIRED_KEYS", text)
    with pytest.raises(ConfigError, match=message):
        env_public_keys("CREDENTIAL_RETIRED_KEYS", "CREDENTIAL_RETIRED_KEYS_FILE")


def test_configured_ed25519_key_signs_eddsa(certified, client, settings):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    settings.CREDENTIAL_SIGNING_KEY = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    signed = credential_issue(certification=_full(certified[1]), now=timezone.now())
    header = jwt.get_unverified_header(signed.jwt)
    assert header["alg"] == "EdDSA"
    assert not header["kid"].startswith("dev-")
    assert _verify(client, signed.jwt)["id"] == signed.credential["id"]


def test_no_key_and_no_development_key_refuses_to_sign(certified, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.CREDENTIAL_DEVELOPMENT_KEY = False
    with pytest.raises(ImproperlyConfigured, match="CREDENTIAL_SIGNING_KEY"):
        credential_issue(certification=_full(certified[1]), now=timezone.now())


def test_revoked_certification_cannot_be_exported(certified):
    now = timezone.now()
    Certification.objects.filter(pk=certified[1].pk).update(
        status=Certification.Status.REVOKED, revoked_at=now, revoked_reason="Cheating"
    )
    with pytest.raises(ConflictError, match="this one is revoked") as caught:
        credential_issue(certification=_full(certified[1]), now=now)
    assert caught.value.code == "certification_revoked"


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=-1)])
def test_certification_past_its_expiry_cannot_be_exported_even_before_the_sweep(certified, offset):
    now = timezone.now()
    Certification.objects.filter(pk=certified[1].pk).update(expires_at=now + offset)
    with pytest.raises(ConflictError, match="expired"):
        credential_issue(certification=_full(certified[1]), now=now)


def test_achievement_ids_are_stable_per_subject_and_level(certified):
    other_rep = UserFactory(rep=True)
    subject = Subject.objects.get(name="Acme Cloud")
    theirs = held_certification(other_rep, subject, 1, now=timezone.now())
    mine = credential_build(certification=_full(certified[1]))
    their = credential_build(certification=_full(theirs))
    level2 = credential_build(certification=_full(certified[2]))
    achievement = "credentialSubject"
    assert mine[achievement]["achievement"]["id"] == their[achievement]["achievement"]["id"]
    assert mine[achievement]["achievement"]["id"] != level2[achievement]["achievement"]["id"]
    assert mine["id"] != their["id"]
