"""Bad configuration stops the process with one line; good production config passes --deploy."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config.env import ConfigError, database_from_url, mailers_from_env
from config.signing_keys import generate_pem

ROOT = Path(__file__).resolve().parents[2]
GOOD_PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "repready.example.com",
    "DATABASE_URL": "postgres://repready:secret@db.internal:5432/repready",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "CREDENTIAL_SIGNING_KEY": generate_pem(),
}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DATABASE_URL",
            "REDIS_URL",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
            "CREDENTIAL_SIGNING_KEY",
            "CREDENTIAL_SIGNING_KEY_FILE",
            # set by the browser tests' conftest; --deploy rightly refuses it
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY must be set."),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too weak for production"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS must be set"),
        ({"DATABASE_URL": None}, "DATABASE_URL must be set."),
        ({"REDIS_URL": None}, "REDIS_URL must be set"),
        (
            {"DATABASE_URL": "postgres://repready:secret@db:notaport/repready"},
            "DATABASE_URL 'postgres://repready:***@db:notaport/repready' is malformed",
        ),
        ({"DATABASE_URL": "mysql://repready:secret@db/repready"}, "is malformed: expected"),
        ({"DATABASE_URL": "just some text"}, "is malformed"),
        ({"AXES_FAILURE_LIMIT": "five"}, "AXES_FAILURE_LIMIT must be a whole number"),
        ({"EMAIL_USE_TLS": "maybe"}, "EMAIL_USE_TLS must be true or false"),
        ({"CREDENTIAL_SIGNING_KEY": None}, "CREDENTIAL_SIGNING_KEY (a PEM private key)"),
        ({"CREDENTIAL_SIGNING_KEY": "not a key"}, "is not an unencrypted PEM private key"),
        (
            {"CREDENTIAL_SIGNING_KEY_FILE": "/nonexistent/credential.pem"},
            "Set CREDENTIAL_SIGNING_KEY or CREDENTIAL_SIGNING_KEY_FILE, not both.",
        ),
    ],
)
@pytest.mark.parametrize("entry", ["manage.py", "wsgi"])
def test_bad_production_configuration_fails_in_one_line(change, expected, entry):
    env = {k: v for k, v in {**GOOD_PRODUCTION, **change}.items() if v is not None}
    args = ["manage.py", "check"] if entry == "manage.py" else ["-c", "import config.wsgi"]
    result = _run(args, env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("RepReady configuration error (config.settings.production): ")
    assert expected in result.stderr
    assert "secret@" not in result.stderr  # the database password is never printed


def test_production_settings_pass_the_deployment_checklist():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], GOOD_PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_local_settings_start_without_any_environment():
    result = _run(["manage.py", "check"], {"DJANGO_SETTINGS_MODULE": "config.settings.local"})
    assert result.returncode == 0, result.stderr


def test_database_url_parsing():
    sqlite = database_from_url("sqlite:////tmp/x.sqlite3")
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    pg = database_from_url("postgres://u:p@h:6543/name", conn_max_age=60)
    assert (pg["HOST"], pg["PORT"], pg["NAME"], pg["CONN_MAX_AGE"]) == ("h", 6543, "name", 60)
    with pytest.raises(ConfigError, match="names no database"):
        database_from_url("postgres://u:p@h:5432/")


def test_smtp_mailer_is_built_from_email_variables(monkeypatch):
    monkeypatch.setenv("EMAIL_HOST", "smtp.example.com")
    monkeypatch.setenv("EMAIL_PORT", "587")
    monkeypatch.setenv("EMAIL_USE_TLS", "true")
    monkeypatch.setenv("EMAIL_HOST_USER", "mailer")
    mailers = mailers_from_env("django.core.mail.backends.smtp.EmailBackend")
    options = mailers["default"]["OPTIONS"]
    assert (options["host"], options["port"], options["use_tls"], options["username"]) == (
        "smtp.example.com",
        587,
        True,
        "mailer",
    )
    monkeypatch.setenv("EMAIL_USE_SSL", "true")
    with pytest.raises(ConfigError, match="not both"):
        mailers_from_env("django.core.mail.backends.smtp.EmailBackend")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL must be one of"),
        ({"API_AUTH_THROTTLE": "lots"}, "API_AUTH_THROTTLE must look like 20/min"),
        ({"API_TOKEN_DEFAULT_DAYS": "400"}, "API_TOKEN_DEFAULT_DAYS must be at most 365"),
    ],
)
def test_more_bad_values_fail_at_start(change, expected):
    result = _run(["manage.py", "check"], {**GOOD_PRODUCTION, **change})
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_switch_means_the_default_not_off():
    code = "from django.conf import settings; print(settings.SECURE_SSL_REDIRECT)"
    result = _run(
        ["manage.py", "shell", "-c", code], {**GOOD_PRODUCTION, "SECURE_SSL_REDIRECT": ""}
    )
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_signing_key_is_read_from_a_file_with_escaped_newlines_or_refused(tmp_path, monkeypatch):
    from config.signing_keys import env_signing_key

    pem = generate_pem()
    path = tmp_path / "credential.pem"
    path.write_text(pem)
    monkeypatch.delenv("CREDENTIAL_SIGNING_KEY", raising=False)
    monkeypatch.setenv("CREDENTIAL_SIGNING_KEY_FILE", str(path))
    assert env_signing_key("CREDENTIAL_SIGNING_KEY", "CREDENTIAL_SIGNING_KEY_FILE") == pem
    monkeypatch.delenv("CREDENTIAL_SIGNING_KEY_FILE")
    monkeypatch.setenv("CREDENTIAL_SIGNING_KEY", pem.strip().replace("\n", "\\n"))
    assert env_signing_key("CREDENTIAL_SIGNING_KEY", "CREDENTIAL_SIGNING_KEY_FILE") == pem
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    monkeypatch.setenv("CREDENTIAL_SIGNING_KEY", rsa_pem)
    with pytest.raises(ConfigError, match="P-256"):
        env_signing_key("CREDENTIAL_SIGNING_KEY", "CREDENTIAL_SIGNING_KEY_FILE")
