"""The whole system as it runs in production: six service processes on real PostgreSQL,
RabbitMQ and the S3 server, talked to over HTTP only."""

import pytest

from shared.infra.config import SERVICES
from tests.support.localsystem import start_system


@pytest.fixture(scope="module")
def system(make_database, amqp_uri, s3_settings, tmp_path_factory):
    """Starts every service as its own process; yields (Platform, {service: read-model URL}, procs, logs)."""
    started = start_system(
        data_dir=tmp_path_factory.mktemp("platform"),
        ledger_url=make_database("ledger"),
        readmodel_urls={service: make_database(service) for service in SERVICES},
        amqp_uri=amqp_uri,
        s3_settings=s3_settings,
    )
    try:
        yield started.platform, started.readmodel_urls, started.procs, started.logs
    finally:
        started.stop()
