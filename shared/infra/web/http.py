"""HTTP entrypoint for every service: who is calling, and JSON in and out.

`api(...)` replaces nameko's `http(...)`. Before the service method runs it
checks the bearer token and role, and loads the body through its marshmallow
schema; the method gets `caller` (unless the route is public) and `body`
(when it has a body schema). Every error leaves as
`{"error": code, "message": ..., "fields": {...}}` with the status that
`shared.infra.web.errors` gives it; `shared.infra.web.openapi` documents the routes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import eventlet
from eventlet.semaphore import Semaphore
from marshmallow import RAISE, Schema, fields
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from shared.domain.access import ROLES, Caller
from shared.domain.errors import Forbidden, ValidationFailed
from shared.domain.sealed import looks_sealed
from shared.domain.validation import load
from shared.infra.config import Settings
from shared.infra.web.auth import verifier_for
from shared.infra.web.errors import (
    PayloadTooLarge,
    TooManyFailures,
    Unauthenticated,
    UploadsBusy,
    answer_to,
    error_payload,
)
from shared.infra.web.hygiene import FailureThrottle, quiet_refusals, with_security_headers
from shared.infra.web.openapi import DocumentedBody, OpenSchema, build_openapi, schema_name

MAX_JSON_BYTES = 2 * 1024 * 1024  # the largest form (申请表 with its lists) is far below this


def json_response(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, default=str),
        status=status,
        headers=headers,
        mimetype="application/json",
    )


MAX_INTEGER_DIGITS = 30  # far past any amount, count or score a form holds


def _no_constant(name: str) -> Any:
    raise ValidationFailed({"_body": [f"{name} is not a JSON number: send a finite number or null"]})


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValidationFailed({"_body": [f"the number {text[:40]} is too large"]})
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValidationFailed({"_body": [f"a whole number has at most {MAX_INTEGER_DIGITS} digits"]})
    return int(text)


def strict_json(raw: bytes) -> Any:
    """JSON as RFC 8259 has it: Python's reader also takes NaN and Infinity, which no other
    reader (nor PostgreSQL's jsonb) accepts, and integers of any length."""
    return json.loads(raw, parse_constant=_no_constant, parse_float=_finite, parse_int=_bounded_int)


def _read_at_most(stream, limit: int) -> bytes:
    """The whole body, refused once it passes `limit` bytes.

    eventlet's `wsgi.input` ends where the body ends, chunked or not (werkzeug's
    `request.stream` would hand a chunked body over as empty: see documents' uploads).
    """
    parts: list[bytes] = []
    size = 0
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
        elif looks_sealed(value):
            # Only the platform seals: a sealed value planted in a field would be opened by a view
            # of this case if it were one of its own people's, and is nobody's data otherwise.
            found[path or "_body"] = ["text may not start with 'sealed:v', the platform's mark of encrypted data"]
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
    def start(self):
        # nameko's own start, but for one flag: eventlet.listen sets SO_REUSEPORT on a fixed port, so a
        # second process started on the same port (another service given the same one) shares its
        # connections silently; a test once had documents answer intake's requests. Without it a
        # port already taken fails the start, loudly.
        if not self._starting:  # type: ignore[has-type]  # nameko's attribute, untyped
            self._starting = True
            self._sock = eventlet.listen(self.bind_addr, reuse_port=False)
            self._sock.settimeout(None)  # nameko's work-around of kombu#838, kept
            self._serv = self.get_wsgi_server(self._sock, self.get_wsgi_app())
            self._gt = self.container.spawn_managed_thread(self.run)

    def get_wsgi_app(self):
        return _JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=HttpOnlyProtocol, debug=False):
        server = super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)
        # nameko leaves it None: a client that declares a body and sends none held its
        # connection, and the worker reading it, until it chose to close (issue #18).
        server.socket_timeout = Settings.from_nameko(self.container.config).http_read_timeout
        return server


class Api(HttpRequestHandler):
    server = JsonWebServer()
    client_ip_header = ""  # Settings.client_ip_header, read in setup()

    def __init__(
        self, method: str, url: str, *, roles: tuple[str, ...] = (), public: bool = False,
        body: Schema | None = None, response: Schema | None = None, status: int = 200,
        summary: str = "", raw_body: bool = False, json_body: bool = False,
        query: dict[str, fields.Field] | None = None, produces: str = "application/json",
        errors: tuple[int, ...] = (), description: str = "", documented_body: DocumentedBody | None = None,
        **kwargs: Any,
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
        self.description = description  # the OpenAPI operation's description, for what a summary cannot hold
        # A body the application validates (json_body), documented with its schemas and examples.
        self.documented_body = documented_body
        self.raw_body = raw_body
        # json_body: the body is parsed but validated by the application, because its
        # schema depends on data (a call's form), not on the route.
        self.json_body = json_body or body is not None
        # query: the route's query parameters, checked before the method runs (400 naming the
        # parameter) and documented; the method still reads them from request.args.
        # A parameter the route does not take is refused, not ignored: a misspelt filter
        # (`?provnce=`) would otherwise answer with everything, as if it had been applied.
        self.query_schema = Schema.from_dict(query, name=f"{schema_name(url, method)}Query")(unknown=RAISE) \
            if query else None
        self.produces = produces
        self.extra_errors = tuple(errors)
        super().__init__(method, url, **kwargs)

    def setup(self) -> None:
        settings = Settings.from_nameko(self.container.config)
        self.verifier = verifier_for(settings)
        self.throttle = _throttle(settings.auth_failure_limit)
        self.client_ip_header = settings.client_ip_header
        self.uploads = _upload_slots(settings.max_concurrent_uploads) if self.raw_body else None
        quiet_refusals()
        super().setup()

    def handle_request(self, request):
        if self.uploads is None:
            return with_security_headers(super().handle_request(request), public=self.public)
        # An upload is read inside its worker: without a cap, stalled uploads took every
        # worker, and other requests and the event subscription waited behind them.
        if not self.uploads.acquire(blocking=False):
            return with_security_headers(self.response_from_exception(UploadsBusy(
                "as many uploads as this service streams at once are under way; retry in a few seconds")),
                public=self.public)
        try:
            return with_security_headers(super().handle_request(request), public=self.public)
        finally:
            self.uploads.release()

    def authenticate(self, request) -> Caller:
        # Behind the proxy every connection is the proxy's: the client is the one it names.
        forwarded = request.headers.get(self.client_ip_header) if self.client_ip_header else None
        client = forwarded or request.remote_addr or "unknown"
        wait = self.throttle.retry_after(client)
        if wait is not None:
            raise TooManyFailures(wait)
        authorization = request.headers.get("Authorization")
        try:
            caller = self.verifier.caller(authorization)
        except Unauthenticated:
            if authorization:  # a token shown and refused; a request with none guesses nothing
                self.throttle.failed(client)
            raise
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
        if self.query_schema is not None:  # without one, any parameter was refused above
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
                data = strict_json(raw or b"null")
            except ValidationFailed:
                raise
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
        answer = answer_to(exc, f"{self.method} {self.url}")
        return json_response(answer.body, answer.status, answer.headers)


api = Api.decorator

_throttles: dict[int, FailureThrottle] = {}


_upload_slots_by_size: dict[int, Semaphore] = {}


def _upload_slots(size: int) -> Semaphore:
    """One set of upload slots per process, shared by every upload route."""
    return _upload_slots_by_size.setdefault(size, Semaphore(size))


def _throttle(limit: int) -> FailureThrottle:
    """One count of failures per process (all routes of a service share it)."""
    return _throttles.setdefault(limit, FailureThrottle(limit=limit))


# -- the OpenAPI document of each service ---------------------------------------


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
