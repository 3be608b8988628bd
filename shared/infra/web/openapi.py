"""Each service's OpenAPI document, built from its routes: what each takes, who may call
it, what it answers, and the refusals it can give (their statuses from the errors table)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import INCLUDE, Schema, post_dump

from shared.domain.errors import Conflict, Forbidden, NotFound, PlatformError, UnsupportedFileType, ValidationFailed
from shared.infra.objectstore.errors import StoreError
from shared.infra.web.errors import (
    MEANINGS,
    OUTAGE,
    ErrorSchema,
    IdentityProviderUnavailable,
    PayloadTooLarge,
    TooManyFailures,
    Unauthenticated,
    codes_answered_with,
    status_of,
)

if TYPE_CHECKING:
    from shared.infra.web.http import Api


class OpenSchema(Schema):
    """A response shape that documents and types the fields it names and passes the others
    through unchanged (dumping with a plain schema would drop them)."""

    class Meta:
        unknown = INCLUDE

    @post_dump(pass_original=True)
    def _keep_the_rest(self, data, original, **kwargs):
        if not isinstance(original, dict):
            return data
        return {**{k: v for k, v in original.items() if k not in data}, **data}


_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def openapi_path(url: str) -> str:
    return _PARAM.sub(r"{\1}", url)


def schema_name(url: str, method: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", openapi_path(url))
    return method.split(",")[0].title() + "".join(w.title() for w in words)


MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _error_statuses(ep: Api, method: str, path_params: list[str]) -> list[int]:
    """The refusals a route can answer with, from what it takes; each error's status from the table."""
    takes_input = bool(ep.json_body or ep.raw_body or path_params or ep.query_schema)
    errors: set[type[PlatformError]] = set()
    if takes_input:
        errors.add(ValidationFailed)
    if path_params or (takes_input and not ep.public):  # what it names (in the path or the body) may not exist
        errors.add(NotFound)
    if not ep.public:  # a token to verify: refused, throttled, or its provider's keys out of reach
        errors |= {Unauthenticated, Forbidden, TooManyFailures, IdentityProviderUnavailable}
    if method.upper() in MUTATING:
        errors.add(Conflict)
    if ep.json_body or ep.raw_body:
        errors.add(PayloadTooLarge)
    if ep.raw_body:
        errors |= {UnsupportedFileType, StoreError}
    statuses = {status_of(error) for error in errors} | set(ep.extra_errors)
    if not ep.url.endswith("/openapi.json"):  # every route but the document reads a database
        statuses.add(OUTAGE.status)
    return sorted(statuses)


def _refusal_response(status: int) -> dict:
    codes = ", ".join(f"`{code}`" for code in codes_answered_with(status))
    return {
        "description": f"{MEANINGS[status]} (`error`: {codes})",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _success_response(ep: Api) -> dict:
    success: dict[str, Any] = {"description": "success"}
    if ep.response_schema is not None:
        success["content"] = {ep.produces: {"schema": ep.response_schema}}
    elif ep.produces == "application/json":
        success["content"] = {ep.produces: {"schema": {}}}  # any JSON; the route names no shape
    else:
        success["content"] = {ep.produces: {"schema": {"type": "string", "format": "binary"}}}
    return success


@dataclass(frozen=True)
class DocumentedBody:
    """A JSON body the application validates (its shape depends on data, e.g. a call's
    form), documented with the schemas it is loaded with and a filled example of each."""

    schemas: dict[str, Schema]
    examples: dict[str, Any]
    description: str = ""


def json_schema(name: str, schema: Schema) -> dict:
    """`schema` as JSON Schema in an OpenAPI document's terms: the top schema's reference
    and every schema it nests (`components`), as a client needs to resolve them."""
    spec = APISpec(title=name, version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema(name, schema=schema)
    return {"$ref": f"#/components/schemas/{name}", "components": spec.to_dict()["components"]}


def _request_body(ep: Api, spec: APISpec) -> dict | None:
    if ep.documented_body is not None:
        documented = ep.documented_body
        for name, body_schema in documented.schemas.items():
            if name not in spec.components.schemas:
                spec.components.schema(name, schema=body_schema)
        refs = [{"$ref": f"#/components/schemas/{name}"} for name in documented.schemas]
        content = {"schema": refs[0] if len(refs) == 1 else {"oneOf": refs},
                   "examples": {name: {"value": value} for name, value in documented.examples.items()}}
        return {"required": True, "description": documented.description, "content": {"application/json": content}}
    if ep.body_schema is not None:
        schema: Any = ep.body_schema
    elif ep.json_body:
        schema = {"type": "object"}
    elif ep.raw_body:
        return {"required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    else:
        return None
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def build_openapi(service_name: str, entrypoints: list[Api]) -> dict:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title=f"caseplatform {service_name}",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[plugin],
    )
    converter = plugin.converter  # set when the spec takes the plugin
    assert converter is not None
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", schema=ErrorSchema)
    paths: dict[str, dict] = {}
    for ep in sorted(entrypoints, key=lambda e: (e.url, e.method)):
        path = openapi_path(ep.url)
        for method in ep.method.lower().split(","):
            op: dict[str, Any] = {
                "operationId": f"{service_name}.{ep.method_name}",
                "summary": ep.summary or ep.method_name.replace("_", " "),
                **({"description": ep.description} if ep.description else {}),
                "responses": {str(ep.status): _success_response(ep)},
            }
            params = _PARAM.findall(ep.url)
            parameters = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                for p in params
            ]
            if ep.query_schema is not None:
                parameters += converter.schema2parameters(ep.query_schema, location="query")
            if parameters:
                op["parameters"] = parameters
            request_body = _request_body(ep, spec)
            if request_body is not None:
                op["requestBody"] = request_body
            if not ep.public:
                op["security"] = [{"bearer": []}]
                op["x-roles"] = list(ep.roles)
            for status in _error_statuses(ep, method, params):
                op["responses"][str(status)] = _refusal_response(status)
            paths.setdefault(path, {})[method] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
