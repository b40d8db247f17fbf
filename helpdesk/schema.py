"""OpenAPI schema: document the error answers every operation can give.

The exception handler in `helpdesk.api` answers 400 field by field, 404 for what the caller
may not see, 409 on a stale or impossible ticket action, 401/403 on auth. drf-spectacular only
documents the success code, so clients (and schema fuzzers) saw those as undocumented. This
AutoSchema adds them where they can happen.
"""

from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

DetailSerializer = inline_serializer(name="ErrorDetail", fields={"detail": serializers.CharField()})

FIELD_ERRORS = OpenApiResponse(
    response={
        "type": "object",
        "description": "Field name → list of messages (or `detail` for a body that could not be parsed).",
        "additionalProperties": {},
    },
    description="Invalid input, field by field; nothing was changed.",
)

WRITE_METHODS = {"POST", "PUT", "PATCH"}


class TokenScheme(KnoxTokenScheme):
    """helpdesk.token_auth.TokenAuthentication is knox's: documented as the same scheme."""

    target_class = "helpdesk.token_auth.TokenAuthentication"


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        parameters = operation.get("parameters", [])
        in_query = {p["name"] for p in parameters if p.get("in") == "query"}
        in_path = any(p.get("in") == "path" for p in parameters)
        writes = method.upper() in WRITE_METHODS

        def add(code: str, response, description: str) -> None:
            if code in responses:
                return
            if isinstance(response, OpenApiResponse):
                responses[code] = self._get_response_for_code(response, code)
            else:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(response=response, description=description), code
                )

        if writes or in_query:
            add("400", FIELD_ERRORS, "")
        if not any(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            add("401", DetailSerializer, "Not authenticated.")
            add("403", DetailSerializer, "Not allowed for this user.")
        if in_path or "page" in in_query:
            add("404", DetailSerializer, "Not found (or not visible to this user), or no such page.")
        if writes and path.startswith("/api/v1/tickets/{"):
            add("409", DetailSerializer, "The ticket changed or is not in a state that allows this.")
        return operation
