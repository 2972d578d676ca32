"""Settings for the load bench: production settings, served over plain HTTP on loopback.

``DJANGO_SETTINGS_MODULE=bench.settings`` from the repository root. Everything production
requires has a loopback default here, so the bench runs with no environment at all; bench/run.py
still passes every value explicitly (one SECRET_KEY shared by all gunicorn workers).
"""

from __future__ import annotations

import os
import secrets

BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "repready_bench")
BENCH_REDIS_DB = os.environ.get("BENCH_REDIS_DB", "15")

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{BENCH_DATABASE}")
os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}")
# Production settings read these on import: plain HTTP on loopback, no HTTPS redirect or HSTS.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
if not (os.environ.get("CREDENTIAL_SIGNING_KEY") or os.environ.get("CREDENTIAL_SIGNING_KEY_FILE")):
    from config.signing_keys import generate_pem

    os.environ["CREDENTIAL_SIGNING_KEY"] = generate_pem()  # a throwaway key for the bench

from config.settings.production import *  # noqa: E402, F403

ROOT_URLCONF = "bench.urls"
SECURE_SSL_REDIRECT = False
