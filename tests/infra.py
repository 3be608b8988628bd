"""Real services for the tests: Docker containers when an engine answers, else local ones.

The backend is chosen once per session:

- CASEPLATFORM_TEST_INFRA=docker: testcontainers (PostgreSQL 16, RabbitMQ 3.13, MinIO);
- CASEPLATFORM_TEST_INFRA=local: the machine's PostgreSQL and RabbitMQ (started by
  services.cli.localinfra if they are down) and a SeaweedFS `weed mini` on free ports;
- unset / auto: docker when `docker info` succeeds, local otherwise.

Local servers are found at TEST_POSTGRES_URL (an admin URL, default
postgresql://postgres@127.0.0.1:5432/postgres) and TEST_AMQP_URI (default
amqp://guest:guest@127.0.0.1:5672/). Each session gets databases and a RabbitMQ vhost
of its own, uniquely named, removed at the end.

No pytest here: conftest.py turns these into fixtures.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from services.cli.localinfra.compose import docker_available
from services.cli.localinfra.s3 import S3Server
from services.cli.localinfra.system_services import ensure_postgres, ensure_rabbitmq
from tests.support.throwaway import Databases, Vhosts  # shared with the benchmarks (bench/)

LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
TEST_S3_ACCESS_KEY = "caseplatform-test"
TEST_S3_SECRET_KEY = "caseplatform-test-secret"

POSTGRES_IMAGE = "postgres:16"
RABBITMQ_IMAGE = "rabbitmq:3.13-management"


def backend() -> str:
    """'docker' or 'local'."""
    choice = os.environ.get("CASEPLATFORM_TEST_INFRA", "auto").strip().lower()
    if choice in ("docker", "local"):
        return choice
    if choice not in ("", "auto"):
        raise RuntimeError(f"CASEPLATFORM_TEST_INFRA must be auto, docker or local, not {choice!r}")
    return "docker" if docker_available() else "local"


def wait_for_amqp(uri: str, timeout: float = 90.0) -> None:
    """Wait until an AMQP connection to `uri` opens (a port answering is not enough)."""
    from amqp.exceptions import AMQPError
    from kombu import Connection

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with Connection(uri, connect_timeout=3) as conn:
                conn.connect()
                return
        except (OSError, AMQPError) as exc:  # broker still booting: refused, reset, or not ready to talk AMQP
            last = exc
            time.sleep(1)
    raise RuntimeError(f"RabbitMQ at {uri} did not accept connections: {last}")


# ------------------------------------------------------------------------------ S3


def s3_dict(endpoint: str, access_key: str, secret_key: str) -> dict:
    return {"endpoint": endpoint, "access_key": access_key, "secret_key": secret_key,
            "secure": False}


# -------------------------------------------------------------------------- backends


class LocalInfra:
    """The machine's PostgreSQL and RabbitMQ, and SeaweedFS subprocesses."""

    name = "local"

    def __init__(self):
        self.postgres_admin_url = os.environ.get("TEST_POSTGRES_URL", LOCAL_POSTGRES_URL)
        self.amqp_base_uri = os.environ.get("TEST_AMQP_URI", LOCAL_AMQP_URI)
        self._s3: list[S3Server] = []

    def databases(self) -> Databases:
        ensure_postgres(self.postgres_admin_url)
        return Databases(self.postgres_admin_url)

    def vhosts(self) -> Vhosts:
        ensure_rabbitmq(self.amqp_base_uri)
        return Vhosts(self.amqp_base_uri)

    def s3(self, data_dir: Path) -> dict:
        server = S3Server(data_dir, TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY, port=None)
        self._s3.append(server.start())
        return s3_dict(server.endpoint, TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY)

    def close(self) -> None:
        while self._s3:
            self._s3.pop().stop()


class DockerInfra:
    """testcontainers: one container per kind, started on first use, removed at close()."""

    name = "docker"

    def __init__(self):
        self._containers: list = []
        self._postgres = None
        self._rabbit = None

    def _start(self, container):
        container.start()
        self._containers.append(container)
        return container

    def databases(self) -> Databases:
        if self._postgres is None:
            from testcontainers.community.postgres import PostgresContainer

            self._postgres = self._start(PostgresContainer(
                POSTGRES_IMAGE, username="postgres", password="postgres", dbname="postgres",
                driver=None))
        return Databases(self._postgres.get_connection_url(driver=None))

    def vhosts(self) -> Vhosts:
        if self._rabbit is None:
            # A plain container: testcontainers' RabbitMqContainer needs pika.
            from testcontainers.core.container import DockerContainer

            rabbit = DockerContainer(RABBITMQ_IMAGE).with_exposed_ports(5672)
            self._rabbit = self._start(rabbit)
        host = self._rabbit.get_container_host_ip()
        port = self._rabbit.get_exposed_port(5672)
        uri = f"amqp://guest:guest@{host}:{port}/"
        wait_for_amqp(uri)
        container_id = self._rabbit.get_wrapped_container().id
        return Vhosts(uri, rabbitmqctl=["docker", "exec", container_id, "rabbitmqctl"])

    def s3(self, data_dir: Path) -> dict:
        from testcontainers.community.minio import MinioContainer

        # testcontainers' default MinIO image: the release its wait strategy is tested with
        minio = MinioContainer(access_key=TEST_S3_ACCESS_KEY, secret_key=TEST_S3_SECRET_KEY)
        minio.with_env("MINIO_ROOT_USER", TEST_S3_ACCESS_KEY)
        minio.with_env("MINIO_ROOT_PASSWORD", TEST_S3_SECRET_KEY)
        self._start(minio)
        config = minio.get_config()
        return s3_dict(config["endpoint"], TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY)

    def close(self) -> None:
        while self._containers:
            with contextlib.suppress(Exception):
                self._containers.pop().stop()


def make_infra():
    return DockerInfra() if backend() == "docker" else LocalInfra()


def wait_for(probe, timeout: float = 30.0):
    """`probe()`'s first truthy answer within `timeout` seconds, else its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.1)
    return probe()
