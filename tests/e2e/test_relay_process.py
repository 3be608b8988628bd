"""The compose shape (issue #18): every service with RELAY_IN_PROCESS=false and one
`caseplatform serve relay` process publishing the ledger. A case walks from submission to
publication, every service's read model sees every event, and the only relay connections
on the ledger database are the relay process's own.

Real PostgreSQL, RabbitMQ and S3, as the other end-to-end tests; the broker user is the
session's guest (tests/integration/test_broker_permissions.py covers per-user rights).
"""

import os
import subprocess
import sys

import pytest
import requests
import sqlalchemy as sa

from services.cli.demo import walk_open_competition
from services.cli.localinfra.ports import free_port
from shared.infra.config import SERVICES, sqlalchemy_url
from shared.infra.pools import PREFIX
from tests.support.localsystem import start_system, stop_processes

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def split(make_database, amqp_uri, s3_settings, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("relay-apart")
    ledger_url = make_database("ledger")
    readmodels = {service: make_database(service) for service in SERVICES}
    port = free_port()
    log = (data_dir / "relay.log").open("w")
    relay = subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "serve", "relay"],
        env={**os.environ, "CASEPLATFORM_DATA_DIR": str(data_dir), "LEDGER_URL": ledger_url, "AMQP_URI": amqp_uri,
             "HTTP_HOST": "127.0.0.1", "HTTP_PORT_RELAY": str(port), "RELAY_POLL_INTERVAL": "0.02"},
        stdout=log, stderr=subprocess.STDOUT)
    system = None
    try:
        system = start_system(data_dir=data_dir, ledger_url=ledger_url, readmodel_urls=readmodels,
                              amqp_uri=amqp_uri, s3_settings=s3_settings, extra_env={"RELAY_IN_PROCESS": "false"})
        yield system, ledger_url, f"http://127.0.0.1:{port}", relay
    finally:
        if system is not None:
            system.stop()
        stop_processes([relay])
        log.close()


def _relay_connections(ledger_url: str) -> set[str]:
    engine = sa.create_engine(sqlalchemy_url(ledger_url))
    try:
        with engine.connect() as conn:
            names = conn.execute(sa.text(
                "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()")).scalars()
            return {name for name in names if name.startswith(PREFIX) and "relay" in name.removeprefix(PREFIX)}
    finally:
        engine.dispose()


def test_a_case_goes_through_with_the_relay_as_its_own_process(split):
    system, ledger_url, relay_url, relay = split
    ready = system.platform.wait_until("the relay to be ready", lambda: (
        lambda r: r if r.status_code == 200 else None)(requests.get(f"{relay_url}/relay/health/ready", timeout=5)))
    assert ready.json()["checks"] == {"ledger": "ok", "broker": "ok"}
    walked = walk_open_competition(system.platform, log=lambda line: None)
    assert walked["version"] >= 18
    assert relay.poll() is None
    # the services opened no relay connection of their own: every one is the relay process's
    names = _relay_connections(ledger_url)
    assert names, "the relay process holds its lock and position connections"
    assert all(name.startswith(f"{PREFIX}-relay") for name in names), names
