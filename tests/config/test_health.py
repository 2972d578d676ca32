"""GET /healthz: 200 while the database serves, 503 when it does not; broker state reported."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthy_without_broker_reports_eager(client, db, settings):
    settings.REDIS_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}
    assert response["Cache-Control"] == "no-store"


def test_answers_any_host_without_redirect_or_session(client, db, settings):
    settings.REDIS_URL = ""
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    assert "Set-Cookie" not in response


def test_broker_down_is_reported_but_the_app_still_serves(client, db, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"].startswith("error: ")


@pytest.mark.services
def test_real_broker_is_ok(client, db, settings):
    settings.REDIS_URL = require_service("Redis", "REDIS_URL")
    assert client.get("/healthz").json()["broker"] == "ok"


def test_only_get_and_head(client, db):
    assert client.post("/healthz").status_code == 405


def test_database_down_answers_503():
    # A real outage: the app process points at a PostgreSQL port where nothing listens.
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{_closed_port()}/none",
    }
    env.pop("REDIS_URL", None)
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["status"] == "unavailable"
    assert outcome["body"]["database"] == "error: OperationalError"
    assert outcome["body"]["broker"] == "eager"
