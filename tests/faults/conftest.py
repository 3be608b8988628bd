"""The system under faults: every service as its own process, each reaching RabbitMQ,
PostgreSQL and the S3 server only through a fault-injecting proxy (tests/faultproxy.py).

The shared RabbitMQ and PostgreSQL on this machine serve other tests at the same time, so
they are never stopped: an outage is a proxy cutting every connection of the services and
resetting new ones, which is what a client sees when its server goes away. The tests
themselves read the ledger and the read models directly, around the proxies, to count what
was committed and what was applied. Each module gets its own system (its own databases,
vhost and bucket), so a fault in one cannot leak into another.

At the end of the session the figures of every fault (injected, survived, events committed,
lost, duplicates absorbed and applied) are printed in a table the README quotes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from services.cli.demo import Platform
from services.cli.localinfra.ports import free_port
from shared.infra.config import SERVICES, Settings
from tests.faultproxy import FaultProxy
from tests.faults import accounting
from tests.support.identity import IdentityProvider
from tests.support.localsystem import service_env, start_identity, stop_processes

# Faster retries than production's 5 so a poison message is parked within seconds.
MAX_DELIVERY_ATTEMPTS = 3


def through(url: str, proxy: FaultProxy) -> str:
    """`url` with its host and port replaced by the proxy's."""
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass
class FaultySystem:
    platform: Platform
    env: dict  # every process's environment: URLs through the proxies
    ports: dict[str, int]
    ledger_url: str  # direct, for the test's own reading
    readmodel_urls: dict[str, str]  # direct
    proxied_readmodel_urls: dict[str, str]
    amqp_uri: str  # direct
    proxies: dict[str, FaultProxy]
    data_dir: Path
    identity: IdentityProvider  # reached directly: signing in is not one of the faults
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    # -- processes ------------------------------------------------------------------

    def log_path(self, service: str) -> Path:
        return self.data_dir / f"{service}.log"

    def log(self, service: str) -> str:
        return self.log_path(service).read_text(errors="replace")

    def start(self, *services: str) -> None:
        for service in services or SERVICES:
            env = {**self.env, "READMODEL_URL": self.proxied_readmodel_urls[service]}
            # Appended, not truncated: a restarted process's log follows the killed one's.
            with self.log_path(service).open("a") as log:
                self.procs[service] = subprocess.Popen(
                    [sys.executable, "-m", "services.cli.main", "serve", service],
                    env=env, stdout=log, stderr=subprocess.STDOUT,
                )
        self.wait_ready(*(services or SERVICES))

    def wait_ready(self, *services: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(services)
        while pending:
            for service in list(pending):
                proc = self.procs[service]
                if proc.poll() is not None:
                    raise RuntimeError(f"{service} exited with {proc.returncode}:\n{self.log(service)[-3000:]}")
                try:
                    requests.get(f"{self.platform.base[service]}/{service}/openapi.json",
                                 timeout=2).raise_for_status()
                    pending.discard(service)
                except requests.RequestException:
                    pass
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"services not ready after {timeout:.0f} s: {sorted(pending)}")
            time.sleep(0.2)

    def kill(self, service: str) -> int:
        """SIGKILL: no shutdown code runs, unacknowledged messages go back to the broker."""
        proc = self.procs[service]
        proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=30)

    def pid(self, service: str) -> int:
        return self.procs[service].pid

    def close(self) -> None:
        """Stops every process, then the proxies and the identity provider."""
        stop_processes(self.procs.values())
        for proxy in self.proxies.values():
            proxy.stop()
        self.identity.stop()


def start_faulty_system(make_database, amqp_uri: str, s3_settings: dict, data_dir: Path) -> FaultySystem:
    """Fresh databases, three proxies (to `amqp_uri`'s broker, PostgreSQL, the S3 server), an
    identity provider, a process per service."""
    ledger_url = make_database("ledger")
    readmodel_urls = {service: make_database(service) for service in SERVICES}
    s3_host, _, s3_port = s3_settings["endpoint"].rpartition(":")
    pg = urlsplit(ledger_url)
    amqp = urlsplit(amqp_uri)
    proxies = {
        "amqp": FaultProxy(amqp.hostname, amqp.port or 5672, name="amqp").start(),
        "postgres": FaultProxy(pg.hostname, pg.port or 5432, name="postgres").start(),
        "s3": FaultProxy(s3_host or "127.0.0.1", int(s3_port), name="s3").start(),
    }
    ports = {service: free_port() for service in SERVICES}
    identity = start_identity(data_dir)
    try:
        # Every server reached through its proxy, so a test can cut it.
        env = service_env(
            data_dir=data_dir, ledger_url=through(ledger_url, proxies["postgres"]),
            amqp_uri=through(amqp_uri, proxies["amqp"]),
            s3_settings={**s3_settings, "endpoint": f"127.0.0.1:{proxies['s3'].port}"}, ports=ports,
            identity=identity, extra_env={"MAX_DELIVERY_ATTEMPTS": str(MAX_DELIVERY_ATTEMPTS)},
        )
        settings = Settings.from_env({k: v for k, v in env.items()})
        platform = Platform.local(replace(settings, ports=ports))
    except BaseException:
        for proxy in proxies.values():
            proxy.stop()
        identity.stop()
        raise
    platform.token_for = identity.token_for
    system = FaultySystem(
        platform=platform, env=env, ports=ports,
        ledger_url=ledger_url, readmodel_urls=readmodel_urls,
        proxied_readmodel_urls={s: through(u, proxies["postgres"]) for s, u in readmodel_urls.items()},
        amqp_uri=amqp_uri, proxies=proxies, data_dir=data_dir, identity=identity,
    )
    try:
        system.start()
    except BaseException:
        system.close()
        raise
    return system


@pytest.fixture(scope="module")
def faulty_system(make_database, make_vhost, s3_settings, tmp_path_factory):
    """A process per service behind three fault proxies (amqp, postgres, s3) and an identity
    provider reached directly; yields a FaultySystem."""
    system = start_faulty_system(make_database, make_vhost("faults"), s3_settings, tmp_path_factory.mktemp("faulty"))
    try:
        yield system
    finally:
        system.close()


@pytest.fixture(autouse=True)
def _proxies_restored(request):
    """Every proxy of the module's system passes traffic again after each test, so a test
    that fails mid-outage leaves the next one a working system, not a cascade of 503s."""
    yield
    if "faulty_system" in request.fixturenames:
        for proxy in request.getfixturevalue("faulty_system").proxies.values():
            proxy.restore()


# --------------------------------------------------------------------------- figures


def pytest_terminal_summary(terminalreporter):
    rows, connections = accounting.FIGURES.rows, accounting.CONNECTIONS
    if not rows and not connections:
        return
    write = terminalreporter.write_line
    terminalreporter.section("faults injected: figures for the README")
    if connections:
        write(f"PostgreSQL connections of one system ({len(SERVICES)} processes): {connections['at_rest']} at rest "
              f"right after work (the pools' idle sizes add up to {connections['idle_size']}), "
              f"{connections['peak']} at the peak of {connections['clients']} concurrent clients sending "
              f"{connections['requests']} requests "
              f"(the pools' maxima add up to {connections['most']})")
    if not rows:
        return
    width = max(len(row.fault) for row in rows)
    header = (f"{'fault':<{width}} {'survived':>8} {'committed':>9} {'lost':>5} {'dup. absorbed':>13} "
              f"{'dup. applied':>12}")
    write(header)
    write("-" * len(header))
    for row in rows:
        write(f"{row.fault:<{width}} {'yes' if row.survived else 'NO':>8} {row.committed:>9} {row.lost:>5} "
              f"{row.duplicates_absorbed:>13} {row.duplicates_applied:>12}")
    totals = accounting.FIGURES.totals()
    write("-" * len(header))
    write(f"scenarios {len(rows)}; faults injected {totals['injected']}, survived {totals['survived']}; "
          f"events committed {totals['committed']}, events lost {totals['lost']}, duplicates delivered and absorbed "
          f"{totals['duplicates_absorbed']}, duplicates applied {totals['duplicates_applied']}")
