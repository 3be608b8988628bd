"""Signed webhooks: the POST a province's own system receives, and the verifier it checks it with.

The scheme is Stripe's documented one. The body is a JSON envelope
`{"id": <delivery id>, "type": <kind>, "created": <unix>, "data": {...}}`; the header

    X-Caseplatform-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of f"{t}.{body}">

signs the timestamp and the exact bytes of the body with the endpoint's secret. Several v1
values may be sent while a secret is being rotated (one per secret); the receiver accepts
the request if any of them is right for any secret it holds.

The delivery id is the notification's id: the same on every redelivery. It is inside the
signed body (`X-Caseplatform-Delivery` repeats it for logs), so it cannot be swapped for a
fresh one. The verifier refuses a wrong signature, a timestamp further than `tolerance`
from the receiver's clock (a captured request replayed later), and an id it has seen (a
replay inside the tolerance, or a redelivery after a lost acknowledgement). A receiver
should answer a `Replayed` with a 2xx and not apply it again: the sender retries anything
else until it parks it. It keeps the ids at least as long as the sender retries
(`RetryPolicy.longest_span()`).

The sender counts a 2xx as delivered, 410 Gone as permanent (the endpoint was withdrawn:
park), anything else, a timeout or a refused connection as temporary. Redirects are not
followed: a signed delivery goes to the registered URL only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from shared.infra.notify.errors import PermanentFailure, TemporaryFailure

SIGNATURE_HEADER = "X-Caseplatform-Signature"
DELIVERY_HEADER = "X-Caseplatform-Delivery"
EVENT_HEADER = "X-Caseplatform-Event"
DEFAULT_TOLERANCE = 300


@dataclass(frozen=True)
class Endpoint:
    url: str
    secrets: tuple[str, ...]  # each signs (a v1 apiece); more than one only while rotating
    timeout: float = 10.0


def envelope(delivery_id: str, kind: str, data: Mapping[str, Any], *, created: int) -> bytes:
    body = {"id": delivery_id, "type": kind, "created": created, "data": dict(data)}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: Iterable[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature(secret, timestamp, body)}" for secret in secrets)])


def post(endpoint: Endpoint, delivery_id: str, kind: str, data: Mapping[str, Any], *, now: float | None = None,
         session: requests.Session | None = None) -> int:
    """POSTs one signed delivery; the endpoint's 2xx status. Raises TemporaryFailure or PermanentFailure."""
    timestamp = int(time.time() if now is None else now)
    body = envelope(delivery_id, kind, data, created=timestamp)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: signature_header(endpoint.secrets, timestamp, body),
        DELIVERY_HEADER: delivery_id,
        EVENT_HEADER: kind,
    }
    try:
        answer = (session or requests).post(endpoint.url, data=body, headers=headers, timeout=endpoint.timeout,
                                            allow_redirects=False)
    except requests.RequestException as exc:
        raise TemporaryFailure(f"endpoint unreachable: {type(exc).__name__}: {exc}") from exc
    if 200 <= answer.status_code < 300:
        return answer.status_code
    reason = f"endpoint answered {answer.status_code}: {answer.text[:200]}"
    if answer.status_code == 410:
        raise PermanentFailure(reason)
    raise TemporaryFailure(reason)


# ------------------------------------------------------------------ the receiving side


class Refused(Exception):
    """The request is not a delivery to act on; `reason` says why."""

    reason = "refused"


class BadSignature(Refused):
    reason = "bad_signature"


class StaleTimestamp(Refused):
    reason = "stale_timestamp"


class Replayed(Refused):
    reason = "replayed"


class SeenDeliveries(Protocol):
    def add_if_new(self, delivery_id: str, now: float) -> bool:
        """Records `delivery_id`; False if it was already recorded. Must be atomic."""
        ...


class MemorySeen:
    """Delivery ids in memory, forgotten after `keep` seconds; a receiver with several processes
    needs a shared store (a table with the id as its primary key)."""

    def __init__(self, keep: float = 7 * 24 * 3600):
        self.keep = keep
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def add_if_new(self, delivery_id: str, now: float) -> bool:
        with self._lock:
            for old in [i for i, at in self._seen.items() if at < now - self.keep]:
                del self._seen[old]
            if delivery_id in self._seen:
                return False
            self._seen[delivery_id] = now
            return True


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise BadSignature("the signature header has no t= or no v1=")
    return timestamp, signatures


def verify(body: bytes, header: str | None, secrets: Iterable[str], seen: SeenDeliveries, *,
           now: float | None = None, tolerance: float = DEFAULT_TOLERANCE,
           delivery_header: str | None = None) -> dict[str, Any]:
    """The delivery's envelope, if `body` is signed by one of `secrets`, fresh and not seen before.

    Checks in this order, so that nobody can fill the seen-store without the secret: the
    signature, the timestamp, then the id. Raises BadSignature, StaleTimestamp or Replayed.
    """
    now = time.time() if now is None else now
    timestamp, signatures = _parse(header or "")
    expected = [signature(secret, timestamp, body) for secret in secrets]
    if not any(hmac.compare_digest(e, s) for e in expected for s in signatures):
        raise BadSignature("no signature matches")
    if abs(now - timestamp) > tolerance:
        raise StaleTimestamp(f"signed at {timestamp}, {int(now - timestamp)} s from now; tolerance {tolerance} s")
    try:
        delivery = json.loads(body)
        delivery_id = delivery["id"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadSignature("the signed body is not a delivery envelope") from exc
    if not isinstance(delivery_id, str) or (delivery_header is not None and delivery_header != delivery_id):
        raise BadSignature("the delivery id header does not match the signed body")
    if not seen.add_if_new(delivery_id, now):
        raise Replayed(f"delivery {delivery_id} was received before")
    return delivery
