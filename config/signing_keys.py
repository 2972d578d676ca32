"""Credential signing keys: read and check the deployment's key, or make a new one.

``python -m config.signing_keys`` prints a new P-256 private key in PEM, one line with ``\\n``
escapes, ready for ``CREDENTIAL_SIGNING_KEY`` in an environment file.
``python -m config.signing_keys --public < old.pem`` prints the public half of a key being
retired, for ``CREDENTIAL_RETIRED_KEYS``: credentials it signed keep verifying.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from config.env import ConfigError

SigningKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def parse_signing_key(pem: str, *, source: str) -> SigningKey:
    """Load a PEM private key (P-256 or Ed25519, unencrypted); fail with one clear line."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{source} is not an unencrypted PEM private key ({exc}); "
            "make one with: python -m config.signing_keys"
        ) from None
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise ConfigError(f"{source} must be a P-256 (ES256) or Ed25519 (EdDSA) private key.")


def _env_pem(name: str, file_name: str) -> tuple[str, str]:
    """Return (PEM text, where it came from) from ``name`` or the file ``file_name`` names;
    a key kept on one line in an environment file carries its line breaks as \\n."""
    text = os.environ.get(name, "").strip()
    path = os.environ.get(file_name, "").strip()
    if text and path:
        raise ConfigError(f"Set {name} or {file_name}, not both.")
    source = name
    if path:
        source = f"{file_name} ({path})"
        try:
            text = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source} cannot be read: {exc.__class__.__name__}.") from None
    return text.replace("\\n", "\n"), source


def env_signing_key(name: str, file_name: str) -> str:
    """Return the PEM text from ``name`` or from the file ``file_name`` names, checked; or ''."""
    pem, source = _env_pem(name, file_name)
    if not pem:
        return ""
    pem += "\n"
    parse_signing_key(pem, source=source)
    return pem


PUBLIC_PEM_BLOCK = re.compile(r"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


def parse_public_keys(text: str, *, source: str) -> list[PublicKey]:
    """Load every PEM public key in the text (P-256 or Ed25519); fail with one clear line."""
    keys: list[PublicKey] = []
    blocks = PUBLIC_PEM_BLOCK.findall(text.replace("\\n", "\n"))
    if text.strip() and not blocks:
        raise ConfigError(f"{source} holds no PEM public key (-----BEGIN PUBLIC KEY-----).")
    for position, block in enumerate(blocks, start=1):
        try:
            key = serialization.load_pem_public_key(block.encode())
        except (ValueError, TypeError) as exc:
            raise ConfigError(
                f"{source}: key {position} is not a PEM public key ({exc})."
            ) from None
        if isinstance(key, ed25519.Ed25519PublicKey) or (
            isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
        ):
            keys.append(key)
        else:
            raise ConfigError(f"{source}: key {position} must be a P-256 or Ed25519 public key.")
    return keys


def env_public_keys(name: str, file_name: str) -> str:
    """Return the PEM text of retired public keys from ``name`` or the file ``file_name``
    names, checked; or ''."""
    text, source = _env_pem(name, file_name)
    parse_public_keys(text, source=source)
    return text


def public_pem(private_pem: str) -> str:
    """The public key of a PEM private key, in PEM (what a retired key leaves published)."""
    key = parse_signing_key(private_pem.replace("\\n", "\n"), source="the private key")
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def generate_pem() -> str:
    """A new P-256 private key in PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--public"]:
        # The public half of the private key on standard input, for CREDENTIAL_RETIRED_KEYS.
        print(public_pem(sys.stdin.read()).strip().replace("\n", "\\n"))  # noqa: T201
    else:
        print(generate_pem().strip().replace("\n", "\\n"))  # noqa: T201
