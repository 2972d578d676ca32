"""OpenAPI schema and Swagger UI: signed-in only, served offline, listing our endpoints."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_schema_needs_authentication(client):
    assert client.get(reverse("api-schema")).status_code in {401, 403}


def test_schema_lists_the_v1_endpoints_and_token_scheme(client, org):
    client.force_login(org.rep_a)
    response = client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    paths = set(schema["paths"])
    assert {
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/teams/",
        "/api/v1/users/",
        "/api/v1/users/{user_id}/",
        "/api/v1/auth/tokens/{token_id}/",
    } <= paths
    assert schema["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    # Asking for a token needs no credentials; every other operation does.
    assert schema["paths"]["/api/v1/auth/token/"]["post"].get("security", []) in ([], [{}])
    assert {"tokenAuth": []} in schema["paths"]["/api/v1/me/"]["get"]["security"]


def test_docs_page_is_served_without_any_cdn(client, org):
    assert client.get(reverse("api-docs")).status_code == 302  # sign in first
    client.force_login(org.rep_a)
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert external == []
    assert "swagger-ui" in html
    script = re.search(r'<script src="([^"]+\?script[^"]*)"', html)
    assert script, "the Swagger initialiser is an external script, allowed by our CSP"
    assert client.get(script.group(1).replace("&amp;", "&")).status_code == 200
    assert "<style" not in html  # no inline style for the CSP to block


def test_api_errors_are_json(client, org):
    client.force_login(org.rep_a)
    response = client.get("/api/v1/users/999999/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail"}


def _operations():
    from tests.openapi import api_schema

    raw = api_schema().raw_schema
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield f"{method.upper()} {path}", method, operation


def test_every_operation_documents_its_error_answers():
    # So a client (and the fuzzer, tests/fuzz/) knows every status it can be sent.
    for label, method, operation in _operations():
        codes = set(operation["responses"])
        assert "404" in codes, label
        if operation.get("security", [{}]) not in ([], [{}]):
            assert {"401", "403"} <= codes, label
        if method != "get":
            assert {"400", "409"} <= codes, label
        error = operation["responses"]["404"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorOutput"}, label


def test_bodies_are_json_except_uploads():
    uploads = {"POST /api/v1/manage/banks/{bank_id}/import/": {"multipart/form-data"}}
    for label, _method, operation in _operations():
        if "requestBody" in operation:
            types = set(operation["requestBody"]["content"])
            assert types == uploads.get(label, {"application/json"}), label


def test_query_parameters_say_what_they_take():
    # `?team=` means no team filter everywhere; allowEmptyValue tells clients and the fuzzer.
    # Free text never holds a NUL (refused with 400: PostgreSQL cannot compare it).
    for label, _method, operation in _operations():
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            name = (label, parameter["name"])
            expected = None if parameter.get("required") else True
            assert parameter.get("allowEmptyValue") is expected, name
            schema = parameter["schema"]
            if schema["type"] == "string" and not {"enum", "format"} & set(schema):
                assert schema["pattern"] == r"^[^\x00]*$", name
