"""Whether a service process is alive, and whether it can do its work (issue #18, finding 3):
`GET /<service>/health/live` answers while the process serves HTTP at all; `GET /<service>/health/ready`
answers 200 only when the ledger, the service's read models and the broker (and, for the
services that keep evidence, the object store) answer, else 503 naming what does not.
Orchestrators restart a process that is not live and send no traffic to one not ready.

The probes carry no token (an orchestrator has none) and say nothing but names and
"ok"/"unreachable": no address, version or error text an outsider could use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from kombu import Connection

log = logging.getLogger(__name__)

Check = Callable[[], object]


def ledger_check(ledger) -> Check:
    return ledger.max_notification_id


def readmodels_check(store) -> Check:
    def check() -> None:
        with store.session() as session:
            session.execute(sa.text("SELECT 1"))
    return check


def broker_check(amqp_uri: str) -> Check:
    def check() -> None:
        with Connection(amqp_uri, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    return check


def readiness(checks: dict[str, Check]) -> tuple[int, dict]:
    """(status, body) of the readiness probe: each check run, every failure named."""
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - a probe reports what failed; it never raises
            log.warning("readiness: %s unreachable: %s: %s", name, type(exc).__name__, str(exc).splitlines()[:1])
            results[name] = "unreachable"
    ready = all(v == "ok" for v in results.values())
    return (200 if ready else 503), {"status": "ready" if ready else "not_ready", "checks": results}
