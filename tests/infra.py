"""Real services for the tests: Docker containers when an engine answers, else local ones.

The backend is chosen once per session:

- CASEPLATFORM_TEST_INFRA=docker: testcontainers (PostgreSQL 16, RabbitMQ 3.13, MinIO);
- CASEPLATFORM_TEST_INFRA=local: the machine's PostgreSQL and RabbitMQ (started by
  shared.localinfra if they are down) and a SeaweedFS `weed mini` on free ports;
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
import re
import shutil
import subprocess
import time
import uuid
import warnings
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from shared import localinfra

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
    return "docker" if localinfra.docker_available() else "local"


def unique_name(prefix: str = "cp_test", hint: str = "") -> str:
    """A lower-case identifier usable as a database or vhost name."""
    hint = re.sub(r"[^a-z0-9_]", "_", hint.lower())[:20]
    return "_".join(part for part in (prefix, uuid.uuid4().hex[:12], hint) if part)


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + path, parts.query, parts.fragment))


# ----------------------------------------------------------------------- PostgreSQL


class Databases:
    """Creates uniquely named databases on one server; drops them all at close()."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url  # a URL of the maintenance db ("postgres")
        self.created: list[str] = []

    def _connect(self):
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10)

    def create(self, hint: str = "") -> str:
        from psycopg import sql

        name = unique_name("cp_test", hint)
        with self._connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return with_path(self.admin_url, name)

    def drop(self, name: str) -> None:
        from psycopg import sql

        with self._connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def close(self) -> None:
        errors = []
        while self.created:
            name = self.created.pop()
            try:
                self.drop(name)
            except Exception as exc:  # keep dropping the others
                errors.append(f"{name}: {exc}")
        if errors:
            warnings.warn("could not drop test databases: " + "; ".join(errors))


# ------------------------------------------------------------------------- RabbitMQ


class Vhosts:
    """Creates RabbitMQ vhosts with rabbitmqctl (or `docker exec ... rabbitmqctl`)."""

    def __init__(self, base_uri: str, rabbitmqctl: list[str] | None = None):
        self.base_uri = base_uri
        parts = urlsplit(base_uri)
        self.user = parts.username or "guest"
        self.ctl = rabbitmqctl if rabbitmqctl is not None else self._local_ctl()
        self.created: list[str] = []

    @staticmethod
    def _local_ctl() -> list[str] | None:
        return ["rabbitmqctl"] if shutil.which("rabbitmqctl") else None

    def _run(self, *args: str) -> None:
        result = subprocess.run([*self.ctl, "-q", *args], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"`{' '.join([*self.ctl, *args])}` failed "
                               f"({result.returncode}): {result.stdout.strip()}")

    def create(self, hint: str = "") -> str:
        """A new vhost the URI's user may use fully; returns its AMQP URI."""
        if self.ctl is None:
            warnings.warn("rabbitmqctl is not available: tests share the broker's default vhost")
            return self.base_uri
        name = unique_name("cp_test", hint)
        try:
            self._run("add_vhost", name)
        except RuntimeError as exc:
            warnings.warn(f"cannot create a RabbitMQ vhost ({exc}); "
                          "tests share the broker's default vhost")
            return self.base_uri
        self.created.append(name)
        self._run("set_permissions", "-p", name, self.user, ".*", ".*", ".*")
        return with_path(self.base_uri, quote(name, safe=""))

    def close(self) -> None:
        # kombu keeps pooled connections per vhost; drop them first so nothing tries
        # to reconnect to a vhost that is gone.
        with contextlib.suppress(Exception):
            from kombu.pools import connections

            connections.force_close_all()
        # rabbitmqctl takes most of a second to start: delete them all at once
        running = []
        while self.created:
            name = self.created.pop()
            running.append((name, subprocess.Popen(
                [*self.ctl, "-q", "delete_vhost", name], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        for name, proc in running:
            try:
                output, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            if proc.returncode != 0:
                warnings.warn(f"could not delete RabbitMQ vhost {name}: {output.strip()}")


def wait_for_amqp(uri: str, timeout: float = 90.0) -> None:
    """Wait until an AMQP connection to `uri` opens (a port answering is not enough)."""
    from kombu import Connection

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with Connection(uri, connect_timeout=3) as conn:
                conn.connect()
                return
        except Exception as exc:  # broker still booting
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
        self._s3: list[localinfra.S3Server] = []

    def databases(self) -> Databases:
        localinfra.ensure_postgres(self.postgres_admin_url)
        return Databases(self.postgres_admin_url)

    def vhosts(self) -> Vhosts:
        localinfra.ensure_rabbitmq(self.amqp_base_uri)
        return Vhosts(self.amqp_base_uri)

    def s3(self, data_dir: Path) -> dict:
        server = localinfra.S3Server(data_dir, TEST_S3_ACCESS_KEY, TEST_S3_SECRET_KEY, port=None)
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
