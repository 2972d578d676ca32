"""Read RepReady's configuration from environment variables.

Every reader raises ``ConfigError`` with a one-line explanation. ``manage.py``, ``wsgi.py``,
``asgi.py`` and ``celery.py`` load settings through ``load_settings_or_exit`` so that a bad value
stops the process with that line instead of a traceback from deep inside Django.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_VALUES = {"1", "true", "yes", "on"}
FALSE_VALUES = {"0", "false", "no", "off"}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
THROTTLE_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")
SUPPORTED_DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}


class ConfigError(ImproperlyConfigured):
    """A configuration value is missing or malformed."""


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    """Return the variable's text, or the default; fail if it is required and unset."""
    value = os.environ.get(name)
    if value is None or (required and not value.strip()):
        if required:
            raise ConfigError(f"{name} must be set.")
        return default if default is not None else ""
    return value


def env_bool(name: str, *, default: bool) -> bool:
    """Return the variable as a boolean (1/0, true/false, yes/no, on/off); empty means unset."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    lowered = value.strip().lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}.")


def env_int(
    name: str, *, default: int, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return the variable as an integer within ``minimum`` and ``maximum`` when given."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {number}.")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, not {number}.")
    return number


def env_log_level(name: str, default: str) -> str:
    """Return a logging level name (DEBUG, INFO, WARNING, ERROR or CRITICAL)."""
    value = env_str(name, default).strip().upper() or default
    if value not in LOG_LEVELS:
        raise ConfigError(f"{name} must be one of {', '.join(LOG_LEVELS)}, not {value!r}.")
    return value


def env_throttle_rate(name: str, default: str) -> str:
    """Return a DRF rate such as 20/min."""
    value = env_str(name, default).strip() or default
    if not THROTTLE_RATE.match(value):
        raise ConfigError(f"{name} must look like 20/min (per s, min, hour or day), not {value!r}.")
    return value


def env_list(name: str, *, default: list[str] | None = None, required: bool = False) -> list[str]:
    """Return a comma-separated variable as a list of non-empty, stripped items."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        if required:
            raise ConfigError(f"{name} must be set (comma-separated).")
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def redact_url(url: str) -> str:
    """Return the URL with any password replaced, so it can appear in an error."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def database_from_url(url: str, *, conn_max_age: int = 0) -> dict[str, Any]:
    """Parse DATABASE_URL into a Django DATABASES entry, failing with one clear line."""
    shown = redact_url(url)
    example = "postgres://USER:PASSWORD@HOST:5432/NAME or sqlite:///path/to/db.sqlite3"
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SUPPORTED_DATABASE_SCHEMES:
        raise ConfigError(f"DATABASE_URL {shown!r} is malformed: expected {example}.")
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
        # Reading the port validates it; urllib only complains when it is accessed.
        urlsplit(url).port  # noqa: B018
    except (ValueError, KeyError) as exc:
        raise ConfigError(
            f"DATABASE_URL {shown!r} is malformed ({exc}): expected {example}."
        ) from None
    if config.get("ENGINE", "").endswith("postgresql"):
        if not config.get("NAME"):
            raise ConfigError(f"DATABASE_URL {shown!r} names no database: expected {example}.")
        # A database host that drops packets must not hang a request or the health check.
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
        # No JIT compilation: on the readiness report's aggregates it cost more than the query
        # (3.6 of 5.7 s on 10,000 reps; docs/performance.md), and short queries never gain.
        config["OPTIONS"].setdefault("options", "-c jit=off")
    return dict(config)


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def mailers_from_env(default_backend: str) -> dict[str, dict[str, Any]]:
    """Build Django's MAILERS from EMAIL_BACKEND and, for SMTP, EMAIL_HOST, EMAIL_PORT, etc."""
    backend = env_str("EMAIL_BACKEND", default_backend)
    options: dict[str, Any] = {}
    if backend == SMTP_BACKEND:
        use_tls = env_bool("EMAIL_USE_TLS", default=False)
        use_ssl = env_bool("EMAIL_USE_SSL", default=False)
        if use_tls and use_ssl:
            raise ConfigError("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
        options = {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", default=465 if use_ssl else 25, minimum=1),
            "username": env_str("EMAIL_HOST_USER") or None,
            "password": env_str("EMAIL_HOST_PASSWORD") or None,
            "use_tls": use_tls,
            "use_ssl": use_ssl,
            "timeout": env_int("EMAIL_TIMEOUT", default=10, minimum=1),
        }
    return {"default": {"BACKEND": backend, "OPTIONS": options}}


def load_settings_or_exit(default_module: str) -> None:
    """Import the settings module now; on a ConfigError print one line and exit with status 2."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", default_module)
    module = os.environ["DJANGO_SETTINGS_MODULE"]
    try:
        importlib.import_module(module)
    except ConfigError as exc:
        sys.stderr.write(f"RepReady configuration error ({module}): {exc}\n")
        raise SystemExit(2) from None
