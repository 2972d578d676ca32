"""A few reads fuzzed in-process with the suite; `make fuzz` (fuzz_api.py beside this) is the
full run: every operation, 100 examples each, on gunicorn and PostgreSQL."""

from __future__ import annotations

import copy

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from accounts.services import api_token_create
from tests.openapi import openapi_document

schema = schemathesis.openapi.from_dict(copy.deepcopy(openapi_document()))
schema.app = WSGIHandler()  # requests go through Django in this process, on the test database


@pytest.fixture
def token(org):
    # As Django's test client does: a request must not close the test's own connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield api_token_create(user=org.manager_a, name="fuzz", scopes=["read"])[1]
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.include(path_regex=r"^/api/v1/(me|users|teams)/", method="GET").parametrize()
@settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_directory_reads_answer_as_documented(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"})
