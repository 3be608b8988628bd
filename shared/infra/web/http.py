"""HTTP entrypoint for every service: who is calling, JSON in and out, errors, OpenAPI.

`api(...)` replaces nameko's `http(...)`. Before the service method runs it
checks the bearer token and role, and loads the body through its marshmallow
schema; the method gets `caller` (unless the route is public) and `body`
(when it has a body schema). Every error leaves as
`{"error": code, "message": ..., "fields": {...}}` with its status.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Callable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import INCLUDE, RAISE, Schema, fields, post_dump
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from shared.domain.access import ROLES, Caller

from shared.infra.web.tokens import caller_from_header
from shared.infra.config import Settings
from shared.domain.errors import Forbidden, PayloadTooLarge, PlatformError, ValidationFailed
from shared.infra.outages import is_outage
from shared.domain.validation import flatten_messages, load  # noqa: F401 - the API's loading of bodies

log = logging.getLogger(__name__)

MAX_JSON_BYTES = 2 * 1024 * 1024  # the largest form (申请表 with its lists) is far below this


def json_response(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, default=str),
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def error_payload(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": code, "message": message, "fields": fields or {}}


class ErrorSchema(Schema):
    """Every refusal: a code, a message, and each failing field with the rules it breaks."""

    error = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", attribute="fields", required=True, keys=fields.String(),
                          values=fields.List(fields.String()))


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


# Why each refusal happens; which ones a route lists follows from what it takes (see _error_statuses).
ERROR_RESPONSES = {
    400: "bad input: `fields` names each failing field (body, path or query) with the rule it breaks",
    401: "no valid bearer token (missing, expired, wrongly signed, unknown role)",
    403: "the caller's role, or its organisation, may not do this to this case",
    404: "no such case, call, draft, document or checkpoint",
    409: "the case's state, a concurrent change or a used-up quota refuses this step",
    413: "the body is larger than the limit",
    415: "the file's bytes (or its name) are not an allowed evidence type",
    502: "the evidence store refused the request (its credentials or configuration): nothing was recorded",
    503: "a database or the evidence store cannot be reached: nothing was recorded; retry (Retry-After)",
}


def _read_at_most(stream, limit: int) -> bytes:
    """The whole body, refused once it passes `limit` bytes.

    eventlet's `wsgi.input` ends where the body ends, chunked or not (werkzeug's
    `request.stream` would hand a chunked body over as empty: see documents' uploads).
    """
    parts, size = [], 0
    while True:
        try:
            chunk = stream.read(min(64 * 1024, limit + 1 - size))
        except (OSError, ValueError):  # a chunked body whose framing broke off
            raise ValidationFailed({"_body": ["the body broke off before its end"]}) from None
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge("_body", limit)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and halves of surrogate pairs with no other half


def unstorable_text(value: Any, path: str = "") -> dict[str, list[str]]:
    """Every string (key or value) in `value` that no database could store as text, by its path.

    PostgreSQL text refuses NUL, and UTF-8 cannot encode a lone surrogate (JSON's
    "\\ud800" parses into one): refused here as bad input rather than failing in the
    database with a 500, or worse, in a subscriber with a parked event.
    """
    rule = "text may not contain NUL (\\u0000) or an unpaired surrogate (\\ud800-\\udfff)"
    found: dict[str, list[str]] = {}
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            found[path or "_body"] = [rule]
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and _UNSTORABLE.search(key):
                found[path or "_body"] = [rule]
                continue
            found.update(unstorable_text(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(unstorable_text(item, f"{path}[{index}]"))
    return found


class _JsonWsgiApp(WsgiApp):
    """nameko's WSGI app, with unknown routes and wrong methods answered in the API's JSON shape."""

    def __call__(self, environ, start_response):
        adapter = self.url_map.bind_to_environ(environ)
        try:
            adapter.match()
        except HTTPException as exc:
            code = "not_found" if exc.code == 404 else "method_not_allowed" if exc.code == 405 else "http_error"
            response = json_response(error_payload(code, exc.description or str(exc)), exc.code or 500)
            return response(environ, start_response)
        return super().__call__(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return _JsonWsgiApp(self)


class Api(HttpRequestHandler):
    server = JsonWebServer()

    def __init__(
        self, method: str, url: str, *, roles: tuple[str, ...] = (), public: bool = False,
        body: Schema | None = None, response: Schema | None = None, status: int = 200,
        summary: str = "", raw_body: bool = False, json_body: bool = False,
        query: dict[str, fields.Field] | None = None, produces: str = "application/json",
        errors: tuple[int, ...] = (), **kwargs: Any,
    ):
        if not public and not roles:
            raise ValueError(f"{method} {url}: a route names the roles it admits or is public")
        unknown_roles = set(roles) - set(ROLES)
        if unknown_roles:
            raise ValueError(f"{method} {url}: unknown roles {sorted(unknown_roles)}")
        self.roles = tuple(roles)
        self.public = public
        self.body_schema = body
        self.response_schema = response
        self.status = status
        self.summary = summary
        self.raw_body = raw_body
        # json_body: the body is parsed but validated by the application, because its
        # schema depends on data (a call's form), not on the route.
        self.json_body = json_body or body is not None
        # query: the route's query parameters, checked before the method runs (400 naming the
        # parameter) and documented; the method still reads them from request.args.
        # A parameter the route does not take is refused, not ignored: a misspelt filter
        # (`?provnce=`) would otherwise answer with everything, as if it had been applied.
        self.query_schema = Schema.from_dict(query, name=f"{_schema_name(url, method)}Query")(unknown=RAISE) \
            if query else None
        self.produces = produces
        self.extra_errors = tuple(errors)
        super().__init__(method, url, **kwargs)

    def setup(self) -> None:
        self.secret = Settings.from_nameko(self.container.config).jwt_secret
        super().setup()

    def authenticate(self, request) -> Caller:
        caller = caller_from_header(self.secret, request.headers.get("Authorization"))
        if caller.role not in self.roles:
            raise Forbidden(f"role {caller.role} may not call {self.method} {self.url}")
        return caller

    def _check_query(self, args) -> None:
        if not args:
            return
        takes = sorted(self.query_schema.fields) if self.query_schema is not None else []
        rule = f"not a parameter of this route; it takes {', '.join(takes)}" if takes \
            else "this route takes no query parameters"
        unknown = {name: [rule] for name in args if name not in takes}
        repeated = {name: ["given more than once; give it once"] for name in takes if len(args.getlist(name)) > 1}
        if unknown or repeated:
            raise ValidationFailed({**unknown, **repeated})
        load(self.query_schema, args.to_dict(flat=True))

    def get_entrypoint_parameters(self, request):
        args, kwargs = super().get_entrypoint_parameters(request)
        kwargs = dict(kwargs)
        if not self.public:
            kwargs["caller"] = self.authenticate(request)
        unstorable = {**unstorable_text(dict(request.path_values)), **unstorable_text(request.args.to_dict())}
        if unstorable:
            raise ValidationFailed(unstorable)
        self._check_query(request.args)
        if self.json_body:
            if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
                raise PayloadTooLarge("_body", MAX_JSON_BYTES)
            raw = _read_at_most(request.environ["wsgi.input"], MAX_JSON_BYTES)
            try:
                data = json.loads(raw or b"null")
            except ValueError:  # not JSON, or not UTF-8
                raise ValidationFailed({"_body": ["the body must be a JSON document"]}) from None
            except RecursionError:  # [[[[…]]]] a million deep: refused, not a crash
                raise ValidationFailed({"_body": ["the JSON document nests too deeply"]}) from None
            if not isinstance(data, dict):
                raise ValidationFailed({"_body": ["the body must be a JSON object"]})
            unstorable = unstorable_text(data)
            if unstorable:
                raise ValidationFailed(unstorable)
            kwargs["body"] = load(self.body_schema, data) if self.body_schema is not None else data
        return args, kwargs

    def response_from_result(self, result: Any) -> Response:
        if isinstance(result, Response):
            return result
        status = self.status
        if isinstance(result, tuple):
            status, result = result
        if self.response_schema is not None:
            result = self.response_schema.dump(result)
        return json_response(result, status)

    def response_from_exception(self, exc: BaseException) -> Response:
        if isinstance(exc, PlatformError):
            if exc.status >= 500:
                log.error("%s %s failed: %s", self.method, self.url, exc)
            return json_response(error_payload(exc.code, exc.message, exc.fields), exc.status)
        if isinstance(exc, HTTPException):
            return json_response(error_payload("http_error", exc.description or str(exc)), exc.code or 500)
        if is_outage(exc):
            # A database unreachable (restart, lost connections): not a bug, and not half-done,
            # since a transaction commits whole or not at all (tests/faults/test_database_outage.py).
            log.warning("%s %s: a database is unreachable: %s", self.method, self.url, str(exc).splitlines()[0][:300])
            return json_response(error_payload(
                "service_unavailable", "a database this service needs is unreachable; the request was not "
                "completed and nothing of it was half-saved: reload and retry in a moment"), 503, {"Retry-After": "5"})
        log.exception("%s %s failed", self.method, self.url, exc_info=exc)
        return json_response(
            error_payload("internal_error", "the request failed inside the service; it was logged"), 500
        )


api = Api.decorator


# -- OpenAPI ------------------------------------------------------------------

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def openapi_path(url: str) -> str:
    return _PARAM.sub(r"{\1}", url)


def _schema_name(url: str, method: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", openapi_path(url))
    return method.split(",")[0].title() + "".join(w.title() for w in words)


MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _error_statuses(ep: Api, method: str, path_params: list[str]) -> list[int]:
    """The refusals a route can answer with, from what it takes (see ERROR_RESPONSES)."""
    takes_input = bool(ep.json_body or ep.raw_body or path_params or ep.query_schema)
    statuses = set(ep.extra_errors)
    if takes_input:
        statuses.add(400)
    if path_params or (takes_input and not ep.public):  # what it names (in the path or the body) may not exist
        statuses.add(404)
    if not ep.public:
        statuses |= {401, 403}
    if method.upper() in MUTATING:
        statuses.add(409)
    if ep.json_body or ep.raw_body:
        statuses.add(413)
    if ep.raw_body:
        statuses |= {415, 502}
    if not ep.url.endswith("/openapi.json"):  # every route but the document reads a database
        statuses.add(503)
    return sorted(statuses)


def build_openapi(service_name: str, entrypoints: list[Api]) -> dict:
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title=f"caseplatform {service_name}",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[plugin],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Error", schema=ErrorSchema)
    error_ref = {"$ref": "#/components/schemas/Error"}
    paths: dict[str, dict] = {}
    for ep in sorted(entrypoints, key=lambda e: (e.url, e.method)):
        path = openapi_path(ep.url)
        for method in ep.method.lower().split(","):
            success: dict[str, Any] = {"description": "success"}
            if ep.response_schema is not None:
                success["content"] = {ep.produces: {"schema": ep.response_schema}}
            elif ep.produces == "application/json":
                success["content"] = {ep.produces: {"schema": {}}}  # any JSON; the route names no shape
            else:
                success["content"] = {ep.produces: {"schema": {"type": "string", "format": "binary"}}}
            op: dict[str, Any] = {
                "operationId": f"{service_name}.{ep.method_name}",
                "summary": ep.summary or ep.method_name.replace("_", " "),
                "responses": {str(ep.status): success},
            }
            params = _PARAM.findall(ep.url)
            parameters = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                for p in params
            ]
            if ep.query_schema is not None:
                parameters += plugin.converter.schema2parameters(ep.query_schema, location="query")
            if parameters:
                op["parameters"] = parameters
            if ep.body_schema is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ep.body_schema}},
                }
            elif ep.json_body:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            elif ep.raw_body:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                }
            if not ep.public:
                op["security"] = [{"bearer": []}]
                op["x-roles"] = list(ep.roles)
            for status in _error_statuses(ep, method, params):
                op["responses"][str(status)] = {
                    "description": ERROR_RESPONSES[status],
                    "content": {"application/json": {"schema": error_ref}},
                }
            paths.setdefault(path, {})[method] = op
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


class OpenApi(DependencyProvider):
    """Gives a service method the OpenAPI document of its own container's routes."""

    def setup(self) -> None:
        self._document: dict | None = None

    def get_dependency(self, worker_ctx) -> Callable[[], dict]:
        def document() -> dict:
            if self._document is None:
                eps = [e for e in self.container.entrypoints if isinstance(e, Api)]
                self._document = build_openapi(self.container.service_name, eps)
            return self._document

        return document


def openapi_route(prefix: str):
    """The `GET <prefix>/openapi.json` method every service class carries."""

    @api("GET", f"{prefix}/openapi.json", public=True, response=OpenSchema(),
         summary="this service's OpenAPI document")
    def openapi(self, request):
        return self.openapi_document()

    return openapi
