"""nameko glue: the ledger, read models, relay and clock as dependency providers.

Each builds its client once in `setup()`/`start()` and closes it in `stop()`;
service classes only declare them. The event subscription is the other extension
(shared/infra/messaging/subscriber.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import eventlet

# Imported here, at service import time: nameko runs the extensions' setup() in
# parallel greenthreads, and two of them importing psycopg lazily at once meet
# a partially initialised module.
import eventsourcing.postgres  # noqa: F401
import psycopg
import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401
from nameko.extensions import DependencyProvider

from shared.infra.config import Settings
from shared.infra.ledger import CaseLedger
from shared.infra.messaging.relay import Relay
from shared.infra.personal.keystore import KeyStore
from shared.infra.personal.vault import Vault
from shared.infra.pools import APPLICATION_NAME, application_name, name_this_process
from shared.infra.readmodels.store import ReadModelStore
from shared.infra.web.auth import MachineIdentity

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
STANDBY_INTERVAL = 1.0  # seconds between a standby relay's attempts to take the lead


def make_psycopg_cooperative() -> None:
    """Makes every psycopg wait for its socket where eventlet sees it (issue #22).

    psycopg's C build (psycopg-binary) parses the protocol in C (commands 1.3-1.5x faster than on
    the pure-Python build: bench/README.md), but by default it also waits for the socket in C (`wait_c`), out of
    eventlet's sight: one query would stall every greenthread of the process. Its `wait_select`
    waits through `select.select`, which eventlet makes green, and psycopg's connection looks its
    wait function up at each call: set here, before the first query, every connection of the
    process waits cooperatively (tests/integration/test_psycopg_cooperative.py shows both ways).
    """
    from psycopg import waiting

    waiting.wait = waiting.wait_select


def check_psycopg_is_cooperative() -> None:
    """Refuse to serve if psycopg would wait for a socket out of eventlet's sight."""
    from psycopg import waiting

    if waiting.wait is not waiting.wait_select and psycopg.pq.__impl__ != "python":
        raise RuntimeError(
            f"psycopg's {psycopg.pq.__impl__} implementation waits with {getattr(waiting.wait, '__name__', '?')}, "
            "which blocks eventlet: call shared.infra.dependencies.make_psycopg_cooperative() after "
            "eventlet.monkey_patch()"
        )


class Ledger(DependencyProvider):
    """The case ledger, opened as `owner` (None: read-only)."""

    def __init__(self, owner: str | None):
        self.owner = owner

    def setup(self) -> None:
        check_psycopg_is_cooperative()
        settings = Settings.from_nameko(self.container.config)
        service = self.container.service_name
        name_this_process(service)
        self.ledger = CaseLedger(settings.ledger_url, owner=self.owner, env={
            "POSTGRES_POOL_SIZE": str(settings.ledger_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(settings.ledger_pool_max_overflow),
            "POSTGRES_CONNECT_TIMEOUT": str(settings.ledger_pool_timeout),
            APPLICATION_NAME: application_name(service, "ledger"),
        })

    def stop(self) -> None:
        self.ledger.close()

    def get_dependency(self, worker_ctx) -> CaseLedger:
        return self.ledger


class ReadModels(DependencyProvider):
    """A service's read-model store; `beside` holds tables of the same database that no event makes
    (notifications' outbox), made with the read models when the service starts."""

    def __init__(self, metadata, *beside):
        self.metadata = metadata
        self.beside = beside

    def setup(self) -> None:
        settings = Settings.from_nameko(self.container.config)
        service = self.container.service_name
        self.store = ReadModelStore(
            settings.readmodel_url_for(service), self.metadata, pool_size=settings.readmodel_pool_size,
            max_overflow=settings.readmodel_pool_max_overflow, application_name=application_name(service, "readmodel"),
        )
        # Here, not by the first worker that needs them: on SQLite, a worker applying an event
        # that made them on a second connection waited for its own write lock (the busy timeout,
        # 30 s, with its whole process; tests/integration/test_notifications_first_event.py).
        for tables in self.beside:
            tables.create_all(self.store.engine)

    def stop(self) -> None:
        self.store.dispose()

    def get_dependency(self, worker_ctx) -> ReadModelStore:
        return self.store


class Personal:
    """The vault as one request's worker uses it: `reveal` records the route that showed the data."""

    def __init__(self, vault: Vault, route: str):
        self.vault = vault
        self.route = route

    def reveal(self, caller, document: Any, case_id: str | None = None) -> Any:
        """`document` (a case view, or anything of one case) with the case's personal values opened
        for `caller` and the access recorded."""
        case = case_id or (document.get("case_id") if isinstance(document, dict) else None)
        if not case:
            raise ValueError("reveal needs the case the document belongs to")
        return self.vault.reveal(document, case_id=str(case), reader=caller.as_actor(), route=self.route)

    def record_reading(self, caller, record: str, subjects: list[str]) -> None:
        """Records that `caller` was shown personal data kept outside the ledger (an authority's contact)."""
        self.vault.store.record_reading(caller, record=record, route=self.route, subjects=subjects)


class PersonalData(DependencyProvider):
    """The data subjects' keys (issue #21): seals personal values before the ledger, reveals them to readers."""

    def setup(self) -> None:
        settings = Settings.from_nameko(self.container.config)
        self.store = KeyStore(settings.personal_keys_url, pool_size=settings.readmodel_pool_size,
                              max_overflow=settings.readmodel_pool_max_overflow,
                              application_name=application_name(self.container.service_name, "keys"))
        self.vault = Vault(self.store)

    def stop(self) -> None:
        self.store.close()

    def get_dependency(self, worker_ctx) -> Personal:
        entrypoint = worker_ctx.entrypoint
        route = f"{getattr(entrypoint, 'method', '')} {getattr(entrypoint, 'url', '')}".strip() \
            or entrypoint.method_name
        return Personal(self.vault, route)


class Clock(DependencyProvider):
    """Now, and today's date in China. Tests move it with CLOCK_OFFSET_DAYS."""

    def setup(self) -> None:
        self.offset = timedelta(days=Settings.from_nameko(self.container.config).clock_offset_days)

    def get_dependency(self, worker_ctx):
        offset = self.offset

        class _Now:
            @staticmethod
            def now() -> datetime:
                return datetime.now(UTC) + offset

            @staticmethod
            def today() -> date:
                return (datetime.now(CHINA) + offset).date()

        return _Now


class TimerIdentity(DependencyProvider):
    """Who the service's timers act as (role `system`): a client-credentials identity of
    their own at the provider, named on the events they record."""

    def setup(self) -> None:
        self.identity = MachineIdentity(Settings.from_nameko(self.container.config))

    def get_dependency(self, worker_ctx) -> MachineIdentity:
        return self.identity


class RelayRunner(DependencyProvider):
    """Runs the outbox relay loop in this process; the leadership lock keeps it to one publisher.

    In a service process it runs only while RELAY_IN_PROCESS is on (the default); the relay
    process (services/relay) runs it always: `RelayRunner(always=True)`.
    """

    thread = None  # the loop's greenthread, once started
    relay: Relay | None = None  # absent while this process leaves publishing to a relay process
    ledger: CaseLedger | None = None

    def __init__(self, always: bool = False):
        self.always = always

    def setup(self) -> None:
        self.settings = Settings.from_nameko(self.container.config)
        self.running = False
        if not (self.always or self.settings.relay_in_process):
            return
        service = self.container.service_name
        name_this_process(service)
        # The relay reads the log one batch at a time, from one loop: one connection, never more.
        self.ledger = CaseLedger(self.settings.ledger_url, owner=None, env={
            "POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "0",
            APPLICATION_NAME: application_name(service, "relay-log"),
        })
        self.relay = Relay(
            self.ledger, self.settings.ledger_url, self.settings.amqp_uri, self.settings.exchange,
            application_name=application_name(service, "relay"),
            listener_name=application_name(service, "relay-listen"),
        )

    @property
    def active(self) -> bool:
        return self.relay is not None

    def start(self) -> None:
        if not self.active:
            return
        self.running = True
        self.thread = self.container.spawn_managed_thread(self._loop, identifier="outbox-relay")

    def _loop(self) -> None:
        relay = self.relay
        if relay is None:
            return
        backoff = self.settings.relay_poll_interval
        while self.running:
            try:
                sent = relay.run_once()
                backoff = self.settings.relay_poll_interval
            except Exception as exc:  # noqa: BLE001 - a broker or database outage must not kill the service
                log.warning("relay: %s; retrying in %.1fs", exc, backoff)
                relay.reset_broker()
                sent = 0
                eventlet.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not sent:
                # The leader wakes at the next commit's NOTIFY, the poll interval its safety
                # net (and its pace on SQLite, or while its LISTEN connection is down). A
                # standby only needs to notice that the leader has gone.
                if not relay.leads:
                    eventlet.sleep(STANDBY_INTERVAL)
                elif not relay.await_commit(self.settings.relay_poll_interval):
                    eventlet.sleep(self.settings.relay_poll_interval)

    def stop(self) -> None:
        self.running = False
        if self.thread is not None:
            # Ended before its connections close: closing a socket the loop is waiting on
            # would leave eventlet's hub watching a descriptor the system may reuse.
            self.thread.kill()
        if self.relay is not None:
            self.relay.close()
        if self.ledger is not None:
            self.ledger.close()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx) -> CaseLedger | None:
        # The relay works on its own; the read-only ledger it reads is what the relay
        # process's readiness probe asks (services never use it; None where inactive).
        return self.ledger
