"""The whole system as it runs in production: a process per service on real PostgreSQL,
RabbitMQ, the S3 server and the OpenID Connect provider, talked to over HTTP only."""

import os
from pathlib import Path

import pytest

from shared.infra.config import SERVICES
from tests.support.console import console_redirects, free_port, start_console
from tests.support.localsystem import start_system


@pytest.fixture(scope="module")
def local_system(make_database, amqp_uri, s3_settings, tmp_path_factory):
    """Starts the provider and every service as its own process; yields the LocalSystem."""
    started = start_system(
        data_dir=tmp_path_factory.mktemp("platform"),
        ledger_url=make_database("ledger"),
        readmodel_urls={service: make_database(service) for service in SERVICES},
        amqp_uri=amqp_uri,
        s3_settings=s3_settings,
    )
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def system(local_system):
    """(Platform, {service: read-model URL}, procs, logs) of `local_system`."""
    return local_system.platform, local_system.readmodel_urls, local_system.procs, local_system.logs


@pytest.fixture(scope="module")
def intake_alone(make_database, amqp_uri, s3_settings, tmp_path_factory):
    """Factory: start_intake(**env) -> a LocalSystem of the intake service alone (with the
    provider), its environment extended by `env`; stopped at the end of the module."""
    started = []

    def start(**env: str):
        system = start_system(data_dir=tmp_path_factory.mktemp("intake-alone"), ledger_url=make_database("ledger"),
                              readmodel_urls={"intake": make_database("intake")}, amqp_uri=amqp_uri,
                              s3_settings=s3_settings, extra_env=env)
        started.append(system)
        return system

    try:
        yield start
    finally:
        for system in started:
            system.stop()


# -- the console's browser tests (tests/e2e/test_console*.py) ------------------------------------

@pytest.fixture(scope="module")
def console_system(make_database, amqp_uri, s3_settings, tmp_path_factory):
    """Factory: start(hint, **env) -> (LocalSystem, Console): the provider, every service and
    the console on a free port the provider knows, the services' environment extended by `env`;
    all stopped at the end of the module."""
    from tests.support.browser import CHROMEDRIVER, CHROMIUM

    started: list = []

    def start(hint: str, *, consoles: int = 1, console_env: dict[str, str] | None = None, **env: str):
        """(system, console), or (system, console, console, ...) for `consoles` processes with
        `console_env` (e.g. shared sessions)."""
        if not (CHROMIUM and CHROMEDRIVER):
            pytest.fail("Debian's chromium and chromium-driver are needed (.ci/run installs them)")
        data_dir, ports = tmp_path_factory.mktemp(hint), [free_port() for _ in range(consoles)]
        with console_redirects(*ports):
            system = start_system(data_dir=data_dir, ledger_url=make_database("ledger"),
                                  readmodel_urls={s: make_database(s) for s in SERVICES}, amqp_uri=amqp_uri,
                                  s3_settings=s3_settings, extra_env=env)
        started.append(system)
        assert system.identity is not None
        running = []
        for n, port in enumerate(ports):
            running.append(start_console(port=port, issuer=system.identity.issuer, service_bases=system.platform.base,
                                         log=data_dir / f"console{n or ''}.log", extra_env=console_env))
            started.append(running[-1])
        return (system, *running)

    try:
        yield start
    finally:
        for one in reversed(started):
            one.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the console tests' screenshots go: CONSOLE_SCREENSHOTS, else a temporary folder."""
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path_factory.mktemp("console-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def downloads(tmp_path) -> Path:
    return tmp_path


@pytest.fixture
def browser(shots, downloads, request):
    """Debian's headless Chromium, `browser.shot(name)` saving a numbered screenshot of the test."""
    from tests.support.browser import chromium

    with chromium(shots, request.node.name, downloads) as driver:
        yield driver
