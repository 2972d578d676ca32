"""Schemathesis hooks for tests/fuzz/fuzz_api.py (which names this file in SCHEMATHESIS_HOOKS).

``before_call``: the fuzzer authenticates with a real API token, and
``DELETE /api/v1/auth/tokens/{token_id}/`` revokes the caller's own tokens. A generated id
that happens to be the fuzzer's token would revoke it and turn every later request into a
401, so that request is sent for the decoy token instead (a second token of the same person,
made for this): the operation still revokes a real token and is fuzzed as often as any other.

``filter_failure`` drops two kinds of failure, and no others (schemathesis counts what it
drops in its summary):

- any on a 414: gunicorn refuses a request line over 4094 bytes (its ``limit_request_line``,
  kept as production has it) before Django sees the request, so that answer is the web
  server's, not the API's;
- a `negative_data_rejection` failure whose body DRF reads as a valid one. DRF reads JSON
  scalars leniently by design, and documents it: a text field takes the number 7 as "7", a
  boolean takes 0 / 1 / "true" / "no", an integer takes "7" and 7.0. A body the schema calls
  invalid only because of such a swap is the valid body the server reads, so accepting it
  is not a bug. A body that stays invalid after DRF's reading (too long, out of range, a
  wrong enum, an object for a number) still fails the run.
"""

from __future__ import annotations

import copy
import os
import re
from typing import Any

import jsonschema
import schemathesis
from rest_framework.fields import BooleanField, IntegerField
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation

TOKEN_REVOKE_PATH = "/auth/tokens/{token_id}/"
URI_TOO_LONG = 414
NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None


PROTECTED_TOKEN_ID = _env_int("FUZZ_PROTECTED_TOKEN_ID")
DECOY_TOKEN_ID = _env_int("FUZZ_DECOY_TOKEN_ID")


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Never let the fuzzer revoke the token it is authenticating with."""
    if PROTECTED_TOKEN_ID is None or case.method.upper() != "DELETE":
        return
    if not case.operation.path.endswith(TOKEN_REVOKE_PATH):
        return
    parameters = case.path_parameters or {}
    if str(parameters.get("token_id")) == str(PROTECTED_TOKEN_ID):
        case.path_parameters = {**parameters, "token_id": DECOY_TOKEN_ID or 2**31 - 1}


_MISSING = object()


def _as_drf_reads(value: Any, expected: set[str]) -> Any:
    """``value`` as DRF's field for the ``expected`` JSON types reads it, or _MISSING."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if "string" in expected and is_number:
        return str(value)  # CharField, DecimalField
    if "boolean" in expected and not isinstance(value, bool):
        key = value.lower() if isinstance(value, str) else value
        if isinstance(key, str | int | float):
            if key in BooleanField.TRUE_VALUES:
                return True
            if key in BooleanField.FALSE_VALUES:
                return False
    if "integer" in expected and (isinstance(value, str) or is_number):
        text = IntegerField.re_decimal.sub("", str(value))
        if re.fullmatch(r"\s*-?\d+\s*", text):
            return int(text)
    if "number" in expected and isinstance(value, str) and NUMBER.match(value):
        return float(value)
    return _MISSING


def _expected_types(error: jsonschema.ValidationError) -> set[str]:
    if error.validator == "type":
        wanted = error.validator_value
        return {wanted} if isinstance(wanted, str) else set(wanted)
    if error.validator == "anyOf":  # nullable fields: anyOf [{type: ...}, {type: null}]
        return set().union(*(_expected_types(sub) for sub in error.context or []))
    return set()


def _read_by_drf(body: Any, schema: dict[str, Any]) -> bool:
    """Whether the body is valid once each wrongly typed scalar is read as DRF reads it."""
    validator = jsonschema.Draft4Validator(schema)
    body = copy.deepcopy(body)
    for _ in range(50):  # one leaf per round; bodies here have far fewer
        error = next(iter(validator.iter_errors(body)), None)
        if error is None:
            return True
        path = list(error.absolute_path)
        if not path:
            return False
        *parents, leaf = path
        container = body
        for key in parents:
            container = container[key]
        read = _as_drf_reads(container[leaf], _expected_types(error))
        if read is _MISSING:
            return False
        container[leaf] = read
    return False


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but gunicorn's 414 and a negative body DRF reads as a valid one."""
    if response.status_code == URI_TOO_LONG:
        return False
    if not isinstance(failure, AcceptedNegativeData) or case.meta is None:
        return True
    negative = {
        location
        for location, component in case.meta.components.items()
        if component.mode.is_negative
    }
    if negative != {ParameterLocation.BODY} or case.media_type != "application/json":
        return True
    body = case.operation.get_body_for_media_type(case.media_type)
    if body is None:
        return True
    return not _read_by_drf(case.body, body.optimized_schema)
