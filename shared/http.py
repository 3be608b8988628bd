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
from marshmallow import Schema
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from shared.auth import Caller, caller_from_header
from shared.config import Settings
from shared.errors import Forbidden, PlatformError, ValidationFailed
from shared.validation import flatten_messages, load  # noqa: F401 - the API's loading of bodies

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
        summary: str = "", raw_body: bool = False, json_body: bool = False, **kwargs: Any,
    ):
        if not public and not roles:
            raise ValueError(f"{method} {url}: a route names the roles it admits or is public")
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
        super().__init__(method, url, **kwargs)

    def setup(self) -> None:
        self.secret = Settings.from_nameko(self.container.config).jwt_secret
        super().setup()

    def authenticate(self, request) -> Caller:
        caller = caller_from_header(self.secret, request.headers.get("Authorization"))
        if caller.role not in self.roles:
            raise Forbidden(f"role {caller.role} may not call {self.method} {self.url}")
        return caller

    def get_entrypoint_parameters(self, request):
        args, kwargs = super().get_entrypoint_parameters(request)
        kwargs = dict(kwargs)
        if not self.public:
            kwargs["caller"] = self.authenticate(request)
        if self.json_body:
            if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
                raise ValidationFailed({"_body": [f"the JSON body is larger than {MAX_JSON_BYTES} bytes"]})
            raw = request.get_data(cache=False)
            try:
                data = json.loads(raw or b"null")
            except ValueError:
                raise ValidationFailed({"_body": ["the body must be a JSON document"]}) from None
            if not isinstance(data, dict):
                raise ValidationFailed({"_body": ["the body must be a JSON object"]})
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
        log.exception("%s %s failed", self.method, self.url, exc_info=exc)
        return json_response(
            error_payload("internal_error", "the request failed inside the service; it was logged"), 500
        )


api = Api.decorator


# -- OpenAPI ------------------------------------------------------------------

_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_][a-zA-Z0-9_]*)>")


def openapi_path(url: str) -> str:
    return _PARAM.sub(r"{\1}", url)


def build_openapi(service_name: str, entrypoints: list[Api]) -> dict:
    spec = APISpec(
        title=f"caseplatform {service_name}",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
    )
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    paths: dict[str, dict] = {}
    for ep in sorted(entrypoints, key=lambda e: (e.url, e.method)):
        path = openapi_path(ep.url)
        for method in ep.method.lower().split(","):
            op: dict[str, Any] = {
                "operationId": f"{service_name}.{ep.method_name}",
                "summary": ep.summary or ep.method_name.replace("_", " "),
                "responses": {str(ep.status): {"description": "success"}},
            }
            params = _PARAM.findall(ep.url)
            if params:
                op["parameters"] = [
                    {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                    for p in params
                ]
            if ep.body_schema is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": type(ep.body_schema)}},
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
            if ep.response_schema is not None:
                op["responses"][str(ep.status)]["content"] = {
                    "application/json": {"schema": type(ep.response_schema)}
                }
            if not ep.public:
                op["security"] = [{"bearer": []}]
                op["x-roles"] = list(ep.roles)
                op["responses"]["401"] = {"description": "no valid token"}
                op["responses"]["403"] = {"description": "role or organisation not allowed"}
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

    @api("GET", f"{prefix}/openapi.json", public=True, summary="this service's OpenAPI document")
    def openapi(self, request):
        return self.openapi_document()

    return openapi
