"""Check an API response against the OpenAPI schema the API serves, as the fuzzer does."""

from __future__ import annotations

import functools
import json
from typing import Any

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from schemathesis.core.transport import Response


@functools.cache
def openapi_document() -> dict[str, Any]:
    """What /api/schema/ serves, as JSON data (built once per test process)."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw))


@functools.cache
def api_schema() -> Any:
    """The schema of /api/schema/, loaded by schemathesis."""
    return schemathesis.openapi.from_dict(openapi_document())


def assert_matches_schema(response: Any, method: str, path: str) -> None:
    """Fail unless the status is documented for ``method path`` and the body fits it.

    ``path`` is the schema's template, e.g. ``/api/v1/users/{user_id}/``.
    """
    operation = api_schema()[path][method.upper()]
    documented = set(operation.definition.raw["responses"])
    assert str(response.status_code) in documented, (
        f"{method.upper()} {path} answered {response.status_code}, documents {sorted(documented)}"
    )
    request = requests.Request(method.upper(), f"http://testserver{response.wsgi_request.path}")
    operation.validate_response(
        Response(
            status_code=response.status_code,
            headers={name.lower(): [value] for name, value in response.headers.items()},
            content=response.content,
            request=request.prepare(),
            elapsed=0,
            verify=False,
        )
    )
