"""The whole system as it runs in production: six service processes on real PostgreSQL,
RabbitMQ, the S3 server and the OpenID Connect provider, talked to over HTTP only."""

import pytest

from shared.infra.config import SERVICES
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
