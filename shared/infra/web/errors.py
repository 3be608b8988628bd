"""Errors at the HTTP edge: one table gives every error its status and `error` code, and
every refusal leaves in one JSON shape, `{"error": code, "message": ..., "fields": {...}}`.

The domain's errors (`shared.domain.errors`) and the object store's say what is wrong:
the message, the field and its rule, the state. How a client is told is decided here
only. An error answers with its class's row, else with its nearest ancestor's (by its
MRO), so a new kind of conflict is a 409 without a row of its own; an error that reaches
no row is a bug, answered as one (500, logged). tests/unit/test_error_table.py fails the
build before that can happen.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from shared.domain.errors import (
    ConcurrentUpdate,
    Conflict,
    DeadlinePassed,
    DomainRuleViolation,
    EventNotOwned,
    Forbidden,
    IllegalTransition,
    NotFound,
    PlacesExhausted,
    PlatformError,
    UnsupportedFileType,
    ValidationFailed,
)
from shared.infra.objectstore.errors import (
    EmptyFile,
    EvidenceNotFound,
    IncompleteUpload,
    StoreError,
    StoreUnavailable,
    TooLarge,
)
from shared.infra.outages import is_outage

log = logging.getLogger(__name__)


class Unauthenticated(PlatformError):
    """No valid bearer token: missing, expired, wrongly signed, or naming no known role."""


class IdentityProviderUnavailable(PlatformError):
    """The identity provider's discovery document or keys cannot be fetched: the token may
    be good, so the caller is told to retry rather than that it is refused."""


class TooManyFailures(PlatformError):
    """A client whose recent authentications failed too often (shared/infra/web/hygiene.py)."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many requests with invalid tokens from this address; retry in {retry_after} s")
        self.retry_after = retry_after


class UploadsBusy(PlatformError):
    """As many uploads as a process streams at once are under way: retry shortly."""


class PayloadTooLarge(PlatformError):
    """A request body past the route's limit: refused before (or as soon as) it passes it."""

    def __init__(self, field: str, limit: int):
        rule = f"the body is larger than the limit of {limit} bytes"
        super().__init__(rule, {field: [rule]})
        self.limit = limit


@dataclass(frozen=True)
class Refusal:
    """How an error is answered: its status, its `error` code, and when to retry (seconds)."""

    status: int
    code: str
    retry_after: int | None = None


REFUSALS: dict[type[PlatformError], Refusal] = {
    ValidationFailed: Refusal(400, "validation_failed"),
    DomainRuleViolation: Refusal(400, "rule_violated"),
    DeadlinePassed: Refusal(400, "deadline_passed"),
    EmptyFile: Refusal(400, "empty_file"),
    IncompleteUpload: Refusal(400, "incomplete_upload"),
    Unauthenticated: Refusal(401, "unauthenticated"),
    Forbidden: Refusal(403, "forbidden"),
    NotFound: Refusal(404, "not_found"),
    EvidenceNotFound: Refusal(404, "evidence_not_found"),
    Conflict: Refusal(409, "conflict"),
    IllegalTransition: Refusal(409, "illegal_transition"),
    ConcurrentUpdate: Refusal(409, "concurrent_update"),
    PlacesExhausted: Refusal(409, "places_exhausted"),
    PayloadTooLarge: Refusal(413, "payload_too_large"),
    TooLarge: Refusal(413, "file_too_large"),
    UnsupportedFileType: Refusal(415, "unsupported_type"),
    TooManyFailures: Refusal(429, "too_many_failures"),
    EventNotOwned: Refusal(500, "event_not_owned"),
    StoreError: Refusal(502, "object_store_error"),
    # Like a database outage: nothing was recorded, and the same request may succeed later.
    StoreUnavailable: Refusal(503, "store_unavailable", retry_after=5),
    IdentityProviderUnavailable: Refusal(503, "identity_provider_unavailable", retry_after=5),
    UploadsBusy: Refusal(503, "uploads_busy", retry_after=5),
}
# A database unreachable (restart, lost connections; see shared.infra.outages): not a bug,
# and not half-done, since a transaction commits whole or not at all.
OUTAGE = Refusal(503, "service_unavailable", retry_after=5)
BUG = Refusal(500, "internal_error")

# What each status a route may answer with means to a client, for the OpenAPI documents
# (which statuses a route lists follows from what it takes: see shared.infra.web.openapi).
# A failure inside the service (500) is not a refusal a route promises.
MEANINGS = {
    400: "bad input: `fields` names each failing field (body, path or query) with the rule it breaks",
    401: "no valid bearer token (missing, expired, wrongly signed, unknown role)",
    403: "the caller's role, or its organisation, may not do this to this case",
    404: "no such case, call, draft, document or checkpoint",
    409: "the case's state, a concurrent change or a used-up quota refuses this step",
    413: "the body is larger than the limit",
    415: "the file's bytes (or its name) are not an allowed evidence type",
    429: "too many requests with invalid tokens from this address: retry after Retry-After seconds",
    502: "the evidence store refused the request (its credentials or configuration): nothing was recorded",
    503: "a database, the evidence store or the identity provider's keys cannot be reached: nothing was "
         "recorded; retry (Retry-After)",
}


def refusal_of(error: BaseException | type[BaseException]) -> Refusal | None:
    """The row of the error's class, or of its nearest ancestor that has one."""
    cls = error if isinstance(error, type) else type(error)
    return next((REFUSALS[c] for c in cls.__mro__ if c in REFUSALS), None)


def status_of(error_class: type[PlatformError]) -> int:
    refusal = refusal_of(error_class)
    if refusal is None:
        raise LookupError(f"{error_class.__qualname__} has no row in shared.infra.web.errors.REFUSALS")
    return refusal.status


def codes_answered_with(status: int) -> list[str]:
    """Every `error` code a client may read with `status`."""
    rows = [*REFUSALS.values(), OUTAGE]
    return sorted({r.code for r in rows if r.status == status})


def error_payload(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": code, "message": message, "fields": fields or {}}


class ErrorSchema(Schema):
    """Every refusal: a code, a message, and each failing field with the rules it breaks."""

    error = fields.String(required=True, metadata={"example": "validation_failed"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", attribute="fields", required=True, keys=fields.String(),
                          values=fields.List(fields.String()))


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    body: dict
    headers: dict[str, str] | None = None

    @classmethod
    def of(cls, refusal: Refusal, message: str, fields: dict | None = None) -> ErrorAnswer:
        headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after is not None else None
        return cls(refusal.status, error_payload(refusal.code, message, fields), headers)


def answer_to(exc: BaseException, request: str) -> ErrorAnswer:
    """How `exc`, raised while answering `request` ("METHOD /url"), leaves the service."""
    refusal = refusal_of(exc) if isinstance(exc, PlatformError) else None
    if isinstance(exc, PlatformError) and refusal is not None:
        if refusal.status >= 500:
            log.error("%s failed: %s", request, exc)
        else:  # the service doing its job: a line, no traceback
            log.info("%s refused: %d %s: %s", request, refusal.status, refusal.code, exc.message[:300])
        answer = ErrorAnswer.of(refusal, exc.message, exc.fields)
        retry_after = getattr(exc, "retry_after", None)  # the error's own wait, where it knows one
        if retry_after is not None:
            return replace(answer, headers={**(answer.headers or {}), "Retry-After": str(retry_after)})
        return answer
    if isinstance(exc, HTTPException):
        return ErrorAnswer(exc.code or 500, error_payload("http_error", exc.description or str(exc)))
    if is_outage(exc):
        log.warning("%s: a database is unreachable: %s", request, str(exc).splitlines()[0][:300])
        return ErrorAnswer.of(OUTAGE, "a database this service needs is unreachable; the request was not "
                              "completed and nothing of it was half-saved: reload and retry in a moment")
    log.exception("%s failed", request, exc_info=exc)
    return ErrorAnswer.of(BUG, "the request failed inside the service; it was logged")
