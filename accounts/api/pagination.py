"""Cursor paging: the thousandth page costs what the first does."""

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "id"

    def get_page_size(self, request: Request) -> int:
        """Refuse a page size that is not a whole number from 1; send at most ``max_page_size``.

        DRF would quietly use the default instead, so a typo would look like a short page. An
        empty ``page_size=`` is no page size, as with every other query parameter.
        """
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({self.page_size_query_param: ["A whole number, 1 or more."]})
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page, default {self.page_size}; "
                    f"more than {self.max_page_size} sends {self.max_page_size}."
                )
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters
