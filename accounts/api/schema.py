"""OpenAPI schema generation: the error answers every operation gives, and wall-clock times."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS


class ErrorOutput(serializers.Serializer):
    """A refusal: a message, and for invalid input the fields at fault.

    Input the serializers refuse answers with each field's messages under the field's own name
    (`{"email": ["Enter a valid email address."]}`); refusals by a use case carry `detail`,
    `code` and, when fields are at fault, `errors`.
    """

    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
    retry_at = serializers.DateTimeField(required=False)


NO_NUL = r"^[^\x00]*$"

ERRORS = {
    "400": "Invalid input: the fields at fault are named.",
    "401": "No valid credentials: send `Authorization: Token <token>`.",
    "403": "The token's scopes or your roles do not allow this.",
    "404": "Not found, or not yours to see.",
    "409": "The current state refuses the request.",
    "429": "Too many requests: try again later.",
}


class AutoSchema(openapi.AutoSchema):
    """Document the error answers an operation can give, beside those it declares itself.

    401 and 403 wherever credentials are needed, 404 everywhere (objects and whole areas the
    user may not know exist answer 404), 400 where the request carries input, 409 where it
    writes (a use case refused the current state) and 429 where the view is throttled. Each
    has the body of ErrorOutput.
    """

    def _get_parameters(self) -> list[dict[str, Any]]:
        # Every filter treats `?team=` as no `team` at all (as the report page's form sends
        # empty fields): OpenAPI's allowEmptyValue says so.
        parameters: list[dict[str, Any]] = super()._get_parameters()
        for parameter in parameters:
            if parameter["in"] != "query":
                continue
            if not parameter.get("required"):
                parameter["allowEmptyValue"] = True
            # Free text is refused with a NUL in it (PostgreSQL text cannot hold one).
            schema = parameter["schema"]
            if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
                schema["pattern"] = NO_NUL
        return parameters

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        codes = ["404"]
        if any(requirement for requirement in self.get_auth()):
            codes += ["401", "403"]
        writes = self.method not in SAFE_METHODS
        if writes or any(parameter["in"] == "query" for parameter in self._get_parameters()):
            codes.append("400")
        if writes:
            codes.append("409")
        if self.view.get_throttles():
            codes.append("429")
        for code in sorted(codes):
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorOutput, description=ERRORS[code]), code
                )
        # An error a view declares with only a description carries the same body.
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response:
                response["content"] = self._get_response_for_code(ErrorOutput, code)["content"]
        return responses


class WallClockTimeField(OpenApiSerializerFieldExtension):
    """A time of day without an offset (working hours in the person's own time zone).

    OpenAPI's ``format: time`` is RFC 3339's full-time, which needs an offset.
    """

    target_class = "rest_framework.fields.TimeField"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "type": "string",
            "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
            "example": "09:00:00",
        }
