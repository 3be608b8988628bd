"""RabbitMQ and PostgreSQL, found answering or started: the local system service, else docker compose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from services.cli.localinfra.compose import compose_up
from services.cli.localinfra.ports import host_port, is_loopback, port_open, wait_for_port

RABBITMQ_HELP = (
    "RabbitMQ is required (nameko's in-memory transport does not work for RPC).\n"
    "Install and start it, e.g. on Debian/Ubuntu:\n"
    "    sudo apt-get install rabbitmq-server && sudo rabbitmq-server -detached\n"
    "or with Docker:  docker compose up -d rabbitmq\n"
    "or point AMQP_URI at a running broker."
)
POSTGRES_HELP = (
    "PostgreSQL is required.\n"
    "Install and start it, e.g. on Debian/Ubuntu:\n"
    "    sudo apt-get install postgresql && "
    "sudo pg_ctlcluster --skip-systemctl-redirect <version> main start\n"
    "or with Docker:  docker compose up -d postgres\n"
    "or point LEDGER_URL / READMODEL_URL at a running server."
)


def _run_quiet(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def ensure_rabbitmq(amqp_uri: str, timeout: float = 60.0) -> None:
    """Make sure the broker of `amqp_uri` answers, starting a local one if needed."""
    host, port = host_port(amqp_uri, 5672)
    if port_open(host, port):
        return
    if not is_loopback(host):
        raise RuntimeError(f"RabbitMQ at {host}:{port} (AMQP_URI) does not answer.\n{RABBITMQ_HELP}")
    if shutil.which("rabbitmq-server"):
        print(f"RabbitMQ is not answering on {host}:{port}: running `rabbitmq-server -detached`",
              file=sys.stderr)
        result = _run_quiet(["rabbitmq-server", "-detached"])
        try:
            wait_for_port(host, port, timeout, "RabbitMQ")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n`rabbitmq-server -detached` said: {result.stdout.strip()}\n"
                               f"{RABBITMQ_HELP}") from None
        return
    if compose_up("rabbitmq"):
        wait_for_port(host, port, timeout, "RabbitMQ (docker compose)")
        return
    raise RuntimeError(f"RabbitMQ does not answer on {host}:{port} and neither "
                       f"`rabbitmq-server` nor a Docker engine is available.\n{RABBITMQ_HELP}")


def _pg_clusters() -> list[tuple[str, str, int]]:
    """(version, name, port) of the local Debian-style clusters."""
    clusters = []
    if shutil.which("pg_lsclusters"):
        result = _run_quiet(["pg_lsclusters", "-h"])
        for line in result.stdout.splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                clusters.append((fields[0], fields[1], int(fields[2])))
    if not clusters and Path("/etc/postgresql").is_dir():
        for version in sorted(os.listdir("/etc/postgresql")):
            if (Path("/etc/postgresql") / version / "main").is_dir():
                clusters.append((version, "main", 5432))
    return clusters


def ensure_postgres(url: str, timeout: float = 60.0) -> None:
    """Make sure the PostgreSQL server of `url` answers, starting a local one if needed.

    SQLite URLs need nothing and return at once.
    """
    if not url.startswith(("postgresql", "postgres:")):
        return
    host, port = host_port(url, 5432)
    if port_open(host, port):
        return
    if not is_loopback(host):
        raise RuntimeError(f"PostgreSQL at {host}:{port} does not answer.\n{POSTGRES_HELP}")
    if shutil.which("pg_ctlcluster"):
        clusters = _pg_clusters()
        matching = [c for c in clusters if c[2] == port] or clusters
        outputs = []
        for version, name, _ in matching:
            print(f"PostgreSQL is not answering on {host}:{port}: running "
                  f"`pg_ctlcluster --skip-systemctl-redirect {version} {name} start`",
                  file=sys.stderr)
            result = _run_quiet(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "start"])
            outputs.append(result.stdout.strip())
        if matching:
            try:
                wait_for_port(host, port, timeout, "PostgreSQL")
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}\npg_ctlcluster said: {' / '.join(outputs)}\n"
                                   f"{POSTGRES_HELP}") from None
            return
    if compose_up("postgres"):
        wait_for_port(host, port, timeout, "PostgreSQL (docker compose)")
        return
    raise RuntimeError(f"PostgreSQL does not answer on {host}:{port} and neither a local "
                       f"cluster (pg_ctlcluster) nor a Docker engine is available.\n{POSTGRES_HELP}")
