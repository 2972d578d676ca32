"""Open Badges 3.0 credentials: build a certification's AchievementCredential, sign it as a
VC-JWT, and publish the public key as a JWKS.

The key is the deployment's ``CREDENTIAL_SIGNING_KEY`` (P-256 signs ES256, Ed25519 signs EdDSA).
Local and test settings without one derive a development key from ``SECRET_KEY``; its ``kid``
starts with ``dev-`` so nobody mistakes what it signed for a real credential.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from certification.models import Certification, Level
from certification.selectors.credentials import certification_status_at
from config.errors import ConflictError
from config.signing_keys import PublicKey, SigningKey, parse_public_keys, parse_signing_key

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
STATUS_TYPE = "RepReadyCredentialStatus"
# Achievement ids are stable URNs: one per subject and level on this deployment.
_ACHIEVEMENT_NAMESPACE = uuid.UUID("6c0f7d3e-6d8f-4f7b-9d55-3f1f2b0c7a11")

CRITERIA = {
    Level.CONTENT: (
        "Pass the multiple-choice test on {subject} at the passing grade enablement set; "
        "questions are drawn at random from reviewed banks and graded on the server."
    ),
    Level.APPLICATION: (
        "Pass a role-play of a sales call or a presentation on {subject}, judged by a panel "
        "against an assessment guide shared in advance, meeting every critical criterion and "
        "the passing threshold of the panel's combined score."
    ),
    Level.FIELD: (
        "Be witnessed by a manager in a real customer interaction on {subject}, scored against "
        "an assessment guide and signed off."
    ),
}


@dataclass(frozen=True)
class CredentialKey:
    """The signing key with its algorithm, key id and public JWK."""

    private_key: SigningKey
    algorithm: str
    kid: str
    public_jwk: dict[str, str]
    development: bool


@dataclass(frozen=True)
class SignedCredential:
    """A certification's credential and its VC-JWT."""

    credential: dict[str, Any]
    jwt: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _development_key(secret: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 key derived from SECRET_KEY: the same on every start, never a production key."""
    seed = HKDF(
        algorithm=hashes.SHA256(),
        length=48,
        salt=b"repready credential development key",
        info=b"P-256",
    ).derive(secret.encode())
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(int.from_bytes(seed) % (order - 1) + 1, ec.SECP256R1())


@lru_cache(maxsize=4)
def _load_key(pem: str, secret: str, allow_development: bool) -> CredentialKey:
    development = not pem
    if development:
        if not allow_development:
            raise ImproperlyConfigured("CREDENTIAL_SIGNING_KEY must be set to sign credentials.")
        private_key: SigningKey = _development_key(secret)
    else:
        private_key = parse_signing_key(pem, source="CREDENTIAL_SIGNING_KEY")
    public_jwk = _public_jwk(private_key.public_key(), development=development)
    return CredentialKey(private_key, public_jwk["alg"], public_jwk["kid"], public_jwk, development)


def _public_jwk(public_key: PublicKey, *, development: bool = False) -> dict[str, str]:
    """The public JWK of a key, its ``kid`` the RFC 7638 thumbprint (it changes exactly when
    the key does)."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        algorithm = "EdDSA"
        jwk: dict[str, str] = OKPAlgorithm.to_jwk(public_key, as_dict=True)
        members: tuple[str, ...] = ("crv", "kty", "x")
    else:
        algorithm = "ES256"
        jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
        members = ("crv", "kty", "x", "y")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    kid = _b64url(hashlib.sha256(canonical.encode()).digest())
    if development:
        kid = f"dev-{kid}"
    return {**{m: jwk[m] for m in members}, "kid": kid, "use": "sig", "alg": algorithm}


@lru_cache(maxsize=4)
def _retired_jwks(text: str) -> tuple[dict[str, str], ...]:
    return tuple(
        _public_jwk(key) for key in parse_public_keys(text, source="CREDENTIAL_RETIRED_KEYS")
    )


def credential_key() -> CredentialKey:
    """The configured signing key (or the development key where the settings allow it)."""
    return _load_key(
        settings.CREDENTIAL_SIGNING_KEY,
        settings.SECRET_KEY,
        settings.CREDENTIAL_DEVELOPMENT_KEY,
    )


def credential_jwks() -> dict[str, list[dict[str, str]]]:
    """The public key set verifiers fetch from /.well-known/jwks.json: the signing key, then
    the retired keys whose credentials must keep verifying after a rotation."""
    current = credential_key().public_jwk
    retired = [
        jwk
        for jwk in _retired_jwks(settings.CREDENTIAL_RETIRED_KEYS)
        if jwk["kid"] != current["kid"]
    ]
    return {"keys": [current, *retired]}


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def credential_verify_url(certification: Certification) -> str:
    """The public verification page: the credential's id."""
    return _site(reverse("certification:verify", args=[certification.public_id]))


def credential_issuer() -> dict[str, Any]:
    """The issuer's OB 3.0 Profile."""
    return {
        "id": _site("/"),
        "type": ["Profile"],
        "name": settings.CREDENTIAL_ISSUER_NAME,
        "url": _site("/"),
    }


def _percent(score: Any) -> str:
    return f"{score:.2f}".rstrip("0").rstrip(".") + "%"


def _evidence(certification: Certification) -> list[dict[str, Any]]:
    if certification.attempt is not None:
        attempt = certification.attempt
        when = attempt.finished_at or certification.issued_at
        return [
            {
                "type": ["Evidence"],
                "name": f"Test: {attempt.exam.title}",
                "genre": "Multiple-choice test",
                "description": f"Passed the test on {when:%d %B %Y}.",
            }
        ]
    if certification.session is not None:
        session = certification.session
        return [
            {
                "type": ["Evidence"],
                "name": f"Assessment: {session.scenario.title}",
                "genre": session.scenario.get_kind_display(),
                "description": (
                    f"Judged by a panel with an assessment guide; combined score "
                    f"{_percent(session.score)}, released on "
                    f"{(session.released_at or certification.issued_at):%d %B %Y}."
                ),
            }
        ]
    if certification.signoff is not None:
        signoff = certification.signoff
        return [
            {
                "type": ["Evidence"],
                "name": f"Field sign-off: {signoff.observation.get_kind_display()}",
                "genre": "Field observation",
                "description": (
                    f"Witnessed in a customer interaction and signed off on "
                    f"{signoff.signed_at:%d %B %Y}; combined score {_percent(signoff.score)}."
                ),
            }
        ]
    return []


def _identifiers(certification: Certification) -> list[dict[str, Any]]:
    # The email is hashed with a per-credential salt: a verifier who knows the holder's email
    # can check it; nobody can read it off the credential.
    salt = certification.public_id.hex
    digest = hashlib.sha256((certification.rep.email.lower() + salt).encode()).hexdigest()
    return [
        {
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "identityHash": f"sha256${digest}",
            "salt": salt,
        },
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": certification.rep.display_name,
        },
    ]


def credential_build(*, certification: Certification) -> dict[str, Any]:
    """The certification's OB 3.0 AchievementCredential, unsigned."""
    subject = certification.subject
    level = Level(certification.level)
    level_name = level.label.split("·", 1)[-1].strip()
    achievement_key = f"{_site('/')}subjects/{subject.pk}/levels/{level.value}"
    achievement: dict[str, Any] = {
        "id": f"urn:uuid:{uuid.uuid5(_ACHIEVEMENT_NAMESPACE, achievement_key)}",
        "type": ["Achievement"],
        "achievementType": "Certification",
        "name": f"{subject.name}: level {level.value}, {level_name}",
        "description": (
            subject.description.strip()
            or f"{subject.get_kind_display()} certified at level {level.value} ({level_name})."
        ),
        "criteria": {"narrative": CRITERIA[level].format(subject=subject.name)},
        "creator": credential_issuer(),
        "tag": [subject.get_kind_display(), f"Level {level.value}"],
    }
    if certification.subject_version:
        achievement["version"] = certification.subject_version
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_verify_url(certification),
        "type": ["VerifiableCredential", "AchievementCredential"],
        "name": achievement["name"],
        "issuer": credential_issuer(),
        "validFrom": _timestamp(certification.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": _identifiers(certification),
            "achievement": achievement,
        },
        "evidence": _evidence(certification),
        "credentialStatus": {
            "id": _site(reverse("certification:verify_status", args=[certification.public_id])),
            "type": STATUS_TYPE,
        },
    }
    if certification.expires_at is not None:
        credential["validUntil"] = _timestamp(certification.expires_at)
    return credential


def credential_issue(*, certification: Certification, now: datetime) -> SignedCredential:
    """Build and sign the credential of an active certification; ConflictError otherwise."""
    status = certification_status_at(certification, now=now)
    if status != Certification.Status.ACTIVE:
        raise ConflictError(
            f"Only an active certification can be exported as a credential; this one is {status}.",
            code=f"certification_{status}",
        )
    credential = credential_build(certification=certification)
    key = credential_key()
    claims: dict[str, Any] = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "iat": int(now.timestamp()),
        "nbf": int(certification.issued_at.timestamp()),
    }
    if certification.expires_at is not None:
        claims["exp"] = int(certification.expires_at.timestamp())
    token = jwt.encode(
        claims,
        key.private_key,
        algorithm=key.algorithm,
        headers={"kid": key.kid, "typ": "vc+jwt", "cty": "vc"},
    )
    return SignedCredential(credential=credential, jwt=token)
